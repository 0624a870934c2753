package cardset

import (
	"context"
	"slices"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// ErasePlan is what erasing a card would clear (docs/lifecycle.md, "Erase a
// card"): what it holds, whether to ask first, and how many cards of its set
// the HSM's register knows.
type ErasePlan struct {
	Serial tcos.Serial
	Holding
	// Confirm: ask before erasing. A share of the current set, of a set the
	// register does not place (another key, or one installed before the
	// register), of a newer generation, an unknown or a damaged record, or
	// any card the register lists in the current set: each may be a share
	// somebody still needs (a damaged record may be a good one whose read
	// was spoilt on its way). A superseded, stale or uncommitted share or a
	// blank slot of a card the register does not list is erased without
	// asking.
	Confirm bool
	// Listed: the register lists the card in the current set, whatever the
	// card read as.
	Listed bool
	// Known is how many cards of the set the register knows, this one
	// included: the current set's cards, or a superseded set's cards still
	// to collect. 0 when the register does not record the set.
	Known int
	// LeavesTooFew: a current-set card whose erase leaves fewer known cards
	// than the quorum k.
	LeavesTooFew bool
}

// PlanErase says what erasing the card c (read after its PIN) would clear,
// with the HSM's register and key (nil: none). A card that could not be
// read gives Card.Err.
func PlanErase(reg hsm.CardSets, hsmKey *hsm.KeyInfo, c Card) (ErasePlan, error) {
	if c.Err != nil {
		return ErasePlan{}, c.Err
	}
	p := ErasePlan{Serial: c.Serial, Holding: inspect(reg, hsmKey, c.Raw)}
	p.Listed = reg.Current != nil && slices.Contains(reg.Current.Serials, [10]byte(c.Serial))
	switch p.Kind {
	case UnknownRecord, DamagedRecord:
		p.Confirm = true
	case Share:
		switch p.Standing {
		case Current:
			p.Confirm = true
			p.Known = len(addSerials(slices.Clone(reg.Current.Serials), []tcos.Serial{c.Serial}))
			p.LeavesTooFew = p.Known-1 < p.Set.Scheme.K
		case Superseded:
			for _, s := range reg.Superseded {
				if s.KeySetID == p.Set.ID {
					p.Known = len(addSerials(slices.Clone(s.Serials), []tcos.Serial{c.Serial}))
				}
			}
		case Unrecorded, Newer:
			p.Confirm = true
		}
	}
	if p.Listed && (p.Kind != Share || p.Standing != Current) {
		// The card reads as something else than the register says: ask,
		// and count what its erase would leave of the current set.
		p.Confirm = true
		p.Known = len(reg.Current.Serials)
		p.LeavesTooFew = p.Known-1 < reg.Current.K
	}
	return p, nil
}

// Erased records in the register that the card of p was erased: it holds
// nothing now, so it is no longer a known card of the current set nor a card
// to collect of a superseded one, whatever its record said when it was read
// (a read spoilt in transit shows a damaged record). The register is written
// only if it listed the card. Call it after the erase, with the plan still
// in hand: after a failure, again with the same plan (the card, blank by
// then, no longer says which set it held). It returns the register as it
// stands.
func Erased(ctx context.Context, reg hsm.CardSetRegister, p ErasePlan) (hsm.CardSets, error) {
	return update(ctx, reg, func(cur hsm.CardSets) (hsm.CardSets, error) {
		next := clone(cur)
		if next.Current != nil {
			next.Current.Serials = removeSerial(next.Current.Serials, p.Serial)
		}
		for i := range next.Superseded {
			next.Superseded[i].Serials = removeSerial(next.Superseded[i].Serials, p.Serial)
		}
		return next, nil
	})
}

// CurrentKeySet is the register's current set as its records say it, for
// the wizard's words (ok false when the register is empty).
func CurrentKeySet(reg hsm.CardSets) (quorum.KeySet, bool) {
	if reg.Current == nil {
		return quorum.KeySet{}, false
	}
	return keySetOf(reg, *reg.Current), true
}
