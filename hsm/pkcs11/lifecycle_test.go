//go:build cgo && unix

package pkcs11_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/pkcs11"
	"github.com/hsmcards/hsmcards/internal/softhsmtest"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

func serial(i int) tcos.Serial { return tcos.Serial{0xC0, 0xFF, 0xEE, 0, 0, 0, 0, 0, 0, byte(i)} }

// cardOf is what a card step reads from card i holding rec.
func cardOf(t *testing.T, i int, rec []byte) cardset.Card {
	t.Helper()
	raw := make([]byte, tcos.ShareEFSize)
	copy(raw, rec)
	return cardset.Card{Serial: serial(i), TriesLeft: 3, Raw: raw}
}

func marshal(t *testing.T, r *quorum.Record) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLifecycleOnSoftHSM is the card set's life with the register in a
// PKCS#11 token (docs/lifecycle.md): install 2-of-3 on cards 1-3 (the key
// into the token, the set adopted); re-issue 2-of-3 from cards 1+2 onto
// cards 3, 4, 5; then, in a new session as another run of hsmcards would
// open it, card 1 is refused as superseded, 3 and 4 rebuild the same key, and
// cards 1 and 2 are still to collect.
func TestLifecycleOnSoftHSM(t *testing.T) {
	ctx := context.Background()
	day1 := time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	day2 := time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC)
	store := softhsmtest.New(t, "appliance")
	open := func() *pkcs11.HSM {
		h, err := pkcs11.Open(store.Module, pkcs11.TokenByLabel("appliance"), []byte(softhsmtest.UserPIN))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		return h
	}
	h := open()
	if _, ok := hsm.CardSetsOf(hsm.HSM(h)); !ok {
		t.Fatal("the PKCS#11 HSM keeps no card-set register")
	}

	// Install.
	key, recs, err := quorum.Generate("Cluster Berlin", quorum.TwoOfThree, day1)
	if err != nil {
		t.Fatal(err)
	}
	defer key.Wipe()
	g1 := recs[0].KeySet()
	info := hsm.KeyInfo{KeySetID: g1.ID, Label: g1.Label, KCV: g1.KCV}
	if _, err := h.LoadBackupKey(ctx, key.Bytes(), info, false); err != nil {
		t.Fatal(err)
	}
	if _, err := cardset.Adopt(ctx, h, g1, key.Check(), []tcos.Serial{serial(1), serial(2), serial(3)}, day1); err != nil {
		t.Fatal(err)
	}
	cards := map[int][]byte{1: marshal(t, recs[0]), 2: marshal(t, recs[1]), 3: marshal(t, recs[2]), 4: nil, 5: nil}

	// Re-issue from cards 1 and 2 onto 3, 4, 5.
	reg, err := h.CardSets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r, err := cardset.NewReissue(reg, &info)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Wipe()
	for _, i := range []int{1, 2} {
		if _, err := r.AddSource(cardOf(t, i, cards[i])); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.Rebuild(); err != nil {
		t.Fatal(err)
	}
	plan, err := r.Plan(ctx, h, cardset.Params{Now: day2})
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range []int{3, 4, 5} {
		w, err := r.Target(cardOf(t, i, cards[i]))
		if err != nil {
			t.Fatalf("Target card %d: %v", i, err)
		}
		c := cardOf(t, i, w.Record())
		cards[i] = c.Raw
		if err := r.Written(w, c.Raw); err != nil {
			t.Fatalf("Written card %d: %v", i, err)
		}
	}
	if _, err := r.Commit(ctx, h, day2); err != nil {
		t.Fatal(err)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}

	// Another run of hsmcards, another session.
	h = open()
	reg, notes, err := h.CardSetsWithNotes(ctx)
	if err != nil || notes != nil {
		t.Fatalf("the register: notes %v, %v", notes, err)
	}
	if reg.Current == nil || reg.Current.KeySetID != plan.New.ID || reg.Current.Generation != 2 ||
		!slices.Equal(reg.Current.Serials, [][10]byte{serial(3), serial(4), serial(5)}) {
		t.Fatalf("the register's current set: %+v", reg.Current)
	}
	if out := cardset.Outstanding(reg); len(out) != 1 || !slices.Equal(out[0].Serials, [][10]byte{serial(1), serial(2)}) {
		t.Fatalf("cards to collect: %+v", out)
	}
	rec1, err := quorum.Parse(cardOf(t, 1, cards[1]).Raw)
	if err != nil {
		t.Fatal(err)
	}
	defer rec1.Wipe()
	var nc *cardset.NotCurrentError
	if err := cardset.Admit(reg, rec1.KeySet()); !errors.As(err, &nc) ||
		err.Error() != "generation 1, superseded on 2026-01-12 by generation 2: collect and erase this card" {
		t.Fatalf("card 1: %v", err)
	}
	c := quorum.NewCollector(nil)
	defer c.Wipe()
	for _, i := range []int{3, 4} {
		rec, err := quorum.Parse(cardOf(t, i, cards[i]).Raw)
		if err != nil {
			t.Fatal(err)
		}
		if err := cardset.Admit(reg, rec.KeySet()); err != nil {
			t.Fatalf("card %d: %v", i, err)
		}
		err = c.Add(rec)
		rec.Wipe()
		if err != nil {
			t.Fatal(err)
		}
	}
	again, err := c.Combine()
	if err != nil {
		t.Fatal(err)
	}
	defer again.Wipe()
	if again.KCV() != g1.KCV || again.Check() != key.Check() {
		t.Fatal("cards 3 and 4 rebuild another key")
	}
	// The key in the token is the one they rebuild: loading it again is
	// "already loaded".
	if already, err := h.LoadBackupKey(ctx, again.Bytes(), info, false); err != nil || !already {
		t.Fatalf("LoadBackupKey of the rebuilt key: %v, %v", already, err)
	}
}
