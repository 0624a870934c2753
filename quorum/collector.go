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
		c.set = &KeySet{ID: r.KeySetID, Label: r.Label, Created: r.Created, Scheme: r.Scheme, KCV: r.KCV}
	} else {
		if r.KeySetID != c.set.ID {
			return ErrOtherKeySet
		}
		// Same ID, different facts: one of the records is damaged or forged.
		if r.Scheme != c.set.Scheme || r.Label != c.set.Label || r.KCV != c.set.KCV ||
			!r.Created.Equal(c.set.Created) {
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
	c.shares = append(c.shares, bytes.Clone(r.Share))
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
// KCV against the records'. It never returns a wrong key without an error:
// on ErrKCV the rebuilt bytes are wiped, not returned.
func (c *Collector) Combine() (*Key, error) {
	if c.set == nil || len(c.shares) < c.set.Scheme.K {
		return nil, ErrTooFew
	}
	key, err := newKey()
	if err != nil {
		return nil, err
	}
	// Exactly k shares: what the quorum promises; more add nothing. The key
	// is rebuilt straight into its own memory.
	if err := combine(c.shares[:c.set.Scheme.K], key.Bytes()); err != nil {
		// Add already refused duplicate x and wrong lengths, so this is
		// unexpected.
		key.Wipe()
		return nil, corrupt("shares do not combine")
	}
	got, want := key.KCV(), c.set.KCV
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
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
