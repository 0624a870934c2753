package quorum

// SHA-256 (FIPS 180-4 §6.2) for the record checksum, with its message
// schedule and its last, padded blocks in an mmap'd secmem.Buffer that is
// wiped before it returns. The checksum covers the share:
// crypto/sha256 keeps the input's last partial block in its digest state and
// its message schedule on the stack, where nothing can wipe them, so every
// record parsed or written left part of its share behind (docs/security.md,
// "Secrets in memory"). SHA-256 has no table and no data-dependent branch:
// this is constant time as it stands. Speed does not matter (a few blocks
// per record).

import (
	"encoding/binary"
	"math/bits"
	"sync"

	"github.com/hsmcards/hsmcards/secmem"
)

// sha256K are the round constants (FIPS 180-4 §4.2.2).
var sha256K = [64]uint32{
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}

// sha256Init is the initial hash value (FIPS 180-4 §5.3.3).
var sha256Init = [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}

const (
	sha256Block    = 64
	sha256Schedule = 64 * 4 // W[0..63], big-endian words
)

// sum256 returns SHA-256(data). It fails only if its scratch memory cannot
// be allocated.
func sum256(data []byte) (sum [32]byte, err error) {
	secmem.Do(func() { sum, err = sum256Into(data) })
	return sum, err
}

// sha256Scratch is the schedule, then room for the last one or two padded
// blocks: one Buffer for every checksum, wiped after each, so that a record
// costs no mapping, locking and cleanup of its own (each of which made the
// garbage collector's signals, and the registers they save, more frequent).
var sha256Scratch struct {
	sync.Mutex
	buf *secmem.Buffer
}

func sum256Into(data []byte) ([32]byte, error) {
	sha256Scratch.Lock()
	defer sha256Scratch.Unlock()
	if sha256Scratch.buf == nil {
		b, err := secmem.NewBuffer(sha256Schedule + 2*sha256Block)
		if err != nil {
			return [32]byte{}, err
		}
		sha256Scratch.buf = b
	}
	mem := sha256Scratch.buf.Bytes()
	defer secmem.Wipe(mem)
	w, tail := mem[:sha256Schedule], mem[sha256Schedule:]

	h := sha256Init
	full := len(data) &^ (sha256Block - 1)
	for off := 0; off < full; off += sha256Block {
		sha256BlockFn(&h, w, data[off:off+sha256Block])
	}
	// Padding (§5.1.1): the rest, 0x80, zeros, the bit length.
	n := secmem.Copy(tail, data[full:])
	tail[n] = 0x80
	end := sha256Block
	if n+1+8 > sha256Block {
		end = 2 * sha256Block
	}
	binary.BigEndian.PutUint64(tail[end-8:end], uint64(len(data))*8)
	for off := 0; off < end; off += sha256Block {
		sha256BlockFn(&h, w, tail[off:off+sha256Block])
	}
	var sum [32]byte
	for i, v := range h {
		binary.BigEndian.PutUint32(sum[4*i:], v)
	}
	return sum, nil
}

// sha256BlockFn runs the compression function on one block, its message
// schedule in w.
func sha256BlockFn(h *[8]uint32, w, block []byte) {
	// Through general registers (secmem.Copy): the built-in copy would
	// leave the block, and the share in it, in vector registers.
	secmem.Copy(w[:sha256Block], block)
	word := func(i int) uint32 { return binary.BigEndian.Uint32(w[4*i:]) }
	for i := 16; i < 64; i++ {
		a, b := word(i-15), word(i-2)
		s0 := bits.RotateLeft32(a, -7) ^ bits.RotateLeft32(a, -18) ^ a>>3
		s1 := bits.RotateLeft32(b, -17) ^ bits.RotateLeft32(b, -19) ^ b>>10
		binary.BigEndian.PutUint32(w[4*i:], word(i-16)+s0+word(i-7)+s1)
	}
	a, b, c, d, e, f, g, hh := h[0], h[1], h[2], h[3], h[4], h[5], h[6], h[7]
	for i := range 64 {
		t1 := hh + (bits.RotateLeft32(e, -6) ^ bits.RotateLeft32(e, -11) ^ bits.RotateLeft32(e, -25)) +
			(e&f ^ ^e&g) + sha256K[i] + word(i)
		t2 := (bits.RotateLeft32(a, -2) ^ bits.RotateLeft32(a, -13) ^ bits.RotateLeft32(a, -22)) + (a&b ^ a&c ^ b&c)
		hh, g, f, e, d, c, b, a = g, f, e, d+t1, c, b, a, t1+t2
	}
	h[0] += a
	h[1] += b
	h[2] += c
	h[3] += d
	h[4] += e
	h[5] += f
	h[6] += g
	h[7] += hh
}
