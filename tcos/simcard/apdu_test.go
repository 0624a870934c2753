package simcard

import (
	"bytes"
	"testing"
)

func TestParseCommand(t *testing.T) {
	for _, tc := range []struct {
		in       string
		data     string
		ne       int
		extended bool
		bad      bool
	}{
		{in: "00 A4 00 0C"},                                   // case 1
		{in: "00 B0 00 00 0C", ne: 12},                        // 2S
		{in: "00 B0 00 00 00", ne: 256},                       // 2S, Le 00
		{in: "00 B0 00 00 00 01 0D", ne: 269, extended: true}, // 2E
		{in: "00 B0 00 00 00 00 00", ne: 65536, extended: true},
		{in: "00 A4 08 0C 02 4B 00", data: "4B 00"},                                     // 3S
		{in: "00 A4 08 04 02 4B 00 00", data: "4B 00", ne: 256},                         // 4S
		{in: "00 A4 08 0C 00 00 02 4B 00", data: "4B 00", extended: true},               // 3E
		{in: "00 A4 08 04 00 00 02 4B 00 00 40", data: "4B 00", ne: 64, extended: true}, // 4E
		{in: "00 A4 08 04 00 00 02 4B 00 00 00", data: "4B 00", ne: 65536, extended: true},
		{in: "00 A4 08", bad: true},
		{in: "00 A4 08 0C 03 4B 00", bad: true},          // Lc says more
		{in: "00 A4 08 0C 01 4B 00 00 00", bad: true},    // and less
		{in: "00 A4 08 0C 00 00", bad: true},             // extended, cut short
		{in: "00 A4 08 0C 00 00 00 00", bad: true},       // extended Lc 0
		{in: "00 A4 08 0C 00 00 03 4B 00", bad: true},    // extended Lc says more
		{in: "00 A4 08 0C 00 00 02 4B 00 00", bad: true}, // a one-byte extended Le
	} {
		c, err := parseCommand(hx(t, tc.in))
		if tc.bad {
			if err == nil {
				t.Errorf("%s: parsed, want an error", tc.in)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.in, err)
			continue
		}
		if !bytes.Equal(c.data, hx(t, tc.data)) || c.ne != tc.ne || c.extended != tc.extended {
			t.Errorf("%s: data % X, ne %d, extended %v; want %s, %d, %v", tc.in, c.data, c.ne, c.extended, tc.data, tc.ne, tc.extended)
		}
	}
}

// encode is the APDU parseCommand read c from, in the form it came in.
func encode(c command) []byte {
	b := []byte{c.cla, c.ins, c.p1, c.p2}
	if c.extended {
		if len(c.data) > 0 {
			b = append(b, 0, byte(len(c.data)>>8), byte(len(c.data)))
			b = append(b, c.data...)
		} else if c.ne > 0 {
			b = append(b, 0)
		}
		if c.ne > 0 {
			b = append(b, byte(c.ne>>8), byte(c.ne)) // 65536 wraps to 00 00
		}
		return b
	}
	if len(c.data) > 0 {
		b = append(b, byte(len(c.data)))
		b = append(b, c.data...)
	}
	if c.ne > 0 {
		b = append(b, byte(c.ne)) // 256 wraps to 00
	}
	return b
}

// FuzzParseCommand: whatever parses re-encodes to the same bytes, within the
// limits of its form.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00 A4 00 0C", "00 B0 00 00 00", "00 B0 00 00 00 01 0D",
		"00 A4 08 04 02 4B 00 00", "00 A4 08 04 00 00 02 4B 00 00 40", "00 A4 08 0C 00 00 02 4B 00"} {
		f.Add(hx(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseCommand(b)
		if err != nil {
			return
		}
		if got := encode(c); !bytes.Equal(got, b) {
			t.Fatalf("% X parsed as %+v, which encodes as % X", b, c, got)
		}
		limit := maxNeShort
		if c.extended {
			limit = maxNeExt
		}
		if c.ne < 0 || c.ne > limit || len(c.data) > limit-1 {
			t.Fatalf("% X: ne %d, %d data bytes", b, c.ne, len(c.data))
		}
	})
}
