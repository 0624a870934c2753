// Package cardset is the life of a Backup Key's card set: Verify checks that
// the cards still work, Reissue splits the same key anew onto a new set
// (generation + 1), PlanErase and Erased clear a card, and Admit is the rule
// that Load and Verify refuse a card of a superseded generation. The HSM's
// card-set register (hsm.CardSetRegister) says which generation is current
// (docs/lifecycle.md).
//
// It does no card I/O: the wizard's card step talks to the card (tcos) and
// hands over what it read, one card at a time, as a Card; Reissue hands
// back the bytes to write. The only I/O here is the register, in the calls
// that take a context. Secrets (shares, the rebuilt key, the records to
// write) live in secmem buffers and are wiped when the step that needs them
// ends: Finish, Commit or Wipe. None of the types is safe for concurrent use.
package cardset

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// Card is what one card step read from a card.
type Card struct {
	Serial tcos.Serial
	// TriesLeft is the Backup Key slot's PIN tries left, asked before the
	// PIN (tcos.Session.PINStatus spends none).
	TriesLeft int
	// Raw is EF 4B01 as tcos.Session.ReadShareRecord returned it. It is the
	// caller's: cardset copies what it keeps into its own memory, and the
	// caller wipes Raw.
	Raw []byte
	// Err, when not nil, is why the card could not be read (a blocked PIN,
	// a foreign card, a pulled card): the card step's error, kept for the
	// wizard's error classifier. Raw is then ignored.
	Err error
}

// Standing is where a card set stands in the HSM's register.
type Standing int

const (
	// Unrecorded: the register says nothing about the set: it is empty (a
	// set installed before the register existed), or about another key.
	Unrecorded Standing = iota
	// Current: the register's current set.
	Current
	// Superseded: a set the register lists as superseded by a re-issue.
	Superseded
	// Stale: a set of the same key (the same key check) of a generation no
	// newer than the current one, that the register does not list: made
	// elsewhere, or before this HSM's record began. Refused like a
	// superseded one.
	Stale
	// Uncommitted: a set whose re-issue began here and never committed: its
	// cards never counted.
	Uncommitted
	// Newer: a set of the same key of a newer generation than the current
	// one, that the register does not list: made by a re-issue on another
	// appliance. A Load may take it once the operator agrees (Adopt).
	Newer
)

var standingNames = [...]string{"unrecorded", "current", "superseded", "stale", "uncommitted", "newer"}

func (s Standing) String() string {
	if int(s) < len(standingNames) {
		return standingNames[s]
	}
	return fmt.Sprintf("standing(%d)", int(s))
}

// NotCurrentError refuses a card set that is not the current one
// (docs/lifecycle.md, "Generations"). Its fields are what the screen says;
// Error is the same in words.
type NotCurrentError struct {
	Standing   Standing // Superseded, Stale, Uncommitted or Newer
	Generation quorum.Generation
	// On is when it was superseded (Superseded) or when its re-issue began
	// (Uncommitted); zero otherwise.
	On time.Time
	// By is the generation that superseded it (Superseded), or the
	// register's current generation (Stale, Newer, Uncommitted).
	By quorum.Generation
}

// dateLayout is how a day is written in the words of this package.
const dateLayout = "2006-01-02"

func (e *NotCurrentError) Error() string {
	switch e.Standing {
	case Superseded:
		return fmt.Sprintf("generation %d, superseded on %s by generation %d: collect and erase this card",
			e.Generation, e.On.Format(dateLayout), e.By)
	case Stale:
		return fmt.Sprintf("generation %d of this Backup Key, but the HSM's current card set is generation %d: collect and erase this card",
			e.Generation, e.By)
	case Uncommitted:
		return fmt.Sprintf("generation %d from a re-issue begun on %s that never counted: erase this card",
			e.Generation, e.On.Format(dateLayout))
	case Newer:
		return fmt.Sprintf("generation %d of this Backup Key, newer than the HSM's current generation %d: made by a re-issue elsewhere",
			e.Generation, e.By)
	}
	return fmt.Sprintf("generation %d is not the current card set", e.Generation)
}

