package pkcs11

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
)

func TestCardSetsLabel(t *testing.T) {
	for _, rev := range []uint64{0, 1, 9, 10, 4711, math.MaxUint64} {
		got, ok := parseCardSetsLabel(cardSetsLabel(rev))
		if !ok || got != rev {
			t.Errorf("revision %d: label %q reads as %d, %v", rev, cardSetsLabel(rev), got, ok)
		}
	}
	for _, l := range []string{
		"", "hsmcards-card-sets:", "hsmcards-card-sets:01", "hsmcards-card-sets:+1", "hsmcards-card-sets:-1",
		"hsmcards-card-sets: 1", "hsmcards-card-sets:1 ", "hsmcards-card-sets:0x1", "hsmcards-card-sets:1e3",
		"hsmcards-card-sets:18446744073709551616", "hsmcards-card-sets:١", "HSMCARDS-CARD-SETS:1", "hsmcards-load-lock",
	} {
		if rev, ok := parseCardSetsLabel(l); ok {
			t.Errorf("label %q reads as revision %d", l, rev)
		}
	}
}

// registerValue is the encoded register of revision rev, with a label that
// tells registers apart.
func registerValue(t testing.TB, rev uint64, label string) []byte {
	t.Helper()
	c := hsm.CardSets{
		Revision: rev,
		KCV:      [3]byte{0xF2, 0x90, 0x00},
		KeyCheck: [16]byte{0xF3, 0x5D},
		Current: &hsm.CardSet{KeySetID: [16]byte{0xB3, 0x0A}, Generation: 2, Format: 2, Label: label,
			Created: time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC), K: 2, N: 3, Serials: [][10]byte{{3}}},
	}
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func obj(t testing.TB, rev uint64, label string) registerObject {
	return registerObject{label: cardSetsLabel(rev), value: registerValue(t, rev, label)}
}

