package simcard

// The key pair of the PKCS#11 user slot (DESIGN "Card profile": DF 4C00 holds
// a key pair generated on the card whose private key can never be read out,
// plus a readable public part), and the ISO 7816-4 command chaining that a
// 2048-bit decipher needs. The APDUs are documented in tcos/keys.go.
//
// The private key lives in the card's state (its "secure memory": the deck's
// JSON file, like the PIN hashes) and in no EF: SELECT finds no file for it
// and READ BINARY can only reach EF.GDO, EF 4B01 (after its PIN) and the
// public key in EF 4C01.

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"

	"github.com/hsmcards/hsmcards/tcos"
)

const (
	fidPubKeyEF = 0x4C01 // public key of the slot user key pair, in DF 4C00

	claChain     = 0x10 // ISO 7816-4 §5.1.1.1: the command continues a chain
	insGenKey    = 0x46 // GENERATE KEY PAIR (DESIGN facts)
	insMSE       = 0x22 // MANAGE SECURITY ENVIRONMENT
	insPSO       = 0x2A // PERFORM SECURITY OPERATION
	maxChain     = 1024 // bytes a chain may collect; more answers 6700
	keyBits      = tcos.KeyBits
	tagAlgRef    = 0x80
	tagKeyRef    = 0x84
	psoP1, psoP2 = 0x80, 0x86 // DECIPHER: plain value out, padding indicator || cryptogram in
)

// keyState is the volatile security environment of DF 4C00, lost on reset and
// on leaving the DF.
type keyState struct {
	mse   bool   // MSE SET for decipher with the slot user key was done
	chain []byte // data collected by an open command chain (nil: none open)
	hdr   [3]byte
}

// validKey checks a stored key pair: none at all, or an RSA-2048 private key
// with the matching public key EF.
func (s *state) validKey() error {
	if len(s.Key) == 0 {
		if len(s.PubKey) != 0 {
			return errors.New("public key without a private key")
		}
		return nil
	}
	k, err := x509.ParsePKCS1PrivateKey(s.Key)
	if err != nil || k.N.BitLen() != keyBits {
		return errors.New("bad key pair")
	}
	if !bytes.Equal(tcos.MarshalPublicKey(&k.PublicKey), s.PubKey) {
		return errors.New("public key does not match the private key")
	}
	return nil
}

// keyCommand handles chaining and the key pair commands; handled is false
// for every other command.
func (c *Card) keyCommand(cmd tcos.Command) (resp tcos.Response, handled bool) {
	chained := cmd.CLA == claISO|claChain
	if c.keys.chain != nil {
		if cmd.CLA&^claChain != claISO || [3]byte{cmd.INS, cmd.P1, cmd.P2} != c.keys.hdr {
			// Something else interrupts the chain: drop it, run nothing.
			c.endChain()
			return sw(tcos.SWLastCommandExpected), true
		}
	}
	if chained && cmd.INS != insPSO {
		return sw(tcos.SWChainingUnsupported), true
	}
	if cmd.CLA != claISO && !chained {
		return tcos.Response{}, false
	}
	switch cmd.INS {
	case insGenKey:
		return c.generateKeyPair(cmd), true
	case insMSE:
		return c.manageSE(cmd), true
	case insPSO:
		return c.pso(cmd, chained), true
	}
	return tcos.Response{}, false
}

func (c *Card) endChain() {
	clear(c.keys.chain)
	c.keys.chain = nil
}

// slotUserVerified: DF 4C00 is current and its PIN verified.
func (c *Card) slotUserVerified() bool { return c.df == fidPKCS11DF && c.verified }

