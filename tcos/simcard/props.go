package simcard

import (
	"context"
	"fmt"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// Training props: cards an instructor slips in place of a deck card (a card
// that is not an appliance card is Foreign). They live in memory only, so a
// training deck on disk is never damaged by a scenario. Each is made the way
// a real card would be, through tcos commands, so it holds nothing a real
// card could not.

// BlockedTwin is a fresh card with serial sn (a twin of the deck card of
// that serial) whose PIN of slot is blocked: three wrong PINs were sent to
// it.
func BlockedTwin(sn tcos.Serial, slot tcos.Slot) (*Card, error) {
	c := New(sn)
	wrong := []byte("000000") // not the factory PIN
	err := onCard(c, func(ctx context.Context, s *tcos.Session) error {
		for range tcos.MaxTries {
			_ = s.VerifyPIN(ctx, slot, wrong)
		}
		st, err := s.PINStatus(ctx, slot)
		if err != nil {
			return err
		}
		if !st.Blocked {
			return fmt.Errorf("PIN not blocked after %d wrong ones", tcos.MaxTries)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blocked twin prop: %w", err)
	}
	return c, nil
}

// OtherKeySet is a card with serial sn (factory PINs) that holds share 1 of
// a freshly generated 2-of-3 Backup Key labelled label: a card of another
// key set.
func OtherKeySet(sn tcos.Serial, label string) (*Card, error) {
	key, recs, err := quorum.Generate(label, quorum.TwoOfThree, time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	key.Wipe()
	defer func() {
		for _, r := range recs {
			r.Wipe()
		}
	}()
	raw, err := recs[0].Marshal()
	if err != nil {
		return nil, err
	}
	defer clear(raw)
	c := New(sn)
	err = onCard(c, func(ctx context.Context, s *tcos.Session) error {
		if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte(tcos.FactoryPIN)); err != nil {
			return err
		}
		return s.WriteShareRecord(ctx, raw)
	})
	if err != nil {
		return nil, fmt.Errorf("other key set prop: %w", err)
	}
	return c, nil
}

// onCard runs f on c in a simulated reader of its own.
func onCard(c *Card, f func(context.Context, *tcos.Session) error) error {
	r := cardio.NewSimReader([]cardio.SimulatedCard{c})
	defer r.Close()
	if err := r.Insert(1); err != nil {
		return err
	}
	ctx := context.Background()
	card, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(ctx); err != nil {
		return err
	}
	return f(ctx, s)
}
