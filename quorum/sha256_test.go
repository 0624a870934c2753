package quorum

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

// TestSum256 checks the FIPS 180-4 examples and every length around the
// block and padding boundaries against crypto/sha256.
func TestSum256(t *testing.T) {
	for in, want := range map[string]string{
		"":    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
		"abc": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq": "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
	} {
		got, err := sum256([]byte(in))
		if err != nil || hex.EncodeToString(got[:]) != want {
			t.Errorf("sum256(%q) = %x, %v", in, got, err)
		}
	}
	buf := make([]byte, 300)
	rand.Read(buf)
	for n := range buf {
		got, err := sum256(buf[:n])
		if err != nil || got != sha256.Sum256(buf[:n]) {
			t.Fatalf("length %d: %x, %v", n, got, err)
		}
	}
}

// TestChecksumLeavesNoCopy: a record parsed (its checksum verified) in a
// goroutine of its own and wiped leaves no part of its share behind, as
// crypto/sha256 did (its last partial block).
func TestChecksumLeavesNoCopy(t *testing.T) {
	_, recs, err := Generate("memory scan", TwoOfThree, testNow)
	if err != nil {
		t.Fatal(err)
	}
	card, err := secmem.NewBuffer(MaxRecordSize)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Destroy()
	b, err := recs[0].Marshal()
	if err != nil {
		t.Fatal(err)
	}
	copy(card.Bytes(), b)
	secmem.Wipe(b)
	needles := secretNeedles("share", recs[0].Share[:KeySize])
	for _, r := range recs {
		r.Wipe()
	}
	done := make(chan error)
	go func() {
		r, err := Parse(card.Bytes())
		if err == nil {
			r.Wipe()
		}
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var left []memscan.Hit
	for _, h := range hits {
		if !memscan.Within(h.Addr, card.Bytes()) {
			left = append(left, h)
		}
	}
	if len(left) != 0 {
		t.Errorf("%d copies of the share left after Parse:\n%s", len(left), memscan.Report(left))
	}
}
