// Package kcv computes key check values, the short fingerprint that cards,
// HSM and screen use to say "this is the same key" without showing the key.
//
// It is its own package so that quorum (which makes keys) and hsm (which
// stores them) agree on one definition without depending on each other.
package kcv

import "github.com/hsmcards/hsmcards/secmem"

// Size is the KCV length: 3 bytes (quorum/FORMAT.md).
const Size = 3

// AES returns the first 3 bytes of AES-ECB(key, 16 zero bytes), the usual
// KCV for AES keys (quorum/FORMAT.md). key must be 16, 24 or 32 bytes.
//
// It leaves no copy of the key behind: the key schedule lives in an mmap'd
// buffer that is wiped before AES returns (see aes.go), and it runs under
// secmem.Do.
func AES(key []byte) ([Size]byte, error) {
	var out [Size]byte
	var err error
	secmem.Do(func() {
		var block [blockSize]byte
		// Only the length is reported: the key must never reach an error.
		if err = encryptBlock(key, &block, &block); err == nil {
			copy(out[:], block[:Size])
		}
		secmem.Wipe(block[:])
	})
	return out, err
}
