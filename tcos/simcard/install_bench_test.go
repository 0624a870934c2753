package simcard_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// cardClock is a Pace that adds up the model's time instead of waiting it
// out: card time, measured without spending it.
type cardClock struct {
	model cardio.Pace
	total time.Duration
	apdus int
}

func (c *cardClock) PowerUp(atr []byte) time.Duration {
	c.total += c.model.PowerUp(atr)
	return 0
}

func (c *cardClock) Exchange(cmd, resp []byte) time.Duration {
	c.total += c.model.Exchange(cmd, resp)
	c.apdus++
	return 0
}

// install writes the records of a fresh Backup Key to n factory cards as the
// wizard's install does, card by card: insert, connect (a reset), Identify
// and PINStatus, VerifyPIN, ReadShareRecord (what the card held), then
// WriteShareRecord (update and read back), close (a reset), take out.
func install(ctx context.Context, s quorum.Scheme, clock *cardClock) error {
	key, recs, err := quorum.Generate("bench", s, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		return err
	}
	key.Wipe()
	defer func() {
		for _, r := range recs {
			r.Wipe()
		}
	}()
	cards := make([]cardio.SimulatedCard, s.N)
	for i := range cards {
		cards[i] = simcard.New(tcos.Serial{0xBE, 0x9C, 0, 0, 0, 0, 0, 0, 0, byte(i + 1)})
	}
	r := cardio.NewSimReader(cards)
	r.SetPace(clock)
	for i, rec := range recs {
		raw, err := rec.Marshal()
		if err != nil {
			return err
		}
		if err := r.Insert(i + 1); err != nil {
			return err
		}
		if err := writeCard(ctx, r, raw); err != nil {
			return fmt.Errorf("card %d: %w", i+1, err)
		}
		clear(raw)
		r.Remove()
	}
	return nil
}

func writeCard(ctx context.Context, r *cardio.SimReader, rec []byte) error {
	c, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	s := tcos.Open(c, tcos.Options{})
	if _, err := s.Identify(ctx); err != nil {
		return err
	}
	if _, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil {
		return err
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte(tcos.FactoryPIN)); err != nil {
		return err
	}
	if _, err := s.ReadShareRecord(ctx); err != nil {
		return err
	}
	return s.WriteShareRecord(ctx, rec)
}

// BenchmarkInstallCardTime reports what the cards of a 2-of-3 and a 3-of-5
// install take under the TCOS 3.0 pace model (docs/tcos.md "Pace"), side by
// side: card-ms/install is the card time the operator waits for, apdus/install
// the commands (the APDU budget: 7 per card).
func BenchmarkInstallCardTime(b *testing.B) {
	ctx := context.Background()
	for _, s := range []quorum.Scheme{quorum.TwoOfThree, quorum.ThreeOfFive} {
		b.Run(fmt.Sprintf("%dof%d", s.K, s.N), func(b *testing.B) {
			var clock *cardClock
			for b.Loop() {
				clock = &cardClock{model: simcard.NewPace(1)}
				if err := install(ctx, s, clock); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(clock.total)/float64(time.Millisecond), "card-ms/install")
			b.ReportMetric(float64(clock.total)/float64(time.Millisecond)/float64(s.N), "card-ms/card")
			b.ReportMetric(float64(clock.apdus), "apdus/install")
		})
	}
}

// TestInstallCardTime holds the model's install to what a person at the
// reader would call a card's pace: more than the wire alone, well under a
// second a card, and growing with the cards.
func TestInstallCardTime(t *testing.T) {
	ctx := context.Background()
	per := map[int]time.Duration{}
	for _, s := range []quorum.Scheme{quorum.TwoOfThree, quorum.ThreeOfFive} {
		clock := &cardClock{model: simcard.NewPace(1)}
		if err := install(ctx, s, clock); err != nil {
			t.Fatal(err)
		}
		if clock.apdus != 7*s.N {
			t.Errorf("%d-of-%d: %d APDUs, want 7 a card", s.K, s.N, clock.apdus)
		}
		card := clock.total / time.Duration(s.N)
		if card < 100*time.Millisecond || card > time.Second {
			t.Errorf("%d-of-%d: %v a card", s.K, s.N, card)
		}
		per[s.N] = card
	}
	if per[3] != per[5] {
		t.Errorf("a card of a 2-of-3 takes %v, of a 3-of-5 %v: the same steps should take the same time", per[3], per[5])
	}
}