// Errors of this package, for errors.Is. quorum's errors (ErrEmpty,
// ErrCorrupt, ErrUnknownVersion, ErrOtherKeySet, ErrDuplicateShare,
// ErrKCV) come through wrapped as they are.
var (
	// ErrSameCard: a card already presented in this step, by serial.
	ErrSameCard = errors.New("this card was already presented")
	// ErrTooManyCards: more cards than one step takes (MaxCards).
	ErrTooManyCards = errors.New("too many cards for one check")
	// ErrNoKeyInHSM: a re-issue is of the key the HSM holds, and it holds
	// none.
	ErrNoKeyInHSM = errors.New("the HSM holds no Backup Key: load it before re-issuing its card set")
	// ErrNotHSMKey: the cards are of another Backup Key than the HSM holds.
	ErrNotHSMKey = errors.New("these cards hold a different Backup Key than the HSM")
	// ErrNotProven: the HSM could not confirm that the rebuilt key is its
	// own, and the register holds no key check of it to tell.
	ErrNotProven = errors.New("the HSM could not confirm that the cards' key is the one it holds")
	// ErrNoRegister: the HSM keeps no card-set register, so a re-issue
	// could not be committed.
	ErrNoRegister = errors.New("this HSM keeps no record of card sets, so it cannot re-issue one")
	// ErrRegisterChanged: the register changed since this step read it
	// (another process or step): nothing was written.
	ErrRegisterChanged = errors.New("the HSM's record of the card sets changed meanwhile: start again")
	// ErrCommitUnknown: writing the register failed in a way that leaves it
	// unknown whether the new set counts, and reading it back failed too.
	ErrCommitUnknown = errors.New("cannot tell whether the new card set counts: the HSM's record could not be read back")
)

// MaxCards bounds the cards one Verify or one re-issue's quorum takes: a
// 3-of-5 set and a copy of each is 10.
const MaxCards = 16

// keySetOf is what the register says about one of its sets, as the records
// of that set would say it.
func keySetOf(reg hsm.CardSets, c hsm.CardSet) quorum.KeySet {
	s := quorum.KeySet{ID: c.KeySetID, Format: c.Format, Generation: quorum.Generation(c.Generation),
		Label: c.Label, Created: c.Created, Scheme: quorum.Scheme{K: c.K, N: c.N}, KCV: reg.KCV}
	if c.Format == quorum.Format2 {
		s.KeyCheck = reg.KeyCheck
	}
	return s
}

// cardSetOf is the register entry of a set, with serials.
func cardSetOf(s quorum.KeySet, serials []tcos.Serial) hsm.CardSet {
	c := hsm.CardSet{KeySetID: s.ID, Generation: uint32(s.Generation), Format: s.Format, Label: s.Label,
		Created: s.Created.UTC(), K: s.Scheme.K, N: s.Scheme.N}
	for _, sn := range serials {
		if !slices.Contains(c.Serials, [10]byte(sn)) && len(c.Serials) < hsm.MaxSetSerials {
			c.Serials = append(c.Serials, sn)
		}
	}
	return c
}

// sameKeyCheck reports whether a set's key check says it is of the
// register's key. Format 1 sets carry none: only their key-set ID or a
// rebuilt key can tell.
func sameKeyCheck(reg hsm.CardSets, s quorum.KeySet) bool {
	return reg.Current != nil && s.Format == quorum.Format2 &&
		subtle.ConstantTimeCompare(s.KeyCheck[:], reg.KeyCheck[:]) == 1
}

// Stand says where a card set stands in the register, from its records
// alone (see StandRebuilt for a set whose key was rebuilt).
func Stand(reg hsm.CardSets, s quorum.KeySet) (Standing, *NotCurrentError) {
	if reg.Current == nil {
		return Unrecorded, nil
	}
	cur := quorum.Generation(reg.Current.Generation)
	if s.ID == reg.Current.KeySetID {
		return Current, nil
	}
	for _, o := range reg.Superseded {
		if o.KeySetID == s.ID {
			return Superseded, &NotCurrentError{Standing: Superseded, Generation: s.Generation, On: o.On, By: quorum.Generation(o.By)}
		}
	}
	for _, u := range reg.Uncommitted {
		if u.KeySetID == s.ID {
			return Uncommitted, &NotCurrentError{Standing: Uncommitted, Generation: s.Generation, On: u.Created, By: cur}
		}
	}
	if slices.Contains(reg.Abandoned, [16]byte(s.ID)) {
		// The re-issue began when its set was made: the records say.
		return Uncommitted, &NotCurrentError{Standing: Uncommitted, Generation: s.Generation, On: s.Created, By: cur}
	}
	if sameKeyCheck(reg, s) {
		return standByGeneration(s.Generation, cur)
	}
	return Unrecorded, nil
}

