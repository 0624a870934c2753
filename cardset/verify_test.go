package cardset

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// want is one card's expected verdict (and reason).
type want struct {
	v Verdict
	r Reason
}

var (
	good      = want{Good, NoReason}
	undecided = want{Undecided, NoReason}
)

func TestVerify(t *testing.T) {
	s23 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	s35 := newSet(t, "Rechenzentrum Süd", quorum.ThreeOfFive)
	old := s23.reshare(t, quorum.TwoOfThree, 2) // stands for an older set below
	cur := s23.reshare(t, quorum.TwoOfThree, 3)
	f1 := s23.asFormat1(t)
	other := newSet(t, "Elsewhere", quorum.TwoOfThree)

	// cur is current, old superseded (generations 3 and 2 of s23's key).
	supReg := registerOf(cur, 1, 2, 3)
	supReg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(old.set, []tcos.Serial{sn(9)}), On: day2, By: 3}}

	tests := []struct {
		name    string
		reg     hsm.CardSets
		hsmKey  *hsm.KeyInfo
		cards   []Card
		outcome Outcome
		wants   []want
		hsm     HSMCheck
	}{
		{"2 of 3, all three", registerOf(s23, 1, 2, 3), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.raw(t, 1)), card(3, s23.raw(t, 2))},
			AllGood, []want{good, good, good}, HSMSameKey},
		{"2 of 3, exactly k", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(3, s23.raw(t, 2))},
			AllGood, []want{good, good}, HSMSameKey},
		{"2 of 3, no register, no HSM key", hsm.CardSets{}, nil,
			[]Card{card(1, s23.raw(t, 0)), card(3, s23.raw(t, 2))},
			AllGood, []want{good, good}, HSMNoKey},
		{"2 of 3, HSM holds another key", hsm.CardSets{}, hsmKeyOf(other),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.raw(t, 1))},
			AllGood, []want{good, good}, HSMOtherKey},
		{"2 of 3, one altered of three", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.altered(t, 1)), card(3, s23.raw(t, 2))},
			BadFound, []want{good, {Bad, WrongShare}, good}, HSMSameKey},
		{"2 of 3, one altered of exactly k", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.altered(t, 1))},
			CannotTell, []want{undecided, undecided}, HSMNotCompared},
		{"2 of 3, too few", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0))},
			TooFew, []want{undecided}, HSMNotCompared},
		{"3 of 5, all five", hsm.CardSets{}, hsmKeyOf(s35),
			[]Card{card(1, s35.raw(t, 0)), card(2, s35.raw(t, 1)), card(3, s35.raw(t, 2)), card(4, s35.raw(t, 3)), card(5, s35.raw(t, 4))},
			AllGood, []want{good, good, good, good, good}, HSMSameKey},
		{"3 of 5, one altered of five", hsm.CardSets{}, hsmKeyOf(s35),
			[]Card{card(1, s35.raw(t, 0)), card(2, s35.raw(t, 1)), card(3, s35.altered(t, 2)), card(4, s35.raw(t, 3)), card(5, s35.raw(t, 4))},
			BadFound, []want{good, good, {Bad, WrongShare}, good, good}, HSMSameKey},
		{"3 of 5, two altered of five", hsm.CardSets{}, hsmKeyOf(s35),
			[]Card{card(1, s35.altered(t, 0)), card(2, s35.raw(t, 1)), card(3, s35.raw(t, 2)), card(4, s35.altered(t, 3)), card(5, s35.raw(t, 4))},
			BadFound, []want{{Bad, WrongShare}, good, good, {Bad, WrongShare}, good}, HSMSameKey},
		{"3 of 5, two altered of four", hsm.CardSets{}, hsmKeyOf(s35),
			[]Card{card(1, s35.altered(t, 0)), card(2, s35.raw(t, 1)), card(3, s35.raw(t, 2)), card(4, s35.altered(t, 3))},
			CannotTell, []want{undecided, undecided, undecided, undecided}, HSMNotCompared},
		{"a copy counts once", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(4, s23.raw(t, 0)), card(2, s23.raw(t, 1))},
			AllGood, []want{good, good, good}, HSMSameKey},
		{"a copy and its original are not a quorum", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(4, s23.raw(t, 0))},
			TooFew, []want{undecided, undecided}, HSMNotCompared},
		{"label altered, the register says", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.relabelled(t, 1, "Forged")), card(3, s23.raw(t, 2))},
			BadFound, []want{good, {Bad, Disagrees}, good}, HSMSameKey},
		{"label altered, exactly k, the register says", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(2, s23.relabelled(t, 1, "Forged"))},
			TooFew, []want{undecided, {Bad, Disagrees}}, HSMNotCompared},
		{"label altered, the majority says", hsm.CardSets{}, nil,
			[]Card{card(1, s23.relabelled(t, 0, "Forged")), card(2, s23.raw(t, 1)), card(3, s23.raw(t, 2))},
			BadFound, []want{{Bad, Disagrees}, good, good}, HSMNoKey},
		{"label altered, exactly k, nothing says", hsm.CardSets{}, nil,
			[]Card{card(1, s23.relabelled(t, 0, "Forged")), card(2, s23.raw(t, 1))},
			TooFew, []want{undecided, {Undecided, Disagrees}}, HSMNotCompared},
		{"superseded card refused, the rest verified", supReg, hsmKeyOf(cur),
			[]Card{card(9, old.raw(t, 0)), card(1, cur.raw(t, 0)), card(2, cur.raw(t, 1))},
			AllGood, []want{{NotChecked, NotCurrent}, good, good}, HSMSameKey},
		{"only superseded cards", supReg, hsmKeyOf(cur),
			[]Card{card(9, old.raw(t, 0)), card(8, old.raw(t, 1))},
			NoSet, []want{{NotChecked, NotCurrent}, {NotChecked, NotCurrent}}, HSMNotCompared},
		{"empty, damaged, unknown, unreadable, other set", registerOf(s23), hsmKeyOf(s23),
			[]Card{card(1, s23.raw(t, 0)), card(5, make([]byte, tcos.ShareEFSize)), card(6, s23.raw(t, 1)[:40]),
				card(7, unknownFormat(t, s23)), {Serial: sn(8), Err: tcos.ErrBlocked}, card(9, other.raw(t, 0)), card(2, s23.raw(t, 1))},
			AllGood, []want{good, {NotChecked, EmptySlot}, {NotChecked, Damaged}, {NotChecked, UnknownFormat},
				{NotChecked, Unreadable}, {NotChecked, OtherSet}, good}, HSMSameKey},
		{"format 1 set, the register knows its key", func() hsm.CardSets {
			r := registerOf(f1)
			r.KeyCheck = f1.key.Check()
			return r
		}(), hsmKeyOf(f1),
			[]Card{card(1, f1.raw(t, 0)), card(2, f1.altered(t, 1)), card(3, f1.raw(t, 2))},
			BadFound, []want{good, {Bad, WrongShare}, good}, HSMSameKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := NewVerify(tt.reg, tt.hsmKey)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range tt.cards {
				res, err := v.Add(c)
				if err != nil {
					t.Fatal(err)
				}
				if res.Serial != c.Serial || res.TriesLeft != c.TriesLeft {
					t.Fatalf("Add: %+v", res)
				}
			}
			rep, err := v.Finish()
			if err != nil {
				t.Fatal(err)
			}
			if rep.Outcome != tt.outcome || rep.HSM != tt.hsm {
				t.Errorf("outcome %v, HSM %v; want %v, %v", rep.Outcome, rep.HSM, tt.outcome, tt.hsm)
			}
			for i, w := range tt.wants {
				c := rep.Cards[i]
				if c.Verdict != w.v || c.Reason != w.r {
					t.Errorf("card %d: %v (%v), want %v (%v)", i+1, c.Verdict, c.Reason, w.v, w.r)
				}
			}
			if t.Failed() {
				t.Log(describe(rep))
			}
		})
	}
}

