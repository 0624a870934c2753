package cardset

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// Errors of a re-issue, for errors.Is.
var (
	// ErrQuorumCard: the card is one of the quorum that rebuilt the key. It
	// stays as it is until the new set counts, so that a fault before the
	// commit leaves the current set loadable.
	ErrQuorumCard = errors.New("this card is part of the quorum read for this re-issue: it must stay as it is until the new card set counts")
	// ErrReadBack: what the card read back after the write is not the
	// record written.
	ErrReadBack = errors.New("the card did not read back the share record written to it")
	// ErrIncomplete: Commit before every new card was written and read
	// back.
	ErrIncomplete = errors.New("not every card of the new set is written and read back yet")
	// ErrComplete: every share of the new set is on a card already.
	ErrComplete = errors.New("every card of the new set is written already")
	// ErrOutOfStep: a call that does not belong to the re-issue's current
	// phase (the wizard's bug, never the operator's).
	ErrOutOfStep = errors.New("cardset: re-issue call out of step")
)

// AlreadyWrittenError: the card already holds a share of the new set,
// written and read back in this re-issue.
type AlreadyWrittenError struct{ Share int }

func (e *AlreadyWrittenError) Error() string {
	return fmt.Sprintf("this card already holds share %d of the new card set", e.Share+1)
}

type phase int

const (
	collecting phase = iota // reading the quorum
	rebuilt                 // the key is rebuilt; Plan next
	writing                 // the new set is planned and being written
	committed
	ended
)

// source is one card of the quorum.
type source struct {
	serial tcos.Serial
	slot   int
}

// Reissue splits the Backup Key the HSM holds anew onto a new card set, the
// same key under a new key-set ID and generation + 1 (docs/lifecycle.md,
// "Re-issue"):
//
//  1. AddSource for each card of a quorum of the current set, then Rebuild;
//  2. Plan, which records the new set in the register as uncommitted;
//  3. for each new card: Target with what the card holds, then the
//     Write's Record to the card and Written with what it read back (or
//     Release when the step ended otherwise);
//  4. Commit once all n are written and read back: only then is the new set
//     current, and the old one superseded.
//
// A fault, a quit or a refusal anywhere before Commit leaves the current
// set current and loadable: its quorum cards are never overwritten before
// then (ErrQuorumCard), and the register changes in one atomic step. Wipe
// ends it; the secrets (the quorum's shares, the key, the new shares and
// records) are wiped by Rebuild, Commit and Wipe as each is done with.
type Reissue struct {
	reg    hsm.CardSets // the register as last read
	hsmKey hsm.KeyInfo
	phase  phase

	// The quorum.
	set      *quorum.KeySet
	standing Standing
	store    *shareStore
	sources  []source
	key      *quorum.Key

	// The new set.
	plan      *Plan
	shares    *quorum.Shares
	records   *secmem.Buffer // record i at [i*MaxRecordSize:], recLen[i] bytes
	recLen    []int
	back      *shareStore // the shares read back, slot i = share i
	confirmed []tcos.Serial
	pending   *Write
	// Cards seen holding the old set (to collect once it is superseded,
	// unless a confirmed write replaced their share).
	oldSeen []tcos.Serial
}

// NewReissue starts a re-issue of the key the HSM holds (hsmKey; nil gives
// ErrNoKeyInHSM), with the HSM's register as read now.
func NewReissue(reg hsm.CardSets, hsmKey *hsm.KeyInfo) (*Reissue, error) {
	if hsmKey == nil {
		return nil, ErrNoKeyInHSM
	}
	store, err := newShareStore(MaxCards)
	if err != nil {
		return nil, fmt.Errorf("cardset: %w", err)
	}
	return &Reissue{reg: reg, hsmKey: *hsmKey, store: store}, nil
}