func standByGeneration(gen, cur quorum.Generation) (Standing, *NotCurrentError) {
	if gen > cur {
		return Newer, &NotCurrentError{Standing: Newer, Generation: gen, By: cur}
	}
	return Stale, &NotCurrentError{Standing: Stale, Generation: gen, By: cur}
}

// StandRebuilt is Stand for a set whose key was rebuilt, with that key's
// key check: it also knows a format 1 set of the register's key that the
// register does not list (Stale).
func StandRebuilt(reg hsm.CardSets, s quorum.KeySet, check quorum.KeyCheck) (Standing, *NotCurrentError) {
	st, e := Stand(reg, s)
	if st != Unrecorded || reg.Current == nil ||
		subtle.ConstantTimeCompare(check[:], reg.KeyCheck[:]) != 1 {
		return st, e
	}
	return standByGeneration(s.Generation, quorum.Generation(reg.Current.Generation))
}

// Admit is the rule of Load and Verify: a card set that is not current
// (superseded, stale, uncommitted, newer) is refused with a
// *NotCurrentError that names it; a current or unrecorded one is admitted
// (nil). A Newer set may still be loaded once the operator agrees: see
// Adopt.
func Admit(reg hsm.CardSets, s quorum.KeySet) error {
	if _, e := Stand(reg, s); e != nil {
		return e
	}
	return nil
}

// AdmitRebuilt is Admit once the set's key is rebuilt, with its key check.
func AdmitRebuilt(reg hsm.CardSets, s quorum.KeySet, check quorum.KeyCheck) error {
	if _, e := StandRebuilt(reg, s, check); e != nil {
		return e
	}
	return nil
}

// Adopt records s as the current card set after an install's key went into
// the HSM, or after a Load (docs/lifecycle.md, "Where the generation
// lives"): check is the key's key check, serials the cards the step read or
// wrote. Into an empty register, or one about another key, s comes as the
// first entry of a new history. The current set gains the serials. A Newer
// set (the operator agreed) supersedes the current one on now. Any other
// set is refused with Admit's error. It returns the register written.
func Adopt(ctx context.Context, reg hsm.CardSetRegister, s quorum.KeySet, check quorum.KeyCheck, serials []tcos.Serial, now time.Time) (hsm.CardSets, error) {
	return update(ctx, reg, func(cur hsm.CardSets) (hsm.CardSets, error) {
		if cur.Current == nil || subtle.ConstantTimeCompare(check[:], cur.KeyCheck[:]) != 1 {
			next := hsm.CardSets{Revision: cur.Revision, KCV: s.KCV, KeyCheck: check}
			c := cardSetOf(s, serials)
			next.Current = &c
			return next, nil
		}
		st, e := StandRebuilt(cur, s, check)
		switch st {
		case Current:
			next := clone(cur)
			next.Current.Serials = addSerials(next.Current.Serials, serials)
			return next, nil
		case Newer:
			next := clone(cur)
			next.Superseded = append(next.Superseded, hsm.SupersededSet{CardSet: *cur.Current, On: now.UTC(), By: uint32(s.Generation)})
			c := cardSetOf(s, serials)
			next.Current = &c
			trim(&next)
			return next, nil
		case Unrecorded:
			// Unreachable: the same key check always stands somewhere.
			return cur, fmt.Errorf("cardset: the register does not place this card set")
		}
		return cur, e
	})
}

// Outstanding lists the superseded sets with cards still to collect, oldest
// first: what the wizard shows after a re-issue and on the menu.
func Outstanding(reg hsm.CardSets) []hsm.SupersededSet {
	var out []hsm.SupersededSet
	for _, s := range reg.Superseded {
		if len(s.Serials) > 0 {
			out = append(out, s)
		}
	}
	return out
}

