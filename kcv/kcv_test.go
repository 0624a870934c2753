package kcv

import (
	"bytes"
	"crypto/aes"
	"encoding/hex"
	"testing"
)

func TestAES(t *testing.T) {
	// FIPS-197 appendix C.3 (AES-256): key 00..1f encrypts 00112233..ff to
	// 8ea2b7ca516745bfeafc49904b496089. The KCV needs the zero block, so check
	// the primitive against the FIPS vector and the KCV against an independent
	// computation through crypto/aes.
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	pt, _ := hex.DecodeString("00112233445566778899aabbccddeeff")
	c, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	ct := make([]byte, 16)
	c.Encrypt(ct, pt)
	if got := hex.EncodeToString(ct); got != "8ea2b7ca516745bfeafc49904b496089" {
		t.Fatalf("AES-256 known answer: got %s", got)
	}
	zero := make([]byte, 16)
	c.Encrypt(ct, zero)

	got, err := AES(key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:], ct[:3]) {
		t.Fatalf("AES(key) = %X, want %X", got, ct[:3])
	}
}

func TestAESLengths(t *testing.T) {
	for _, n := range []int{0, 1, 15, 16, 24, 31, 32, 33, 64} {
		_, err := AES(make([]byte, n))
		wantOK := n == 16 || n == 24 || n == 32
		if (err == nil) != wantOK {
			t.Errorf("len %d: err = %v, want ok=%v", n, err, wantOK)
		}
	}
}

func TestAESDiffers(t *testing.T) {
	a := make([]byte, 32)
	b := make([]byte, 32)
	b[31] = 1
	ka, _ := AES(a)
	kb, _ := AES(b)
	if ka == kb {
		t.Fatalf("different keys gave the same KCV %X", ka)
	}
}

// TestCheck compares the key check with crypto/aes and pins the value for
// the key 00 01 … 1f, the worked example of quorum/FORMAT.md.
func TestCheck(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i)
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, 16)
	c.Encrypt(want, []byte("hsmcards:chk\x00\x00\x00\x00"))
	got, err := Check(key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got[:], want) {
		t.Fatalf("Check = %X, want %X", got, want)
	}
	if hex.EncodeToString(got[:]) != exampleCheck {
		t.Fatalf("Check(00..1f) = %x, FORMAT.md says %s", got, exampleCheck)
	}
	// Not the block of the KCV: the first 3 bytes differ from it.
	kv, _ := AES(key)
	if bytes.Equal(got[:3], kv[:]) {
		t.Fatal("the key check starts with the KCV")
	}
	for _, n := range []int{0, 31, 33} {
		if _, err := Check(make([]byte, n)); err == nil {
			t.Errorf("Check of a %d-byte key: no error", n)
		}
	}
}

// exampleCheck is Check(00 01 … 1f), as quorum/FORMAT.md shows it.
const exampleCheck = "f35df877c282206be118e619f85dbda1"
