package cardset

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// Verdict is Verify's finding about one card.
type Verdict int

const (
	// Pending: read, decided by Finish.
	Pending Verdict = iota
	// Good: its share is in a k-subset of the presented cards that rebuilds
	// the key with the set's checks.
	Good
	// Bad: its record disagrees with the set's, or its share is in no
	// k-subset that rebuilds the key while other subsets do.
	Bad
	// Undecided: the cards presented cannot tell (Report.Outcome says why).
	Undecided
	// NotChecked: not a share of the set verified (Reason says what it is).
	NotChecked
)

var verdictNames = [...]string{"pending", "good", "bad", "undecided", "not checked"}

func (v Verdict) String() string {
	if int(v) < len(verdictNames) {
		return verdictNames[v]
	}
	return fmt.Sprintf("verdict(%d)", int(v))
}

// Reason says why a card is Bad or NotChecked.
type Reason int

const (
	// NoReason: Good, Pending or Undecided.
	NoReason Reason = iota
	// Unreadable: the card step failed (CardResult.Err).
	Unreadable
	// EmptySlot: the card holds no share.
	EmptySlot
	// Damaged: the record does not parse (CardResult.RecordErr matches
	// quorum.ErrCorrupt).
	Damaged
	// UnknownFormat: an intact record of a format this program does not
	// know (quorum.ErrUnknownVersion).
	UnknownFormat
	// OtherSet: a share of another card set than the one verified.
	OtherSet
	// NotCurrent: refused by Admit (CardResult.Refused says why).
	NotCurrent
	// Disagrees: its record describes the set otherwise than the set's
	// (label, time, quorum, format, generation, KCV or key check): damaged
	// or altered, and re-checksummed.
	Disagrees
	// WrongShare: its share does not rebuild the key with the others.
	WrongShare
)

var reasonNames = [...]string{"", "unreadable", "empty", "damaged", "unknown format", "other card set", "not current", "record disagrees", "wrong share"}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", int(r))
}

// CardResult is what Verify says about one card: at Add what its record
// says, after Finish its verdict too. Nothing in it is secret.
type CardResult struct {
	Serial    tcos.Serial
	TriesLeft int
	// Err is Card.Err: the card could not be read.
	Err error
	// RecordErr is quorum.Parse's error for an empty, damaged or unknown
	// record.
	RecordErr error
	// Set is what an intact record says about its card set; nil otherwise.
	Set *quorum.KeySet
	// X is the share's x coordinate (its number within the set), 0 when
	// none.
	X        byte
	Standing Standing
	// Refused is why Admit refused the card's set (Reason NotCurrent); for
	// a Newer set it is the note the screen shows, and the card is verified
	// all the same.
	Refused *NotCurrentError
	Verdict Verdict
	Reason  Reason
	// CopyOf is the earlier card holding the very same share: a copy.
	CopyOf *tcos.Serial
}

// Outcome is Verify's finding about the set.
type Outcome int

const (
	// NoSet: no card presented holds an admitted share.
	NoSet Outcome = iota
	// TooFew: fewer distinct shares than k: each record was checked, the
	// key could not be.
	TooFew
	// AllGood: every share presented is in a k-subset that rebuilds the
	// key. With exactly k shares, the other n-k cards were not presented.
	AllGood
	// BadFound: some k-subset rebuilds the key, and the Bad cards are the
	// ones in none (or whose records disagree).
	BadFound
	// CannotTell: no k-subset rebuilds the key. With exactly k shares one
	// cannot tell which card is bad; with more, more than shares-k are bad.
	// Present more cards of the set.
	CannotTell
	// TwoKeys: two k-subsets rebuilt two different keys that both pass the
	// records' checks (only a 3-byte KCV makes that possible: a format 1
	// set): nothing tells which is the key.
	TwoKeys
)

var outcomeNames = [...]string{"no card set", "too few cards", "all good", "bad card found", "cannot tell", "two keys"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return fmt.Sprintf("outcome(%d)", int(o))
}

// HSMCheck is how the rebuilt key compares with the HSM's.
type HSMCheck int

const (
	// HSMNotCompared: no key was rebuilt.
	HSMNotCompared HSMCheck = iota
	// HSMNoKey: the HSM holds no Backup Key.
	HSMNoKey
	// HSMSameKey: the HSM's key has the rebuilt key's KCV, and its key
	// check where the HSM's register knows it.
	HSMSameKey
	// HSMOtherKey: the HSM holds another key.
	HSMOtherKey
)

