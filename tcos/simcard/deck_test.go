package simcard

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/tcos"
)

func serials(d *Deck) []tcos.Serial {
	var out []tcos.Serial
	for _, c := range d.Cards() {
		out = append(out, c.Serial())
	}
	return out
}

func TestDeckCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "deck")
	d, err := OpenDeck(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Cards()) != 3 || len(d.SimulatedCards()) != 3 || d.Dir() != dir {
		t.Fatalf("%d cards in %s", len(d.Cards()), d.Dir())
	}
	seen := map[tcos.Serial]bool{}
	for _, sn := range serials(d) {
		if seen[sn] || sn == (tcos.Serial{}) {
			t.Fatalf("serial %s repeated or zero", sn)
		}
		seen[sn] = true
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != "card-01.json card-02.json card-03.json" {
		t.Fatalf("deck files: %v", names)
	}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		for _, clear := range []string{"123456", base64.StdEncoding.EncodeToString([]byte("123456"))} {
			if bytes.Contains(b, []byte(clear)) {
				t.Fatalf("%s holds the PIN in clear", n)
			}
		}
	}
}

func TestDeckSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDeck(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	before := serials(d)
	c := d.Cards()
	// Card 1: a share written. Card 2: PIN changed. Card 3: one wrong PIN.
	runScript(t, c[0], []step{
		{selShare, "90 00"}, {verifyPIN, "90 00"},
		{"00 D6 00 00 03 AA BB CC", "90 00"},
	})
	runScript(t, c[1], []step{
		{"00 A4 08 0C 02 4C 00", "90 00"},
		{"00 24 00 81 0E " + pinHex + " 38 38 38 38 38 38 38 38", "90 00"},
	})
	runScript(t, c[2], []step{
		{selShare, "90 00"},
		{"00 20 00 81 06 30 30 30 30 30 30", "63 C2"},
	})

	// Reopen asking for fewer cards: nothing is deleted.
	d2, err := OpenDeck(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	after := serials(d2)
	if len(after) != 3 || after[0] != before[0] || after[1] != before[1] || after[2] != before[2] {
		t.Fatalf("serials before %v, after %v", before, after)
	}
	c = d2.Cards()
	runScript(t, c[0], []step{
		{selShare, "90 00"}, {verifyPIN, "90 00"},
		{"00 B0 00 00 04", "AA BB CC 00 90 00"},
	})
	runScript(t, c[1], []step{
		{"00 A4 08 0C 02 4C 00", "90 00"},
		{verifyPIN, "63 C2"},
		{"00 20 00 81 08 38 38 38 38 38 38 38 38", "90 00"},
	})
	runScript(t, c[2], []step{
		{selShare, "90 00"},
		{status, "63 C2"},
	})

	// Reopen asking for more: the first three stay, two new ones join.
	d3, err := OpenDeck(dir, 5)
	if err != nil {
		t.Fatal(err)
	}
	more := serials(d3)
	if len(more) != 5 || more[0] != before[0] || more[2] != before[2] {
		t.Fatalf("grown deck %v", more)
	}
	seen := map[tcos.Serial]bool{}
	for _, sn := range more {
		if seen[sn] {
			t.Fatalf("serial %s repeated", sn)
		}
		seen[sn] = true
	}
	if _, err := os.Stat(filepath.Join(dir, "card-05.json")); err != nil {
		t.Fatal(err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Fatalf("temporary files left: %v", left)
	}
}

func TestDeckRejectsDamage(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(b []byte) []byte
	}{
		{"not json", func([]byte) []byte { return []byte("{") }},
		{"short share", func(b []byte) []byte {
			var m map[string]any
			json.Unmarshal(b, &m)
			m["ef_4b01"] = "AAAA"
			out, _ := json.Marshal(m)
			return out
		}},
		{"unknown format", func(b []byte) []byte {
			return bytes.Replace(b, []byte(`"format": 1`), []byte(`"format": 9`), 1)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := OpenDeck(dir, 1); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "card-01.json")
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, tc.edit(b), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err = OpenDeck(dir, 1)
			if err == nil || !strings.Contains(err.Error(), "card-01.json") {
				t.Fatalf("OpenDeck = %v, want an error naming the file", err)
			}
		})
	}
}

func TestDeckRepeatedSerial(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenDeck(dir, 1); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "card-01.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "card-02.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDeck(dir, 2); err == nil {
		t.Fatal("two cards with one serial accepted")
	}
}

func TestDeckBadN(t *testing.T) {
	if _, err := OpenDeck(t.TempDir(), -1); err == nil {
		t.Fatal("negative deck size accepted")
	}
}
