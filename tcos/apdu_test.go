package tcos

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestCommandBytes(t *testing.T) {
	long := bytes.Repeat([]byte{0xAB}, 255)
	for _, tc := range []struct {
		name string
		cmd  Command
		want []byte
	}{
		{"case 1", Command{CLA: 0x00, INS: 0x20, P1: 0x00, P2: 0x81}, []byte{0x00, 0x20, 0x00, 0x81}},
		{"case 2", Command{INS: 0xB0, P1: 0x82, Ne: 12}, []byte{0x00, 0xB0, 0x82, 0x00, 0x0C}},
		{"case 2 Ne 256", Command{INS: 0xB0, Ne: 256}, []byte{0x00, 0xB0, 0x00, 0x00, 0x00}},
		{"case 3", Command{INS: 0xA4, P1: 0x08, P2: 0x0C, Data: []byte{0x4C, 0x00}}, []byte{0x00, 0xA4, 0x08, 0x0C, 0x02, 0x4C, 0x00}},
		{"case 4", Command{INS: 0xA4, P1: 0x08, P2: 0x04, Data: []byte{0x4C, 0x00}, Ne: 256}, []byte{0x00, 0xA4, 0x08, 0x04, 0x02, 0x4C, 0x00, 0x00}},
		{"case 3 max", Command{INS: 0xD6, Data: long}, append([]byte{0x00, 0xD6, 0x00, 0x00, 0xFF}, long...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.cmd.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("Bytes = % X, want % X", got, tc.want)
			}
			back, err := ParseCommand(got)
			if err != nil {
				t.Fatalf("ParseCommand: %v", err)
			}
			if back.CLA != tc.cmd.CLA || back.INS != tc.cmd.INS || back.P1 != tc.cmd.P1 ||
				back.P2 != tc.cmd.P2 || back.Ne != tc.cmd.Ne || !bytes.Equal(back.Data, tc.cmd.Data) {
				t.Fatalf("ParseCommand = %+v, want %+v", back, tc.cmd)
			}
		})
	}
}

func TestCommandBytesLimits(t *testing.T) {
	for _, c := range []Command{
		{Data: make([]byte, 256)},
		{Ne: 257},
		{Ne: -1},
	} {
		if b, err := c.Bytes(); err == nil {
			t.Errorf("Bytes(%d data, Ne %d) = % X, want error", len(c.Data), c.Ne, b)
		}
	}
}

func TestParseCommandErrors(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{0x00, 0xA4, 0x00},
		{0x00, 0xA4, 0x00, 0x00, 0x00, 0x00, 0x02}, // extended
		{0x00, 0xA4, 0x00, 0x00, 0x03, 0x01},       // Lc says 3, 1 follows
		{0x00, 0xA4, 0x00, 0x00, 0x01, 0x01, 0x02, 0x03},
	} {
		if c, err := ParseCommand(b); err == nil {
			t.Errorf("ParseCommand(% X) = %+v, want error", b, c)
		}
	}
}

func TestParseResponse(t *testing.T) {
	r, err := ParseResponse([]byte{0x01, 0x02, 0x63, 0xC2})
	if err != nil || !bytes.Equal(r.Data, []byte{1, 2}) || r.SW != 0x63C2 {
		t.Fatalf("ParseResponse = %+v, %v", r, err)
	}
	if !bytes.Equal(r.Bytes(), []byte{0x01, 0x02, 0x63, 0xC2}) {
		t.Fatalf("Bytes = % X", r.Bytes())
	}
	for _, b := range [][]byte{nil, {0x90}} {
		if _, err := ParseResponse(b); err == nil {
			t.Errorf("ParseResponse(% X) succeeded", b)
		}
	}
}

func FuzzParseCommand(f *testing.F) {
	f.Add([]byte{0x00, 0x20, 0x00, 0x81})
	f.Add([]byte{0x00, 0xB0, 0x82, 0x00, 0x0C})
	f.Add([]byte{0x00, 0xA4, 0x08, 0x0C, 0x04, 0x4B, 0x00, 0x4B, 0x01})
	f.Add([]byte{0x00, 0xA4, 0x08, 0x04, 0x02, 0x4C, 0x00, 0x00})
	f.Add([]byte{0x00, 0xA4, 0x00, 0x00, 0x00, 0x00, 0x02})
	f.Add([]byte{0x80, 0xAA, 0x01, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			return
		}
		if len(c.Data) > MaxLc || c.Ne < 0 || c.Ne > MaxNe {
			t.Fatalf("ParseCommand(% X) out of limits: %+v", b, c)
		}
		enc, err := c.Bytes()
		if err != nil {
			t.Fatalf("Bytes of a parsed command: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip % X -> % X", b, enc)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add([]byte{0x90, 0x00})
	f.Add([]byte{0x5A, 0x0A, 0x61, 0x10})
	f.Add([]byte{0x63})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := ParseResponse(b)
		if (err == nil) != (len(b) >= 2) {
			t.Fatalf("ParseResponse(% X) err = %v", b, err)
		}
		if err == nil && !bytes.Equal(r.Bytes(), b) {
			t.Fatalf("round trip % X -> % X", b, r.Bytes())
		}
		if err == nil {
			_ = r.Err() // must not panic for any SW
		}
	})
}

