package cardset

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// deck is a test's cards as raw EF 4B01 contents, by card number.
type deck map[int][]byte

// writeAll writes the re-issue's cards onto the deck's cards in order, as
// the wizard would: read, Target, write, read back, Written.
func (d deck) writeAll(t *testing.T, r *Reissue, cards ...int) {
	t.Helper()
	for _, i := range cards {
		w, err := r.Target(card(i, d[i]))
		if err != nil {
			t.Fatalf("Target card %d: %v", i, err)
		}
		d.write(t, i, w.Record())
		if rec, err := quorum.Parse(d[i]); err != nil || rec.Share[len(rec.Share)-1] != w.X || w.X == 0 {
			t.Fatalf("card %d: the Write says x %d, its record does not (%v)", i, w.X, err)
		} else {
			rec.Wipe()
		}
		if err := r.Written(w, d[i]); err != nil {
			t.Fatalf("Written card %d: %v", i, err)
		}
	}
}

func (d deck) write(t *testing.T, i int, rec []byte) {
	t.Helper()
	if rec == nil {
		t.Fatalf("card %d: no record to write", i)
	}
	b := make([]byte, tcos.ShareEFSize)
	copy(b, rec)
	d[i] = b
}

// load is a Load in the domain's words: Admit each card, collect, combine,
// AdmitRebuilt. It returns the key's KCV.
func (d deck) load(reg hsm.CardSets, cards ...int) (quorum.KCV, error) {
	c := quorum.NewCollector(nil)
	defer c.Wipe()
	for _, i := range cards {
		rec, err := quorum.Parse(d[i])
		if err != nil {
			return quorum.KCV{}, err
		}
		err = Admit(reg, rec.KeySet())
		if err == nil {
			err = c.Add(rec)
		}
		rec.Wipe()
		if err != nil {
			return quorum.KCV{}, err
		}
	}
	key, err := c.Combine()
	if err != nil {
		return quorum.KCV{}, err
	}
	defer key.Wipe()
	set, _ := c.KeySet()
	if err := AdmitRebuilt(reg, set, key.Check()); err != nil {
		return quorum.KCV{}, err
	}
	return key.KCV(), nil
}