var hsmCheckNames = [...]string{"not compared", "no key in the HSM", "same key as the HSM", "another key than the HSM's"}

func (h HSMCheck) String() string {
	if int(h) < len(hsmCheckNames) {
		return hsmCheckNames[h]
	}
	return fmt.Sprintf("hsm(%d)", int(h))
}

// Report is the whole finding of a Verify; nothing in it is secret.
type Report struct {
	// Set is the card set verified, as its register entry or the majority
	// of its records say; nil with NoSet.
	Set      *quorum.KeySet
	Standing Standing
	// Cards are the cards presented, in order.
	Cards   []CardResult
	Outcome Outcome
	// Shares is the number of distinct shares of Set presented (a card and
	// its copies count once); Subsets the k-subsets of them tried, Rebuilt
	// how many rebuilt the key.
	Shares, Subsets, Rebuilt int
	HSM                      HSMCheck
}

// Bad lists the cards found bad.
func (r *Report) Bad() []CardResult {
	var out []CardResult
	for _, c := range r.Cards {
		if c.Verdict == Bad {
			out = append(out, c)
		}
	}
	return out
}

// Verify checks a card set one card at a time without writing to any card
// or to the HSM (docs/lifecycle.md, "Verify"). Add each card as its step
// reads it, then Finish. Its shares are in secmem memory until Finish or
// Wipe.
type Verify struct {
	reg    hsm.CardSets
	hsmKey *hsm.KeyInfo
	store  *shareStore
	cards  []CardResult
	slots  []int // the store slot of each card's share, -1 for none
	done   bool
}

// NewVerify starts a Verify against the HSM's register (a snapshot: Verify
// never writes it) and the key the HSM holds (nil: none).
func NewVerify(reg hsm.CardSets, hsmKey *hsm.KeyInfo) (*Verify, error) {
	store, err := newShareStore(MaxCards)
	if err != nil {
		return nil, fmt.Errorf("cardset: %w", err)
	}
	v := &Verify{reg: reg, store: store}
	if hsmKey != nil {
		k := *hsmKey
		v.hsmKey = &k
	}
	return v, nil
}

// Add takes one card: what its record says comes back at once (Verdict
// Pending for a share to check, NotChecked for the rest). The same card
// (by serial) twice is refused with ErrSameCard, more than MaxCards with
// ErrTooManyCards; a refused card changes nothing.
func (v *Verify) Add(c Card) (CardResult, error) {
	if v.done {
		return CardResult{}, errors.New("cardset: the verify is finished")
	}
	for _, o := range v.cards {
		if o.Serial == c.Serial {
			return CardResult{}, ErrSameCard
		}
	}
	if len(v.cards) >= MaxCards {
		return CardResult{}, ErrTooManyCards
	}
	res, slot := v.read(c)
	v.cards = append(v.cards, res)
	v.slots = append(v.slots, slot)
	return res, nil
}

func (v *Verify) read(c Card) (CardResult, int) {
	res := CardResult{Serial: c.Serial, TriesLeft: c.TriesLeft, Verdict: NotChecked}
	if c.Err != nil {
		res.Err, res.Reason = c.Err, Unreadable
		return res, -1
	}
	rec, slot, err := v.store.parse(c.Raw)
	switch {
	case errors.Is(err, quorum.ErrEmpty):
		res.RecordErr, res.Reason = err, EmptySlot
		return res, -1
	case errors.Is(err, quorum.ErrUnknownVersion):
		res.RecordErr, res.Reason = err, UnknownFormat
		return res, -1
	case err != nil:
		res.RecordErr, res.Reason = err, Damaged
		return res, -1
	}
	set := rec.KeySet()
	res.Set, res.X = &set, v.store.x(slot)
	res.Standing, res.Refused = Stand(v.reg, set)
	if res.Refused != nil && res.Standing != Newer {
		// Never combined: a superseded card is never accepted.
		v.store.dropLast()
		res.Reason = NotCurrent
		return res, -1
	}
	res.Verdict = Pending
	return res, slot
}