// AddSource takes one card of the quorum. It refuses (and changes nothing)
// a card already presented (ErrSameCard), one that cannot be read
// (Card.Err), an empty, damaged or unknown record (quorum's errors), a set
// that is not current (*NotCurrentError, a Newer set included: load it
// first, which records it), a share of another key than the HSM's
// (ErrNotHSMKey), of another set than the first card's
// (quorum.ErrOtherKeySet), a record that disagrees with the first
// (quorum.ErrCorrupt) and a share already presented
// (quorum.ErrDuplicateShare). More than k cards may be added: Rebuild then
// tries their subsets.
func (r *Reissue) AddSource(c Card) (CardResult, error) {
	if r.phase != collecting {
		return CardResult{}, ErrOutOfStep
	}
	if c.Err != nil {
		return CardResult{}, c.Err
	}
	for _, s := range r.sources {
		if s.serial == c.Serial {
			return CardResult{}, ErrSameCard
		}
	}
	if len(r.sources) >= MaxCards {
		return CardResult{}, ErrTooManyCards
	}
	rec, slot, err := r.store.parse(c.Raw)
	if err != nil {
		return CardResult{}, err
	}
	set := rec.KeySet()
	refuse := func(err error) (CardResult, error) {
		r.store.dropLast()
		return CardResult{}, err
	}
	st, nc := Stand(r.reg, set)
	if nc != nil {
		return refuse(nc)
	}
	if r.set == nil {
		if subtle.ConstantTimeCompare(set.KCV[:], r.hsmKey.KCV[:]) != 1 {
			return refuse(ErrNotHSMKey)
		}
	} else {
		if set.ID != r.set.ID {
			return refuse(quorum.ErrOtherKeySet)
		}
		if !set.Same(*r.set) {
			return refuse(fmt.Errorf("%w (records of one key set disagree)", quorum.ErrCorrupt))
		}
		for _, s := range r.sources {
			if r.store.x(s.slot) == r.store.x(slot) {
				return refuse(quorum.ErrDuplicateShare)
			}
		}
	}
	if r.set == nil {
		r.set, r.standing = &set, st
	}
	r.sources = append(r.sources, source{serial: c.Serial, slot: slot})
	r.oldSeen = append(r.oldSeen, c.Serial)
	return CardResult{Serial: c.Serial, TriesLeft: c.TriesLeft, Set: &set, X: r.store.x(slot), Standing: st, Verdict: Pending}, nil
}

// Progress reports the quorum read so far: have of need (k; 0 before the
// first card).
func (r *Reissue) Progress() (have, need int) {
	if r.set == nil {
		return 0, 0
	}
	return len(r.sources), r.set.Scheme.K
}

// Rebuild rebuilds the key from the quorum: the first k-subset of the
// sources that rebuilds a key with the set's checks, which must be the HSM's
// key (its KCV; its key check where the register knows it) and not of a
// set the register refuses once the key is known (AdmitRebuilt). Then it
// wipes the quorum's shares. With exactly k cards and no key, it says
// quorum.ErrKCV: one of them is bad, and which cannot be told; AddSource
// another card of the set and Rebuild again.
func (r *Reissue) Rebuild() (quorum.KeySet, error) {
	if r.phase != collecting {
		return quorum.KeySet{}, ErrOutOfStep
	}
	have, need := r.Progress()
	if r.set == nil || have < need {
		return quorum.KeySet{}, quorum.ErrTooFew
	}
	shares := make([][]byte, need)
	defer clear(shares)
	registerKnowsKey := r.reg.Current != nil && r.reg.KCV == r.hsmKey.KCV
	var refused error
	_ = quorum.EachSubset(have, need, func(idx []int) error {
		for j, i := range idx {
			shares[j] = r.store.slot(r.sources[i].slot)
		}
		key, err := quorum.Combine(*r.set, shares)
		if err != nil {
			return nil
		}
		kv, kc := key.KCV(), key.Check()
		if subtle.ConstantTimeCompare(kv[:], r.hsmKey.KCV[:]) != 1 ||
			registerKnowsKey && subtle.ConstantTimeCompare(kc[:], r.reg.KeyCheck[:]) != 1 {
			key.Wipe()
			refused = ErrNotHSMKey
			return nil
		}
		if err := AdmitRebuilt(r.reg, *r.set, kc); err != nil {
			key.Wipe()
			refused = err
			return errStop
		}
		r.key = key
		return errStop
	})
	if r.key == nil {
		if refused != nil {
			return quorum.KeySet{}, refused
		}
		return quorum.KeySet{}, quorum.ErrKCV
	}
	r.store.destroy()
	r.phase = rebuilt
	return *r.set, nil
}

// errStop ends an EachSubset early.
var errStop = errors.New("stop")

