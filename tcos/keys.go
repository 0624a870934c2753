package tcos

// This file is the on-card key pair of the PKCS#11 user slot (docs/tcos.md,
// "Card profile": DF 4C00 holds a key pair generated on the card whose
// private key can never be read out, plus a readable public part).
//
// The APDU sequences (CLA 00, chained commands CLA 10; all in DF 4C00 after its
// PIN, except reading the public key, which needs no PIN):
//
//	GenerateKeyPair  00 46 00 00 02 08 00          (modulus bits, 2048)
//	ReadPublicKey    00 A4 09 0C 02 4C 01          (EF 4C01 in DF 4C00)
//	                 00 B0 00 00 00, 00 B0 01 00 xx (the EF is 270 bytes)
//	Decipher         00 22 41 B8 06 80 01 0A 84 01 01   MSE SET (docs/tcos.md)
//	                 10 2A 80 86 FF 00 ct[0:254]        PSO DECIPHER, chained
//	                 00 2A 80 86 02 ct[254:256] 00      (ISO 7816-4 §5.1.1.1)
//	                 → plaintext 9000
//
// EF 4C01 holds the public key as an ISO 7816-8 public key data object:
//
//	7F49 L  { 81 L modulus (big-endian, no leading zero)
//	          82 L public exponent (big-endian, no leading zero) }
//
// with BER-TLV definite lengths (L < 80, 81 L or 82 L L). Nothing on the card
// holds the private key in a file: there is no EF for it, so no SELECT or
// READ BINARY can reach it.

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"math/big"

	"github.com/hsmcards/hsmcards/secmem"
)

// Key pair constants of the profile (docs/tcos.md: GENERATE KEY PAIR 00 46,
// MSE SET 00 22 41 B8, PSO 00 2A).
const (
	fidPublicKeyEF = 0x4C01 // EF with the public key, in DF 4C00
	insGenKeyPair  = 0x46
	insMSE         = 0x22
	insPSO         = 0x2A
	claChain       = 0x10 // ISO 7816-4 §5.1.1.1: more commands of the chain follow

	// KeyBits is the modulus length of the card's key pair.
	KeyBits = 2048
	// CiphertextLen is the length of an RSA-2048 ciphertext.
	CiphertextLen = KeyBits / 8

	// MSE SET for decipher: P1 41 (set, for computation/decipher), P2 B8
	// (confidentiality template), then algorithm and key references.
	mseP1, mseP2 = 0x41, 0xB8
	tagAlgRef    = 0x80
	tagKeyRef    = 0x84
	// AlgRSAOAEPSHA256 is the profile's algorithm reference for RSA-OAEP with
	// SHA-256 (and MGF1-SHA-256, empty label).
	AlgRSAOAEPSHA256 = 0x0A
	// KeyRefSlotUser is the reference of the slot user key pair in DF 4C00.
	KeyRefSlotUser = 0x01
	// PSO DECIPHER: P1 80 (plain value out), P2 86 (padding indicator ||
	// cryptogram in). The padding indicator byte is 00.
	psoDecP1, psoDecP2 = 0x80, 0x86

	// Status words of command chaining (ISO 7816-4 §5.6, table 6).
	SWLastCommandExpected uint16 = 0x6883
	SWChainingUnsupported uint16 = 0x6884

	tagPublicKey = 0x7F49
	tagModulus   = 0x81
	tagExponent  = 0x82
)

func init() {
	messages[SWLastCommandExpected] = "last command of the chain expected"
	messages[SWChainingUnsupported] = "command chaining not supported"
}

// Errors of the key pair functions.
var (
	// ErrNoKeyPair: the card has no key pair in the PKCS#11 user slot yet.
	ErrNoKeyPair = errors.New("the card has no key pair in its PKCS#11 user slot")
	// ErrPublicKeyFormat: EF 4C01 does not hold a public key we can use.
	ErrPublicKeyFormat = errors.New("the card's public key is malformed")
)

// GenerateKeyPair has the card generate a new RSA-2048 key pair in DF 4C00,
// replacing any key pair there. It needs the slot PIN verified.
func (s *Session) GenerateKeyPair(ctx context.Context) error {
	if err := s.enterSlot(ctx, SlotPKCS11); err != nil {
		return err
	}
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insGenKeyPair, Data: []byte{KeyBits >> 8, KeyBits & 0xFF}})
	if err != nil {
		return err
	}
	return resp.Err()
}