// TestPlaceRegister: which of the objects a token holds counts.
func TestPlaceRegister(t *testing.T) {
	good := func(rev uint64) registerObject { return obj(t, rev, "rev "+strconv.FormatUint(rev, 10)) }
	garbage := func(rev uint64) registerObject {
		return registerObject{label: cardSetsLabel(rev), value: []byte("\x1b[2J not a register")}
	}
	tests := []struct {
		name      string
		objs      []registerObject
		counts    int // index, -1 for none
		leftovers []int
		damaged   []string // the objects named, when damaged
	}{
		{"none", nil, -1, nil, nil},
		{"one", []registerObject{good(1)}, 0, nil, nil},
		{"interrupted update", []registerObject{good(4), good(5)}, 1, []int{0}, nil},
		{"interrupted twice", []registerObject{good(7), good(5), good(6)}, 0, []int{1, 2}, nil},
		{"earlier revision does not parse", []registerObject{garbage(1), good(2)}, 1, []int{0}, nil},
		{"earlier revision holds another revision", []registerObject{{label: cardSetsLabel(1), value: registerValue(t, 9, "x")}, good(2)}, 1, []int{0}, nil},
		{"newest does not parse", []registerObject{good(1), garbage(2)}, -1, nil, []string{`"hsmcards-card-sets:2"`}},
		{"newest empty", []registerObject{good(1), {label: cardSetsLabel(2)}}, -1, nil, []string{`"hsmcards-card-sets:2"`}},
		{"newest holds another revision", []registerObject{good(1), {label: cardSetsLabel(3), value: registerValue(t, 2, "x")}}, -1, nil, []string{`"hsmcards-card-sets:3"`}},
		{"two of the newest", []registerObject{good(1), good(2), obj(t, 2, "other")}, -1, nil, []string{`"hsmcards-card-sets:2"`, `"hsmcards-card-sets:2"`}},
		{"a label hsmcards does not write", []registerObject{good(3), {label: "hsmcards-card-sets:04", value: registerValue(t, 4, "x")}}, -1, nil, []string{`"hsmcards-card-sets:04"`}},
		{"a label with escapes", []registerObject{{label: "card sets\x1b]0;owned\x07", value: registerValue(t, 1, "x")}}, -1, nil, []string{`"card sets"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := placeRegister(tt.objs)
			if tt.damaged != nil {
				if err == nil {
					t.Fatalf("placed %+v, want damaged", p)
				}
				if !errors.Is(err, hsm.ErrCardSetsDamaged) || !slices.Equal(err.Objects, tt.damaged) {
					t.Fatalf("error %v naming %q, want damaged naming %q", err, err.Objects, tt.damaged)
				}
				if strings.Contains(err.Error(), "\x1b") || strings.Contains(err.Error(), "not a register") {
					t.Fatalf("error %q quotes what the token holds", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.counts != tt.counts || !slices.Equal(p.leftovers, tt.leftovers) {
				t.Fatalf("counts %d, leftovers %v; want %d, %v", p.counts, p.leftovers, tt.counts, tt.leftovers)
			}
			if tt.counts < 0 {
				if !reflect.DeepEqual(p.sets, hsm.CardSets{}) {
					t.Fatalf("no object, but a register %+v", p.sets)
				}
				return
			}
			want, _ := hsm.ParseCardSets(tt.objs[tt.counts].value)
			if !reflect.DeepEqual(p.sets, want) {
				t.Fatalf("register %+v, want %+v", p.sets, want)
			}
		})
	}
}

// FuzzPlaceRegister: whatever three objects a token holds, placing them
// does not depend on their order, fails only as damaged, and what counts is
// the object of the highest revision, holding that revision.
func FuzzPlaceRegister(f *testing.F) {
	g1, g2 := registerValue(f, 1, "one"), registerValue(f, 2, "two")
	f.Add(cardSetsLabel(1), g1, cardSetsLabel(2), g2, "", []byte(nil))
	f.Add(cardSetsLabel(2), g2, cardSetsLabel(2), g2, cardSetsLabel(1), g1)
	f.Add(cardSetsLabel(3), g2, cardSetsLabel(1), g1, "x", []byte("{}"))
	f.Add(cardSetsLabel(1), g1, cardSetsLabel(2), g1[:len(g1)/2], cardSetsLabel(0), []byte{})
	f.Fuzz(func(t *testing.T, l1 string, v1 []byte, l2 string, v2 []byte, l3 string, v3 []byte) {
		objs := []registerObject{{l1, v1}, {l2, v2}}
		if l3 != "" || len(v3) > 0 {
			objs = append(objs, registerObject{l3, v3})
		}
		p, err := placeRegister(objs)
		rev := slices.Clone(objs)
		slices.Reverse(rev)
		q, err2 := placeRegister(rev)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(p.sets, q.sets) || len(p.leftovers) != len(q.leftovers) {
			t.Fatalf("placing depends on the order: %+v, %v; %+v, %v", p, err, q, err2)
		}
		if err != nil {
			if !errors.Is(err, hsm.ErrCardSetsDamaged) || p.counts != -1 || len(err.Objects) == 0 {
				t.Fatalf("error %v, counts %d", err, p.counts)
			}
			return
		}
		if p.counts < 0 {
			if len(objs) > 0 && slices.ContainsFunc(objs, func(o registerObject) bool { _, ok := parseCardSetsLabel(o.label); return ok }) {
				t.Fatal("a register object placed as none")
			}
			return
		}
		top, _ := parseCardSetsLabel(objs[p.counts].label)
		if p.sets.Revision != top || len(p.leftovers) != len(objs)-1 {
			t.Fatalf("counts revision %d from label %q, %d leftovers of %d", p.sets.Revision, objs[p.counts].label, len(p.leftovers), len(objs))
		}
		for _, i := range p.leftovers {
			if r, ok := parseCardSetsLabel(objs[i].label); !ok || r >= top {
				t.Fatalf("leftover %q beside revision %d", objs[i].label, top)
			}
		}
		if again, err := hsm.ParseCardSets(objs[p.counts].value); err != nil || !reflect.DeepEqual(again, p.sets) {
			t.Fatalf("the register that counts does not parse again: %v", err)
		}
	})
}

func FuzzParseCardSetsLabel(f *testing.F) {
	f.Add("hsmcards-card-sets:1")
	f.Add("hsmcards-card-sets:18446744073709551615")
	f.Add("hsmcards-card-sets:007")
	f.Fuzz(func(t *testing.T, label string) {
		rev, ok := parseCardSetsLabel(label)
		if ok && cardSetsLabel(rev) != label {
			t.Fatalf("label %q reads as revision %d, which is labelled %q", label, rev, cardSetsLabel(rev))
		}
	})
}