// Params choose the new set; zero fields keep the old set's.
type Params struct {
	Label  string
	Scheme quorum.Scheme
	// Now is the new set's creation time (and the uncommitted entry's).
	Now time.Time
	// HSM holds the key being re-issued. Where the register holds no key
	// check of it yet (its history starts with this re-issue), the rebuilt
	// key is proven to be the HSM's by loading it without replacing, as a
	// load proves it (docs/pkcs11.md): the 3-byte KCV alone can be matched
	// by a forged key. Without it such a re-issue is refused.
	HSM hsm.HSM
}

// prove has the HSM confirm that the rebuilt key is the one it holds: a
// load that must find the very same key already there (it never replaces).
func (r *Reissue) prove(ctx context.Context, h hsm.HSM) error {
	if h == nil {
		return ErrNotProven
	}
	_, ok, err := h.BackupKey(ctx)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrNoKeyInHSM
	}
	set := *r.set
	info := hsm.KeyInfo{KeySetID: set.ID, Label: set.Label, KCV: r.key.KCV()}
	already, err := h.LoadBackupKey(ctx, r.key.Bytes(), info, false)
	var diff *hsm.DifferentKeyError
	switch {
	case errors.As(err, &diff):
		return ErrNotHSMKey
	case err != nil:
		return err
	case !already:
		// Not expected: the HSM said it held a key. It holds this one now.
		return ErrNotProven
	}
	return nil
}

// Plan is the re-issue as planned.
type Plan struct {
	// Old is the set re-issued, New the one being written (generation + 1,
	// a new key-set ID, the same key: the same KCV and key check).
	Old, New quorum.KeySet
	// Keep are the quorum's cards: they must not be overwritten before the
	// commit (Target refuses them).
	Keep []tcos.Serial
}

// Plan splits the key anew (quorum.Reshare) and records the new set in the
// register as uncommitted (with the old set as current, if the register did
// not record it yet): from now on its cards, should the re-issue never
// commit, are refused as from an uncommitted re-issue. It reads the register
// again and refuses if the old set is no longer current there
// (ErrRegisterChanged). No card is written yet; on error nothing is, and
// Plan may be called again.
func (r *Reissue) Plan(ctx context.Context, reg hsm.CardSetRegister, p Params) (*Plan, error) {
	if r.phase != rebuilt {
		return nil, ErrOutOfStep
	}
	if reg == nil {
		return nil, ErrNoRegister
	}
	old := *r.set
	label, scheme := p.Label, p.Scheme
	if label == "" {
		label = old.Label
	}
	if scheme == (quorum.Scheme{}) {
		scheme = old.Scheme
	}
	cur, err := reg.CardSets(ctx)
	if err != nil {
		return nil, err
	}
	check := r.key.Check()
	st, nc := StandRebuilt(cur, old, check)
	var next hsm.CardSets
	switch {
	case st == Current:
		next = clone(cur)
	case st == Unrecorded && (cur.Current == nil || subtle.ConstantTimeCompare(check[:], cur.KeyCheck[:]) != 1):
		// A set the register does not know, of a key it does not know
		// (an install before the register, or a register about the key
		// the HSM held before): its history starts here, once the HSM
		// confirms the key is its own.
		if err := r.prove(ctx, p.HSM); err != nil {
			return nil, err
		}
		c := cardSetOf(old, r.keep())
		next = hsm.CardSets{Revision: cur.Revision, KCV: r.key.KCV(), KeyCheck: check, Current: &c}
	case nc != nil:
		return nil, nc
	default:
		return nil, ErrRegisterChanged
	}
	gen := quorum.Generation(next.Current.Generation) + 1
	sh, err := quorum.Reshare(r.key, label, scheme, gen, p.Now)
	if err != nil {
		return nil, err
	}
	newSet := sh.Records[0].KeySet()
	recs, lens, err := marshalAll(sh.Records)
	if err != nil {
		sh.Destroy()
		return nil, err
	}
	back, err := newShareStore(scheme.N)
	if err != nil {
		sh.Destroy()
		recs.Destroy()
		return nil, fmt.Errorf("cardset: %w", err)
	}
	back.used = scheme.N
	fail := func(err error) (*Plan, error) {
		sh.Destroy()
		recs.Destroy()
		back.destroy()
		return nil, err
	}
	next.Uncommitted = append(next.Uncommitted, cardSetOf(newSet, nil))
	trim(&next)
	if err := reg.UpdateCardSets(ctx, cur.Revision, next); err != nil {
		if errors.Is(err, hsm.ErrCardSetsChanged) {
			return fail(ErrRegisterChanged)
		}
		// Written or not? The new set's ID tells.
		again, rerr := reg.CardSets(ctx)
		if rerr != nil || !slices.ContainsFunc(again.Uncommitted, func(c hsm.CardSet) bool { return c.KeySetID == newSet.ID }) {
			return fail(err)
		}
		next = again
	} else {
		next.Revision = cur.Revision + 1
	}
	r.reg = next
	r.shares, r.records, r.recLen, r.back = sh, recs, lens, back
	r.confirmed = make([]tcos.Serial, scheme.N)
	r.plan = &Plan{Old: old, New: newSet, Keep: r.keep()}
	r.phase = writing
	return r.plan, nil
}