// ReadPublicKey reads the slot's public key from EF 4C01. It needs no PIN.
// A card without a key pair yields an error matching ErrNoKeyPair.
func (s *Session) ReadPublicKey(ctx context.Context) (*rsa.PublicKey, error) {
	if err := s.enterSlot(ctx, SlotPKCS11); err != nil {
		return nil, err
	}
	if s.ef != fidPublicKeyEF {
		err := s.selectPath(ctx, 0x09, []byte{fidPublicKeyEF >> 8, fidPublicKeyEF & 0xFF}, fidPKCS11DF, fidPublicKeyEF)
		if errors.Is(err, ErrFileNotFound) {
			return nil, fmt.Errorf("%w: the card lacks the public key file", ErrForeignCard)
		}
		if err != nil {
			return nil, err
		}
	}
	var buf []byte
	total := -1
	for total < 0 || len(buf) < total {
		if len(buf) > 0x7FFF {
			return nil, ErrPublicKeyFormat
		}
		ne := MaxNe
		if total > 0 {
			ne = min(MaxNe, total-len(buf))
		}
		resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insRead, P1: byte(len(buf) >> 8), P2: byte(len(buf)), Ne: ne})
		if err != nil {
			return nil, err
		}
		switch {
		case resp.SW == SWRefNotFound:
			return nil, ErrNoKeyPair
		case resp.SW != SWOK && resp.SW != SWEndOfFile:
			return nil, resp.Err()
		case len(resp.Data) == 0:
			return nil, ErrPublicKeyFormat
		}
		buf = append(buf, resp.Data...)
		if total < 0 {
			n, ok := tlvTotal(buf)
			if !ok {
				return nil, ErrPublicKeyFormat
			}
			total = n
		}
		if resp.SW == SWEndOfFile && len(buf) < total {
			return nil, ErrPublicKeyFormat
		}
	}
	return ParsePublicKey(buf[:total])
}

// Decipher has the card decrypt an RSA-OAEP (SHA-256) ciphertext with the
// slot's private key: MSE SET, then PSO DECIPHER in a command chain (the
// 257-byte data field does not fit one short APDU). It needs the slot PIN
// verified. The plaintext is the caller's to wipe; the APDU log masks it.
func (s *Session) Decipher(ctx context.Context, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) != CiphertextLen {
		return nil, fmt.Errorf("a ciphertext for the card is %d bytes, not %d", CiphertextLen, len(ciphertext))
	}
	if err := s.enterSlot(ctx, SlotPKCS11); err != nil {
		return nil, err
	}
	mse := Command{CLA: 0x00, INS: insMSE, P1: mseP1, P2: mseP2,
		Data: []byte{tagAlgRef, 0x01, AlgRSAOAEPSHA256, tagKeyRef, 0x01, KeyRefSlotUser}}
	resp, err := s.t.Transmit(ctx, mse)
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		if errors.Is(err, ErrRefNotFound) {
			return nil, ErrNoKeyPair
		}
		return nil, err
	}
	data := append([]byte{0x00}, ciphertext...) // padding indicator 00
	resp, err = s.t.TransmitChained(ctx, Command{CLA: 0x00, INS: insPSO, P1: psoDecP1, P2: psoDecP2, Data: data, Ne: MaxNe, SecretResponse: true})
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		secmem.Wipe(resp.Data)
		if errors.Is(err, ErrRefNotFound) {
			return nil, ErrNoKeyPair
		}
		return nil, err
	}
	return resp.Data, nil
}

