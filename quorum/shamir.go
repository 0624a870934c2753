package quorum

// Shamir's secret sharing over GF(2^8), byte for byte what
// github.com/hashicorp/vault/shamir computes and in its share format (y
// bytes, then x), so that cards written by either combine with the other
// (the tests check both ways). It is our own so that no copy of the key is
// left where nothing can wipe it: Vault's Split allocates one polynomial per
// key byte on the heap, each holding that byte, and its Combine returns the
// key in a heap slice. Here the polynomials live in an mmap'd secmem.Buffer
// wiped before split returns, and combine writes the key straight into the
// caller's buffer (docs/security.md, "Secrets in memory").
//
// One random polynomial of degree k-1 per secret byte, with that byte as its
// constant term; share i holds the polynomials' values at x_i, x_i distinct
// and random in 1..255. Any k shares give the constant terms back by Lagrange
// interpolation at 0; fewer say nothing about them. All field arithmetic is
// constant time (internal/gf256).

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/internal/gf256"
	"github.com/hsmcards/hsmcards/secmem"
)

// split fills out with len(out) shares of secret, any k of which rebuild
// it. Each out[i] must be len(secret)+1 bytes: the share's y bytes, then its
// x. On error out is wiped. It runs under secmem.Do.
func split(secret []byte, k int, out [][]byte) (err error) {
	secmem.Do(func() { err = splitInto(secret, k, out) })
	return err
}

func splitInto(secret []byte, k int, out [][]byte) (err error) {
	n := len(out)
	switch {
	case len(secret) == 0:
		return errors.New("cannot split an empty secret")
	case k < 2 || n < k || n > 255:
		return fmt.Errorf("cannot split into %d shares of which %d rebuild", n, k)
	}
	for _, s := range out {
		if len(s) != len(secret)+1 {
			return errors.New("a share buffer has the wrong length")
		}
	}
	defer func() {
		if err != nil {
			for _, s := range out {
				secmem.Wipe(s)
			}
		}
	}()
	xs, err := distinctX(n)
	if err != nil {
		return err
	}
	// The coefficients of all polynomials: k per secret byte, the first the
	// secret byte, the others random.
	coef, err := secmem.NewBuffer(k * len(secret))
	if err != nil {
		return err
	}
	defer coef.Destroy()
	c := coef.Bytes()
	if _, err := rand.Read(c); err != nil {
		return fmt.Errorf("random coefficients: %w", err)
	}
	for b, v := range secret {
		c[b*k] = v
	}
	for i, x := range xs {
		out[i][len(secret)] = x
		for b := range secret {
			p := c[b*k : b*k+k]
			// Horner: ((c_{k-1}·x + c_{k-2})·x + …)·x + c_0.
			y := p[k-1]
			for j := k - 2; j >= 0; j-- {
				y = gf256.Mul(y, x) ^ p[j]
			}
			out[i][b] = y
		}
	}
	return nil
}

// distinctX returns n distinct random x coordinates in 1..255.
func distinctX(n int) ([]byte, error) {
	var seen [256]bool
	seen[0] = true // x = 0 would be the secret itself
	xs := make([]byte, 0, n)
	var draw [64]byte
	for len(xs) < n {
		if _, err := rand.Read(draw[:]); err != nil {
			return nil, fmt.Errorf("random x coordinates: %w", err)
		}
		for _, x := range draw {
			if !seen[x] && len(xs) < n {
				seen[x] = true
				xs = append(xs, x)
			}
		}
	}
	return xs, nil
}

// combine rebuilds the secret from shares (each y bytes then x, all of one
// length, with distinct x) into out, which must be one byte shorter than a
// share. With fewer than k shares, or shares of different secrets, the result
// is some other value: the caller's KCV check is what tells. It runs under
// secmem.Do.
func combine(shares [][]byte, out []byte) (err error) {
	secmem.Do(func() { err = combineInto(shares, out) })
	return err
}

func combineInto(shares [][]byte, out []byte) error {
	if len(shares) < 2 {
		return errors.New("fewer than two shares cannot be combined")
	}
	size := len(shares[0])
	if size < 2 || len(out) != size-1 {
		return errors.New("a share or the output has the wrong length")
	}
	xs := make([]byte, len(shares))
	for i, s := range shares {
		if len(s) != size {
			return errors.New("the shares differ in length")
		}
		xs[i] = s[size-1]
		for _, x := range xs[:i] {
			if x == xs[i] {
				return errors.New("two shares have the same x")
			}
		}
	}
	// The Lagrange basis at 0 depends on the x coordinates only, which are
	// not secret: l_i(0) = Π_{j≠i} x_j / (x_i + x_j).
	basis := make([]byte, len(shares))
	for i, xi := range xs {
		l := byte(1)
		for j, xj := range xs {
			if j != i {
				l = gf256.Mul(l, gf256.Div(xj, xi^xj))
			}
		}
		basis[i] = l
	}
	for b := range out {
		var v byte
		for i, s := range shares {
			v ^= gf256.Mul(s[b], basis[i])
		}
		out[b] = v
	}
	return nil
}
