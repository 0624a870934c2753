package simcard

import (
	"math"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/tcos"
)

func TestReferenceLink(t *testing.T) {
	l := referenceLink()
	// TA1 96: Fi 512 (f max 5 MHz), Di 32; TC1 absent; TA3 FE, TB3 5D.
	want := link{fi: 512, di: 32, fmax: 5e6, n: 0, ifsc: 254, bwi: 5, negotiated: true}
	if l != want {
		t.Fatalf("link %+v, want %+v", l, want)
	}
	for _, bad := range [][]byte{nil, {0x3B}, {0x3B, 0x10}, {0x3B, 0x10, 0x71}, {0x3B, 0x80}} {
		if _, err := parseLink(bad); err == nil {
			t.Errorf("parseLink(% X) accepted", bad)
		}
	}
	// An ATR without TA1 runs at the default rate.
	if l, err := parseLink([]byte{0x3B, 0x00}); err != nil || l.fi != 372 || l.di != 1 || l.negotiated {
		t.Errorf("bare ATR: %+v, %v", l, err)
	}
}

func near(t *testing.T, what string, got time.Duration, wantSec float64) {
	t.Helper()
	if math.Abs(got.Seconds()-wantSec) > 1e-9 {
		t.Errorf("%s = %v, want %.9fs", what, got, wantSec)
	}
}

func TestPaceRate(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *Pace
		etu  float64
	}{
		{"4 MHz: Di f / Fi = 250 000 bit/s", NewPace(1), 4e-6},
		{"8 MHz asked, 5 MHz the card's most", &Pace{ClockHz: 8e6}, 512.0 / 32 / 5e6},
		{"a reader capped at 115 200 bit/s", &Pace{ClockHz: 4e6, ReaderMaxBPS: 115200}, 1.0 / 115200},
	} {
		if got := tc.p.etu(); math.Abs(got-tc.etu) > 1e-15 {
			t.Errorf("%s: etu %g, want %g", tc.name, got, tc.etu)
		}
	}
}

func TestPaceTimes(t *testing.T) {
	p := NewPace(1)
	const etu = 4e-6
	// ATR: 40 000 cycles, then 24 characters of 12 etu at 372/f; PPS 4+4
	// characters at that rate; S(IFS) 5+5 characters and a guard time at
	// 4 µs.
	atrETU := 372 / 4e6
	near(t, "PowerUp", p.PowerUp(tcos.ReferenceATR()),
		40000/4e6+24*12*atrETU+8*12*atrETU+(10*12+22)*etu)

	// READ BINARY of 255 bytes: 5 bytes out in one block, 257 back in
	// two chained blocks with the reader's R-block between.
	cmd := hx(t, "00 B0 00 00 FF")
	resp := make([]byte, 257)
	resp[255], resp[256] = 0x90, 0x00
	chars := (5 + 4) + (257 + 2*4 + 4)
	near(t, "READ BINARY", p.Exchange(cmd, resp), float64(chars*12+4*22)*etu+workRead.Seconds())

	// UPDATE BINARY of 255 bytes: 260 bytes out in two blocks; 4 EEPROM pages.
	upd := append(hx(t, "00 D6 00 00 FF"), make([]byte, 255)...)
	chars = (260 + 2*4 + 4) + (2 + 4)
	near(t, "UPDATE BINARY", p.Exchange(upd, []byte{0x90, 0x00}),
		float64(chars*12+4*22)*etu+(workCommand+4*workPage).Seconds())

	// A refusal costs the line and a little work, whatever the command.
	near(t, "refused VERIFY", p.Exchange(hx(t, verifyPIN), []byte{0x69, 0x83}),
		float64((11+4+2+4)*12+2*22)*etu+workReject.Seconds())
	near(t, "wrong PIN", p.Exchange(hx(t, verifyPIN), []byte{0x63, 0xC2}),
		float64((11+4+2+4)*12+2*22)*etu+(workCommand+workPage).Seconds())

	// Key generation outlasts the block waiting time (2^5 × 960 × 372 / f
	// + 11 etu): the card asks for more time, S(WTX) and its answer, each
	// time it runs out.
	gen := hx(t, "00 46 00 00 02 08 00")
	bwt := 11*etu + 32*960*372/4e6
	work := cardWork(gen, []byte{0x90, 0x00}).Seconds()
	wtx := int(work / bwt)
	if wtx != 5 {
		t.Fatalf("%d waiting time extensions in %.1fs, want 5", wtx, work)
	}
	near(t, "GENERATE KEY PAIR", p.Exchange(gen, []byte{0x90, 0x00}),
		float64((7+4+2+4+wtx*10)*12+(2+2*wtx)*22)*etu+work)

	// Scale multiplies everything.
	if a, b := NewPace(1).Exchange(upd, []byte{0x90, 0x00}), NewPace(2).Exchange(upd, []byte{0x90, 0x00}); b != 2*a {
		t.Errorf("scale 2: %v, scale 1: %v", b, a)
	}
}

func TestCardWork(t *testing.T) {
	for _, tc := range []struct {
		cmd, resp string
		want      time.Duration
	}{
		{"00 A4 08 0C 02 4B 00", "90 00", workSelect},
		{"00 A4 08 0C 02 4D 00", "6A 82", workReject},
		{"00 20 00 81", "63 C3", workCommand}, // the PIN's state
		{verifyPIN, "90 00", workCommand + 2*workPage},
		{"00 24 00 81 0C " + pinHex + " " + pinHex, "90 00", workCommand + 3*workPage},
		{"00 84 00 00 08", "01 02 03 04 05 06 07 08 90 00", workRandom},
		{"00 C0 00 00 05", "01 02 03 04 05 90 00", workResponse},
		{"80 AA 01 00 00", "4B 00 4C 00 90 00", workList},
		{"10 2A 80 86 01 00", "90 00", workCommand},
		{"00 2A 80 86 01 00 00", "01 90 00", workDecipher},
		{"00 B0 00 FE 05", "00 62 82", workRead},
		{"00 A4", "67 00", workReject},
	} {
		if got := cardWork(hx(t, tc.cmd), hx(t, tc.resp)); got != tc.want {
			t.Errorf("%s → %s: %v, want %v", tc.cmd, tc.resp, got, tc.want)
		}
	}
}