// Finish decides: every k-subset of the presented shares of the set is
// combined, a bad card named where the subsets can tell, and the key
// compared with the HSM's. It wipes the shares (and every key rebuilt on
// the way) before it returns.
func (v *Verify) Finish() (*Report, error) {
	if v.done {
		return nil, errors.New("cardset: the verify is finished")
	}
	defer v.Wipe()
	rep := &Report{Cards: v.cards}

	// The set to verify: the register's current one if presented, else the
	// one most cards hold (the first presented of equals).
	var target *quorum.KeySetID
	count := map[quorum.KeySetID]int{}
	for _, c := range v.cards {
		if c.Verdict == Pending {
			count[c.Set.ID]++
		}
	}
	for _, c := range v.cards {
		if c.Verdict != Pending {
			continue
		}
		if v.reg.Current != nil && count[quorum.KeySetID(v.reg.Current.KeySetID)] > 0 {
			id := quorum.KeySetID(v.reg.Current.KeySetID)
			target = &id
			break
		}
		if target == nil || count[c.Set.ID] > count[*target] {
			id := c.Set.ID
			target = &id
		}
	}
	if target == nil {
		return rep, nil
	}
	var members []int
	for i, c := range v.cards {
		if c.Verdict == Pending {
			if c.Set.ID != *target {
				v.cards[i].Verdict, v.cards[i].Reason = NotChecked, OtherSet
				continue
			}
			members = append(members, i)
		}
	}

	// What the set is: the register's word when it records the set, else
	// what most of its records say (tried in that order; the first whose
	// subsets rebuild the key wins).
	var refs []quorum.KeySet
	fixed := v.reg.Current != nil && v.reg.Current.KeySetID == *target
	if fixed {
		refs = []quorum.KeySet{keySetOf(v.reg, *v.reg.Current)}
	} else {
		refs = majority(v.cards, members)
	}
	var best *trial
	for _, ref := range refs {
		t := v.try(ref, members)
		if best == nil {
			best = t
		}
		if t.rebuilt > 0 {
			if best != t {
				best.wipe()
			}
			best = t
			break
		}
		if t != best {
			t.wipe()
		}
	}
	defer best.wipe()
	ref := best.ref
	rep.Set, rep.Standing = &ref, v.cards[members[0]].Standing
	rep.Shares, rep.Subsets, rep.Rebuilt = len(best.reps), best.subsets, best.rebuilt
	// Records that say otherwise than the set are bad when the set's facts
	// are certain: the register's, those of the records whose shares
	// rebuild the key, or a strict majority.
	certain := fixed || best.rebuilt > 0 || len(refs) == 1 || countSame(v.cards, members, refs[0]) > countSame(v.cards, members, refs[1])
	for _, i := range members {
		if !v.cards[i].Set.Same(ref) {
			v.cards[i].Reason = Disagrees
			v.cards[i].Verdict = Undecided
			if certain {
				v.cards[i].Verdict = Bad
			}
		}
	}
	for _, i := range best.cards {
		switch r := best.repOf[i]; {
		case best.twoKeys || best.rebuilt == 0:
			v.cards[i].Verdict = Undecided
		case best.good[r]:
			v.cards[i].Verdict = Good
		default:
			v.cards[i].Verdict, v.cards[i].Reason = Bad, WrongShare
		}
		if r := best.repOf[i]; r != i {
			s := v.cards[r].Serial
			v.cards[i].CopyOf = &s
		}
	}

	switch {
	case len(best.reps) < ref.Scheme.K:
		rep.Outcome = TooFew
		for _, i := range best.cards {
			v.cards[i].Verdict = Undecided
		}
	case best.twoKeys:
		rep.Outcome = TwoKeys
	case best.rebuilt == 0:
		rep.Outcome = CannotTell
	case len(rep.Bad()) > 0:
		rep.Outcome = BadFound
	default:
		rep.Outcome = AllGood
	}
	if best.key != nil && !best.twoKeys {
		// A format 1 set the register does not list tells its standing
		// only by its rebuilt key (StandRebuilt): a superseded or stale
		// one is no good set, however well its shares agree; Load and
		// Re-issue refuse it too.
		if st, e := StandRebuilt(v.reg, ref, best.key.Check()); e != nil && st != Newer {
			for _, i := range members {
				v.cards[i].Standing, v.cards[i].Refused = st, e
				v.cards[i].Verdict, v.cards[i].Reason = NotChecked, NotCurrent
			}
			rep.Set, rep.Standing, rep.Outcome = nil, st, NoSet
			return rep, nil
		}
		rep.HSM = v.compareHSM(best.key)
	}
	return rep, nil
}