func (d deck) verify(t *testing.T, reg hsm.CardSets, hsmKey *hsm.KeyInfo, cards ...int) *Report {
	t.Helper()
	v, err := NewVerify(reg, hsmKey)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range cards {
		if _, err := v.Add(card(i, d[i])); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := v.Finish()
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// TestReissueDoneWhen is the lifecycle's whole story in the domain: install
// 2-of-3 on cards 1-3; re-issue 2-of-3 from cards 1+2 onto cards 3, 4, 5; a
// Load with card 1 is refused as superseded; a Load from 3+4 gives the same
// KCV as before; Verify passes on 3, 4, 5 and, with one of them altered
// (share changed, record re-checksummed), names that card.
func TestReissueDoneWhen(t *testing.T) {
	ctx := context.Background()
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	if _, err := h.LoadBackupKey(ctx, g1.key.Bytes(), hsm.KeyInfo{KeySetID: g1.set.ID, Label: g1.set.Label, KCV: g1.set.KCV}, false); err != nil {
		t.Fatal(err)
	}
	d := deck{1: g1.raw(t, 0), 2: g1.raw(t, 1), 3: g1.raw(t, 2), 4: make([]byte, 255), 5: make([]byte, 255)}
	if _, err := Adopt(ctx, h, g1.set, g1.key.Check(), []tcos.Serial{sn(1), sn(2), sn(3)}, day1); err != nil {
		t.Fatal(err)
	}
	info, _, err := h.BackupKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	reg, err := h.CardSets(ctx)
	if err != nil {
		t.Fatal(err)
	}

	r, err := NewReissue(reg, &info)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{1, 2} {
		if _, err := r.AddSource(card(i, d[i])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rebuild(); err != nil {
		t.Fatal(err)
	}
	plan, err := r.Plan(ctx, h, Params{Now: day2})
	if err != nil {
		t.Fatal(err)
	}
	if plan.New.Generation != 2 || plan.New.ID == g1.set.ID || plan.New.Scheme != quorum.TwoOfThree ||
		plan.New.Label != "Cluster Berlin" || plan.New.Format != quorum.Format2 || plan.New.KCV != g1.set.KCV {
		t.Fatalf("plan: %+v", plan.New)
	}
	// The quorum's cards stay as they are until the commit.
	if _, err := r.Target(card(1, d[1])); !errors.Is(err, ErrQuorumCard) {
		t.Fatalf("card 1: %v", err)
	}
	w, err := r.Target(card(3, d[3]))
	if err != nil {
		t.Fatal(err)
	}
	if w.Holds.Kind != Share || w.Holds.Standing != Current || w.Holds.Set.ID != g1.set.ID || !w.Holds.OfHSMKey || w.Share != 0 {
		t.Fatalf("card 3 holds %+v, share %d", w.Holds, w.Share)
	}
	d.write(t, 3, w.Record())
	if err := r.Written(w, d[3]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Commit(ctx, h, day2); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Commit after 1 of 3: %v", err)
	}
	d.writeAll(t, r, 4, 5)
	done, err := r.Commit(ctx, h, day2)
	if err != nil {
		t.Fatal(err)
	}
	if !r.IsCommitted() || done.New.ID != plan.New.ID || done.Superseded.KeySetID != g1.set.ID ||
		!slices.Equal(done.Superseded.Serials, [][10]byte{sn(1), sn(2)}) {
		t.Fatalf("committed: %+v", done)
	}
	reg, err = h.CardSets(ctx)
	if err != nil || reg.Current.KeySetID != plan.New.ID || reg.Current.Generation != 2 || len(reg.Uncommitted) != 0 ||
		!slices.Equal(reg.Current.Serials, [][10]byte{sn(3), sn(4), sn(5)}) {
		t.Fatalf("register: %+v, %v", reg, err)
	}
	if len(Outstanding(reg)) != 1 {
		t.Fatal("no cards to collect")
	}

	// Load with card 1: refused as superseded, named.
	var nc *NotCurrentError
	if _, err := d.load(reg, 1, 2); !errors.As(err, &nc) ||
		err.Error() != "generation 1, superseded on 2026-01-12 by generation 2: collect and erase this card" {
		t.Fatalf("load with card 1: %v", err)
	}
	// Load from 3+4: the same KCV as before.
	if kv, err := d.load(reg, 3, 4); err != nil || kv != g1.set.KCV {
		t.Fatalf("load from 3+4: %X, %v", kv, err)
	}
	// Verify on 3, 4, 5.
	if rep := d.verify(t, reg, &info, 3, 4, 5); rep.Outcome != AllGood || rep.HSM != HSMSameKey || rep.Set.Generation != 2 {
		t.Fatalf("verify:\n%s", describe(rep))
	}
	// With card 4 altered and re-checksummed, Verify names it.
	rec, err := quorum.Parse(d[4])
	if err != nil {
		t.Fatal(err)
	}
	rec.Share[7] ^= 0x01
	d[4] = encode(t, rec)
	rep := d.verify(t, reg, &info, 3, 4, 5)
	if bad := rep.Bad(); rep.Outcome != BadFound || len(bad) != 1 || bad[0].Serial != sn(4) || bad[0].Reason != WrongShare {
		t.Fatalf("verify with card 4 altered:\n%s", describe(rep))
	}
	// And Verify refuses card 1 too.
	if rep := d.verify(t, reg, &info, 1, 3, 5); rep.Cards[0].Reason != NotCurrent || rep.Outcome != AllGood {
		t.Fatalf("verify with card 1:\n%s", describe(rep))
	}
}

// TestReissueChanges: another quorum and label; a format 1 set re-issued to
// format 2; the register's history when it started empty.
func TestReissueChanges(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree).asFormat1(t)
	reg := newMemRegister(t, hsm.CardSets{}) // installed before the register existed
	d := deck{1: g1.raw(t, 0), 2: g1.raw(t, 1), 3: g1.raw(t, 2)}
	for i := 4; i <= 8; i++ {
		d[i] = make([]byte, 255)
	}
	r, err := NewReissue(reg.state(t), hsmKeyOf(g1))
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{3, 1} {
		if _, err := r.AddSource(card(i, d[i])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rebuild(); err != nil {
		t.Fatal(err)
	}
	plan, err := r.Plan(ctx, reg, Params{Label: "Cluster Berlin 2026", Scheme: quorum.ThreeOfFive, Now: day2, HSM: heldBy(t, g1)})
	if err != nil {
		t.Fatal(err)
	}
	if plan.New.Scheme != quorum.ThreeOfFive || plan.New.Label != "Cluster Berlin 2026" || plan.New.Generation != 2 ||
		plan.New.Format != quorum.Format2 || plan.Old.Format != quorum.Format1 || !slices.Equal(plan.Keep, []tcos.Serial{sn(3), sn(1)}) {
		t.Fatalf("plan %+v", plan)
	}
	// Plan recorded the old set as current and the new one as uncommitted.
	st := reg.state(t)
	if st.Current == nil || st.Current.KeySetID != g1.set.ID || len(st.Uncommitted) != 1 || st.Uncommitted[0].KeySetID != plan.New.ID {
		t.Fatalf("register after Plan: %+v", st)
	}
	// Until the commit, a new card is refused as uncommitted.
	d.writeAll(t, r, 2, 4)
	var nc *NotCurrentError
	if _, err := d.load(st, 2, 4, 5); !errors.As(err, &nc) || nc.Standing != Uncommitted {
		t.Fatalf("load of an uncommitted card: %v", err)
	}
	d.writeAll(t, r, 5, 6, 7)
	if _, err := r.Target(card(8, d[8])); !errors.Is(err, ErrComplete) {
		t.Fatalf("a sixth card: %v", err)
	}
	done, err := r.Commit(ctx, reg, day3)
	if err != nil {
		t.Fatal(err)
	}
	st = reg.state(t)
	if st.Current.KeySetID != plan.New.ID || st.KeyCheck != g1.key.Check() || len(st.Superseded) != 1 ||
		!slices.Equal(done.Superseded.Serials, [][10]byte{sn(3), sn(1)}) || !done.Superseded.On.Equal(day3) {
		t.Fatalf("register: %+v", st)
	}
	if kv, err := d.load(st, 4, 6, 7); err != nil || kv != g1.set.KCV {
		t.Fatalf("load the new set: %v", err)
	}
	if _, err := d.load(st, 1, 3); !errors.As(err, &nc) || nc.Standing != Superseded {
		t.Fatalf("load the old set: %v", err)
	}
	// A second Commit is out of step; Wipe after Commit is harmless.
	if _, err := r.Commit(ctx, reg, day3); !errors.Is(err, ErrOutOfStep) {
		t.Fatalf("Commit again: %v", err)
	}
	r.Wipe()
}

// TestReissueRefuses: what the quorum, the plan and the writes refuse.
func TestReissueRefuses(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	other := newSet(t, "Elsewhere", quorum.TwoOfThree)
	reg := registerOf(g2, 4, 5, 6)
	reg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1)}), On: day2, By: 2}}

	if _, err := NewReissue(reg, nil); !errors.Is(err, ErrNoKeyInHSM) {
		t.Fatalf("no key: %v", err)
	}
	r, err := NewReissue(reg, hsmKeyOf(g2))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Wipe()
	var nc *NotCurrentError
	for _, tc := range []struct {
		name string
		c    Card
		is   func(error) bool
	}{
		{"superseded", card(1, g1.raw(t, 0)), func(err error) bool { return errors.As(err, &nc) && nc.Standing == Superseded }},
		{"another key", card(7, other.raw(t, 0)), func(err error) bool { return errors.Is(err, ErrNotHSMKey) }},
		{"empty", card(8, make([]byte, 255)), func(err error) bool { return errors.Is(err, quorum.ErrEmpty) }},
		{"damaged", card(8, g2.raw(t, 0)[:50]), func(err error) bool { return errors.Is(err, quorum.ErrCorrupt) }},
		{"unreadable", Card{Serial: sn(8), Err: tcos.ErrBlocked}, func(err error) bool { return errors.Is(err, tcos.ErrBlocked) }},
	} {
		if _, err := r.AddSource(tc.c); !tc.is(err) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if have, _ := r.Progress(); have != 0 {
		t.Fatalf("refused cards counted: %d", have)
	}
	if _, err := r.Rebuild(); !errors.Is(err, quorum.ErrTooFew) {
		t.Fatalf("Rebuild with none: %v", err)
	}
	if _, err := r.AddSource(card(4, g2.raw(t, 0))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		c    Card
		want error
	}{
		{"same card", card(4, g2.raw(t, 1)), ErrSameCard},
		{"copy", card(9, g2.raw(t, 0)), quorum.ErrDuplicateShare},
		{"another set of this key", card(9, g1.reshare(t, quorum.TwoOfThree, 3).raw(t, 0)), nil},
		{"disagrees", card(9, g2.relabelled(t, 1, "Forged")), quorum.ErrCorrupt},
	} {
		_, err := r.AddSource(tc.c)
		if tc.want == nil {
			if !errors.As(err, &nc) || nc.Standing != Newer {
				t.Errorf("%s: %v", tc.name, err)
			}
			continue
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// An altered share: with exactly k it cannot be told; one card more
	// and a subset rebuilds the key.
	if _, err := r.AddSource(card(5, g2.altered(t, 1))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rebuild(); !errors.Is(err, quorum.ErrKCV) {
		t.Fatalf("Rebuild with an altered share: %v", err)
	}
	if _, err := r.AddSource(card(6, g2.raw(t, 2))); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.AddSource(card(3, g2.raw(t, 2))); !errors.Is(err, ErrOutOfStep) {
		t.Fatalf("AddSource after Rebuild: %v", err)
	}
	if _, err := r.Plan(ctx, nil, Params{Now: day3}); !errors.Is(err, ErrNoRegister) {
		t.Fatalf("Plan without a register: %v", err)
	}
	// The register changed meanwhile: another re-issue made generation 3
	// current.
	g3 := g1.reshare(t, quorum.TwoOfThree, 3)
	movedReg := registerOf(g3)
	movedReg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g2.set, nil), On: day3, By: 3}}
	moved := newMemRegister(t, movedReg)
	if _, err := r.Plan(ctx, moved, Params{Now: day3}); !errors.As(err, &nc) || nc.Standing != Superseded || moved.writes != 0 {
		t.Fatalf("Plan after another re-issue: %v", err)
	}
	mr := newMemRegister(t, reg)
	if _, err := r.Plan(ctx, mr, Params{Scheme: quorum.Scheme{K: 1, N: 3}, Now: day3}); err == nil {
		t.Fatal("Plan with 1 of 3")
	}
	if _, err := r.Plan(ctx, mr, Params{Now: day3}); err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{4, 5, 6} {
		if _, err := r.Target(card(i, g2.raw(t, 0))); !errors.Is(err, ErrQuorumCard) {
			t.Errorf("quorum card %d: %v", i, err)
		}
	}
	d := deck{1: g1.raw(t, 0), 7: other.raw(t, 0), 8: make([]byte, 255)}
	w, err := r.Target(card(1, d[1]))
	if err != nil || w.Holds.Standing != Superseded || w.Holds.Refused == nil {
		t.Fatalf("superseded card as a target: %+v, %v", w, err)
	}
	// A read-back that differs: not confirmed, the share goes to the next
	// card.
	bad := make([]byte, 255)
	copy(bad, w.Record())
	bad[60] ^= 1
	if err := r.Written(w, bad); !errors.Is(err, ErrReadBack) {
		t.Fatalf("a wrong read-back: %v", err)
	}
	if err := r.Written(w, bad); !errors.Is(err, ErrOutOfStep) {
		t.Fatalf("Written twice: %v", err)
	}
	w, err = r.Target(card(7, d[7]))
	if err != nil || w.Share != 0 || w.Holds.Standing != Unrecorded || w.Holds.OfHSMKey {
		t.Fatalf("other key's card: %+v, %v", w, err)
	}
	// A write whose answer was lost: the card holds share 0 already and
	// gets it again.
	d.write(t, 7, w.Record())
	w.Release()
	if w.Record() != nil {
		t.Fatal("a released Write still hands out its record")
	}
	w, err = r.Target(card(7, d[7]))
	if err != nil || w.Share != 0 || w.Holds.Standing != Uncommitted {
		t.Fatalf("again: %+v, %v", w, err)
	}
	if err := r.Written(w, d[7]); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Target(card(7, d[7])); err == nil {
		var aw *AlreadyWrittenError
		t.Fatalf("a written card again: %v", errors.As(err, &aw))
	}
	// A card holding a confirmed share (a copy of card 7) gets the next one.
	w, err = r.Target(card(8, d[7]))
	if err != nil || w.Share != 1 {
		t.Fatalf("copy of a new card: %+v, %v", w, err)
	}
	r.Wipe()
	if w.Record() != nil {
		t.Fatal("Record after Wipe")
	}
	if _, err := r.Target(card(8, d[8])); !errors.Is(err, ErrOutOfStep) {
		t.Fatalf("Target after Wipe: %v", err)
	}
	// Nothing was committed: the old current set is still current.
	if st := mr.state(t); st.Current.KeySetID != g2.set.ID || len(st.Uncommitted) != 1 {
		t.Fatalf("register after an abandoned re-issue: %+v", st)
	}
}

// TestReissueRestartsHistory: a register about another key than the HSM
// holds (a Load replaced the key and its record did not follow) starts a
// new history with the set re-issued.
func TestReissueRestartsHistory(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	other := newSet(t, "Elsewhere", quorum.TwoOfThree)
	reg := newMemRegister(t, registerOf(other, 1, 2, 3))
	r, err := NewReissue(reg.state(t), hsmKeyOf(g1))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Wipe()
	for _, i := range []int{0, 1} {
		if _, err := r.AddSource(card(i+1, g1.raw(t, i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rebuild(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Plan(ctx, reg, Params{Now: day2, HSM: heldBy(t, g1)}); err != nil {
		t.Fatal(err)
	}
	st := reg.state(t)
	if st.Current.KeySetID != g1.set.ID || st.KCV != g1.set.KCV || st.KeyCheck != g1.key.Check() || len(st.Superseded) != 0 {
		t.Fatalf("register: %+v", st)
	}
}

// live reports whether a re-issue still holds secret memory.
func (r *Reissue) live() bool {
	held := func(s *shareStore) bool { return s != nil && s.buf.Len() > 0 }
	return held(r.store) || r.key != nil || r.shares != nil || r.records.Len() > 0 || held(r.back)
}

var _ = secmem.Wipe

// TestReissueProvesTheKeyWhereTheRegisterCannot: with no key check in the
// register (an install before it), the rebuilt key must be the HSM's by a
// load's proof, not by its 3-byte KCV: an HSM holding another key (as a
// forged set of the same KCV would meet) refuses the re-issue, and no HSM
// to ask refuses it too. Nothing is written to the register.
func TestReissueProvesTheKeyWhereTheRegisterCannot(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree).asFormat1(t)
	other := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	for _, tc := range []struct {
		name string
		h    hsm.HSM
		want error
	}{
		{"another key in the HSM", heldBy(t, other), ErrNotHSMKey},
		{"no HSM to ask", nil, ErrNotProven},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := newMemRegister(t, hsm.CardSets{})
			r, err := NewReissue(reg.state(t), hsmKeyOf(g1)) // the KCV the screen shows matches
			if err != nil {
				t.Fatal(err)
			}
			defer r.Wipe()
			for _, i := range []int{0, 1} {
				if _, err := r.AddSource(card(i+1, g1.raw(t, i))); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := r.Rebuild(); err != nil {
				t.Fatal(err)
			}
			if _, err := r.Plan(ctx, reg, Params{Now: day2, HSM: tc.h}); !errors.Is(err, tc.want) {
				t.Fatalf("Plan: %v, want %v", err, tc.want)
			}
			if reg.writes != 0 {
				t.Fatalf("the register was written %d times", reg.writes)
			}
		})
	}
	if h := heldBy(t, other); func() bool { _, ok, _ := h.BackupKey(ctx); return !ok }() {
		t.Fatal("the other HSM holds no key")
	}
}

// TestAbandonedReissuesStayRefused: more abandoned re-issues than the
// register keeps uncommitted (a day of faults, or training) move the oldest
// to Abandoned; that re-issue's cards, which never counted, stay refused as
// uncommitted instead of reading as a newer set made elsewhere.
func TestAbandonedReissuesStayRefused(t *testing.T) {
	s23 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	reg := newMemRegister(t, registerOf(s23, 1, 2, 3))
	d := deck{1: s23.raw(t, 0), 2: s23.raw(t, 1), 3: s23.raw(t, 2)}
	var first deck
	for n := 0; n < hsm.MaxUncommitted+1; n++ {
		r, err := NewReissue(reg.state(t), hsmKeyOf(s23))
		if err != nil {
			t.Fatal(err)
		}
		for _, i := range []int{1, 2} {
			if _, err := r.AddSource(card(i, d[i])); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := r.Rebuild(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Plan(context.Background(), reg, Params{Now: day2}); err != nil {
			t.Fatal(err)
		}
		if n == 0 { // the first writes two of its cards, then the operator leaves
			first = deck{4: make([]byte, tcos.ShareEFSize), 5: make([]byte, tcos.ShareEFSize)}
			first.writeAll(t, r, 4, 5)
		}
		r.Wipe()
	}
	now := reg.state(t)
	if len(now.Uncommitted) != hsm.MaxUncommitted || len(now.Abandoned) != 1 {
		t.Fatalf("%d uncommitted, %d abandoned", len(now.Uncommitted), len(now.Abandoned))
	}
	rec, err := quorum.Parse(first[4])
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Wipe()
	if st, e := Stand(now, rec.KeySet()); st != Uncommitted || e == nil || !e.On.Equal(rec.Created) {
		t.Fatalf("the abandoned re-issue's card stands %v (%v)", st, e)
	}
	if _, err := first.load(now, 4, 5); err == nil {
		t.Fatal("the abandoned re-issue's cards load")
	}
	// The register keeps the list through its encoding.
	b, err := now.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := hsm.ParseCardSets(b)
	if err != nil || !slices.Equal(back.Abandoned, now.Abandoned) {
		t.Fatalf("round trip: %v, %x", err, back.Abandoned)
	}
}
