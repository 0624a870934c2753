package cardset

import (
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
)

// HoldKind is what a card's share slot holds.
type HoldKind int

const (
	// Blank: no share (a new or erased card).
	Blank HoldKind = iota
	// DamagedRecord: a record that does not parse (an interrupted write
	// leaves one).
	DamagedRecord
	// UnknownRecord: an intact record of a format this program does not
	// know, most likely newer.
	UnknownRecord
	// Share: a share of a card set (Holding.Set, Holding.Standing).
	Share
)

var holdNames = [...]string{"blank", "damaged record", "unknown record", "share"}

func (k HoldKind) String() string {
	if int(k) < len(holdNames) {
		return holdNames[k]
	}
	return fmt.Sprintf("hold(%d)", int(k))
}

// Holding is what a card holds before it is overwritten or erased: what the
// question before either shows. Nothing in it is secret.
type Holding struct {
	Kind HoldKind
	// RecordErr is quorum.Parse's error for a damaged or unknown record.
	RecordErr error
	// Set, X and Standing describe a Share.
	Set      *quorum.KeySet
	X        byte
	Standing Standing
	// Refused is Admit's word on a set that is not current.
	Refused *NotCurrentError
	// OfHSMKey: a share of the key the HSM holds (by KCV, and by key check
	// where the record has one and the register knows the key's).
	OfHSMKey bool
}

// inspect reads what raw holds without keeping the share: it is wiped at
// once.
func inspect(reg hsm.CardSets, hsmKey *hsm.KeyInfo, raw []byte) Holding {
	r, err := quorum.Parse(raw)
	switch {
	case errors.Is(err, quorum.ErrEmpty):
		return Holding{Kind: Blank}
	case errors.Is(err, quorum.ErrUnknownVersion):
		return Holding{Kind: UnknownRecord, RecordErr: err}
	case err != nil:
		return Holding{Kind: DamagedRecord, RecordErr: err}
	}
	h := Holding{Kind: Share, X: r.Share[quorum.ShareSize-1]}
	r.Wipe()
	set := r.KeySet()
	h.Set = &set
	h.Standing, h.Refused = Stand(reg, set)
	if hsmKey != nil && set.KCV == hsmKey.KCV {
		h.OfHSMKey = set.Format != quorum.Format2 || reg.Current == nil || reg.KCV != hsmKey.KCV || sameKeyCheck(reg, set)
	}
	return h
}
