// Package memscan finds copies of secrets in the process's own memory, for
// tests: it reads every readable anonymous mapping (the Go heap, goroutine
// stacks, mmap'd buffers, the main thread's stack) through /proc/self/mem and
// reports where a secret's bytes are found. A test makes a secret, uses it,
// wipes it, runs the garbage collector and then asks Scan where copies are
// left (docs/security.md, "Secrets in memory").
//
// A Needle never holds the secret in the clear, so the needles themselves
// are no copy: each keeps the secret XOR a random mask. The buffer Scan reads
// memory into is an mmap'd secmem.Buffer that Scan skips and wipes.
//
// Only for tests; Linux only (elsewhere Scan returns errors.ErrUnsupported).
package memscan

import (
	"crypto/rand"
	"fmt"
	"strings"
	"unsafe"
)

// Needle is one byte pattern to look for: a secret, a window of it, or its
// bytes spread out at a fixed stride (as a GF(2^8) polynomial per key byte
// would leave them, each beside its random coefficients).
type Needle struct {
	Name   string
	masked []byte // secret[i] ^ mask[i]
	mask   []byte
	stride int
}

// New returns a Needle for the contiguous bytes of secret, named name.
func New(name string, secret []byte) Needle { return Strided(name, secret, 1) }

// Strided returns a Needle for secret's bytes found stride bytes apart.
func Strided(name string, secret []byte, stride int) Needle {
	if len(secret) == 0 || stride < 1 {
		panic("memscan: empty needle")
	}
	n := Needle{Name: name, masked: make([]byte, len(secret)), mask: make([]byte, len(secret)), stride: stride}
	if _, err := rand.Read(n.mask); err != nil {
		panic(err)
	}
	for i := range secret {
		n.masked[i] = secret[i] ^ n.mask[i]
	}
	return n
}

// Windows returns Needles for secret in windows of size bytes at every
// multiple of size (the last one may be shorter): any copy of at least
// 2*size-1 contiguous bytes of the secret contains one of them.
func Windows(name string, secret []byte, size int) []Needle {
	var out []Needle
	for i := 0; i < len(secret); i += size {
		j := min(i+size, len(secret))
		if j-i < size && i > 0 {
			i = len(secret) - size // a last full window, overlapping
			j = len(secret)
		}
		out = append(out, New(fmt.Sprintf("%s[%d:%d]", name, i, j), secret[i:j]))
	}
	return out
}

// span is the number of bytes a match occupies.
func (n Needle) span() int { return (len(n.masked)-1)*n.stride + 1 }

// at reports whether the needle matches b at offset i (i+span ≤ len(b)).
func (n Needle) at(b []byte, i int) bool {
	for j := range n.masked {
		if b[i+j*n.stride]^n.mask[j] != n.masked[j] {
			return false
		}
	}
	return true
}

// Hit is one place a needle was found.
type Hit struct {
	Needle  string
	Addr    uintptr
	Mapping string // the mapping's line in /proc/self/maps
}

func (h Hit) String() string { return fmt.Sprintf("%s at %#x in %s", h.Needle, h.Addr, h.Mapping) }

// Report is every hit of a Scan, one per line ("" when there are none).
func Report(hits []Hit) string {
	var b strings.Builder
	for _, h := range hits {
		b.WriteString(h.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Count returns how many hits each needle name has.
func Count(hits []Hit) map[string]int {
	m := make(map[string]int)
	for _, h := range hits {
		m[h.Needle]++
	}
	return m
}

// Within reports whether addr lies in b.
func Within(addr uintptr, b []byte) bool {
	if len(b) == 0 {
		return false
	}
	start := addrOf(b)
	return addr >= start && addr < start+uintptr(len(b))
}

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
