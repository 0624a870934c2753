package simcard

// The key pair of the PKCS#11 user slot (docs/tcos.md "Card profile": DF
// 4C00 holds a key pair generated on the card whose private key can never be
// read out, plus a readable public part), and the ISO 7816-4 command
// chaining that a 2048-bit decipher needs in short APDUs (an extended one
// carries it whole). The APDUs are documented in tcos/keys.go.
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
	maxChain = 1024 // bytes a chain may collect; more answers 6700
	keyBits  = tcos.KeyBits
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
func (c *Card) keyCommand(cmd command) (resp tcos.Response, handled bool) {
	chained := cmd.cla == tcos.CLAISO|tcos.CLAChain
	if c.keys.chain != nil {
		if cmd.cla&^tcos.CLAChain != tcos.CLAISO || [3]byte{cmd.ins, cmd.p1, cmd.p2} != c.keys.hdr {
			// Something else interrupts the chain: drop it, run nothing.
			c.endChain()
			return sw(tcos.SWLastCommandExpected), true
		}
	}
	if chained && cmd.ins != tcos.INSPSO {
		return sw(tcos.SWChainingUnsupported), true
	}
	if cmd.cla != tcos.CLAISO && !chained {
		return tcos.Response{}, false
	}
	switch cmd.ins {
	case tcos.INSGenerateKeyPair:
		return c.generateKeyPair(cmd), true
	case tcos.INSMSE:
		return c.manageSE(cmd), true
	case tcos.INSPSO:
		return c.pso(cmd, chained), true
	}
	return tcos.Response{}, false
}

func (c *Card) endChain() {
	clear(c.keys.chain)
	c.keys.chain = nil
}

// slotUserAllows: DF 4C00 is current and its rule allows ins (the slot PIN
// is verified).
func (c *Card) slotUserAllows(ins byte) bool {
	return c.df == tcos.FIDPKCS11DF && c.allowed(tcos.FIDPKCS11DF, ins)
}

// generateKeyPair is GENERATE KEY PAIR 00 46 00 00 02 <modulus bits>: a new
// RSA key pair replaces the old one. Only 2048 bits are offered.
func (c *Card) generateKeyPair(cmd command) tcos.Response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		return sw(tcos.SWWrongP1P2)
	}
	if !c.slotUserAllows(cmd.ins) {
		return sw(tcos.SWSecurityStatus)
	}
	if len(cmd.data) != 2 {
		return sw(tcos.SWWrongLength)
	}
	if int(cmd.data[0])<<8|int(cmd.data[1]) != keyBits {
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
func (c *Card) manageSE(cmd command) tcos.Response {
	if cmd.p1 != tcos.MSESetP1 || cmd.p2 != tcos.MSESetP2 {
		return sw(tcos.SWWrongP1P2)
	}
	c.keys.mse = false
	var alg, key []byte
	for d := cmd.data; len(d) > 0; {
		if len(d) < 2 || len(d) < 2+int(d[1]) {
			return sw(tcos.SWWrongData)
		}
		v := d[2 : 2+int(d[1])]
		switch d[0] {
		case tcos.TagAlgRef:
			alg = v
		case tcos.TagKeyRef:
			key = v
		default:
			return sw(tcos.SWWrongData)
		}
		d = d[2+int(d[1]):]
	}
	switch {
	case len(alg) != 1 || alg[0] != tcos.AlgRSAOAEPSHA256:
		return sw(tcos.SWWrongData)
	case len(key) != 1 || key[0] != tcos.KeyRefSlotUser || c.df != tcos.FIDPKCS11DF || len(c.st.Key) == 0:
		return sw(tcos.SWRefNotFound)
	}
	c.keys.mse = true
	return ok(nil)
}

// pso is PSO DECIPHER 00 2A 80 86 with 00 || an RSA-OAEP-SHA-256 ciphertext,
// which arrives in a command chain (CLA 10 on all parts but the last) or in
// one extended APDU.
func (c *Card) pso(cmd command, chained bool) tcos.Response {
	if cmd.p1 != tcos.PSODecipherP1 || cmd.p2 != tcos.PSODecipherP2 {
		c.endChain()
		return sw(tcos.SWWrongP1P2)
	}
	if !c.slotUserAllows(cmd.ins) {
		c.endChain()
		return sw(tcos.SWSecurityStatus)
	}
	if len(c.keys.chain)+len(cmd.data) > maxChain {
		c.endChain()
		return sw(tcos.SWWrongLength)
	}
	if chained {
		if c.keys.chain == nil {
			c.keys.chain = make([]byte, 0, 2*tcos.MaxLc)
			c.keys.hdr = [3]byte{cmd.ins, cmd.p1, cmd.p2}
		}
		c.keys.chain = append(c.keys.chain, cmd.data...)
		return ok(nil)
	}
	data := append(c.keys.chain, cmd.data...)
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
	// Le absent or too short: the rest waits for GET RESPONSE.
	return c.answer(cmd, pt)
}