// addSerials returns list with the serials it lacks appended, up to the
// register's bound.
func addSerials(list [][10]byte, serials []tcos.Serial) [][10]byte {
	for _, s := range serials {
		if !slices.Contains(list, [10]byte(s)) && len(list) < hsm.MaxSetSerials {
			list = append(list, s)
		}
	}
	return list
}

// removeSerial returns list without s.
func removeSerial(list [][10]byte, s tcos.Serial) [][10]byte {
	return slices.DeleteFunc(slices.Clone(list), func(x [10]byte) bool { return x == [10]byte(s) })
}

// clone copies a register deeply enough to change it.
func clone(c hsm.CardSets) hsm.CardSets {
	n := c
	if c.Current != nil {
		cur := *c.Current
		cur.Serials = slices.Clone(cur.Serials)
		n.Current = &cur
	}
	n.Superseded = slices.Clone(c.Superseded)
	for i := range n.Superseded {
		n.Superseded[i].Serials = slices.Clone(n.Superseded[i].Serials)
	}
	n.Uncommitted = slices.Clone(c.Uncommitted)
	n.Abandoned = slices.Clone(c.Abandoned)
	return n
}

// trim keeps the register within its bounds: the oldest superseded sets
// with no card left to collect go first, then the oldest of the others; the
// oldest uncommitted re-issues leave their IDs in Abandoned (so that their
// cards stay refused), whose oldest go first.
func trim(c *hsm.CardSets) {
	for len(c.Superseded) > hsm.MaxSuperseded {
		i := slices.IndexFunc(c.Superseded, func(s hsm.SupersededSet) bool { return len(s.Serials) == 0 })
		if i < 0 {
			i = 0
		}
		c.Superseded = slices.Delete(c.Superseded, i, i+1)
	}
	if n := len(c.Uncommitted) - hsm.MaxUncommitted; n > 0 {
		for _, u := range c.Uncommitted[:n] {
			c.Abandoned = append(c.Abandoned, u.KeySetID)
		}
		c.Uncommitted = slices.Delete(c.Uncommitted, 0, n)
	}
	if n := len(c.Abandoned) - hsm.MaxAbandoned; n > 0 {
		c.Abandoned = slices.Delete(c.Abandoned, 0, n)
	}
}

// update reads the register, makes the next one with f and writes it if
// the register did not change meanwhile; if it did, it starts again from
// the new one (f is a rule, not a snapshot), a few times. It returns the
// register written.
func update(ctx context.Context, reg hsm.CardSetRegister, f func(hsm.CardSets) (hsm.CardSets, error)) (hsm.CardSets, error) {
	for range 3 {
		cur, err := reg.CardSets(ctx)
		if err != nil {
			return hsm.CardSets{}, err
		}
		next, err := f(cur)
		if err != nil {
			return cur, err
		}
		if reflect.DeepEqual(next, cur) {
			return cur, nil // nothing to write
		}
		err = reg.UpdateCardSets(ctx, cur.Revision, next)
		if err == nil {
			next.Revision = cur.Revision + 1
			return next, nil
		}
		if !errors.Is(err, hsm.ErrCardSetsChanged) {
			return cur, err
		}
	}
	return hsm.CardSets{}, ErrRegisterChanged
}

// Copied records that the card serial now holds a copy of a share of s (a
// Copy, which keeps the record byte for byte): a known card of the current
// set. Copy refuses a source that Admit refuses (a superseded card is not
// copied: that would make more of what is to collect); for a set the
// register does not record, Copied writes nothing.
func Copied(ctx context.Context, reg hsm.CardSetRegister, s quorum.KeySet, serial tcos.Serial) (hsm.CardSets, error) {
	return update(ctx, reg, func(cur hsm.CardSets) (hsm.CardSets, error) {
		st, e := Stand(cur, s)
		switch {
		case e != nil && st != Newer:
			return cur, e
		case st != Current:
			return cur, nil
		}
		next := clone(cur)
		next.Current.Serials = addSerials(next.Current.Serials, []tcos.Serial{serial})
		return next, nil
	})
}
