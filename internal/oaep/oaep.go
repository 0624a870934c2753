// Package oaep encrypts a short secret (a slot's user PIN) to an RSA public
// key with RSAES-OAEP, SHA-256 and MGF1-SHA-256, empty label (RFC 8017
// §7.1.1), leaving no copy of the secret, or of the encoded message it can be
// recovered from, in memory once Encrypt returns.
//
// crypto/rsa's EncryptOAEP gives the same ciphertexts but leaves the encoded
// message EM (from which anyone can unmask the secret: RFC 8017 §7.1.2) and
// its big-number copies in the heap, unwiped. Here EM and every intermediate
// value live in buffers of our own that are wiped before Encrypt returns: the
// RSA public operation is a Montgomery exponentiation on fixed-size limbs
// (no math/big on secret values), and each SHA-256 state is scrubbed after
// use. Only the public key and the ciphertext remain.
package oaep

import (
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"math/big"
	"math/bits"

	"github.com/hsmcards/hsmcards/secmem"
)

// hLen is SHA-256's output length (RFC 8017 §7.1.1: hLen).
const hLen = sha256.Size

// ErrMessageTooLong means msg does not fit the key: at most k-2·hLen-2 bytes
// for a k-byte modulus (RFC 8017 §7.1.1 step 1b).
var ErrMessageTooLong = errors.New("oaep: message too long for the RSA key")

// Encrypt returns RSAES-OAEP-ENCRYPT(pub, msg) with SHA-256, MGF1-SHA-256 and
// an empty label, with the seed from random. Decrypting it with
// rsa.DecryptOAEP(sha256.New(), nil, priv, c, nil) gives msg.
func Encrypt(random io.Reader, pub *rsa.PublicKey, msg []byte) ([]byte, error) {
	if pub == nil || pub.N == nil || pub.N.Sign() <= 0 || pub.N.Bit(0) == 0 || pub.E < 3 {
		return nil, errors.New("oaep: not an RSA public key")
	}
	k := (pub.N.BitLen() + 7) / 8
	if k < 2*hLen+2 || len(msg) > k-2*hLen-2 {
		return nil, ErrMessageTooLong
	}
	h := sha256.New()
	defer scrub(h)

	// EM = 00 || maskedSeed || maskedDB, DB = lHash || PS || 01 || M.
	em := make([]byte, k)
	defer secmem.Wipe(em)
	seed, db := em[1:1+hLen], em[1+hLen:]
	h.Write(nil)
	h.Sum(db[:0])
	db[len(db)-len(msg)-1] = 1
	copy(db[len(db)-len(msg):], msg)
	if _, err := io.ReadFull(random, seed); err != nil {
		return nil, err
	}
	mgf1XOR(h, db, seed)
	mgf1XOR(h, seed, db)

	return encrypt(pub, em)
}

// mgf1XOR XORs out with MGF1-SHA-256(seed) (RFC 8017 §B.2.1).
func mgf1XOR(h hash.Hash, out, seed []byte) {
	var counter [4]byte
	var digest [hLen]byte
	for done := 0; done < len(out); {
		h.Reset()
		h.Write(seed)
		h.Write(counter[:])
		h.Sum(digest[:0])
		for i := 0; i < len(digest) && done < len(out); i++ {
			out[done] ^= digest[i]
			done++
		}
		for i := 3; i >= 0; i-- {
			if counter[i]++; counter[i] != 0 {
				break
			}
		}
	}
	secmem.Wipe(digest[:])
}

// scrub overwrites the input a SHA-256 state keeps (the part of the last
// block not yet hashed, at most 63 bytes), which Reset leaves in place.
func scrub(h hash.Hash) {
	var zeros [sha256.BlockSize - 1]byte
	h.Reset()
	h.Write(zeros[:])
	h.Reset()
}

// encrypt is RSAEP (RFC 8017 §5.1.1): em^e mod n, as k big-endian bytes.
func encrypt(pub *rsa.PublicKey, em []byte) ([]byte, error) {
	k := len(em)
	m := newMont(pub.N)
	defer m.wipe()
	x := m.limbs()
	defer wipeLimbs(x)
	fromBytes(x, em)
	if !m.less(x) {
		return nil, errors.New("oaep: message representative out of range")
	}
	// Into Montgomery form, exponentiate, and back (Handbook of Applied
	// Cryptography, 14.36 and 14.94, left-to-right).
	base, acc := m.limbs(), m.limbs()
	defer wipeLimbs(base)
	defer wipeLimbs(acc)
	m.mul(base, x, m.r2)
	copy(acc, base)
	e := big.NewInt(int64(pub.E))
	for i := e.BitLen() - 2; i >= 0; i-- {
		m.mul(acc, acc, acc)
		if e.Bit(i) == 1 {
			m.mul(acc, acc, base)
		}
	}
	one := m.limbs()
	one[0] = 1
	m.mul(x, acc, one)
	out := make([]byte, k)
	toBytes(out, x)
	return out, nil
}

