// Package cardsetstest is the conformance test of hsm.CardSetRegister: what
// every backend's card-set register must do, whatever it stores the register
// in (docs/lifecycle.md, "Where the generation lives"). The simulated HSM
// and the PKCS#11 backend each run it against their own register; what only
// one backend can show (a damaged file, objects in a token) stays in that
// backend's tests.
package cardsetstest

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
)

// Subject is one register under test: a new HSM holding a Backup Key, with
// an empty register.
type Subject struct {
	// Register is the HSM's register.
	Register hsm.CardSetRegister
	// Key is the Backup Key the HSM holds; the registers written are its
	// history.
	Key hsm.KeyInfo
	// Reopen closes the HSM and opens it anew on the same state (another
	// process would see the same), returning its register.
	Reopen func(t *testing.T) hsm.CardSetRegister
}

var (
	day1 = time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	day2 = time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC)
)

// Example is a register of key after one re-issue: generation 2 current,
// generation 1 superseded with one card still to collect, one uncommitted
// re-issue. Its Revision is 0: UpdateCardSets sets it.
func Example(key hsm.KeyInfo) hsm.CardSets {
	return hsm.CardSets{
		KCV:      key.KCV,
		KeyCheck: [16]byte{0xF3, 0x5D, 0xF8, 0x77, 0xC2, 0x82, 0x20, 0x6B, 0xE1, 0x18, 0xE6, 0x19, 0xF8, 0x5D, 0xBD, 0xA1},
		Current: &hsm.CardSet{KeySetID: [16]byte{0xB3, 0x0A}, Generation: 2, Format: 2, Label: "Cluster Berlin",
			Created: day2, K: 2, N: 3, Serials: [][10]byte{{3}, {4}, {5}}},
		Superseded: []hsm.SupersededSet{{
			CardSet: hsm.CardSet{KeySetID: [16]byte{0x5F, 0x2C}, Generation: 1, Format: 1, Label: "Cluster Berlin",
				Created: day1, K: 2, N: 3, Serials: [][10]byte{{1}}},
			On: day2.Add(time.Hour), By: 2,
		}},
		Uncommitted: []hsm.CardSet{{KeySetID: [16]byte{0x11}, Generation: 3, Format: 2, Label: "Cluster Berlin",
			Created: day2.Add(2 * time.Hour), K: 2, N: 3}},
	}
}

// Run runs the conformance tests, each on a new subject from open.
func Run(t *testing.T, open func(t *testing.T) Subject) {
	ctx := context.Background()
	read := func(t *testing.T, r hsm.CardSetRegister) hsm.CardSets {
		t.Helper()
		c, err := r.CardSets(ctx)
		if err != nil {
			t.Fatalf("CardSets: %v", err)
		}
		return c
	}
	update := func(t *testing.T, r hsm.CardSetRegister, prev uint64, next hsm.CardSets) hsm.CardSets {
		t.Helper()
		if err := r.UpdateCardSets(ctx, prev, next); err != nil {
			t.Fatalf("UpdateCardSets(%d): %v", prev, err)
		}
		next.Revision = prev + 1
		return next
	}
	same := func(t *testing.T, what string, got, want hsm.CardSets) {
		t.Helper()
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s:\n got %+v\nwant %+v", what, got, want)
		}
	}

	t.Run("empty", func(t *testing.T) {
		s := open(t)
		same(t, "a new HSM's register", read(t, s.Register), hsm.CardSets{})
	})

	t.Run("round trip", func(t *testing.T) {
		s := open(t)
		want := update(t, s.Register, 0, Example(s.Key))
		same(t, "after the first update", read(t, s.Register), want)
		// Each update is the next revision, replacing the whole register.
		next := Example(s.Key)
		next.Current.Serials = append(next.Current.Serials, [10]byte{6})
		next.Uncommitted = nil
		want = update(t, s.Register, 1, next)
		same(t, "after the second update", read(t, s.Register), want)
		// A register may be emptied; its revision goes on.
		want = update(t, s.Register, 2, hsm.CardSets{})
		same(t, "after emptying it", read(t, s.Register), want)
		want = update(t, s.Register, 3, Example(s.Key))
		same(t, "after writing it again", read(t, s.Register), want)
	})

	t.Run("compare and swap", func(t *testing.T) {
		s := open(t)
		want := update(t, s.Register, 0, Example(s.Key))
		for _, prev := range []uint64{0, 2, 1 << 40} {
			stale := Example(s.Key)
			stale.Current.Label = "stale"
			if err := s.Register.UpdateCardSets(ctx, prev, stale); !errors.Is(err, hsm.ErrCardSetsChanged) {
				t.Fatalf("UpdateCardSets(%d) over revision 1: %v, want ErrCardSetsChanged", prev, err)
			}
			same(t, "after a refused update", read(t, s.Register), want)
		}
	})

	t.Run("invalid register not written", func(t *testing.T) {
		s := open(t)
		want := update(t, s.Register, 0, Example(s.Key))
		bad := Example(s.Key)
		bad.Current.K = 0
		err := s.Register.UpdateCardSets(ctx, 1, bad)
		if err == nil || errors.Is(err, hsm.ErrCardSetsChanged) {
			t.Fatalf("UpdateCardSets with a 0-of-3 set: %v", err)
		}
		same(t, "after an invalid update", read(t, s.Register), want)
	})

	t.Run("cancelled", func(t *testing.T) {
		s := open(t)
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Register.UpdateCardSets(cancelled, 0, Example(s.Key)); !errors.Is(err, context.Canceled) {
			t.Fatalf("UpdateCardSets with a cancelled context: %v", err)
		}
		if _, err := s.Register.CardSets(cancelled); !errors.Is(err, context.Canceled) {
			t.Fatalf("CardSets with a cancelled context: %v", err)
		}
		same(t, "after a cancelled update", read(t, s.Register), hsm.CardSets{})
	})

	// Of updates racing from one revision, exactly one is written.
	t.Run("concurrent", func(t *testing.T) {
		s := open(t)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				c := Example(s.Key)
				c.Current.Label = strings.Repeat("x", i+1)
				errs[i] = s.Register.UpdateCardSets(ctx, 0, c)
			})
		}
		wg.Wait()
		won := -1
		for i, err := range errs {
			switch {
			case err == nil && won >= 0:
				t.Fatalf("updates %d and %d from revision 0 were both written", won, i)
			case err == nil:
				won = i
			case !errors.Is(err, hsm.ErrCardSetsChanged):
				t.Fatal(err)
			}
		}
		if won < 0 {
			t.Fatal("no update from revision 0 was written")
		}
		if got := read(t, s.Register); got.Revision != 1 || got.Current.Label != strings.Repeat("x", won+1) {
			t.Fatalf("the register holds %+v, not the update that won", got)
		}
	})

	t.Run("persists", func(t *testing.T) {
		s := open(t)
		want := update(t, s.Register, 0, Example(s.Key))
		r := s.Reopen(t)
		same(t, "after reopening", read(t, r), want)
		want = update(t, r, 1, hsm.CardSets{})
		same(t, "an update after reopening", read(t, r), want)
	})
}
