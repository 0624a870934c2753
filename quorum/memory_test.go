package quorum

import (
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

// secretNeedles are the patterns a copy of secret would leave: any 15 or
// more contiguous bytes of it (8-byte windows), its 32-bit words byte-swapped
// (an AES key schedule kept as little-endian words), and its first 8 bytes
// spread at strides 2 to 5 (a GF(2^8) polynomial per secret byte, each
// beside its k-1 random coefficients, as Vault's Split allocates them).
func secretNeedles(name string, secret []byte) []memscan.Needle {
	ns := memscan.Windows(name, secret, 8)
	if len(secret)%4 == 0 {
		swapped := make([]byte, len(secret))
		for i := 0; i < len(secret); i += 4 {
			swapped[i], swapped[i+1], swapped[i+2], swapped[i+3] = secret[i+3], secret[i+2], secret[i+1], secret[i]
		}
		ns = append(ns, memscan.Windows(name+" word-swapped", swapped, 8)...)
		secmem.Wipe(swapped)
	}
	for stride := 2; stride <= 5; stride++ {
		ns = append(ns, memscan.Strided(fmt.Sprintf("%s at stride %d", name, stride), secret[:8], stride))
	}
	return ns
}

// TestNoSecretCopiesInMemory: after a key is generated and split, its
// records written and read back, a quorum combined and checked, and all of
// it wiped and collected, no copy of the key or of a share is left in the
// process's memory (docs/security.md, "Secrets in memory").
func TestNoSecretCopiesInMemory(t *testing.T) {
	key, recs, err := Generate("memory scan", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	needles := secretNeedles("key", key.Bytes())
	for i, r := range recs {
		needles = append(needles, memscan.Windows(fmt.Sprintf("share %d", i+1), r.Share[:KeySize], 8)...)
	}

	// The scanner finds what is there: the key in its buffer, each share in
	// its record.
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	inKey := false
	for _, h := range hits {
		inKey = inKey || h.Needle == "key[0:8]" && memscan.Within(h.Addr, key.Bytes())
	}
	if !inKey {
		t.Fatalf("the scanner does not find the live key:\n%s", memscan.Report(hits))
	}

	// What the wizard does with them, in a goroutine of its own as a
	// tea.Cmd runs (its stack is freed, not cleared, when it ends): each
	// record to its card and back, a quorum combined and checked against the
	// key, everything wiped.
	done := make(chan error)
	go func() { done <- useAndWipe(key, recs) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	hits, err = memscan.Scan(needles...)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("%d copies of secrets left after Wipe and GC:\n%s", len(hits), memscan.Report(hits))
	}
	runtime.KeepAlive(key)
}

// useAndWipe writes each record to a card and reads it back, combines a
// quorum, checks it is key, and wipes all of it, key and records included.
func useAndWipe(key *Key, recs []*Record) error {
	defer key.Wipe()
	var read []*Record
	defer func() {
		for _, r := range append(recs, read...) {
			r.Wipe()
		}
	}()
	for _, r := range recs {
		b, err := r.Marshal()
		if err != nil {
			return err
		}
		onCard := make([]byte, MaxRecordSize)
		copy(onCard, b)
		secmem.Wipe(b)
		p, err := Parse(onCard)
		secmem.Wipe(onCard)
		if err != nil {
			return err
		}
		read = append(read, p)
	}
	c := NewCollector(nil)
	defer c.Wipe()
	for _, p := range read[1:] {
		if err := c.Add(p); err != nil {
			return err
		}
	}
	back, err := c.Combine()
	if err != nil {
		return err
	}
	defer back.Wipe()
	if back.KCV() != key.KCV() {
		return errors.New("the quorum rebuilt another key")
	}
	return nil
}

// TestReshareLeavesNoCopy: a key split anew (as a re-issue does), its
// records marshalled, parsed and combined, then the Shares destroyed and the
// key wiped: no copy of the key or of a new share is left.
func TestReshareLeavesNoCopy(t *testing.T) {
	key, recs, err := Generate("memory scan", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Wipe()
	}
	sh, err := Reshare(key, "memory scan 2", ThreeOfFive, 2, testNow)
	if err != nil {
		t.Fatal(err)
	}
	needles := secretNeedles("key", key.Bytes())
	for i, r := range sh.Records {
		needles = append(needles, memscan.Windows(fmt.Sprintf("new share %d", i+1), r.Share[:KeySize], 8)...)
	}
	if _, err := memscan.Scan(needles...); errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	done := make(chan error)
	go func() {
		defer sh.Destroy()
		done <- useAndWipe(key, sh.Records)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("%d copies of secrets left after Destroy, Wipe and GC:\n%s", len(hits), memscan.Report(hits))
	}
	runtime.KeepAlive(key)
}
