package simcard

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
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

// hexName spells b as the scripts do.
func hexName(b []byte) string { return fmt.Sprintf("% X", b) }

// The FCPs of the profile's files, byte by byte (docs/tcos.md "FCP"):
// 80 size, 82 descriptor, 83 FID, 84 DF name, 85 proprietary, 86 security
// attributes (per rule INS, PIN reference, key reference, FF FF), 88 SFI,
// 8A life-cycle status "operational, activated".
const (
	fcpMF       = "62 15 82 01 38 83 02 3F 00 85 01 01 86 06 A4 00 00 00 FF FF 8A 01 05"
	fcpGDO      = "62 1D 80 02 00 0C 82 01 01 83 02 2F 02 85 02 01 00 86 06 B0 00 00 00 FF FF 88 01 10 8A 01 05"
	fcpBackupDF = "62 22 82 01 38 83 02 4B 00 84 0B F0 48 53 4D 2D 42 41 43 4B 55 50 85 01 01 " +
		"86 06 A4 00 00 00 FF FF 8A 01 05"
	fcpShareEF = "62 20 80 02 00 FF 82 01 01 83 02 4B 01 85 02 01 00 " +
		"86 0C B0 81 FF FF FF FF D6 81 FF FF FF FF 8A 01 05"
	fcpPKCS11DF = "62 34 82 01 38 83 02 4C 00 84 0B F0 48 53 4D 2D 50 4B 43 53 31 31 85 01 01 " +
		"86 18 A4 00 00 00 FF FF 46 81 FF FF FF FF 22 00 00 00 FF FF 2A 81 FF FF FF FF 8A 01 05"
)

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
		t.Fatal("ATR differs from the reference TCOS 3.0 ATR")
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
			{"00 A4 08 04 02 4C 00 00", fcpPKCS11DF + " 90 00"},
			{"00 A4 08 04 04 4B 00 4B 01 00", fcpShareEF + " 90 00"},
			{"00 A4 08 04 04 4B 00 4B 01 05", "6C 22"},
			{"00 A4 00 04 00", fcpMF + " 90 00"},
			{"00 A4 02 04 02 2F 02 00", fcpGDO + " 90 00"},
			{"00 A4 08 04 02 4B 00 00", fcpBackupDF + " 90 00"},
			{"00 A4 08 04 02 4C 00", "61 36"}, // case 3: T=0 style
			{"00 C0 00 00 04", fcpPKCS11DF[:11] + " 61 32"},
			{"00 C0 00 00 00", fcpPKCS11DF[12:] + " 90 00"},
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
			{"00 A4 08 0E 02 4B 00", "6A 86"}, // "next occurrence" is for DF names only
			{"00 A4 03 0C 02 4B 00", "67 00"},
		}},
		{"select by DF name", []step{
			{"00 A4 04 0C 0B " + hexName(nameBackupDF), "90 00"},
			{verifyPIN, "90 00"},
			{"00 A4 09 0C 02 4B 01", "90 00"}, // DF 4B00 is current
			{"00 B0 00 00 01", "00 90 00"},
			{"00 A4 04 0C 0B " + hexName(nameBackupDF), "90 00"}, // the same DF: still verified
			{status, "90 00"},
			{"00 A4 04 0C 0B " + hexName(namePKCS11DF), "90 00"},
			{status, "63 C3"}, // another DF: verification lost
			{"00 A4 04 04 0B " + hexName(nameBackupDF) + " 00", fcpBackupDF + " 90 00"},
			{"00 A4 04 0C 05 F0 48 53 4D 2D", "90 00"}, // partial name: the first DF it starts
			{"00 A4 09 0C 02 4B 01", "90 00"},
			{"00 A4 04 0E 05 F0 48 53 4D 2D", "90 00"}, // next occurrence: DF 4C00
			{"00 A4 09 0C 02 4C 01", "90 00"},
			{"00 A4 04 0E 05 F0 48 53 4D 2D", "6A 82"}, // no further one
			{"00 A4 04 0C 05 F0 48 53 4D 2E", "6A 82"}, // absent name
			{"00 A4 04 0C 07 D2 76 00 00 03 01 02", "6A 82"},
			{"00 A4 04 0C 02 3F 00", "6A 82"}, // the MF has no name
			{"00 A4 04 0C 11 " + zeros(17), "67 00"},
			{"00 A4 04 0C", "67 00"},
			{"00 A4 04 0D 01 F0", "6A 86"}, // last and previous occurrence: not offered
			{"00 A4 04 0F 01 F0", "6A 86"},
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
			{"00 A4 00 0C 00 00 02 3F 00", "90 00"}, // extended Lc
			{"00 A4 00 0C 00 00 00", "90 00"},       // case 2E: Le 00 00
			{"00 A4 00 0C 00 00 00 00", "67 00"},    // extended Lc 0
			{"00 A4 00 0C 00 00 03 3F 00", "67 00"}, // Lc says more than there is
			{"00 A4 00 0C 00 02", "67 00"},
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

func TestExtendedLengths(t *testing.T) {
	runScript(t, New(testSerial), []step{
		{"00 B0 82 00 00 00 0C", "5A 0A " + serialHex + " 90 00"},
		{"00 B0 82 00 00 00 00", "5A 0A " + serialHex + " 62 82"}, // Le 00 00: all there is
		{"00 A4 08 04 00 00 04 4B 00 4B 01 00 00", fcpShareEF + " 90 00"},
		{"00 20 00 81 00 00 06 " + pinHex, "90 00"},
		{"00 D6 00 00 00 00 03 01 02 03", "90 00"},
		{"00 B0 00 00 00 00 04", "01 02 03 00 90 00"},
		{"00 B0 00 00 00 00 00", "01 02 03 " + zeros(252) + " 62 82"},
		{"00 D6 00 00 00 01 00 " + zeros(256), "67 00"}, // more than the EF holds
		{"00 D6 00 00 00 00 01 01 00 01", "67 00"},      // UPDATE BINARY has no Le
		{"00 20 00 81 06 " + pinHex + " 00", "67 00"},   // nor VERIFY
		{"00 20 00 81 00 00 00", "67 00"},
	})
}

func TestGetChallenge(t *testing.T) {
	c := New(testSerial)
	seen := map[string]bool{}
	for _, cmd := range []string{"00 84 00 00 08", "00 84 00 00 00 00 08"} {
		for range 4 {
			r := c.Process(hx(t, cmd))
			if len(r) != challengeLen+2 || !bytes.Equal(r[challengeLen:], []byte{0x90, 0x00}) {
				t.Fatalf("%s: % X", cmd, r)
			}
			seen[string(r[:challengeLen])] = true
		}
	}
	if len(seen) != 8 {
		t.Fatalf("%d different challenges in 8", len(seen))
	}
	runScript(t, c, []step{
		{"00 84 00 00 10", "6C 08"},
		{"00 84 00 00 00", "6C 08"},
		{"00 84 00 00", "67 00"},
		{"00 84 00 00 01 00 08", "67 00"},
		{"00 84 01 00 08", "6A 86"},
		{"00 84 00 01 08", "6A 86"},
	})
}

// refusingSaver fails while refuse is set, as a read-only deck does.
type refusingSaver struct {
	refuse bool
	saves  int
}

var errReadOnly = &cardio.StorageError{Path: "/deck/card-01.json", Err: errors.New("read-only file system")}

func (r *refusingSaver) save([]byte) error {
	if r.refuse {
		return errReadOnly
	}
	r.saves++
	return nil
}

// TestSaveRefused: a change the card cannot save answers 6581 and leaves the
// saver's *cardio.StorageError for the reader to ask for; the card keeps
// nothing of it but a spent PIN try.
func TestSaveRefused(t *testing.T) {
	c := New(testSerial)
	disk := &refusingSaver{}
	c.save = disk.save
	refused := func(cmd string) {
		t.Helper()
		resp := c.Process(hx(t, cmd))
		var se *cardio.StorageError
		if err := c.StorageFailure(); !errors.As(err, &se) || se.Path != "/deck/card-01.json" || !bytes.Equal(resp, []byte{0x65, 0x81}) {
			t.Fatalf("%s: % X, %v; want 6581 and the storage error", cmd, resp, err)
		}
	}
	runScript(t, c, []step{{selShare, "90 00"}, {verifyPIN, "90 00"}, {"00 D6 00 00 02 AA AA", "90 00"}})
	disk.refuse = true

	refused("00 D6 00 00 02 BB BB")
	runScript(t, c, []step{
		{"00 B0 00 00 02", "AA AA 90 00"}, // the record as it was
		{status, "90 00"},                 // reading needs no save
	})
	if err := c.StorageFailure(); err != nil {
		t.Fatalf("StorageFailure after a read: %v", err)
	}

	refused("00 20 00 81 06 39 39 39 39 39 39")
	runScript(t, c, []step{{status, "63 C2"}}) // the try is spent all the same

	refused(verifyPIN) // the counter cannot go back up: not verified either
	runScript(t, c, []step{{status, "63 C2"}, {"00 B0 00 00 02", "69 82"}})

	refused("00 24 00 81 0C " + pinHex + " 37 37 37 37 37 37")
	disk.refuse = false
	runScript(t, c, []step{
		{"00 20 00 81 06 37 37 37 37 37 37", "63 C1"}, // the new PIN did not take
		{verifyPIN, "90 00"},
		{status, "90 00"},
		{"00 B0 00 00 02", "AA AA 90 00"},
	})
	if r := c.Process(hx(t, "00 D6 00 00 02 CC CC")); !bytes.Equal(r, []byte{0x90, 0x00}) || c.StorageFailure() != nil || disk.saves != 4 {
		t.Fatalf("after the disk came back: % X, %v, %d saves", r, c.StorageFailure(), disk.saves)
	}
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
	f.Add(seq("00 A4 04 0C 05 F0 48 53 4D 2D", "00 A4 04 0E 05 F0 48 53 4D 2D", "00 84 00 00 08"))
	f.Add(seq("00 B0 82 00 00 00 00", "00 A4 08 04 00 00 02 4C 00 00 00", "00 20 00 81 00 00 06 "+pinHex))
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