// compareHSM compares the rebuilt key with the HSM's: its KCV, and its key
// check where the register speaks for the HSM's key.
func (v *Verify) compareHSM(key *quorum.Key) HSMCheck {
	if v.hsmKey == nil {
		return HSMNoKey
	}
	kv := key.KCV()
	if subtle.ConstantTimeCompare(kv[:], v.hsmKey.KCV[:]) != 1 {
		return HSMOtherKey
	}
	if v.reg.Current != nil && v.reg.KCV == v.hsmKey.KCV {
		kc := key.Check()
		if subtle.ConstantTimeCompare(kc[:], v.reg.KeyCheck[:]) != 1 {
			return HSMOtherKey
		}
	}
	return HSMSameKey
}

// majority is the descriptions the members' records give of their set,
// the most common first (the first presented of equals).
func majority(cards []CardResult, members []int) []quorum.KeySet {
	var refs []quorum.KeySet
	var counts []int
next:
	for _, i := range members {
		for j, r := range refs {
			if cards[i].Set.Same(r) {
				counts[j]++
				continue next
			}
		}
		refs = append(refs, *cards[i].Set)
		counts = append(counts, 1)
	}
	// A stable insertion sort by count: a handful of entries.
	for i := 1; i < len(refs); i++ {
		for j := i; j > 0 && counts[j] > counts[j-1]; j-- {
			refs[j], refs[j-1] = refs[j-1], refs[j]
			counts[j], counts[j-1] = counts[j-1], counts[j]
		}
	}
	return refs
}

func countSame(cards []CardResult, members []int, ref quorum.KeySet) int {
	n := 0
	for _, i := range members {
		if cards[i].Set.Same(ref) {
			n++
		}
	}
	return n
}

// trial is the subsets of one description of the set.
type trial struct {
	ref     quorum.KeySet
	cards   []int       // the members agreeing with ref
	repOf   map[int]int // card -> the first card with its very share
	reps    []int       // one card per distinct share
	good    map[int]bool
	subsets int
	rebuilt int
	key     *quorum.Key // the key the first rebuilding subset gave
	twoKeys bool
}

func (t *trial) wipe() {
	if t != nil && t.key != nil {
		t.key.Wipe()
		t.key = nil
	}
}

// try combines every k-subset of the distinct shares of the members that
// agree with ref.
func (v *Verify) try(ref quorum.KeySet, members []int) *trial {
	t := &trial{ref: ref, repOf: map[int]int{}, good: map[int]bool{}}
	for _, i := range members {
		if !v.cards[i].Set.Same(ref) {
			continue
		}
		t.cards = append(t.cards, i)
		t.repOf[i] = i
		for _, r := range t.reps {
			if v.store.equal(v.slots[r], v.slots[i]) {
				t.repOf[i] = r
				break
			}
		}
		if t.repOf[i] == i {
			t.reps = append(t.reps, i)
		}
	}
	k := ref.Scheme.K
	// The register speaks for the key of its current set: a subset of it
	// must rebuild that key, key check and all, even in format 1.
	current := v.reg.Current != nil && ref.ID == v.reg.Current.KeySetID
	shares := make([][]byte, k)
	_ = quorum.EachSubset(len(t.reps), k, func(idx []int) error {
		for a := range idx {
			for b := range idx[:a] {
				if v.store.x(v.slots[t.reps[idx[a]]]) == v.store.x(v.slots[t.reps[idx[b]]]) {
					return nil // two shares of one x cannot be combined
				}
			}
		}
		t.subsets++
		for j, r := range idx {
			shares[j] = v.store.slot(v.slots[t.reps[r]])
		}
		key, err := quorum.Combine(ref, shares)
		if err != nil {
			return nil
		}
		if current {
			kc := key.Check()
			if subtle.ConstantTimeCompare(kc[:], v.reg.KeyCheck[:]) != 1 {
				key.Wipe()
				return nil
			}
		}
		t.rebuilt++
		for _, r := range idx {
			t.good[t.reps[r]] = true
		}
		if t.key == nil {
			t.key = key
			return nil
		}
		if subtle.ConstantTimeCompare(t.key.Bytes(), key.Bytes()) != 1 {
			t.twoKeys = true
		}
		key.Wipe()
		return nil
	})
	clear(shares)
	return t
}

// Wipe wipes the shares Verify holds and ends it; Finish calls it. Safe to
// call again.
func (v *Verify) Wipe() {
	v.done = true
	v.store.destroy()
}

// Holds reports whether the verify still holds shares: false once Finish or
// Wipe has run.
func (v *Verify) Holds() bool { return v.store.buf.Len() > 0 }
