package hsm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	day1 = time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	day2 = time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC)
)

// exampleCardSets is a register after one re-issue: generation 2 current,
// generation 1 superseded with one card still to collect.
func exampleCardSets() CardSets {
	return CardSets{
		Revision: 3,
		KCV:      [3]byte{0xF2, 0x90, 0x00},
		KeyCheck: [16]byte{0xF3, 0x5D, 0xF8, 0x77, 0xC2, 0x82, 0x20, 0x6B, 0xE1, 0x18, 0xE6, 0x19, 0xF8, 0x5D, 0xBD, 0xA1},
		Current: &CardSet{KeySetID: [16]byte{0xB3, 0x0A}, Generation: 2, Format: 2, Label: "Cluster Berlin",
			Created: day2, K: 2, N: 3, Serials: [][10]byte{{3}, {4}, {5}}},
		Superseded: []SupersededSet{{
			CardSet: CardSet{KeySetID: [16]byte{0x5F, 0x2C}, Generation: 1, Format: 1, Label: "Cluster Berlin",
				Created: day1, K: 2, N: 3, Serials: [][10]byte{{1}}},
			On: day2.Add(time.Hour), By: 2,
		}},
		Uncommitted: []CardSet{{KeySetID: [16]byte{0x11}, Generation: 2, Format: 2, Label: "Cluster Berlin",
			Created: day2.Add(-time.Hour), K: 2, N: 3}},
	}
}

func TestCardSetsRoundTrip(t *testing.T) {
	for _, c := range []CardSets{{}, exampleCardSets()} {
		b, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		got, err := ParseCardSets(b)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, c) {
			t.Fatalf("round trip:\n got %+v\nwant %+v", got, c)
		}
	}
}

func TestCardSetsRefused(t *testing.T) {
	tests := []struct {
		name   string
		change func(c *CardSets)
	}{
		{"generation 0", func(c *CardSets) { c.Current.Generation = 0 }},
		{"format 3", func(c *CardSets) { c.Current.Format = 3 }},
		{"format 1 of generation 2", func(c *CardSets) { c.Current.Format = 1 }},
		{"1 of 3", func(c *CardSets) { c.Current.K = 1 }},
		{"3 of 2", func(c *CardSets) { c.Current.K, c.Current.N = 3, 2 }},
		{"2 of 10", func(c *CardSets) { c.Current.N = 10 }},
		{"empty label", func(c *CardSets) { c.Current.Label = "" }},
		{"escape in label", func(c *CardSets) { c.Current.Label = "a\x1b[2Jb" }},
		{"long label", func(c *CardSets) { c.Current.Label = strings.Repeat("a", 129) }},
		{"before 1970", func(c *CardSets) { c.Current.Created = time.Unix(-1, 0).UTC() }},
		{"fraction of a second", func(c *CardSets) { c.Current.Created = day2.Add(time.Millisecond) }},
		{"serial twice", func(c *CardSets) { c.Current.Serials = append(c.Current.Serials, [10]byte{3}) }},
		{"too many serials", func(c *CardSets) {
			for i := range MaxSetSerials {
				c.Current.Serials = append(c.Current.Serials, [10]byte{9, byte(i)})
			}
		}},
		{"current not newest", func(c *CardSets) { c.Current.Generation = 1; c.Current.Format = 1 }},
		{"superseded out of order", func(c *CardSets) {
			s := c.Superseded[0]
			s.KeySetID[0] = 0x77
			c.Superseded = append(c.Superseded, s)
		}},
		{"key-set ID twice", func(c *CardSets) { c.Superseded[0].KeySetID = c.Current.KeySetID }},
		{"superseded by itself", func(c *CardSets) { c.Superseded[0].By = 1 }},
		{"superseded before made", func(c *CardSets) { c.Superseded[0].On = day1.Add(-time.Hour) }},
		{"superseded, no date", func(c *CardSets) { c.Superseded[0].On = time.Time{} }},
		{"superseded after 9999", func(c *CardSets) { c.Superseded[0].On = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"superseded without current", func(c *CardSets) {
			c.Current, c.Uncommitted = nil, nil
			c.KCV, c.KeyCheck = [3]byte{}, [16]byte{}
		}},
		{"uncommitted without current", func(c *CardSets) {
			c.Current, c.Superseded = nil, nil
			c.KCV, c.KeyCheck = [3]byte{}, [16]byte{}
		}},
		{"uncommitted is current", func(c *CardSets) { c.Uncommitted[0].KeySetID = c.Current.KeySetID }},
		{"uncommitted, bad quorum", func(c *CardSets) { c.Uncommitted[0].K = 5 }},
		{"too many uncommitted", func(c *CardSets) {
			for i := range MaxUncommitted {
				u := c.Uncommitted[0]
				u.KeySetID[1] = byte(i + 1)
				c.Uncommitted = append(c.Uncommitted, u)
			}
		}},
		{"key without current", func(c *CardSets) { c.Current, c.Superseded, c.Uncommitted = nil, nil, nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := exampleCardSets()
			tt.change(&c)
			if b, err := c.MarshalBinary(); err == nil {
				t.Fatalf("MarshalBinary accepted it:\n%s", b)
			}
		})
	}
	// And what does not parse, from a file or a token.
	good, err := exampleCardSets().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"empty":          nil,
		"not JSON":       []byte("card sets"),
		"version 2":      bytes.Replace(good, []byte(`"v": 1`), []byte(`"v": 2`), 1),
		"unknown field":  bytes.Replace(good, []byte(`"v": 1`), []byte(`"v": 1, "x": 0`), 1),
		"trailing data":  append(bytes.Clone(good), []byte(" {}")...),
		"short serial":   bytes.Replace(good, []byte(`"03000000000000000000"`), []byte(`"0300"`), 1),
		"bad key check":  bytes.Replace(good, []byte(`"f35df877`), []byte(`"zz5df877`), 1),
		"escaped ESC":    bytes.Replace(good, []byte(`"Cluster Berlin"`), []byte(`"Cluster\u001bBerlin"`), 1),
		"too long":       append(bytes.Clone(good), bytes.Repeat([]byte(" "), MaxCardSetsSize)...),
		"current is nul": bytes.Replace(good, []byte(`"current": {`), []byte(`"current": null, "c": {`), 1),
	} {
		if _, err := ParseCardSets(b); !errors.Is(err, ErrCardSetsDamaged) {
			t.Errorf("%s: ParseCardSets = %v, want ErrCardSetsDamaged", name, err)
		}
	}
}

