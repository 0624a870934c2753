package kcv

// One AES encryption (FIPS 197) whose key schedule and state live in an
// mmap'd secmem.Buffer that is wiped and unmapped before it returns.
// crypto/aes keeps its expanded key in a heap object that nothing can wipe:
// the first round keys of an AES-256 schedule are the key itself, so every
// KCV computed with it left a copy of the Backup Key in freed memory
// (docs/security.md, "Secrets in memory"). Speed does not matter here (one
// block per KCV); constant time does: the S-box is computed from the field
// inverse, not looked up, so no memory access depends on the key.

import (
	"fmt"

	"github.com/hsmcards/hsmcards/internal/gf256"
	"github.com/hsmcards/hsmcards/secmem"
)

// blockSize is the AES block size in bytes.
const blockSize = 16

// sbox is the AES S-box (FIPS 197 §5.1.1): the field inverse, then the
// affine map b ^ rotl(b,1) ^ rotl(b,2) ^ rotl(b,3) ^ rotl(b,4) ^ 0x63.
func sbox(x byte) byte {
	b := gf256.Inv(x)
	return b ^ rotl(b, 1) ^ rotl(b, 2) ^ rotl(b, 3) ^ rotl(b, 4) ^ 0x63
}

func rotl(b byte, n uint) byte { return b<<n | b>>(8-n) }

// xtime is b·x in the AES field.
func xtime(b byte) byte { return b<<1 ^ 0x1B&-(b>>7) }

// encryptBlock sets out to AES-ECB(key, in); key is 16, 24 or 32 bytes.
// Only out is left behind; in and out may be the same.
func encryptBlock(key []byte, in, out *[blockSize]byte) error {
	nk := len(key) / 4
	if len(key)%4 != 0 || nk != 4 && nk != 6 && nk != 8 {
		return fmt.Errorf("kcv: invalid AES key length %d", len(key))
	}
	rounds := nk + 6
	schedLen := blockSize * (rounds + 1)
	scratch, err := secmem.NewBuffer(schedLen + 2*blockSize)
	if err != nil {
		return fmt.Errorf("kcv: %w", err)
	}
	defer scratch.Destroy()
	mem := scratch.Bytes()
	w := mem[:schedLen]                                   // the expanded key
	state := mem[schedLen : schedLen+blockSize]           // column-major: state[r+4c]
	tmp := mem[schedLen+blockSize : schedLen+2*blockSize] // ShiftRows' copy

	// Key expansion (FIPS 197 §5.2). The key goes in through general
	// registers (secmem.Copy): the built-in copy would leave it in vector
	// registers during all the rounds below.
	secmem.Copy(w, key)
	rcon := byte(1)
	for i := nk; i < 4*(rounds+1); i++ {
		t := w[4*i : 4*i+4]
		copy(t, w[4*(i-1):4*i])
		switch {
		case i%nk == 0:
			t[0], t[1], t[2], t[3] = sbox(t[1])^rcon, sbox(t[2]), sbox(t[3]), sbox(t[0])
			rcon = xtime(rcon)
		case nk > 6 && i%nk == 4:
			t[0], t[1], t[2], t[3] = sbox(t[0]), sbox(t[1]), sbox(t[2]), sbox(t[3])
		}
		for j := range 4 {
			t[j] ^= w[4*(i-nk)+j]
		}
	}

	// The cipher (FIPS 197 §5.1).
	copy(state, in[:])
	addRoundKey(state, w[:blockSize])
	for round := 1; round <= rounds; round++ {
		for i := range state {
			state[i] = sbox(state[i])
		}
		// ShiftRows: row r moves r columns to the left.
		copy(tmp, state)
		for c := range 4 {
			for r := 1; r < 4; r++ {
				state[r+4*c] = tmp[r+4*((c+r)%4)]
			}
		}
		if round < rounds {
			for c := 0; c < blockSize; c += 4 {
				mixColumn(state[c : c+4])
			}
		}
		addRoundKey(state, w[blockSize*round:blockSize*(round+1)])
	}
	copy(out[:], state)
	return nil
}

func addRoundKey(state, k []byte) {
	for i := range state {
		state[i] ^= k[i]
	}
}

// mixColumn multiplies one column by the MixColumns matrix (FIPS 197
// §5.1.3): 2 3 1 1 / 1 2 3 1 / 1 1 2 3 / 3 1 1 2.
func mixColumn(s []byte) {
	a0, a1, a2, a3 := s[0], s[1], s[2], s[3]
	all := a0 ^ a1 ^ a2 ^ a3
	s[0] = a0 ^ all ^ xtime(a0^a1)
	s[1] = a1 ^ all ^ xtime(a1^a2)
	s[2] = a2 ^ all ^ xtime(a2^a3)
	s[3] = a3 ^ all ^ xtime(a3^a0)
}