// keep is the quorum's serials.
func (r *Reissue) keep() []tcos.Serial {
	var out []tcos.Serial
	for _, s := range r.sources {
		out = append(out, s.serial)
	}
	return out
}

// marshalAll encodes the records into one secmem buffer.
func marshalAll(recs []*quorum.Record) (*secmem.Buffer, []int, error) {
	buf, err := secmem.NewBuffer(len(recs) * quorum.MaxRecordSize)
	if err != nil {
		return nil, nil, fmt.Errorf("cardset: %w", err)
	}
	lens := make([]int, len(recs))
	for i, rec := range recs {
		b, err := rec.Marshal()
		if err != nil {
			buf.Destroy()
			return nil, nil, err
		}
		lens[i] = secmem.Copy(buf.Bytes()[i*quorum.MaxRecordSize:], b)
		secmem.Wipe(b)
	}
	return buf, lens, nil
}

// record is the encoded record of share i; it aliases secret memory.
func (r *Reissue) record(i int) []byte {
	off := i * quorum.MaxRecordSize
	return r.records.Bytes()[off : off+r.recLen[i] : off+r.recLen[i]]
}

// holdsRecord reports whether raw is the record of share i, zero-padded.
func (r *Reissue) holdsRecord(raw []byte, i int) bool {
	rec := r.record(i)
	if len(raw) < len(rec) {
		return false
	}
	ok := subtle.ConstantTimeCompare(raw[:len(rec)], rec)
	for _, b := range raw[len(rec):] {
		ok &= subtle.ConstantTimeByteEq(b, 0)
	}
	return ok == 1
}

// Write is one new card's write: the card, the share it gets and what it
// holds now (for the overwrite question). Record is the bytes to write.
type Write struct {
	Serial tcos.Serial
	// Share is the new share's index, 0 to n-1: "share Share+1 of n".
	Share int
	// X is the new share's x coordinate, which is no secret: the record
	// carries it beside the key set, and Verify shows it.
	X byte
	// Holds is what the card holds now; a Write over a card of the old set
	// makes the old set one card smaller until the commit supersedes it.
	Holds Holding
	r     *Reissue
	done  bool
}

// Record is the record to write to the card (tcos's
// WriteShareRecordReadBack pads it). It aliases the re-issue's secret
// memory: use it within the card step, do not keep it, never log it. Nil
// once the Write is done.
func (w *Write) Record() []byte {
	if w.done || w.r.phase != writing || w.r.shares == nil {
		return nil
	}
	return w.r.record(w.Share)
}

// Release ends a Write whose card step ended without a read-back (a fault,
// a pulled card, Cancel at the overwrite question): its share goes to the
// next card. What the card holds now is unknown; a later Target on it
// reads it again.
func (w *Write) Release() {
	if !w.done {
		w.done = true
		if w.r.pending == w {
			w.r.pending = nil
		}
	}
}

