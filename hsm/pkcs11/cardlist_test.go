package pkcs11

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
)

func listCard(serial byte, gen uint64) hsm.UserCard {
	return hsm.UserCard{Serial: [10]byte{serial}, Label: "card", Enrolled: time.Date(2026, 1, int(serial), 0, 0, 0, 0, time.UTC),
		PublicKey: []byte{serial}, WrappedPIN: bytes.Repeat([]byte{serial}, 256), Generation: gen, Format: 2}
}

func object(t *testing.T, u hsm.UserCard) recordObject {
	t.Helper()
	v, err := u.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return parseRecordObject(recordLabel(u.Serial), v)
}

func TestScreen(t *testing.T) {
	a, b := listCard(1, 2), listCard(2, 2)
	dup := listCard(2, 3)
	v1 := object(t, listCard(3, 1))
	v1.card.Format = 1
	junk := parseRecordObject("hsmcards-user-card:x", []byte("{"))
	mislabelled := parseRecordObject(recordLabel([10]byte{7}), object(t, listCard(4, 2)).value)
	got := screen([]recordObject{object(t, a), object(t, b), object(t, dup), v1, junk, mislabelled})
	if len(got.Cards) != 1 || !hsm.SameCard(got.Cards[0], a) {
		t.Fatalf("cards %+v, want card 1 only", got.Cards)
	}
	want := []hsm.Refusal{hsm.RefusedDuplicate, hsm.RefusedDuplicate, hsm.RefusedFormat1, hsm.RefusedMalformed, hsm.RefusedMalformed}
	if len(got.Refused) != len(want) {
		t.Fatalf("refused %+v", got.Refused)
	}
	for i, r := range got.Refused {
		if r.Reason != want[i] {
			t.Errorf("refused %d: %v, want %v", i, r.Reason, want[i])
		}
	}
}

func TestAudit(t *testing.T) {
	a, b, c := listCard(1, 5), listCard(2, 5), listCard(3, 5)
	objs := []recordObject{object(t, a), object(t, b), object(t, c)}
	list := newCardList(5, []hsm.UserCard{a, b, c}, [][]byte{objs[0].value, objs[1].value, objs[2].value})

	oldB := listCard(2, 4)
	oldB.WrappedPIN[0] ^= 1
	altered := c
	altered.WrappedPIN = bytes.Repeat([]byte{9}, 256)
	planted := listCard(8, 9)
	vouched, d := audit([]recordObject{objs[0], objs[0], object(t, oldB), object(t, altered), object(t, planted)}, list)
	if !vouched[0] || len(vouched) != 1 {
		t.Errorf("vouched %v, want the first record only", vouched)
	}
	want := []hsm.Refusal{hsm.RefusedDuplicate, hsm.RefusedOutdated, hsm.RefusedAltered, hsm.RefusedUnlisted}
	if len(d.Refused) != len(want) {
		t.Fatalf("refused %+v", d.Refused)
	}
	for i, r := range d.Refused {
		if r.Reason != want[i] {
			t.Errorf("refused %d: %v, want %v", i, r.Reason, want[i])
		}
	}
	if len(d.Missing) != 0 {
		t.Errorf("missing %+v: cards with a refused record are named there", d.Missing)
	}
	if _, d := audit(objs[:1], list); len(d.Missing) != 2 || len(d.Refused) != 0 {
		t.Errorf("two records gone: %+v", d)
	}
	if _, d := audit(objs, cardList{}); len(d.Refused) != 3 {
		t.Errorf("without a list every record is refused: %+v", d)
	}
}

func TestCardListRoundTrip(t *testing.T) {
	a, b := listCard(1, 5), listCard(2, 5)
	l := newCardList(5, []hsm.UserCard{a, b}, [][]byte{[]byte("ra"), []byte("rb")})
	v, err := l.marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseCardList(v)
	if err != nil || got.generation != 5 || len(got.cards) != 2 || got.cards[1].record != l.cards[1].record || !hsm.SameCard(got.cards[0].card, a) {
		t.Fatalf("parseCardList = %+v, %v", got, err)
	}
	for name, s := range map[string]string{
		"version":   strings.Replace(string(v), `"v":1`, `"v":2`, 1),
		"unknown":   strings.Replace(string(v), `{"v"`, `{"x":1,"v"`, 1),
		"twice":     strings.Replace(string(v), `"serial":"02`, `"serial":"01`, 1),
		"label":     strings.Replace(string(v), `"label":"card"`, `"label":"\u001b[2J"`, 1),
		"trailing":  string(v) + " {}",
		"truncated": string(v[:len(v)-3]),
	} {
		if _, err := parseCardList([]byte(s)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func FuzzParseCardList(f *testing.F) {
	l := newCardList(5, []hsm.UserCard{listCard(1, 5)}, [][]byte{[]byte("r")})
	v, _ := l.marshal()
	f.Add(v)
	f.Add([]byte(`{"v":1,"gen":1,"cards":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := parseCardList(b)
		if err != nil {
			return
		}
		again, err := l.marshal()
		if err != nil {
			t.Fatal(err)
		}
		m, err := parseCardList(again)
		if err != nil || m.generation != l.generation || len(m.cards) != len(l.cards) {
			t.Fatalf("re-encoded list does not parse the same: %v", err)
		}
		for i := range m.cards {
			if !hsm.SameCard(m.cards[i].card, l.cards[i].card) || m.cards[i].record != l.cards[i].record {
				t.Fatalf("card %d differs", i)
			}
		}
	})
}