// unknownFormat is a record of an intact checksum and a format 3.
func unknownFormat(t testing.TB, ts *testSet) []byte {
	t.Helper()
	b := ts.raw(t, 0)
	b[4] = 3 // 80 01 vv: the version byte
	// Re-checksum: the last element covers everything before it.
	return rechecksum(t, b)
}

func describe(rep *Report) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome %v, %d shares, %d of %d subsets rebuilt, HSM %v\n", rep.Outcome, rep.Shares, rep.Rebuilt, rep.Subsets, rep.HSM)
	for _, c := range rep.Cards {
		fmt.Fprintf(&b, "  %s x=%d %v %v %v\n", c.Serial, c.X, c.Verdict, c.Reason, c.Refused)
	}
	return b.String()
}

// TestVerifyDetails: what Add says at once, copies named, the superseded
// card's words, the report's numbers, refusals.
func TestVerifyDetails(t *testing.T) {
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	reg := registerOf(g2, 3, 4, 5)
	reg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1)}), On: day2, By: 2}}
	v, err := NewVerify(reg, hsmKeyOf(g2))
	if err != nil {
		t.Fatal(err)
	}
	res, err := v.Add(card(1, g1.raw(t, 0)))
	if err != nil || res.Verdict != NotChecked || res.Refused == nil ||
		res.Refused.Error() != "generation 1, superseded on 2026-01-12 by generation 2: collect and erase this card" {
		t.Fatalf("superseded card: %+v, %v", res, err)
	}
	res, err = v.Add(card(3, g2.raw(t, 0)))
	if err != nil || res.Verdict != Pending || res.Set.Generation != 2 || res.Standing != Current || res.X != g2.recs[0].Share[quorum.KeySize] {
		t.Fatalf("current card: %+v, %v", res, err)
	}
	if _, err := v.Add(card(3, g2.raw(t, 1))); !errors.Is(err, ErrSameCard) {
		t.Fatalf("the same card again: %v", err)
	}
	for i, j := range []int{1, 2} {
		if _, err := v.Add(card(4+i, g2.raw(t, j))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Add(card(7, g2.raw(t, 2))); err != nil { // a copy of card 5
		t.Fatal(err)
	}
	rep, err := v.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != AllGood || rep.Shares != 3 || rep.Subsets != 3 || rep.Rebuilt != 3 || rep.Standing != Current ||
		rep.Set == nil || rep.Set.ID != g2.set.ID {
		t.Fatalf("report:\n%s", describe(rep))
	}
	if c := rep.Cards[4]; c.CopyOf == nil || *c.CopyOf != sn(5) || c.Verdict != Good {
		t.Fatalf("the copy: %+v", c)
	}
	if _, err := v.Add(card(8, g2.raw(t, 0))); err == nil {
		t.Fatal("Add after Finish")
	}
	if _, err := v.Finish(); err == nil {
		t.Fatal("Finish twice")
	}
	// At most MaxCards.
	v, _ = NewVerify(hsm.CardSets{}, nil)
	defer v.Wipe()
	for i := range MaxCards {
		if _, err := v.Add(card(100+i, make([]byte, 10))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := v.Add(card(99, g2.raw(t, 0))); !errors.Is(err, ErrTooManyCards) {
		t.Fatalf("card %d: %v", MaxCards+1, err)
	}
}

// A format 1 set of the register's key that the register does not list
// (generation 2 was re-issued elsewhere and adopted here by a Load) tells
// its standing only by its rebuilt key: Verify does not call it good, as
// Load and Re-issue refuse it.
func TestVerifyRefusesAStaleFormat1Set(t *testing.T) {
	s23 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	f1 := s23.asFormat1(t)
	cur := s23.reshare(t, quorum.TwoOfThree, 2)
	reg := registerOf(cur, 4, 5, 6)
	if err := AdmitRebuilt(reg, f1.set, f1.key.Check()); err == nil {
		t.Fatal("AdmitRebuilt takes the stale set")
	}
	v, err := NewVerify(reg, hsmKeyOf(cur))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := v.Add(card(i+1, f1.raw(t, i))); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := v.Finish()
	if err != nil {
		t.Fatal(err)
	}
	if rep.Outcome != NoSet || rep.Set != nil {
		t.Errorf("outcome %v (set %v), want %v", rep.Outcome, rep.Set, NoSet)
	}
	for _, c := range rep.Cards {
		if c.Verdict != NotChecked || c.Reason != NotCurrent || c.Refused == nil {
			t.Errorf("card %s: %v (%v), refused %v", c.Serial, c.Verdict, c.Reason, c.Refused)
		}
	}
}
