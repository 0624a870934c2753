package gf256

import "testing"

// slowMul is schoolbook multiplication with branches, reduced by the AES
// polynomial: the reference the constant-time Mul is checked against.
func slowMul(a, b byte) byte {
	var p uint16
	for i := range 8 {
		if b&(1<<i) != 0 {
			p ^= uint16(a) << i
		}
	}
	for i := 15; i >= 8; i-- {
		if p&(1<<i) != 0 {
			p ^= 0x11B << (i - 8)
		}
	}
	return byte(p)
}

func TestMulAllPairs(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			if got, want := Mul(byte(a), byte(b)), slowMul(byte(a), byte(b)); got != want {
				t.Fatalf("Mul(%#x, %#x) = %#x, want %#x", a, b, got, want)
			}
		}
	}
	// FIPS 197 §4.2: {57}·{83} = {c1}.
	if Mul(0x57, 0x83) != 0xC1 {
		t.Fatal("FIPS 197 example")
	}
}

func TestInv(t *testing.T) {
	if Inv(0) != 0 {
		t.Fatal("Inv(0) != 0")
	}
	for a := 1; a < 256; a++ {
		if Mul(byte(a), Inv(byte(a))) != 1 {
			t.Fatalf("Inv(%#x) = %#x is no inverse", a, Inv(byte(a)))
		}
		if Div(byte(a), byte(a)) != 1 || Div(0, byte(a)) != 0 {
			t.Fatalf("Div by %#x", a)
		}
	}
}
