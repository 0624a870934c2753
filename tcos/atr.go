package tcos

import (
	"bytes"
	"errors"
	"fmt"
)

// referenceATR is the TCOS 3.0 ATR of our cards (T=1; docs/tcos.md); the
// simulated card answers with it.
var referenceATR = []byte{
	0x3B, 0xBF, 0x96, 0x00, 0x81, 0x31, 0xFE, 0x5D, 0x00, 0x64, 0x04, 0x11,
	0x03, 0x01, 0x31, 0xC0, 0x73, 0xF7, 0x01, 0xD0, 0x00, 0x90, 0x00, 0x7D,
}

// ReferenceATR returns a copy of the TCOS 3.0 ATR our cards answer with
// (docs/tcos.md).
func ReferenceATR() []byte { return bytes.Clone(referenceATR) }

// tcos30Historical are the historical bytes of the reference ATR. They name
// the chip and operating system; the interface bytes before them (clock
// rate, IFSC) may differ between card batches and readers, so Identify
// compares these.
var tcos30Historical = []byte{
	0x00, 0x64, 0x04, 0x11, 0x03, 0x01, 0x31, 0xC0, 0x73, 0xF7, 0x01, 0xD0, 0x00, 0x90, 0x00,
}

var errATR = errors.New("malformed answer to reset")

// HistoricalBytes returns the historical bytes of an ATR (ISO 7816-3 §8.2),
// checking the structure (and the TCK where one is present) as it goes.
func HistoricalBytes(atr []byte) ([]byte, error) {
	if len(atr) < 2 || (atr[0] != 0x3B && atr[0] != 0x3F) {
		return nil, errATR
	}
	y := atr[1] >> 4
	k := int(atr[1] & 0x0F)
	i := 2
	tck := false
	for {
		for bit := byte(1); bit <= 4; bit <<= 1 { // TA, TB, TC
			if y&bit != 0 {
				i++
			}
		}
		if y&8 == 0 {
			break
		}
		if i >= len(atr) {
			return nil, errATR
		}
		td := atr[i]
		i++
		if td&0x0F != 0 {
			tck = true // any protocol other than T=0 brings a TCK
		}
		y = td >> 4
	}
	end := i + k
	if tck {
		end++
	}
	if end != len(atr) {
		return nil, fmt.Errorf("%w: %d bytes where its format says %d", errATR, len(atr), end)
	}
	if tck {
		var x byte
		for _, c := range atr[1:] {
			x ^= c
		}
		if x != 0 {
			return nil, fmt.Errorf("%w: bad check byte", errATR)
		}
	}
	return atr[i : i+k], nil
}

// isTCOS30 reports whether atr is a TCOS 3.0 ATR in the sense of
// docs/tcos.md: the reference ATR exactly, or one with the same historical
// bytes.
func isTCOS30(atr []byte) bool {
	if bytes.Equal(atr, referenceATR) {
		return true
	}
	h, err := HistoricalBytes(atr)
	return err == nil && bytes.Equal(h, tcos30Historical)
}

// IsTCOS30 reports whether atr is a TCOS 3.0 answer to reset, the first
// thing Identify checks; `hsmcards inspect` says so on its own, before it
// looks for the profile's files.
func IsTCOS30(atr []byte) bool { return isTCOS30(atr) }
