package scenario

import (
	"context"
	"fmt"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// Props are the cards a trainer slips in place of a deck card: a card that is
// not an appliance card, a card holding a share of another Backup Key, and a
// twin of a deck card whose Backup Key PIN is blocked. They live in memory
// only, so a training deck on disk is never damaged by a scenario.

// factoryPIN is the slot PIN of a new card (seed: "preset to 123456").
var factoryPIN = []byte("123456")

// ForeignProp is a card whose ATR is not TCOS 3.0 (DESIGN: refuse it before
// writing anything).
func ForeignProp() cardio.SimulatedCard { return simcard.Foreign{} }

// BlockedProp is a fresh card with serial sn whose Backup Key slot PIN is
// blocked: three wrong PINs sent straight to the card (DESIGN facts: SELECT
// 00 A4 08 0C, VERIFY 00 20 00 81; 6983 after the third).
func BlockedProp(sn tcos.Serial) (cardio.SimulatedCard, error) {
	c := simcard.New(sn)
	sel := []byte{0x00, 0xA4, 0x08, 0x0C, 0x02, 0x4B, 0x00}
	// Bytes that are no ASCII digits can never be a slot PIN.
	bad := []byte{0x00, 0x20, 0x00, 0x81, 0x06, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}
	if sw := last2(c.Process(sel)); sw != 0x9000 {
		return nil, fmt.Errorf("blocked prop: select answered %04X", sw)
	}
	for range tcos.MaxTries {
		c.Process(bad)
	}
	if sw := last2(c.Process(bad[:4])); sw != 0x6983 {
		return nil, fmt.Errorf("blocked prop: PIN status %04X, not blocked", sw)
	}
	return c, nil
}

// OtherKeySetProp is a card with serial sn (factory PIN) that holds share 1
// of a freshly generated 2-of-3 Backup Key labelled label: a card of another
// key set.
func OtherKeySetProp(sn tcos.Serial, label string) (cardio.SimulatedCard, error) {
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
	c := simcard.New(sn)
	r := cardio.NewSimReader([]cardio.SimulatedCard{c})
	defer r.Close()
	if err := r.Insert(1); err != nil {
		return nil, err
	}
	ctx := context.Background()
	card, err := r.Connect(ctx)
	if err != nil {
		return nil, err
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		return nil, fmt.Errorf("other key set prop: %w", err)
	}
	if err := s.WriteShareRecord(ctx, raw); err != nil {
		return nil, fmt.Errorf("other key set prop: %w", err)
	}
	return c, nil
}

func last2(resp []byte) uint16 {
	if len(resp) < 2 {
		return 0
	}
	return uint16(resp[len(resp)-2])<<8 | uint16(resp[len(resp)-1])
}