// TransmitChained sends a command whose data may exceed one short APDU as an
// ISO 7816-4 command chain: every part but the last with CLA bit 10 set and
// no Le. A part the card does not answer with 9000 ends the chain; that
// response is returned. A command that fits is sent as is.
func (t *Transport) TransmitChained(ctx context.Context, cmd Command) (Response, error) {
	if len(cmd.Data) <= MaxLc {
		return t.Transmit(ctx, cmd)
	}
	rest := cmd.Data
	for len(rest) > MaxLc {
		part := cmd
		part.CLA |= claChain
		part.Data = rest[:MaxLc]
		part.Ne = 0
		part.SecretResponse = false
		resp, err := t.Transmit(ctx, part)
		if err != nil {
			return Response{}, err
		}
		if resp.SW != SWOK {
			return resp, nil
		}
		rest = rest[MaxLc:]
	}
	last := cmd
	last.Data = rest
	return t.Transmit(ctx, last)
}

// tlvTotal reads the tag and length at the start of a 7F49 object and returns
// the object's whole length.
func tlvTotal(b []byte) (int, bool) {
	if len(b) < 3 || b[0] != tagPublicKey>>8 || b[1] != tagPublicKey&0xFF {
		return 0, false
	}
	n, hdr, ok := berLength(b[2:])
	if !ok {
		return 0, false
	}
	return 2 + hdr + n, true
}

// berLength decodes a definite BER length: the length, the bytes it took.
// Only the minimal forms are accepted (DER).
func berLength(b []byte) (n, size int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	switch {
	case b[0] < 0x80:
		return int(b[0]), 1, true
	case b[0] == 0x81 && len(b) >= 2 && b[1] >= 0x80:
		return int(b[1]), 2, true
	case b[0] == 0x82 && len(b) >= 3 && b[1] != 0:
		return int(b[1])<<8 | int(b[2]), 3, true
	}
	return 0, 0, false
}

func appendBERLength(b []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(b, byte(n))
	case n <= 0xFF:
		return append(b, 0x81, byte(n))
	}
	return append(b, 0x82, byte(n>>8), byte(n))
}

// MarshalPublicKey encodes pub as the 7F49 object of EF 4C01.
func MarshalPublicKey(pub *rsa.PublicKey) []byte {
	mod := pub.N.Bytes()
	exp := big.NewInt(int64(pub.E)).Bytes()
	var body []byte
	body = appendBERLength(append(body, tagModulus), len(mod))
	body = append(body, mod...)
	body = appendBERLength(append(body, tagExponent), len(exp))
	body = append(body, exp...)
	out := appendBERLength([]byte{tagPublicKey >> 8, tagPublicKey & 0xFF}, len(body))
	return append(out, body...)
}

// ParsePublicKey decodes the 7F49 object of EF 4C01: exactly one modulus of
// 2048 to 4096 bits and one odd public exponent of 3 to 2³¹−1, in that order,
// minimal encodings, nothing after them. Anything else matches
// ErrPublicKeyFormat.
func ParsePublicKey(b []byte) (*rsa.PublicKey, error) {
	total, ok := tlvTotal(b)
	if !ok || total != len(b) {
		return nil, ErrPublicKeyFormat
	}
	_, hdr, _ := berLength(b[2:])
	body := b[2+hdr:]
	mod, body, ok := readPrimitive(body, tagModulus)
	if !ok {
		return nil, ErrPublicKeyFormat
	}
	exp, body, ok := readPrimitive(body, tagExponent)
	if !ok || len(body) != 0 {
		return nil, ErrPublicKeyFormat
	}
	if len(mod) == 0 || mod[0] == 0 || len(exp) == 0 || exp[0] == 0 || len(exp) > 4 {
		return nil, ErrPublicKeyFormat
	}
	n := new(big.Int).SetBytes(mod)
	if n.BitLen() < KeyBits || n.BitLen() > 4096 || n.Bit(0) == 0 {
		return nil, ErrPublicKeyFormat
	}
	var e int64
	for _, x := range exp {
		e = e<<8 | int64(x)
	}
	if e < 3 || e > 1<<31-1 || e&1 == 0 {
		return nil, ErrPublicKeyFormat
	}
	return &rsa.PublicKey{N: n, E: int(e)}, nil
}

// readPrimitive reads one one-byte-tag TLV with tag from b.
func readPrimitive(b []byte, tag byte) (value, rest []byte, ok bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, nil, false
	}
	n, size, ok := berLength(b[1:])
	if !ok || len(b) < 1+size+n {
		return nil, nil, false
	}
	return b[1+size : 1+size+n], b[1+size+n:], true
}
