package simcard

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/hsmcards/hsmcards/tcos"
)

var testSerial = tcos.Serial{0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0x00}

const (
	serialHex = "11 22 33 44 55 66 77 88 99 00"
	pinHex    = "31 32 33 34 35 36" // factory PIN 123456
	selShare  = "00 A4 08 0C 04 4B 00 4B 01"
	verifyPIN = "00 20 00 81 06 " + pinHex
	status    = "00 20 00 81"
)

func hx(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func zeros(n int) string { return strings.TrimSpace(strings.Repeat("00 ", n)) }

type step struct {
	cmd, want string // "reset" as cmd resets the card
}

// runScript sends each command to a fresh card and compares the responses.
func runScript(t *testing.T, c *Card, script []step) {
	t.Helper()
	for i, s := range script {
		if s.cmd == "reset" {
			c.Reset()
			continue
		}
		got := c.Process(hx(t, s.cmd))
		if want := hx(t, s.want); !bytes.Equal(got, want) {
			t.Fatalf("step %d: %s\n got % X\nwant % X", i, s.cmd, got, want)
		}
	}
}

func TestATR(t *testing.T) {
	if !bytes.Equal(New(testSerial).ATR(), tcos.ReferenceATR()) {
		t.Fatal("ATR differs from DESIGN's")
	}
}

func TestProcessScripts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []step
	}{
		{"EF.GDO", []step{
			{"00 B0 82 00 0C", "5A 0A " + serialHex + " 90 00"},
			{"00 B0 00 02 0A", serialHex + " 90 00"}, // SFI read made EF.GDO current
			{"00 B0 82 00 00", "6C 0C"},
			{"00 B0 82 00 10", "5A 0A " + serialHex + " 62 82"},
			{"00 B0 82 0C 01", "6B 00"},
			{"00 B0 82 00", "67 00"},
			{"00 B0 83 00 01", "6A 82"},
			{"00 B0 C2 00 01", "6A 86"},
			{"00 D6 82 00 01 FF", "69 82"},
			{"00 A4 08 0C 02 2F 02", "90 00"},
			{"00 B0 00 00 0C", "5A 0A " + serialHex + " 90 00"},
		}},
		{"no current EF after reset", []step{
			{"00 B0 00 00 01", "69 86"},
		}},
		{"share EF needs the PIN", []step{
			{selShare, "90 00"},
			{"00 B0 00 00 FF", "69 82"},
			{"00 D6 00 00 01 01", "69 82"},
			{status, "63 C3"},
			{verifyPIN, "90 00"},
			{status, "90 00"},
			{"00 B0 00 00 FF", zeros(255) + " 90 00"},
			{"00 D6 00 00 03 01 02 03", "90 00"},
			{"00 B0 00 00 04", "01 02 03 00 90 00"},
			{"00 D6 00 FD 03 01 02 03", "67 00"},
			{"00 D6 00 FF 01 00", "6B 00"},
			{"00 D6 00 00", "67 00"},
			{"00 B0 00 FF 01", "6B 00"},
			{"00 B0 00 FE 00", "6C 01"},
			{"00 B0 00 FE 05", "00 62 82"},
			{"reset", ""},
			{selShare, "90 00"},
			{"00 B0 00 00 04", "69 82"},
		}},
		{"verification is per DF", []step{
			{selShare, "90 00"},
			{verifyPIN, "90 00"},
			{"00 A4 08 0C 02 4B 00", "90 00"}, // same DF: stays verified
			{status, "90 00"},
			{"00 A4 08 0C 02 4C 00", "90 00"},
			{status, "63 C3"},
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{status, "63 C3"},
		}},
		{"retry counter", []step{
			{"00 A4 08 0C 02 4C 00", "90 00"},
			{"00 20 00 81 06 39 39 39 39 39 39", "63 C2"},
			{verifyPIN, "90 00"}, // resets the counter
			{"00 20 00 81 06 39 39 39 39 39 39", "63 C2"},
			{status, "63 C2"}, // a wrong PIN drops the verified state
			{"00 20 00 81 06 39 39 39 39 39 39", "63 C1"},
			{"00 20 00 81 07 31 32 33 34 35 36 37", "63 C0"},
			{status, "69 83"},
			{verifyPIN, "69 83"},
			{"reset", ""},
			{"00 A4 08 0C 02 4C 00", "90 00"},
			{status, "69 83"},
			{"00 24 00 81 0C " + pinHex + " 31 31 31 31 31 31", "69 83"},
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{status, "63 C3"}, // the other slot is untouched
		}},
		{"change reference data", []step{
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{"00 24 00 81 0C 39 39 39 39 39 39 31 31 31 31 31 31", "63 C2"},
			{"00 24 00 81 0B " + pinHex + " 31 31 31 31 31", "6A 80"},
			{"00 24 00 81 0C " + pinHex + " 31 31 31 31 31 41", "6A 80"},
			{"00 24 00 81 16 " + pinHex + " " + strings.Repeat("31 ", 16), "6A 80"},
			{"00 24 00 81 05 31 32 33 34 35", "67 00"},
			{"00 24 02 81 06 " + pinHex, "6A 86"},
			{status, "90 00"}, // a right old PIN verifies
			{"reset", ""},
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{"00 24 00 81 0D " + pinHex + " 37 37 37 37 37 37 37", "90 00"},
			{"reset", ""},
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{verifyPIN, "63 C2"},
			{"00 20 00 81 07 37 37 37 37 37 37 37", "90 00"},
			// old = the first 7 bytes now
			{"00 24 00 81 0D 37 37 37 37 37 37 37 " + pinHex, "90 00"},
			{verifyPIN, "90 00"},
		}},
		{"change reference data, new PIN only", []step{
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{"00 24 01 81 07 37 37 37 37 37 37 37", "69 82"}, // not verified
			{verifyPIN, "90 00"},
			{"00 24 01 81 05 37 37 37 37 37", "6A 80"},
			{"00 24 01 81 07 37 37 37 37 37 37 37", "90 00"},
			{"reset", ""},
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{verifyPIN, "63 C2"},
			{"00 20 00 81 07 37 37 37 37 37 37 37", "90 00"},
			{"00 A4 08 0C 02 4C 00", "90 00"},
			{"00 24 01 81 06 " + pinHex, "69 82"}, // verification is per DF
		}},
		{"select", []step{
			{"00 A4 08 04 02 4C 00 00", "62 07 82 01 38 83 02 4C 00 90 00"},
			{"00 A4 08 04 04 4B 00 4B 01 00", "62 0B 82 01 01 83 02 4B 01 80 02 00 FF 90 00"},
			{"00 A4 08 04 04 4B 00 4B 01 05", "6C 0D"},
			{"00 A4 08 04 02 4C 00", "61 09"}, // case 3: T=0 style
			{"00 C0 00 00 04", "62 07 82 01 61 05"},
			{"00 C0 00 00 05", "38 83 02 4C 00 90 00"},
			{"00 C0 00 00 05", "69 85"},
			{"00 A4 03 0C", "90 00"},
			{"00 A4 03 0C", "6A 82"}, // MF has no parent
			{"00 A4 00 0C", "90 00"},
			{"00 A4 00 0C 02 3F 00", "90 00"},
			{"00 A4 00 0C 02 4B 00", "90 00"},
			{"00 A4 09 0C 02 4B 01", "90 00"},
			{"00 A4 02 0C 02 4B 01", "90 00"},
			{"00 A4 00 0C", "90 00"},
			{"00 A4 02 0C 02 4B 00", "6A 82"}, // P1 02 selects EFs only
			{"00 A4 08 0C 02 4D 00", "6A 82"},
			{"00 A4 08 0C 04 2F 02 4B 01", "6A 82"},
			{"00 A4 08 0C 04 3F 00 4B 00", "6A 82"},
			{"00 A4 08 0C 03 4B 00 4B", "67 00"},
			{"00 A4 08 0C", "67 00"},
			{"00 A4 08 00 02 4B 00", "6A 86"},
			{"00 A4 04 0C 02 4B 00", "6A 86"},
			{"00 A4 03 0C 02 4B 00", "67 00"},
		}},
		{"list files", []step{
			{"80 AA 01 00 00", "4B 00 4C 00 90 00"},
			{"80 AA 02 00 00", "2F 02 90 00"},
			{"80 AA 01 00 01", "6C 04"},
			{"80 AA 03 00 00", "6A 86"},
			{"80 AA 01 01 00", "6A 86"},
			{selShare, "90 00"},
			{"80 AA 02 00 00", "4B 01 90 00"},
			{"80 AA 01 00 00", "90 00"},
		}},
		{"classes and instructions", []step{
			{"80 B0 82 00 0C", "6E 00"},
			{"00 AA 01 00 00", "6D 00"},
			{"A0 A4 00 0C", "6E 00"},
			{"0C A4 00 0C", "6E 00"},
			{"00 E4 00 00", "6D 00"}, // DELETE FILE: not offered
			{"00 A4 00", "67 00"},
			{"00 A4 00 00 00 00 02 3F 00", "67 00"},
			{"00 C0 00 00 05", "69 85"},
			{"00 C0 01 00 05", "6A 86"},
		}},
		{"verify references", []step{
			{status, "6A 88"}, // the MF has no PIN
			{"00 A4 08 0C 02 4B 00", "90 00"},
			{"00 20 00 01", "6A 88"},
			{"00 20 00 82", "6A 88"},
			{"00 20 01 81", "6A 86"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runScript(t, New(testSerial), tc.script) })
	}
}

