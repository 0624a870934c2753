// Package kcv computes key check values, the short fingerprint that cards,
// HSM and screen use to say "this is the same key" without showing the key.
//
// It is its own package so that quorum (which makes keys) and hsm (which
// stores them) agree on one definition without depending on each other.
package kcv

import (
	"crypto/aes"
	"fmt"
)

// Size is the KCV length: 3 bytes (DESIGN "Share record").
const Size = 3

// AES returns the first 3 bytes of AES-ECB(key, 16 zero bytes), the usual
// KCV for AES keys (DESIGN "Share record"). key must be 16, 24 or 32 bytes.
//
// crypto/aes keeps an expanded key schedule we cannot wipe; it is garbage
// once this returns.
func AES(key []byte) ([Size]byte, error) {
	var out [Size]byte
	c, err := aes.NewCipher(key)
	if err != nil {
		// Only the length is reported: the key itself must never reach an error.
		return out, fmt.Errorf("kcv: invalid AES key length %d", len(key))
	}
	var block [aes.BlockSize]byte
	c.Encrypt(block[:], block[:])
	copy(out[:], block[:Size])
	clear(block[:])
	return out, nil
}
