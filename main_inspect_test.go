package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// inspectDeck makes a deck of three cards under a new sim dir: card 1 as
// from the factory, card 2 with its Backup Key slot blocked, card 3 with one
// wrong PIN spent on its PKCS#11 slot.
func inspectDeck(t *testing.T) string {
	t.Helper()
	simDir := filepath.Join(t.TempDir(), "sim")
	deck, release, err := openDeck(simDir, 3, false)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	sim := cardio.NewSimReader(deck.SimulatedCards())
	defer sim.Close()
	wrong := func(card int, slot tcos.Slot, times int) {
		sim.Insert(card)
		c, err := sim.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s := tcos.Open(c, tcos.Options{})
		for range times {
			if err := s.VerifyPIN(context.Background(), slot, []byte("999999")); err == nil {
				t.Fatal("a wrong PIN was taken")
			}
		}
	}
	wrong(2, tcos.SlotBackupKey, 3)
	wrong(3, tcos.SlotPKCS11, 1)
	return simDir
}

func TestInspect(t *testing.T) {
	simDir := inspectDeck(t)
	before := deckFiles(t, simDir)
	for _, tc := range []struct {
		card       string
		code       int
		backup     int
		backupGone bool
		user       int
	}{
		{"1", exitOK, 3, false, 3},
		{"2", exitBlocked, 0, true, 3},
		{"3", exitOK, 3, false, 2},
		{"3", exitOK, 3, false, 2}, // again: no try was spent
	} {
		log := filepath.Join(t.TempDir(), "apdu.log")
		out, errs, code := runCmd(t, "inspect", "--sim-dir", simDir, "--card", tc.card, "--json", "--apdu-log", log)
		if code != tc.code {
			t.Fatalf("card %s: exit %d, want %d\n%s", tc.card, code, tc.code, errs)
		}
		var got inspection
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("card %s: %v\n%s", tc.card, err, out)
		}
		if !got.Present || !got.TCOS || !got.Appliance || len(got.Serial) != 20 || got.ATR != strings.ToUpper("3BBF96008131FE5D00640411030131C073F701D00090007D") ||
			len(got.Slots) != 2 || got.Slots[0].Slot != "backup_key" || got.Slots[1].Slot != "pkcs11_user" {
			t.Fatalf("card %s: %+v", tc.card, got)
		}
		if b, u := got.Slots[0], got.Slots[1]; b.TriesLeft != tc.backup || b.Blocked != tc.backupGone || u.TriesLeft != tc.user || u.Blocked {
			t.Errorf("card %s: slots %+v", tc.card, got.Slots)
		}
		if !strings.Contains(got.ShareRecord, "not read") || got.PINsAsked != 0 {
			t.Errorf("card %s: share record %q", tc.card, got.ShareRecord)
		}
		// No VERIFY with a PIN, no READ BINARY of the share record.
		apdus, _ := os.ReadFile(log)
		for _, l := range strings.Split(string(apdus), "\n") {
			if strings.Contains(l, "> 00 20 00 81 ") || strings.Contains(l, "> 00 B0 00 00 FF") {
				t.Errorf("card %s: inspect sent %q", tc.card, l)
			}
		}
	}
	if after := deckFiles(t, simDir); after != before {
		t.Error("inspect changed the deck")
	}

	// The text says the same, and that no PIN was asked.
	out, _, code := runCmd(t, "inspect", "--sim-dir", simDir, "--card", "2")
	for _, want := range []string{"TCOS 3.0:               recognised", "Backup Key slot PIN:    BLOCKED", "PKCS#11 user slot PIN:  3 of 3 PIN tries left",
		"Share record:           not read: reading it needs the slot PIN", "No PIN was asked and no PIN try was spent."} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if code != exitBlocked {
		t.Errorf("exit %d", code)
	}

	// An empty reader, and a sim dir without a deck.
	out, _, code = runCmd(t, "inspect", "--sim-dir", simDir, "--json")
	var empty inspection
	if json.Unmarshal([]byte(out), &empty); code != exitNoCard || empty.Present || !empty.Simulated {
		t.Errorf("empty reader: exit %d, %s", code, out)
	}
	nowhere := filepath.Join(t.TempDir(), "none")
	if _, errs, code := runCmd(t, "inspect", "--sim-dir", nowhere, "--card", "1"); code != exitFailure || !strings.Contains(errs, "holds no simulated deck") {
		t.Errorf("no deck: exit %d, %s", code, errs)
	}
	if _, err := os.Stat(nowhere); !errors.Is(err, os.ErrNotExist) {
		t.Error("inspect created a sim dir")
	}
	if _, errs, code := runCmd(t, "inspect", "--sim-dir", simDir, "--card", "4"); code != exitUsage || !strings.Contains(errs, "the deck has cards 1 to 3, not 4") {
		t.Errorf("card 4 of 3: exit %d, %s", code, errs)
	}
}

// A card that is not an appliance card: exit 4, its ATR shown, TCOS not
// recognised.
func TestInspectForeignCard(t *testing.T) {
	sim := cardio.NewSimReader([]cardio.SimulatedCard{simcard.Foreign{}})
	defer sim.Close()
	sim.Insert(1)
	res, err := inspectCard(context.Background(), sim, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Present || res.TCOS || res.Appliance || res.ATR == "" || res.Problem == "" || res.exitCode() != exitForeign {
		t.Fatalf("%+v", res)
	}
	var b bytes.Buffer
	res.print(&b, nil)
	if !strings.Contains(b.String(), "TCOS 3.0:               not recognised") || !strings.Contains(b.String(), "Appliance card:         no: this is not an appliance smart card") {
		t.Errorf("%s", b.String())
	}
}

// deckFiles is every card file's content, to see that nothing changed.
func deckFiles(t *testing.T, simDir string) string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(deckDir(simDir), "card-*.json"))
	var all strings.Builder
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	return all.String()
}