func TestPersistFailure(t *testing.T) {
	c := New(testSerial)
	c.save = func([]byte) error { return errors.New("disk full") }
	runScript(t, c, []step{
		{selShare, "90 00"},
		{verifyPIN, "90 00"}, // no change to save
		{"00 D6 00 00 01 01", "65 81"},
		{"00 20 00 81 06 39 39 39 39 39 39", "65 81"},
	})
}

func TestConcurrentUse(t *testing.T) {
	c := New(testSerial)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 200 {
				if g%2 == 0 {
					c.Reset()
				}
				if r := c.Process(hx(t, "00 B0 82 00 0C")); len(r) < 2 {
					t.Error("short response")
				}
				_ = c.Serial()
			}
		})
	}
	wg.Wait()
}

// FuzzProcess feeds a card a sequence of commands (each prefixed by its
// length byte): it must never panic and always answer with at least SW1 SW2.
func FuzzProcess(f *testing.F) {
	seq := func(cmds ...string) []byte {
		var b []byte
		for _, c := range cmds {
			x := hx(f, c)
			b = append(b, byte(len(x)))
			b = append(b, x...)
		}
		return b
	}
	f.Add(seq("00 B0 82 00 0C"))
	f.Add(seq(selShare, verifyPIN, "00 D6 00 00 03 01 02 03", "00 B0 00 00 FF"))
	f.Add(seq("00 A4 08 04 02 4C 00", "00 C0 00 00 04", "00 C0 00 00 00"))
	f.Add(seq("00 A4 08 0C 02 4B 00", "00 24 00 81 0C "+pinHex+" 31 31 31 31 31 31"))
	f.Add(seq("80 AA 01 00 00", "00 A4 03 0C", "00 A4 09 0C 02 4B 01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := New(testSerial)
		for len(b) > 0 {
			n := int(b[0])
			b = b[1:]
			n = min(n, len(b))
			resp := c.Process(b[:n])
			if len(resp) < 2 {
				t.Fatalf("response % X to % X", resp, b[:n])
			}
			b = b[n:]
		}
		if st := c.st; st.validate() != nil {
			t.Fatalf("state broke: %v", st.validate())
		}
	})
}
