package cardset

import (
	"context"
	"slices"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

func TestPlanErase(t *testing.T) {
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	other := newSet(t, "Elsewhere", quorum.TwoOfThree)
	reg := registerOf(g2, 3, 4, 5)
	reg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1), sn(2)}), On: day2, By: 2}}
	small := registerOf(g2, 3, 4) // only two known cards of a 2-of-3 set

	tests := []struct {
		name     string
		reg      hsm.CardSets
		c        Card
		kind     HoldKind
		standing Standing
		confirm  bool
		known    int
		tooFew   bool
		ofHSMKey bool
	}{
		{"current", reg, card(3, g2.raw(t, 0)), Share, Current, true, 3, false, true},
		{"current, an unknown copy", reg, card(9, g2.raw(t, 0)), Share, Current, true, 4, false, true},
		{"current, the last spare", small, card(4, g2.raw(t, 1)), Share, Current, true, 2, true, true},
		{"superseded", reg, card(1, g1.raw(t, 0)), Share, Superseded, false, 2, false, true},
		{"another key", reg, card(7, other.raw(t, 0)), Share, Unrecorded, true, 0, false, false},
		{"newer", reg, card(7, g1.reshare(t, quorum.TwoOfThree, 3).raw(t, 0)), Share, Newer, true, 0, false, true},
		{"stale", reg, card(7, g1.reshare(t, quorum.TwoOfThree, 2).raw(t, 0)), Share, Stale, false, 0, false, true},
		{"blank", reg, card(8, make([]byte, 255)), Blank, Unrecorded, false, 0, false, false},
		{"damaged", reg, card(8, g2.raw(t, 0)[:30]), DamagedRecord, Unrecorded, true, 0, false, false},
		// A card the register lists in the current set, whatever it reads as
		// (a read spoilt on its way): ask, and count the set's known cards.
		{"damaged, listed current", reg, card(3, g2.raw(t, 0)[:30]), DamagedRecord, Unrecorded, true, 3, false, false},
		{"blank, listed current", small, card(4, make([]byte, 255)), Blank, Unrecorded, true, 2, true, false},
		{"unknown format", reg, card(8, unknownFormat(t, g2)), UnknownRecord, Unrecorded, true, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanErase(tt.reg, hsmKeyOf(g2), tt.c)
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tt.kind || p.Standing != tt.standing || p.Confirm != tt.confirm || p.Known != tt.known ||
				p.LeavesTooFew != tt.tooFew || p.OfHSMKey != tt.ofHSMKey || p.Serial != tt.c.Serial {
				t.Fatalf("plan %+v", p)
			}
			if tt.kind == Share && p.Set.Generation != map[Standing]quorum.Generation{Current: 2, Superseded: 1, Newer: 3, Stale: 2, Unrecorded: 1}[tt.standing] {
				t.Fatalf("generation %d", p.Set.Generation)
			}
		})
	}
	if _, err := PlanErase(reg, nil, Card{Serial: sn(1), Err: tcos.ErrBlocked}); err != tcos.ErrBlocked {
		t.Fatalf("unreadable: %v", err)
	}
}

func TestErased(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	other := newSet(t, "Elsewhere", quorum.TwoOfThree)
	start := registerOf(g2, 3, 4, 5)
	start.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1), sn(2)}), On: day2, By: 2}}
	reg := newMemRegister(t, start)

	erase := func(c Card) hsm.CardSets {
		t.Helper()
		p, err := PlanErase(reg.state(t), hsmKeyOf(g2), c)
		if err != nil {
			t.Fatal(err)
		}
		st, err := Erased(ctx, reg, p)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := erase(card(1, g1.raw(t, 0)))
	if !slices.Equal(st.Superseded[0].Serials, [][10]byte{sn(2)}) || len(Outstanding(st)) != 1 {
		t.Fatalf("after erasing card 1: %+v", st.Superseded)
	}
	st = erase(card(2, g1.raw(t, 1)))
	if len(st.Superseded[0].Serials) != 0 || len(Outstanding(st)) != 0 || len(st.Superseded) != 1 {
		t.Fatalf("after erasing card 2: %+v", st.Superseded)
	}
	st = erase(card(5, g2.raw(t, 2)))
	if !slices.Equal(st.Current.Serials, [][10]byte{sn(3), sn(4)}) {
		t.Fatalf("after erasing card 5: %+v", st.Current)
	}
	writes := reg.writes
	erase(card(7, other.raw(t, 0)))
	erase(card(8, make([]byte, 255)))
	if reg.writes != writes {
		t.Fatal("erasing a card the register does not list wrote it")
	}
}