// generateKeyPair is GENERATE KEY PAIR 00 46 00 00 02 <modulus bits>: a new
// RSA key pair replaces the old one. Only 2048 bits are offered.
func (c *Card) generateKeyPair(cmd tcos.Command) tcos.Response {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(tcos.SWWrongP1P2)
	}
	if !c.slotUserVerified() {
		return sw(tcos.SWSecurityStatus)
	}
	if len(cmd.Data) != 2 {
		return sw(tcos.SWWrongLength)
	}
	if int(cmd.Data[0])<<8|int(cmd.Data[1]) != keyBits {
		return sw(tcos.SWWrongData)
	}
	k, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return sw(tcos.SWMemoryFailure)
	}
	oldKey, oldPub := c.st.Key, c.st.PubKey
	c.st.Key, c.st.PubKey = x509.MarshalPKCS1PrivateKey(k), tcos.MarshalPublicKey(&k.PublicKey)
	c.keys.mse = false
	if !c.persist() {
		clear(c.st.Key)
		c.st.Key, c.st.PubKey = oldKey, oldPub
		return sw(tcos.SWMemoryFailure)
	}
	clear(oldKey)
	return ok(nil)
}

// manageSE is MSE SET 00 22 41 B8 with an algorithm reference (80) and a key
// reference (84), in any order: it selects the slot user key for PSO
// DECIPHER. It needs no PIN; the decipher does.
func (c *Card) manageSE(cmd tcos.Command) tcos.Response {
	if cmd.P1 != 0x41 || cmd.P2 != 0xB8 {
		return sw(tcos.SWWrongP1P2)
	}
	c.keys.mse = false
	var alg, key []byte
	for d := cmd.Data; len(d) > 0; {
		if len(d) < 2 || len(d) < 2+int(d[1]) {
			return sw(tcos.SWWrongData)
		}
		v := d[2 : 2+int(d[1])]
		switch d[0] {
		case tagAlgRef:
			alg = v
		case tagKeyRef:
			key = v
		default:
			return sw(tcos.SWWrongData)
		}
		d = d[2+int(d[1]):]
	}
	switch {
	case len(alg) != 1 || alg[0] != tcos.AlgRSAOAEPSHA256:
		return sw(tcos.SWWrongData)
	case len(key) != 1 || key[0] != tcos.KeyRefSlotUser || c.df != fidPKCS11DF || len(c.st.Key) == 0:
		return sw(tcos.SWRefNotFound)
	}
	c.keys.mse = true
	return ok(nil)
}

// pso is PSO DECIPHER 00 2A 80 86 with 00 || an RSA-OAEP-SHA-256 ciphertext,
// which arrives in a command chain (CLA 10 on all parts but the last).
func (c *Card) pso(cmd tcos.Command, chained bool) tcos.Response {
	if cmd.P1 != psoP1 || cmd.P2 != psoP2 {
		c.endChain()
		return sw(tcos.SWWrongP1P2)
	}
	if !c.slotUserVerified() {
		c.endChain()
		return sw(tcos.SWSecurityStatus)
	}
	if len(c.keys.chain)+len(cmd.Data) > maxChain {
		c.endChain()
		return sw(tcos.SWWrongLength)
	}
	if chained {
		if c.keys.chain == nil {
			c.keys.chain = make([]byte, 0, 2*tcos.MaxLc)
			c.keys.hdr = [3]byte{cmd.INS, cmd.P1, cmd.P2}
		}
		c.keys.chain = append(c.keys.chain, cmd.Data...)
		return ok(nil)
	}
	data := append(c.keys.chain, cmd.Data...)
	c.keys.chain = nil
	defer clear(data)
	switch {
	case len(c.st.Key) == 0:
		return sw(tcos.SWRefNotFound)
	case !c.keys.mse:
		return sw(tcos.SWConditions)
	case len(data) != 1+tcos.CiphertextLen:
		return sw(tcos.SWWrongLength)
	case data[0] != 0x00:
		return sw(tcos.SWWrongData)
	}
	k, err := x509.ParsePKCS1PrivateKey(c.st.Key)
	if err != nil {
		return sw(tcos.SWMemoryFailure)
	}
	pt, err := rsa.DecryptOAEP(sha256.New(), nil, k, data[1:], nil)
	if err != nil {
		return sw(tcos.SWWrongData)
	}
	switch {
	case cmd.Ne == 0 || cmd.Ne < len(pt):
		// Le absent or too short: the rest waits for GET RESPONSE.
		n := min(cmd.Ne, len(pt))
		c.pending = pt[n:]
		return tcos.Response{Data: pt[:n], SW: tcos.SWBytesAvailable | uint16(len(pt)-n)}
	}
	return ok(pt)
}