// Target prepares the write of the next new card. c is the card as read
// before writing (its record, for the overwrite question). It refuses a
// card of the quorum (ErrQuorumCard), a card already holding a new share
// (*AlreadyWrittenError) and a card that could not be read (Card.Err). A
// card holding this re-issue's own record of a share not yet confirmed (a
// write whose answer was lost) gets that share again. A Write still pending
// is released.
func (r *Reissue) Target(c Card) (*Write, error) {
	if r.phase != writing || r.shares == nil {
		return nil, ErrOutOfStep
	}
	if r.pending != nil {
		r.pending.Release()
	}
	if c.Err != nil {
		return nil, c.Err
	}
	if slices.Contains(r.plan.Keep, c.Serial) {
		return nil, ErrQuorumCard
	}
	if i := slices.Index(r.confirmed, c.Serial); i >= 0 {
		return nil, &AlreadyWrittenError{Share: i}
	}
	share := -1
	for i := range r.confirmed {
		if r.confirmed[i] == (tcos.Serial{}) && r.holdsRecord(c.Raw, i) {
			share = i
			break
		}
	}
	if share < 0 {
		share = slices.Index(r.confirmed, tcos.Serial{})
	}
	if share < 0 {
		return nil, ErrComplete
	}
	h := inspect(r.reg, &r.hsmKey, c.Raw)
	if h.Kind == Share && h.Set.ID == r.plan.Old.ID && !slices.Contains(r.oldSeen, c.Serial) {
		r.oldSeen = append(r.oldSeen, c.Serial)
	}
	sh := r.shares.Records[share].Share
	w := &Write{Serial: c.Serial, Share: share, X: sh[len(sh)-1], Holds: h, r: r}
	r.pending = w
	return w, nil
}

// Written confirms a Write with what the card read back after it
// (tcos.Session.WriteShareRecordReadBack): the record written, byte for
// byte, which parses to the new set's share. Otherwise ErrReadBack, and the
// share goes to the next card. The caller wipes readBack.
func (r *Reissue) Written(w *Write, readBack []byte) error {
	if r.phase != writing || r.shares == nil || w == nil || w.r != r || w.done {
		return ErrOutOfStep
	}
	w.Release()
	if !r.holdsRecord(readBack, w.Share) {
		return ErrReadBack
	}
	rec, err := quorum.Parse(readBack)
	if err != nil {
		return ErrReadBack
	}
	defer rec.Wipe()
	want := r.shares.Records[w.Share]
	if !rec.KeySet().Same(r.plan.New) || subtle.ConstantTimeCompare(rec.Share, want.Share) != 1 {
		return ErrReadBack
	}
	secmem.Copy(r.back.slot(w.Share), rec.Share)
	r.confirmed[w.Share] = w.Serial
	return nil
}

// WrittenCount reports the new cards written and read back, of n.
func (r *Reissue) WrittenCount() (done, n int) {
	for _, s := range r.confirmed {
		if s != (tcos.Serial{}) {
			done++
		}
	}
	return done, len(r.confirmed)
}

// Cards lists the serial of each new share written and read back (zero for
// one not yet).
func (r *Reissue) Cards() []tcos.Serial { return slices.Clone(r.confirmed) }

// Committed is a re-issue that counts.
type Committed struct {
	Old, New quorum.KeySet
	// Superseded is the old set's register entry: its cards still to
	// collect are Superseded.Serials.
	Superseded hsm.SupersededSet
	// Register is the register as written.
	Register hsm.CardSets
}