func FuzzParseCardSets(f *testing.F) {
	good, err := exampleCardSets().MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	empty, _ := CardSets{}.MarshalBinary()
	f.Add(empty)
	f.Add([]byte(`{"v":1,"revision":0,"current":null,"superseded":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCardSets(b)
		if err != nil {
			if !errors.Is(err, ErrCardSetsDamaged) {
				t.Fatalf("error %v does not match ErrCardSetsDamaged", err)
			}
			return
		}
		// What parses encodes again, to the same register.
		again, err := c.MarshalBinary()
		if err != nil {
			t.Fatalf("parsed register does not encode: %v", err)
		}
		back, err := ParseCardSets(again)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("re-encoded register differs: %v", err)
		}
	})
}

// TestSimCardSets: what only the simulated HSM's register shows (the rest is
// the conformance test, cardsets_conformance_test.go): its file is what an
// instructor can read, and a damaged file is named, read or updated.
func TestSimCardSets(t *testing.T) {
	ctx := context.Background()
	s, err := OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateCardSets(ctx, 0, exampleCardSets()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(s.CardSetsPath())
	if err != nil || !bytes.Contains(b, []byte(`"label": "Cluster Berlin"`)) {
		t.Fatalf("state file: %s, %v", b, err)
	}
	if err := os.WriteFile(s.CardSetsPath(), b[:len(b)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CardSets(ctx); !errors.Is(err, ErrCardSetsDamaged) {
		t.Fatalf("damaged file: %v", err)
	}
	if err := s.UpdateCardSets(ctx, 1, exampleCardSets()); !errors.Is(err, ErrCardSetsDamaged) {
		t.Fatalf("update over a damaged file: %v", err)
	}
	s.Close()
	if _, err := s.CardSets(ctx); err == nil {
		t.Fatal("a closed HSM answered")
	}
}

func TestCardSetsOf(t *testing.T) {
	s, err := OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	slot, err := OpenSimUserSlot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string]HSM{"sim": s, "sim with a user slot": WithUserSlot(s, slot)} {
		if r, ok := CardSetsOf(h); !ok || r != CardSetRegister(s) {
			t.Errorf("%s: CardSetsOf = %v, %v", name, r, ok)
		}
	}
	if _, ok := CardSetsOf(noRegister{}); ok {
		t.Error("an HSM without a register has one")
	}
	if _, ok := CardSetsOf(nil); ok {
		t.Error("nil has a register")
	}
}

// noRegister is an HSM that keeps no card-set register.
type noRegister struct{ HSM }
