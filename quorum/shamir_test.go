package quorum

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"testing"

	"github.com/hashicorp/vault/shamir"
)

// newShares returns n zeroed share buffers for a secret of size bytes.
func newShares(n, size int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = make([]byte, size+1)
	}
	return out
}

// subsets calls f with every k-subset of shares: in every order for k ≤ 3
// (order must not matter), in one order above (there are too many).
func subsets(shares [][]byte, k int, f func([][]byte)) {
	permutations(len(shares), k, func(idx []int) {
		for i := 1; k > 3 && i < len(idx); i++ {
			if idx[i] < idx[i-1] {
				return
			}
		}
		var pick [][]byte
		for _, i := range idx {
			pick = append(pick, shares[i])
		}
		f(pick)
	})
}

// TestSplitCombinesWithVault: shares from split rebuild the secret with
// Vault's Combine, and Vault's shares with combine, for every k-subset.
func TestSplitCombinesWithVault(t *testing.T) {
	for _, s := range []Scheme{TwoOfThree, ThreeOfFive, {2, 2}, {4, 6}, {5, 9}} {
		for _, size := range []int{1, 16, KeySize, 64} {
			t.Run(fmt.Sprintf("%s/%d bytes", s, size), func(t *testing.T) {
				secret := make([]byte, size)
				rand.Read(secret)

				ours := newShares(s.N, size)
				if err := split(secret, s.K, ours); err != nil {
					t.Fatal(err)
				}
				seen := map[byte]bool{}
				for _, sh := range ours {
					x := sh[size]
					if x == 0 || seen[x] {
						t.Fatalf("x coordinates %v: zero or repeated", ours)
					}
					seen[x] = true
				}
				theirs, err := shamir.Split(secret, s.N, s.K)
				if err != nil {
					t.Fatal(err)
				}
				got := make([]byte, size)
				for name, set := range map[string][][]byte{"ours": ours, "Vault's": theirs} {
					subsets(set, s.K, func(pick [][]byte) {
						v, err := shamir.Combine(pick)
						if err != nil || !bytes.Equal(v, secret) {
							t.Fatalf("Vault's Combine of %s shares: %x, %v", name, v, err)
						}
						if err := combine(pick, got); err != nil || !bytes.Equal(got, secret) {
							t.Fatalf("combine of %s shares: %x, %v", name, got, err)
						}
					})
				}
			})
		}
	}
}

// TestSplitIsRandom: splitting the same secret twice gives other shares,
// and k-1 shares of a 2-of-n split do not combine to the secret.
func TestSplitIsRandom(t *testing.T) {
	secret := bytes.Repeat([]byte{0x5A}, KeySize)
	a, b := newShares(3, KeySize), newShares(3, KeySize)
	if err := split(secret, 2, a); err != nil {
		t.Fatal(err)
	}
	if err := split(secret, 2, b); err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if bytes.Equal(a[i][:KeySize], b[i][:KeySize]) {
			t.Fatal("two splits gave the same share")
		}
		if bytes.Contains(a[i], secret[:4]) {
			t.Fatal("a share shows the secret")
		}
	}
}

func TestSplitRefuses(t *testing.T) {
	secret := make([]byte, KeySize)
	for _, tc := range []struct {
		name   string
		secret []byte
		k      int
		out    [][]byte
	}{
		{"empty secret", nil, 2, newShares(3, 0)},
		{"k 1", secret, 1, newShares(3, KeySize)},
		{"n < k", secret, 3, newShares(2, KeySize)},
		{"n 256", secret, 2, newShares(256, KeySize)},
		{"short share buffer", secret, 2, append(newShares(2, KeySize), make([]byte, KeySize))},
	} {
		if err := split(tc.secret, tc.k, tc.out); err == nil {
			t.Errorf("%s: split succeeded", tc.name)
		}
	}
}

func TestCombineRefuses(t *testing.T) {
	sh := newShares(3, KeySize)
	if err := split(make([]byte, KeySize), 2, sh); err != nil {
		t.Fatal(err)
	}
	out := make([]byte, KeySize)
	dup := bytes.Clone(sh[1])
	dup[KeySize] = sh[0][KeySize]
	for _, tc := range []struct {
		name   string
		shares [][]byte
		out    []byte
	}{
		{"one share", sh[:1], out},
		{"same x twice", [][]byte{sh[0], dup}, out},
		{"lengths differ", [][]byte{sh[0], sh[1][1:]}, out},
		{"short output", sh[:2], out[1:]},
		{"one-byte shares", [][]byte{{1}, {2}}, nil},
	} {
		if err := combine(tc.shares, tc.out); err == nil {
			t.Errorf("%s: combine succeeded", tc.name)
		}
	}
}

// FuzzCombineMatchesVault: for any set of equal-length shares with distinct
// x, combine computes exactly what Vault's Combine does (right or wrong).
func FuzzCombineMatchesVault(f *testing.F) {
	sh, _ := shamir.Split(bytes.Repeat([]byte{7}, KeySize), 3, 2)
	f.Add(sh[0], sh[1], []byte{})
	f.Add([]byte{1, 2, 3}, []byte{4, 5, 6}, []byte{7, 8, 9})
	f.Fuzz(func(t *testing.T, a, b, c []byte) {
		shares := [][]byte{a, b}
		if len(c) > 0 {
			shares = append(shares, c)
		}
		want, werr := shamir.Combine(shares)
		size := len(a)
		if size < 1 {
			size = 1
		}
		got := make([]byte, size-1)
		gerr := combine(shares, got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("Vault: %v, combine: %v", werr, gerr)
		}
		if werr == nil && !bytes.Equal(got, want) {
			t.Fatalf("combine %x, Vault %x", got, want)
		}
	})
}