// Commit makes the new set current, once every one of its n cards was
// written and read back and every k of the shares read back rebuild the
// key. The old set becomes superseded on now, with the cards known to hold
// it still to collect (those the new set overwrote are collected). The
// register changes in one atomic step: on any error the old set stays
// current. When the write's outcome is unknown it reads the register back
// to tell; ErrCommitUnknown when it cannot. Commit wipes every secret of the
// re-issue, whatever its outcome; it may be called again after an error.
func (r *Reissue) Commit(ctx context.Context, reg hsm.CardSetRegister, now time.Time) (*Committed, error) {
	if r.phase != writing {
		return nil, ErrOutOfStep
	}
	if done, n := r.WrittenCount(); done < n {
		return nil, ErrIncomplete
	}
	if r.shares != nil {
		if err := r.checkBack(); err != nil {
			// Never expected (each card was read back and parsed); the
			// new set cannot count, and the re-issue ends.
			r.Wipe()
			return nil, err
		}
		r.wipeSecrets()
	}
	cur, err := reg.CardSets(ctx)
	if err != nil {
		return nil, err
	}
	newID := r.plan.New.ID
	if cur.Current == nil || cur.Current.KeySetID != r.plan.Old.ID ||
		!slices.ContainsFunc(cur.Uncommitted, func(c hsm.CardSet) bool { return c.KeySetID == newID }) {
		if cur.Current != nil && cur.Current.KeySetID == newID {
			return r.done(cur) // an earlier Commit did land
		}
		return nil, ErrRegisterChanged
	}
	// Every card written and read back holds the new set now, whatever it
	// held before (or seemed to: a read spoilt in transit shows a damaged
	// record), so no list of cards to collect keeps it.
	next := clone(cur)
	old := *cur.Current
	old.Serials = addSerials(old.Serials, r.oldSeen)
	for _, s := range r.confirmed {
		old.Serials = removeSerial(old.Serials, s)
		for i := range next.Superseded {
			next.Superseded[i].Serials = removeSerial(next.Superseded[i].Serials, s)
		}
	}
	next.Superseded = append(next.Superseded, hsm.SupersededSet{CardSet: old, On: now.UTC(), By: uint32(r.plan.New.Generation)})
	next.Uncommitted = slices.DeleteFunc(next.Uncommitted, func(c hsm.CardSet) bool { return c.KeySetID == newID })
	c := cardSetOf(r.plan.New, r.confirmed)
	next.Current = &c
	trim(&next)
	err = reg.UpdateCardSets(ctx, cur.Revision, next)
	if err == nil {
		next.Revision = cur.Revision + 1
		return r.done(next)
	}
	if errors.Is(err, hsm.ErrCardSetsChanged) {
		return nil, ErrRegisterChanged
	}
	again, rerr := reg.CardSets(ctx)
	if rerr != nil {
		return nil, errors.Join(ErrCommitUnknown, err, rerr)
	}
	if again.Current != nil && again.Current.KeySetID == newID {
		return r.done(again)
	}
	return nil, err
}

// done ends a committed re-issue.
func (r *Reissue) done(reg hsm.CardSets) (*Committed, error) {
	r.phase = committed
	r.reg = reg
	out := &Committed{Old: r.plan.Old, New: r.plan.New, Register: reg}
	for _, s := range reg.Superseded {
		if s.KeySetID == r.plan.Old.ID {
			out.Superseded = s
		}
	}
	return out, nil
}

// checkBack proves that every k of the shares read back rebuild the key.
func (r *Reissue) checkBack() error {
	set := r.plan.New
	shares := make([][]byte, set.Scheme.K)
	defer clear(shares)
	return quorum.EachSubset(set.Scheme.N, set.Scheme.K, func(idx []int) error {
		for j, i := range idx {
			shares[j] = r.back.slot(i)
		}
		key, err := quorum.Combine(set, shares)
		if err != nil {
			return fmt.Errorf("%w: the new cards do not rebuild the key", ErrReadBack)
		}
		same := subtle.ConstantTimeCompare(key.Bytes(), r.key.Bytes()) == 1
		key.Wipe()
		if !same {
			return fmt.Errorf("%w: the new cards rebuild another key", ErrReadBack)
		}
		return nil
	})
}

// IsCommitted reports whether the re-issue committed.
func (r *Reissue) IsCommitted() bool { return r.phase == committed }

// wipeSecrets wipes the quorum's shares, the key, the new shares and
// records, and the shares read back.
func (r *Reissue) wipeSecrets() {
	if r.pending != nil {
		r.pending.Release()
	}
	r.store.destroy()
	if r.key != nil {
		r.key.Wipe()
		r.key = nil
	}
	r.shares.Destroy()
	r.shares = nil
	r.records.Destroy()
	r.back.destroy()
}

// Wipe ends the re-issue and wipes its secrets. Before Commit it leaves the
// register as it is (an uncommitted entry, if Plan ran), and the current set
// current. Safe to call again.
func (r *Reissue) Wipe() {
	r.wipeSecrets()
	if r.phase != committed {
		r.phase = ended
	}
}

// Holds reports whether the re-issue still holds a secret (the quorum's
// shares, the rebuilt key, the new shares and records, the shares read
// back): false once Commit or Wipe has run. The wizard's tests check it
// after every operation (docs/wizard.md, "Tests").
func (r *Reissue) Holds() bool {
	return r.store.buf.Len() > 0 || r.key != nil || r.shares != nil || r.records.Len() > 0 ||
		(r.back != nil && r.back.buf.Len() > 0)
}

// HoldsKey reports whether the re-issue holds the rebuilt Backup Key: from
// Rebuild until Commit or Wipe.
func (r *Reissue) HoldsKey() bool { return r.key != nil }
