package simcard

import (
	"context"
	"testing"

	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

func TestBlockedTwinBlocksOnlyItsSlot(t *testing.T) {
	var sn tcos.Serial
	copy(sn[:], "TWINCARD01")
	for _, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
		c, err := BlockedTwin(sn, slot)
		if err != nil {
			t.Fatal(err)
		}
		other := tcos.SlotPKCS11
		if slot == tcos.SlotPKCS11 {
			other = tcos.SlotBackupKey
		}
		err = onCard(c, func(ctx context.Context, s *tcos.Session) error {
			if got, err := s.Identify(ctx); err != nil || got != sn {
				t.Errorf("serial %v %v, want %v", got, err, sn)
			}
			if st, err := s.PINStatus(ctx, slot); err != nil || !st.Blocked {
				t.Errorf("%v: %+v %v, want blocked", slot, st, err)
			}
			if st, err := s.PINStatus(ctx, other); err != nil || st.Blocked || st.TriesLeft != tcos.MaxTries {
				t.Errorf("%v: %+v %v, want untouched", other, st, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func TestOtherKeySetHoldsAShare(t *testing.T) {
	var sn tcos.Serial
	copy(sn[:], "OTHERSET01")
	c, err := OtherKeySet(sn, "elsewhere")
	if err != nil {
		t.Fatal(err)
	}
	err = onCard(c, func(ctx context.Context, s *tcos.Session) error {
		if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte(tcos.FactoryPIN)); err != nil {
			return err
		}
		raw, err := s.ReadShareRecord(ctx)
		if err != nil {
			return err
		}
		rec, err := quorum.Parse(raw)
		if err != nil {
			return err
		}
		if rec.Label != "elsewhere" || rec.Scheme != quorum.TwoOfThree {
			t.Errorf("record %q %v", rec.Label, rec.Scheme)
		}
		rec.Wipe()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