func TestStatusErrors(t *testing.T) {
	for _, tc := range []struct {
		sw   uint16
		is   error
		word string
	}{
		{0x6982, ErrSecurityStatus, "security status"},
		{0x6983, ErrBlocked, "blocked"},
		{0x6985, ErrConditions, "conditions"},
		{0x6A82, ErrFileNotFound, "file not found"},
		{0x6A88, ErrRefNotFound, "reference"},
		{0x6A86, ErrWrongParams, "parameters"},
		{0x6B00, ErrWrongParams, "parameters"},
		{0x6A80, ErrWrongData, "wrong data"},
		{0x6700, ErrWrongLength, "wrong length"},
		{0x6D00, ErrINSUnsupported, "instruction"},
		{0x6E00, ErrCLAUnsupported, "class"},
		{0x6581, nil, "memory"},
		{0x6F00, nil, "6F00"},
	} {
		err := Response{SW: tc.sw}.Err()
		var se *StatusError
		if !errors.As(err, &se) || se.SW != tc.sw {
			t.Errorf("%04X: %v is not a *StatusError with its SW", tc.sw, err)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) {
			t.Errorf("%04X: %v does not match %v", tc.sw, err, tc.is)
		}
		if tc.is != ErrBlocked && errors.Is(err, ErrBlocked) {
			t.Errorf("%04X matches ErrBlocked", tc.sw)
		}
		if msg := err.Error(); !strings.Contains(msg, tc.word) || strings.HasSuffix(msg, ".") {
			t.Errorf("%04X: message %q", tc.sw, msg)
		}
	}
	if err := (Response{SW: 0x9000}).Err(); err != nil {
		t.Errorf("9000 = %v", err)
	}
}

func TestWrongPINError(t *testing.T) {
	for x := 0; x <= 3; x++ {
		err := Response{SW: 0x63C0 | uint16(x)}.Err()
		var wp *WrongPINError
		if !errors.As(err, &wp) || wp.TriesLeft != x {
			t.Fatalf("63C%X = %v", x, err)
		}
		if errors.Is(err, ErrBlocked) != (x == 0) {
			t.Errorf("63C%X matches ErrBlocked: %v", x, errors.Is(err, ErrBlocked))
		}
	}
}

func TestSerialString(t *testing.T) {
	s := Serial{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0x0a, 0xff}
	if got, want := s.String(), "0123456789ABCDEF0AFF"; got != want {
		t.Fatalf("String = %q, want %q", got, want)
	}
}

func TestHistoricalBytes(t *testing.T) {
	h, err := HistoricalBytes(referenceATR)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(h, tcos30Historical) {
		t.Fatalf("historical bytes % X", h)
	}
	if !isTCOS30(ReferenceATR()) {
		t.Fatal("the reference ATR is not TCOS 3.0")
	}
	// Same historical bytes behind other interface bytes (TA1 13; TD2 11:
	// only TA3 follows, no TB3): still TCOS 3.0.
	other := []byte{0x3B, 0xBF, 0x13, 0x00, 0x81, 0x11, 0xFE}
	other = append(other, tcos30Historical...)
	var x byte
	for _, c := range other[1:] {
		x ^= c
	}
	other = append(other, x)
	if !isTCOS30(other) {
		t.Fatalf("% X not taken for TCOS 3.0", other)
	}
	bad := ReferenceATR()
	bad[len(bad)-1] ^= 1
	if _, err := HistoricalBytes(bad); err == nil {
		t.Error("bad TCK accepted")
	}
	changed := ReferenceATR()
	changed[12] ^= 0xFF // a historical byte; fix the TCK
	changed[len(changed)-1] ^= 0xFF
	if isTCOS30(changed) {
		t.Error("other historical bytes taken for TCOS 3.0")
	}
	for _, b := range [][]byte{nil, {0x3B}, {0x3B, 0x8F}, {0x3B, 0x02, 0x14}} {
		if h, err := HistoricalBytes(b); err == nil {
			t.Errorf("HistoricalBytes(% X) = % X", b, h)
		}
	}
}

func FuzzHistoricalBytes(f *testing.F) {
	f.Add(referenceATR)
	f.Add([]byte{0x3B, 0x8F, 0x80, 0x01})
	f.Add([]byte{0x3B, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := HistoricalBytes(b)
		if err == nil && len(h) != int(b[1]&0x0F) {
			t.Fatalf("HistoricalBytes(% X) = % X", b, h)
		}
	})
}
