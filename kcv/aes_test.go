package kcv

import (
	"crypto/aes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

// TestEncryptBlockFIPS197 checks the three example vectors of FIPS 197
// appendix C: key 00 01 02 … encrypts 00 11 22 … ff.
func TestEncryptBlockFIPS197(t *testing.T) {
	for _, tc := range []struct {
		keyLen int
		want   string
	}{
		{16, "69c4e0d86a7b0430d8cdb78070b4c55a"},
		{24, "dda97ca4864cdfe06eaf70a0ec0d7191"},
		{32, "8ea2b7ca516745bfeafc49904b496089"},
	} {
		key := make([]byte, tc.keyLen)
		for i := range key {
			key[i] = byte(i)
		}
		var in, out [blockSize]byte
		for i := range in {
			in[i] = byte(i * 0x11)
		}
		if err := encryptBlock(key, &in, &out); err != nil {
			t.Fatal(err)
		}
		if got := hex.EncodeToString(out[:]); got != tc.want {
			t.Errorf("AES-%d: %s, want %s", 8*tc.keyLen, got, tc.want)
		}
	}
}

// TestEncryptBlockMatchesCryptoAES compares random keys and blocks with the
// standard library.
func TestEncryptBlockMatchesCryptoAES(t *testing.T) {
	for i := range 300 {
		key := make([]byte, []int{16, 24, 32}[i%3])
		var in, got, want [blockSize]byte
		rand.Read(key)
		rand.Read(in[:])
		c, err := aes.NewCipher(key)
		if err != nil {
			t.Fatal(err)
		}
		c.Encrypt(want[:], in[:])
		if err := encryptBlock(key, &in, &got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("key %x block %x: %x, want %x", key, in, got, want)
		}
		// In place.
		if err := encryptBlock(key, &in, &in); err != nil || in != want {
			t.Fatalf("in place: %x, %v", in, err)
		}
	}
}

// TestAESLeavesNoKeyCopy: a KCV and a key check computed in a goroutine of its own (as a
// tea.Cmd would), then the key wiped and the garbage collected: no copy of
// the key is left in memory, the key schedule's included.
func TestAESLeavesNoKeyCopy(t *testing.T) {
	buf, err := secmem.NewBuffer(32)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Destroy()
	key := buf.Bytes()
	rand.Read(key)
	needles := memscan.Windows("key", key, 8)
	swapped := make([]byte, 32)
	for i := 0; i < 32; i += 4 {
		swapped[i], swapped[i+1], swapped[i+2], swapped[i+3] = key[i+3], key[i+2], key[i+1], key[i]
	}
	needles = append(needles, memscan.Windows("key word-swapped", swapped, 8)...)
	secmem.Wipe(swapped)

	done := make(chan error)
	go func() {
		for range 3 {
			if _, err := AES(key); err != nil {
				done <- err
				return
			}
			if _, err := Check(key); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	buf.Wipe()
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("%d copies of the key left after a KCV:\n%s", len(hits), memscan.Report(hits))
	}
}

func BenchmarkAES(b *testing.B) {
	key := make([]byte, 32)
	for b.Loop() {
		if _, err := AES(key); err != nil {
			b.Fatal(err)
		}
	}
}
