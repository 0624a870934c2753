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
	var zero [blockSize]byte
	var out [Size]byte
	err := encrypt(key, &zero, out[:])
	return out, err
}

// CheckSize is the length of the key check of share record format 2: one
// whole AES block (quorum/FORMAT.md, "The key check").
const CheckSize = blockSize

// checkBlock is the block the key check encrypts: the ASCII bytes
// "hsmcards:chk" and four zero bytes (quorum/FORMAT.md, "The key check").
// It is not the zero block, which AES-GCM takes as its hash key H; and in
// GCM with a 96-bit IV the last four bytes of a counter block never come to
// zero, so no GCM keystream or tag mask under the same key is this block.
var checkBlock = [blockSize]byte{'h', 's', 'm', 'c', 'a', 'r', 'd', 's', ':', 'c', 'h', 'k', 0, 0, 0, 0}

// Check returns the key check of share record format 2:
// AES-ECB(key, checkBlock), all 16 bytes (quorum/FORMAT.md). It tells a
// wrong key from the right one with odds of 1 in 2^128 where the 3-byte KCV
// has 1 in 2^24, and it is the same for every card set of one key. Like
// AES, it leaves no copy of the key behind.
func Check(key []byte) ([CheckSize]byte, error) {
	in := checkBlock
	var out [CheckSize]byte
	err := encrypt(key, &in, out[:])
	return out, err
}

// encrypt sets out to the first len(out) bytes of AES-ECB(key, in), under
// secmem.Do. Only the length of a bad key is reported: the key must never
// reach an error.
func encrypt(key []byte, in *[blockSize]byte, out []byte) error {
	var err error
	secmem.Do(func() {
		var block [blockSize]byte
		if err = encryptBlock(key, in, &block); err == nil {
			copy(out, block[:])
		}
		secmem.Wipe(block[:])
	})
	return err
}
