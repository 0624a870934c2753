// Package gf256 is arithmetic in GF(2^8) with the AES polynomial
// x^8 + x^4 + x^3 + x + 1 (FIPS 197 §4), the field both AES and Shamir's
// secret sharing as Vault implements it work in.
//
// Every function runs in time independent of its operands: no branch and no
// table lookup depends on a value, so a secret byte cannot be told from the
// time taken or from what the cache holds.
package gf256

// Mul returns a·b.
func Mul(a, b byte) byte {
	var r byte
	for i := 7; i >= 0; i-- {
		// r = r·x + a·b_i, reducing by 0x1B when r·x overflows.
		r = (r << 1) ^ (0x1B & -(r >> 7)) ^ (a & -(b >> uint(i) & 1))
	}
	return r
}

// Inv returns the multiplicative inverse of a, and 0 for 0 (a^254: the
// group of units has order 255).
func Inv(a byte) byte {
	// a^254 = a^(2+4+8+16+32+64+128), by square and multiply.
	sq := Mul(a, a) // a^2
	r := sq
	for range 6 {
		sq = Mul(sq, sq) // a^4, a^8, …, a^128
		r = Mul(r, sq)
	}
	return r
}

// Div returns a/b; b must not be 0 (then it returns 0).
func Div(a, b byte) byte { return Mul(a, Inv(b)) }
