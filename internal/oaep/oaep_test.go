package oaep

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
)

var testKeys = map[int]*rsa.PrivateKey{}

func testKey(t *testing.T, bits int) *rsa.PrivateKey {
	t.Helper()
	if k := testKeys[bits]; k != nil {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	testKeys[bits] = k
	return k
}

// What Encrypt makes, crypto/rsa decrypts: RSAES-OAEP with SHA-256.
func TestEncryptDecryptsWithCryptoRSA(t *testing.T) {
	for _, bits := range []int{1024, 2048, 3072} {
		priv := testKey(t, bits)
		k := priv.Size()
		for _, n := range []int{0, 1, 32, k - 2*hLen - 2} {
			msg := make([]byte, n)
			rand.Read(msg)
			c, err := Encrypt(rand.Reader, &priv.PublicKey, msg)
			if err != nil {
				t.Fatalf("%d bits, %d bytes: %v", bits, n, err)
			}
			if len(c) != k {
				t.Fatalf("%d bits: ciphertext of %d bytes, want %d", bits, len(c), k)
			}
			got, err := rsa.DecryptOAEP(sha256.New(), nil, priv, c, nil)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("%d bits, %d bytes: decrypted %x, %v", bits, n, got, err)
			}
		}
		if _, err := Encrypt(rand.Reader, &priv.PublicKey, make([]byte, k-2*hLen-1)); !errors.Is(err, ErrMessageTooLong) {
			t.Errorf("%d bits: a message one byte too long: %v", bits, err)
		}
	}
}

// With one seed, Encrypt and crypto/rsa make the same ciphertext.
func TestEncryptMatchesCryptoRSA(t *testing.T) {
	priv := testKey(t, 2048)
	seed := bytes.Repeat([]byte{0x42}, hLen)
	msg := []byte("Zq3sV9xK2mPa7Lr5Tn8Wc4Yb6Hd1Fg0J")
	ours, err := Encrypt(bytes.NewReader(seed), &priv.PublicKey, msg)
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := rsa.EncryptOAEP(sha256.New(), bytes.NewReader(seed), &priv.PublicKey, msg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Fatal("the ciphertexts differ for one seed")
	}
}

// The Montgomery exponentiation agrees with math/big, for odd moduli of
// several sizes and exponents.
func TestEncryptIsModExp(t *testing.T) {
	for _, tc := range []struct {
		bits int
		e    int
	}{{64, 3}, {65, 65537}, {127, 17}, {512, 65537}, {2048, 65537}, {2048, 3}} {
		for range 20 {
			n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(tc.bits)))
			n.SetBit(n, tc.bits-1, 1)
			n.SetBit(n, 0, 1)
			k := (tc.bits + 7) / 8
			x, _ := rand.Int(rand.Reader, n)
			em := x.FillBytes(make([]byte, k))
			got, err := encrypt(&rsa.PublicKey{N: n, E: tc.e}, em)
			if err != nil {
				t.Fatal(err)
			}
			want := new(big.Int).Exp(x, big.NewInt(int64(tc.e)), n).FillBytes(make([]byte, k))
			if !bytes.Equal(got, want) {
				t.Fatalf("%d bits, e=%d: %x^e mod %x = %x, want %x", tc.bits, tc.e, x, n, got, want)
			}
		}
	}
}

func TestEncryptRefusesBadKeys(t *testing.T) {
	for _, pub := range []*rsa.PublicKey{nil, {}, {N: big.NewInt(1 << 40), E: 65537}, {N: big.NewInt(1<<40 + 1), E: 1}} {
		if _, err := Encrypt(rand.Reader, pub, []byte("x")); err == nil {
			t.Errorf("Encrypt accepted %+v", pub)
		}
	}
}