// mont is Montgomery arithmetic modulo an odd n of len(n) 64-bit limbs,
// least significant first.
type mont struct {
	n     []uint64
	n0inv uint64   // -n⁻¹ mod 2⁶⁴
	r2    []uint64 // R² mod n, R = 2^(64·len(n))
	t     []uint64 // the product's scratch, len(n)+2 limbs
}

func newMont(n *big.Int) *mont {
	words := (n.BitLen() + 63) / 64
	m := &mont{n: make([]uint64, words), t: make([]uint64, words+2), r2: make([]uint64, words)}
	fromBig(m.n, n)
	// Newton's iteration for n⁻¹ mod 2⁶⁴: each step doubles the correct
	// low bits, starting from n itself (correct to 3 bits for odd n).
	inv := m.n[0]
	for range 5 {
		inv *= 2 - m.n[0]*inv
	}
	m.n0inv = -inv
	// n and R are public: math/big may compute R² mod n.
	r := new(big.Int).Lsh(big.NewInt(1), uint(128*words))
	fromBig(m.r2, r.Mod(r, n))
	return m
}

func (m *mont) limbs() []uint64 { return make([]uint64, len(m.n)) }

func (m *mont) wipe() { wipeLimbs(m.t) }

// less reports x < n.
func (m *mont) less(x []uint64) bool {
	for i := len(x) - 1; i >= 0; i-- {
		if x[i] != m.n[i] {
			return x[i] < m.n[i]
		}
	}
	return false
}

// mul sets z = x·y·R⁻¹ mod n for x, y < n (CIOS, Koç, Acar and Kaliski,
// "Analyzing and Comparing Montgomery Multiplication Algorithms", 1996). z
// may alias x or y.
func (m *mont) mul(z, x, y []uint64) {
	s := len(m.n)
	t := m.t
	clear(t)
	for i := range s {
		var c uint64
		for j := range s {
			hi, lo := bits.Mul64(x[j], y[i])
			lo, cc := bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j], c = lo, hi
		}
		var cc uint64
		t[s], cc = bits.Add64(t[s], c, 0)
		t[s+1] = cc

		u := t[0] * m.n0inv
		hi, lo := bits.Mul64(u, m.n[0])
		_, cc = bits.Add64(lo, t[0], 0)
		c = hi + cc
		for j := 1; j < s; j++ {
			hi, lo := bits.Mul64(u, m.n[j])
			lo, cc := bits.Add64(lo, t[j], 0)
			hi += cc
			lo, cc = bits.Add64(lo, c, 0)
			hi += cc
			t[j-1], c = lo, hi
		}
		t[s-1], cc = bits.Add64(t[s], c, 0)
		t[s] = t[s+1] + cc
	}
	// t < 2n: subtract n once if t ≥ n, without a branch on the values.
	var borrow uint64
	for j := range s {
		z[j], borrow = bits.Sub64(t[j], m.n[j], borrow)
	}
	_, borrow = bits.Sub64(t[s], 0, borrow)
	// borrow is 1 when t < n: keep t then.
	mask := -borrow
	for j := range s {
		z[j] = (t[j] & mask) | (z[j] &^ mask)
	}
}

func wipeLimbs(x []uint64) {
	for i := range x {
		x[i] = 0
	}
}

// fromBytes reads big-endian b into limbs x (len(b) ≤ 8·len(x)).
func fromBytes(x []uint64, b []byte) {
	clear(x)
	for i, v := range b {
		pos := len(b) - 1 - i
		x[pos/8] |= uint64(v) << (8 * (pos % 8))
	}
}

// toBytes writes limbs x as big-endian b.
func toBytes(b []byte, x []uint64) {
	for i := range b {
		pos := len(b) - 1 - i
		b[i] = byte(x[pos/8] >> (8 * (pos % 8)))
	}
}

// fromBig reads a public value into limbs.
func fromBig(x []uint64, v *big.Int) {
	fromBytes(x, v.FillBytes(make([]byte, 8*len(x))))
}
