package quorum

import (
	"bytes"
	"crypto/subtle"

	"github.com/hsmcards/hsmcards/secmem"
)

// Collector gathers share records read during one Key Reading. It holds
// copies of the shares: Wipe it when done. It is not safe for concurrent use.
type Collector struct {
	want   *KeySetID
	set    *KeySet
	shares [][]byte // copies, in the order added
}

// NewCollector starts a collection; the first record fixes the key set,
// unless want is non-nil (then only that key set is accepted).
func NewCollector(want *KeySetID) *Collector {
	c := new(Collector)
	if want != nil {
		w := *want
		c.want = &w
	}
	return c
}

// Add takes one more record: ErrOtherKeySet, ErrDuplicateShare refuse it, and
// ErrCorrupt a record that is invalid or disagrees with the ones before it
// about the key set it claims. A refused record changes nothing. Records
// beyond k are accepted; Combine uses the first k.
func (c *Collector) Add(r *Record) error {
	if r == nil {
		return corrupt("no record")
	}
	if reason := r.validate(); reason != "" {
		return corrupt(reason)
	}
	if c.want != nil && r.KeySetID != *c.want {
		return ErrOtherKeySet
	}
	if c.set == nil {
		set := r.KeySet()
		c.set = &set
	} else {
		if r.KeySetID != c.set.ID {
			return ErrOtherKeySet
		}
		// Same ID, different facts: one of the records is damaged or forged.
		if !r.KeySet().Same(*c.set) {
			return corrupt("records of one key set disagree")
		}
	}
	// A copied card carries the very same share. Same x implies the same
	// share in a consistent set, and two different shares with the same x
	// cannot be combined anyway: either way it must not count twice.
	x := r.Share[ShareSize-1]
	for _, s := range c.shares {
		if s[ShareSize-1] == x || bytes.Equal(s, r.Share) {
			return ErrDuplicateShare
		}
	}
	c.shares = append(c.shares, cloneSecret(r.Share))
	return nil
}

// Have and Need report progress: Have() of Need() shares.
func (c *Collector) Have() int { return len(c.shares) }

// Need is k of the collected key set, 0 before the first record.
func (c *Collector) Need() int {
	if c.set == nil {
		return 0
	}
	return c.set.Scheme.K
}

// KeySet describes the key set being collected; ok is false before the first
// record.
func (c *Collector) KeySet() (ks KeySet, ok bool) {
	if c.set == nil {
		return KeySet{}, false
	}
	return *c.set, true
}

// Combine reconstructs the key when enough shares were added, and verifies its
// KCV (and in format 2 its key check) against the records'. It never returns
// a wrong key without an error: on ErrKCV the rebuilt bytes are wiped, not
// returned.
func (c *Collector) Combine() (*Key, error) {
	if c.set == nil || len(c.shares) < c.set.Scheme.K {
		return nil, ErrTooFew
	}
	// Exactly k shares: what the quorum promises; more add nothing.
	return Combine(*c.set, c.shares[:c.set.Scheme.K])
}

// Combine rebuilds the key of set from exactly set.Scheme.K of its shares
// (each ShareSize bytes, distinct x) straight into the Key's memory, and
// checks it against set's KCV and, in format 2, its key check: ErrKCV when
// either differs (the bytes are then wiped, not returned). Shamir's scheme
// itself returns some other key for a wrong or foreign share without an
// error; these checks are what catch it (FORMAT.md, "What catches what").
func Combine(set KeySet, shares [][]byte) (*Key, error) {
	if len(shares) != set.Scheme.K {
		return nil, ErrTooFew
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	if err := combine(shares, key.Bytes()); err != nil {
		key.Wipe()
		return nil, corrupt("shares do not combine")
	}
	got, want := key.KCV(), set.KCV
	ok := subtle.ConstantTimeCompare(got[:], want[:])
	if set.Format == Format2 {
		gc, wc := key.Check(), set.KeyCheck
		ok &= subtle.ConstantTimeCompare(gc[:], wc[:])
	}
	if ok != 1 {
		key.Wipe()
		return nil, ErrKCV
	}
	return key, nil
}

// Wipe overwrites the collected shares with zeros and forgets them; the key
// set stays known so the wizard can still name it.
func (c *Collector) Wipe() {
	for _, s := range c.shares {
		secmem.Wipe(s)
	}
	c.shares = nil
}
