package quorum

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/kcv"
)

var testNow = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("CET", 3600))

// permutations calls f with every ordering of every k-subset of 0..n-1.
func permutations(n, k int, f func(idx []int)) {
	used := make([]bool, n)
	var cur []int
	var rec func()
	rec = func() {
		if len(cur) == k {
			f(append([]int(nil), cur...))
			return
		}
		for i := 0; i < n; i++ {
			if !used[i] {
				used[i] = true
				cur = append(cur, i)
				rec()
				cur = cur[:len(cur)-1]
				used[i] = false
			}
		}
	}
	rec()
}

// viaCard returns the record as a card would hand it back: marshalled,
// zero-padded to 255 bytes and parsed.
func viaCard(t testing.TB, r *Record) *Record {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	padded := make([]byte, MaxRecordSize)
	copy(padded, b)
	p, err := Parse(padded)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestGenerateEveryQuorumCombines(t *testing.T) {
	for _, s := range []Scheme{TwoOfThree, ThreeOfFive, {2, 2}, {4, 6}} {
		t.Run(s.String(), func(t *testing.T) {
			key, recs, err := Generate("cluster-a", s, testNow)
			if err != nil {
				t.Fatal(err)
			}
			defer key.Wipe()
			if len(recs) != s.N {
				t.Fatalf("got %d records, want %d", len(recs), s.N)
			}
			tries := 0
			permutations(s.N, s.K, func(idx []int) {
				tries++
				c := NewCollector(nil)
				defer c.Wipe()
				for i, j := range idx {
					if i > 0 {
						// One short of the quorum must never give a key.
						if _, err := c.Combine(); !errors.Is(err, ErrTooFew) {
							t.Fatalf("%v: Combine with %d shares: err = %v, want ErrTooFew", idx, i, err)
						}
					}
					if err := c.Add(viaCard(t, recs[j])); err != nil {
						t.Fatalf("%v: Add(%d): %v", idx, j, err)
					}
					if c.Have() != i+1 || c.Need() != s.K {
						t.Fatalf("%v: Have/Need = %d/%d, want %d/%d", idx, c.Have(), c.Need(), i+1, s.K)
					}
				}
				got, err := c.Combine()
				if err != nil {
					t.Fatalf("%v: Combine: %v", idx, err)
				}
				if !bytes.Equal(got.Bytes(), key.Bytes()) {
					t.Fatalf("%v: rebuilt a different key", idx)
				}
				got.Wipe()
			})
			t.Logf("%d orderings", tries)
		})
	}
}

func TestGenerateRecords(t *testing.T) {
	key, recs, err := Generate("Rechenzentrum Süd", ThreeOfFive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	want, err := kcv.AES(key.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	if key.KCV() != KCV(want) {
		t.Errorf("Key.KCV = %X, want %X", key.KCV(), want)
	}
	created := time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	xs := map[byte]bool{}
	for i, r := range recs {
		if r.KeySetID != recs[0].KeySetID || r.KeySetID == (KeySetID{}) {
			t.Errorf("record %d: key-set ID %X", i, r.KeySetID)
		}
		if r.KCV != KCV(want) || r.Scheme != ThreeOfFive || r.Label != "Rechenzentrum Süd" {
			t.Errorf("record %d: %v %X %q", i, r.Scheme, r.KCV, r.Label)
		}
		if !r.Created.Equal(created) || r.Created.Location() != time.UTC {
			t.Errorf("record %d: created %v, want %v", i, r.Created, created)
		}
		if len(r.Share) != ShareSize {
			t.Fatalf("record %d: share length %d", i, len(r.Share))
		}
		xs[r.Share[KeySize]] = true
	}
	if len(xs) != len(recs) {
		t.Errorf("shares have %d distinct x for %d records", len(xs), len(recs))
	}

	// Two generations never share a key or a key-set ID.
	key2, recs2, err := Generate("Rechenzentrum Süd", ThreeOfFive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(key.Bytes(), key2.Bytes()) || recs[0].KeySetID == recs2[0].KeySetID {
		t.Error("two generations gave the same key or key-set ID")
	}

	key.Wipe()
	if !bytes.Equal(key.Bytes(), make([]byte, KeySize)) {
		t.Error("Wipe left key bytes")
	}
	recs[0].Wipe()
	if !bytes.Equal(recs[0].Share, make([]byte, ShareSize)) {
		t.Error("Record.Wipe left share bytes")
	}
}

func TestGenerateRefuses(t *testing.T) {
	tests := []struct {
		label string
		s     Scheme
	}{
		{"", TwoOfThree},
		{strings.Repeat("x", 33), TwoOfThree},
		{"tab\there", TwoOfThree},
		{"newline\n", TwoOfThree},
		{"del\x7f", TwoOfThree},
		{"bad\xffutf8", TwoOfThree},
		{"ok", Scheme{1, 3}},
		{"ok", Scheme{3, 2}},
		{"ok", Scheme{2, 10}},
		{"ok", Scheme{0, 0}},
		{"ok", Scheme{-1, 3}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q/%v", tt.label, tt.s), func(t *testing.T) {
			k, recs, err := Generate(tt.label, tt.s, testNow)
			if err == nil || k != nil || recs != nil {
				t.Fatalf("Generate = %v, %v, %v; want an error", k, recs, err)
			}
		})
	}
	// The limits themselves are fine: 32 characters of 4 bytes, 9 of 9.
	if _, _, err := Generate(strings.Repeat("🔑", MaxLabelLen), Scheme{9, 9}, testNow); err != nil {
		t.Fatalf("longest label, largest scheme: %v", err)
	}
	if _, _, err := Generate("before 1970", TwoOfThree, time.Unix(-1, 0)); err == nil {
		t.Fatal("a creation time before 1970 was accepted")
	}
}

func TestNewKey(t *testing.T) {
	for _, n := range []int{0, 16, 31, 33} {
		if _, err := NewKey(make([]byte, n)); err == nil {
			t.Errorf("NewKey of %d bytes succeeded", n)
		}
	}
	b := bytes.Repeat([]byte{7}, KeySize)
	k, err := NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	b[0] = 8
	if k.Bytes()[0] != 7 {
		t.Error("NewKey did not copy its input")
	}
}

func TestCollectorRefusesOtherKeySet(t *testing.T) {
	_, a, err := Generate("same label", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	_, b, err := Generate("same label", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}

	c := NewCollector(nil)
	if _, ok := c.KeySet(); ok || c.Need() != 0 {
		t.Fatal("an empty collector knows a key set")
	}
	if err := c.Add(a[0]); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(b[1]); !errors.Is(err, ErrOtherKeySet) {
		t.Fatalf("share of another set: err = %v, want ErrOtherKeySet", err)
	}
	if c.Have() != 1 {
		t.Fatalf("a refused share was counted: Have = %d", c.Have())
	}
	ks, ok := c.KeySet()
	if !ok || ks.ID != a[0].KeySetID || ks.KCV != a[0].KCV || ks.Scheme != TwoOfThree ||
		ks.Label != "same label" || !ks.Created.Equal(a[0].Created) {
		t.Fatalf("KeySet = %+v, %v", ks, ok)
	}

	// With want, even the first record must match.
	want := b[0].KeySetID
	c = NewCollector(&want)
	want[0] ^= 0xFF // the collector keeps its own copy
	if err := c.Add(a[0]); !errors.Is(err, ErrOtherKeySet) {
		t.Fatalf("want set B, got A: err = %v", err)
	}
	if err := c.Add(b[2]); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(b[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Combine(); err != nil {
		t.Fatal(err)
	}
}

func TestCollectorRefusesDuplicates(t *testing.T) {
	_, recs, err := Generate("dup", ThreeOfFive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	sameX := viaCard(t, recs[0])
	sameX.Share[0] ^= 0x55 // another y, the same x: not a new point

	tests := []struct {
		name string
		dup  *Record
	}{
		{"same record", recs[0]},
		{"copied card", viaCard(t, recs[0])},
		{"same x", sameX},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCollector(nil)
			if err := c.Add(recs[0]); err != nil {
				t.Fatal(err)
			}
			if err := c.Add(tt.dup); !errors.Is(err, ErrDuplicateShare) {
				t.Fatalf("err = %v, want ErrDuplicateShare", err)
			}
			if c.Have() != 1 {
				t.Fatalf("Have = %d after a duplicate", c.Have())
			}
			if err := c.Add(recs[1]); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Combine(); !errors.Is(err, ErrTooFew) {
				t.Fatalf("Combine with 2 distinct of 3: err = %v, want ErrTooFew", err)
			}
		})
	}
}

func TestCollectorRefusesInconsistentRecords(t *testing.T) {
	_, recs, err := Generate("consistent", ThreeOfFive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		change func(r *Record)
	}{
		{"scheme", func(r *Record) { r.Scheme = Scheme{2, 5} }},
		{"label", func(r *Record) { r.Label = "other" }},
		{"KCV", func(r *Record) { r.KCV[0] ^= 1 }},
		{"created", func(r *Record) { r.Created = r.Created.Add(time.Second) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCollector(nil)
			if err := c.Add(recs[0]); err != nil {
				t.Fatal(err)
			}
			r := viaCard(t, recs[1])
			tt.change(r)
			if err := c.Add(r); !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if c.Have() != 1 {
				t.Fatalf("Have = %d", c.Have())
			}
		})
	}
	// Invalid records are refused before they can fix the key set.
	bad := viaCard(t, recs[0])
	bad.Share = bad.Share[:10]
	c := NewCollector(nil)
	if err := c.Add(bad); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("short share: err = %v, want ErrCorrupt", err)
	}
	if err := c.Add(nil); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("nil record: err = %v, want ErrCorrupt", err)
	}
	if c.Need() != 0 {
		t.Fatal("an invalid record fixed the key set")
	}
}

// A share altered on the card with its checksum recomputed is a consistent
// record of the right set: only the KCV can catch it.
func TestTamperedShareFailsKCV(t *testing.T) {
	key, recs, err := Generate("tamper", ThreeOfFive, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, byteIdx := range []int{0, 17, KeySize - 1} {
		t.Run(fmt.Sprint(byteIdx), func(t *testing.T) {
			evil := viaCard(t, recs[2])
			evil.Share[byteIdx] ^= 0x01
			evil = viaCard(t, evil) // Marshal recomputes the checksum: it parses
			c := NewCollector(nil)
			for _, r := range []*Record{recs[0], evil, recs[4]} {
				if err := c.Add(r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := c.Combine()
			if !errors.Is(err, ErrKCV) || got != nil {
				t.Fatalf("Combine = %v, %v; want nil, ErrKCV", got, err)
			}
		})
	}
	// Shares of a forged set that claims k = 2 for a 3-of-5 key: consistent
	// records, too few real points, a wrong key that the KCV refuses.
	c := NewCollector(nil)
	for _, r := range recs[:2] {
		f := viaCard(t, r)
		f.Scheme = Scheme{2, 5}
		if err := c.Add(f); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := c.Combine(); !errors.Is(err, ErrKCV) || got != nil {
		t.Fatalf("forged k: Combine = %v, %v; want nil, ErrKCV", got, err)
	}
	key.Wipe()
}

func TestCollectorWipe(t *testing.T) {
	_, recs, err := Generate("wipe", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector(nil)
	for _, r := range recs[:2] {
		if err := c.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	held := c.shares[0]
	c.Wipe()
	if !bytes.Equal(held, make([]byte, ShareSize)) {
		t.Error("Wipe left share bytes")
	}
	if _, err := c.Combine(); !errors.Is(err, ErrTooFew) {
		t.Fatalf("Combine after Wipe: %v", err)
	}
	if ks, ok := c.KeySet(); !ok || ks.ID != recs[0].KeySetID {
		t.Fatal("Wipe forgot the key set")
	}
	// The caller's records are the caller's: Add copied them.
	if bytes.Equal(recs[0].Share, make([]byte, ShareSize)) {
		t.Error("Collector.Wipe cleared the caller's record")
	}
}

func BenchmarkGenerateCombine(b *testing.B) {
	for _, s := range []Scheme{TwoOfThree, ThreeOfFive} {
		b.Run(s.String(), func(b *testing.B) {
			for b.Loop() {
				key, recs, err := Generate("bench", s, testNow)
				if err != nil {
					b.Fatal(err)
				}
				c := NewCollector(nil)
				for _, r := range recs[:s.K] {
					if err := c.Add(r); err != nil {
						b.Fatal(err)
					}
				}
				got, err := c.Combine()
				if err != nil {
					b.Fatal(err)
				}
				got.Wipe()
				key.Wipe()
				c.Wipe()
			}
			b.ReportMetric(float64(s.N), "shares/op")
		})
	}
}

// hexOf is used by the record tests to look for share bytes in errors.
func hexOf(b []byte) string { return hex.EncodeToString(b) }

func TestEachSubset(t *testing.T) {
	for _, tc := range []struct{ n, k, want int }{{3, 2, 3}, {5, 3, 10}, {9, 9, 1}, {6, 1, 6}, {4, 5, 0}, {4, 0, 0}} {
		seen := map[string]bool{}
		prev := ""
		err := EachSubset(tc.n, tc.k, func(idx []int) error {
			for i := range idx {
				if idx[i] < 0 || idx[i] >= tc.n || i > 0 && idx[i] <= idx[i-1] {
					t.Fatalf("C(%d,%d): bad subset %v", tc.n, tc.k, idx)
				}
			}
			key := fmt.Sprint(idx)
			if seen[key] || key <= prev && prev != "" && len(key) == len(prev) {
				t.Fatalf("C(%d,%d): %v repeated or out of order", tc.n, tc.k, idx)
			}
			seen[key], prev = true, key
			return nil
		})
		if err != nil || len(seen) != tc.want {
			t.Errorf("C(%d,%d): %d subsets, %v; want %d", tc.n, tc.k, len(seen), err, tc.want)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := EachSubset(5, 2, func([]int) error { calls++; return stop }); err != stop || calls != 1 {
		t.Fatalf("EachSubset did not stop at the first error: %v after %d calls", err, calls)
	}
}

// TestReshare: the same key split anew is a new card set (ID, generation,
// scheme, label) whose every k-subset rebuilds the key, with the same KCV
// and key check as the old set, and whose shares do not mix with the old.
func TestReshare(t *testing.T) {
	key, old, err := Generate("Cluster Berlin", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Wipe()
	later := testNow.Add(400 * 24 * time.Hour)
	for _, s := range []Scheme{TwoOfThree, ThreeOfFive} {
		t.Run(s.String(), func(t *testing.T) {
			sh, err := Reshare(key, "Cluster Berlin 2", s, 2, later)
			if err != nil {
				t.Fatal(err)
			}
			recs := sh.Records
			if len(recs) != s.N {
				t.Fatalf("%d records", len(recs))
			}
			set := recs[0].KeySet()
			if set.ID == old[0].KeySetID || set.Generation != 2 || set.Format != Format2 || set.Scheme != s ||
				set.Label != "Cluster Berlin 2" || !set.Created.Equal(later.UTC().Truncate(time.Second)) {
				t.Fatalf("new set %+v", set)
			}
			if set.KCV != old[0].KCV || set.KeyCheck != old[0].KeyCheck || set.KeyCheck != key.Check() {
				t.Fatal("the same key has another KCV or key check")
			}
			n := 0
			err = EachSubset(s.N, s.K, func(idx []int) error {
				n++
				var sub [][]byte
				for _, i := range idx {
					sub = append(sub, viaCard(t, recs[i]).Share)
				}
				back, err := Combine(set, sub)
				if err != nil {
					return err
				}
				defer back.Wipe()
				if !bytes.Equal(back.Bytes(), key.Bytes()) {
					return fmt.Errorf("%v rebuilt another key", idx)
				}
				// One old share in place of a new one: refused, never a key.
				sub[0] = old[0].Share
				if k, err := Combine(set, sub); !errors.Is(err, ErrKCV) && !errors.Is(err, ErrCorrupt) || k != nil {
					return fmt.Errorf("%v with an old share: %v", idx, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			sh.Destroy()
			for _, r := range recs {
				if r.Share != nil {
					t.Fatal("Destroy left a share")
				}
			}
		})
	}
	for name, f := range map[string]func() (*Shares, error){
		"generation 0": func() (*Shares, error) { return Reshare(key, "x", TwoOfThree, 0, later) },
		"empty label":  func() (*Shares, error) { return Reshare(key, "", TwoOfThree, 2, later) },
		"1 of 3":       func() (*Shares, error) { return Reshare(key, "x", Scheme{1, 3}, 2, later) },
		"before 1970":  func() (*Shares, error) { return Reshare(key, "x", TwoOfThree, 2, time.Unix(-5, 0)) },
	} {
		if sh, err := f(); err == nil || sh != nil {
			t.Errorf("%s: Reshare = %v, %v; want an error", name, sh, err)
		}
	}
}

// TestKeyCheckIsChecked: format 2 records that agree on a KCV the key has
// but on a key check it has not are refused; the KCV alone would pass them.
func TestKeyCheckIsChecked(t *testing.T) {
	_, recs, err := Generate("check", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	c := NewCollector(nil)
	for _, r := range recs[:2] {
		f := viaCard(t, r)
		f.KeyCheck[15] ^= 1
		if err := c.Add(viaCard(t, f)); err != nil {
			t.Fatal(err)
		}
	}
	if k, err := c.Combine(); !errors.Is(err, ErrKCV) || k != nil {
		t.Fatalf("Combine = %v, %v; want ErrKCV", k, err)
	}
	// A format 1 set has no key check: its KCV decides.
	one := exampleRecord(t, 0).KeySet()
	k, err := Combine(one, [][]byte{exampleShares[0], exampleShares[1]})
	if err != nil || !bytes.Equal(k.Bytes(), exampleKey) {
		t.Fatalf("format 1: %v", err)
	}
	// Records of one set in two formats disagree.
	c = NewCollector(nil)
	if err := c.Add(exampleRecord(t, 0)); err != nil {
		t.Fatal(err)
	}
	mixed := exampleRecord(t, 1)
	mixed.Format, mixed.KeyCheck = Format2, k.Check()
	if err := c.Add(mixed); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("format 2 record in a format 1 set: %v", err)
	}
}
