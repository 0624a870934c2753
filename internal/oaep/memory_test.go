package oaep

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

// encodedMessage is EM for msg and seed (RFC 8017 §7.1.1 step 2), computed
// the way Encrypt does, for the scan to look for; the caller wipes it.
func encodedMessage(k int, msg, seed []byte) []byte {
	h := sha256.New()
	defer scrub(h)
	em := make([]byte, k)
	s, db := em[1:1+hLen], em[1+hLen:]
	h.Sum(db[:0])
	db[len(db)-len(msg)-1] = 1
	copy(db[len(db)-len(msg):], msg)
	copy(s, seed)
	mgf1XOR(h, db, s)
	mgf1XOR(h, s, db)
	return em
}

// leftAfter encrypts a random PIN (kept in a Buffer) with encrypt in a
// goroutine of its own, as a tea.Cmd runs, and counts the copies of the PIN
// and of its encoded message left in memory after a collection.
func leftAfter(t *testing.T, priv *rsa.PrivateKey, encrypt func(seed, pin []byte) ([]byte, error)) (pins, ems int) {
	t.Helper()
	pin, err := secmem.NewBuffer(32)
	if err != nil {
		t.Fatal(err)
	}
	defer pin.Destroy()
	rand.Read(pin.Bytes())
	for i, b := range pin.Bytes() {
		pin.Bytes()[i] = 'A' + b%26
	}
	seed := make([]byte, hLen)
	rand.Read(seed)
	em := encodedMessage(priv.Size(), pin.Bytes(), seed)
	needles := append(memscan.Windows("pin", pin.Bytes(), 8), memscan.Windows("EM", em[1:], 8)...)
	secmem.Wipe(em)

	done := make(chan []byte)
	go func() {
		c, err := encrypt(seed, pin.Bytes())
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	c := <-done
	secmem.Wipe(seed)
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if got, err := rsa.DecryptOAEP(sha256.New(), nil, priv, c, nil); err != nil || !bytes.Equal(got, pin.Bytes()) {
		t.Fatalf("the ciphertext does not decrypt to the PIN: %v", err)
	}
	for _, h := range hits {
		switch {
		case memscan.Within(h.Addr, pin.Bytes()):
			// the live PIN in its Buffer
		case h.Needle[:3] == "pin":
			pins++
		default:
			ems++
		}
	}
	if pins+ems > 0 {
		t.Logf("left behind:\n%s", memscan.Report(hits))
	}
	return pins, ems
}

// TestEncryptLeavesNoCopy: after Encrypt, neither the PIN nor the encoded
// message it can be unmasked from is in memory. After crypto/rsa's
// EncryptOAEP the encoded message is: the control that shows the scan
// would see it (docs/security.md, "Secrets in memory").
func TestEncryptLeavesNoCopy(t *testing.T) {
	priv := testKey(t, 2048)
	ours := func(seed, pin []byte) ([]byte, error) { return Encrypt(bytes.NewReader(seed), &priv.PublicKey, pin) }
	theirs := func(seed, pin []byte) ([]byte, error) {
		return rsa.EncryptOAEP(sha256.New(), bytes.NewReader(seed), &priv.PublicKey, pin, nil)
	}
	if pins, ems := leftAfter(t, priv, ours); pins+ems != 0 {
		t.Errorf("after Encrypt: %d copies of the PIN, %d of its encoded message", pins, ems)
	}
	if _, ems := leftAfter(t, priv, theirs); ems == 0 {
		t.Error("the control finds no encoded message after crypto/rsa's EncryptOAEP: the scan proves nothing")
	}
}
