package simcard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
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

// TestDeckRefusesGaps: a deck with a card file missing, unreadable or
// misnamed does not open, and the error names the file; nothing is created.
func TestDeckRefusesGaps(t *testing.T) {
	for _, tc := range []struct {
		name string
		harm func(t *testing.T, dir string)
		want string
	}{
		{"missing", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "card-02.json"))
		}, "card 2 is missing: there is no " + "DIR/card-02.json, but the deck goes on to card-03.json"},
		{"missing first", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "card-01.json"))
		}, "card 1 is missing"},
		{"a directory", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "card-02.json"))
			os.Mkdir(filepath.Join(dir, "card-02.json"), 0o700)
		}, "card 2 cannot be read: DIR/card-02.json is not a regular file"},
		{"a dangling link", func(t *testing.T, dir string) {
			os.Remove(filepath.Join(dir, "card-02.json"))
			os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "card-02.json"))
		}, "card 2 cannot be read: stat DIR/card-02.json: no such file"},
		{"misnamed", func(t *testing.T, dir string) {
			os.Rename(filepath.Join(dir, "card-03.json"), filepath.Join(dir, "card-3.json"))
		}, "DIR/card-3.json is not a card file of the deck"},
		{"not numbered", func(t *testing.T, dir string) {
			os.WriteFile(filepath.Join(dir, "card-old.json"), []byte("{}"), 0o600)
		}, "DIR/card-old.json is not a card file of the deck"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if _, err := OpenDeck(dir, 3); err != nil {
				t.Fatal(err)
			}
			tc.harm(t, dir)
			before, _ := os.ReadDir(dir)
			_, err := OpenDeck(dir, 5)
			if want := strings.ReplaceAll(tc.want, "DIR", dir); err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("OpenDeck = %v, want an error with %q", err, want)
			}
			if after, _ := os.ReadDir(dir); len(after) != len(before) {
				t.Fatalf("OpenDeck changed the deck: %d entries, then %d", len(before), len(after))
			}
		})
	}
	// Other files are no concern of the deck's.
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o600)
	os.WriteFile(filepath.Join(dir, ".card-01.json.123.tmp"), []byte("x"), 0o600)
	if d, err := OpenDeck(dir, 2); err != nil || len(d.Cards()) != 2 {
		t.Fatalf("OpenDeck beside other files: %v", err)
	}
}

// TestDeckStorageError: a card whose file cannot be replaced reports a
// *cardio.StorageError naming the card's file.
func TestDeckStorageError(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDeck(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Cards()[0]
	// Root ignores file modes, so take the directory away instead: the card's
	// next save has nowhere to go.
	if err := os.Rename(dir, dir+".moved"); err != nil {
		t.Fatal(err)
	}
	defer os.Rename(dir+".moved", dir)
	runScript(t, c, []step{{selShare, "90 00"}})
	c.Process(hx(t, "00 20 00 81 06 39 39 39 39 39 39"))
	err = c.StorageFailure()
	var se *cardio.StorageError
	if !errors.As(err, &se) || se.Path != filepath.Join(dir, "card-01.json") {
		t.Fatalf("StorageFailure = %v, want a storage error for card-01.json", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "the file system refused") || !strings.Contains(msg, se.Path) {
		t.Fatalf("message %q", msg)
	}

	// Through the simulated reader (with the training fault layer on), the
	// host gets the storage error, not the status word.
	r := cardio.NewSimReader(d.SimulatedCards())
	r.Faults()
	r.Insert(1)
	conn, err := r.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx := context.Background()
	if _, err := conn.Transmit(ctx, hx(t, selShare)); err != nil {
		t.Fatal(err)
	}
	_, err = conn.Transmit(ctx, hx(t, "00 20 00 81 06 39 39 39 39 39 39"))
	if !errors.As(err, &se) || se.Path != filepath.Join(dir, "card-01.json") {
		t.Fatalf("Transmit = %v, want the storage error", err)
	}
}
