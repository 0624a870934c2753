package quorum

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/kcv"
	"github.com/hsmcards/hsmcards/secmem"
)

// Key is a Backup Key held in memory. Its bytes live in a secmem.Buffer:
// outside the Go heap, locked in RAM where the system allows, and out of core
// dumps. Wipe it when done.
type Key struct {
	buf *secmem.Buffer
}

// newKey allocates the memory for one key.
func newKey() (*Key, error) {
	buf, err := secmem.NewBuffer(KeySize)
	if err != nil {
		return nil, fmt.Errorf("quorum: allocating key memory: %w", err)
	}
	return &Key{buf: buf}, nil
}

// NewKey returns a Key holding a copy of b, which must be KeySize bytes.
func NewKey(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("quorum: a Backup Key is %d bytes, not %d", KeySize, len(b))
	}
	k, err := newKey()
	if err != nil {
		return nil, err
	}
	copy(k.Bytes(), b)
	return k, nil
}

// Bytes returns the key material. The slice aliases the Key: Wipe clears it.
// Keep the Key reachable while the slice is in use (runtime.KeepAlive): the
// memory goes when the Key does.
func (k *Key) Bytes() []byte { return k.buf.Bytes() }

// LockError says why the key's memory could not be locked in RAM (so it may
// be swapped to disk), or is nil when it is locked.
func (k *Key) LockError() error { return k.buf.LockError() }

// KCV returns the key's check value.
func (k *Key) KCV() KCV {
	v, err := kcv.AES(k.Bytes())
	if err != nil {
		// Unreachable: the array always has a valid AES-256 length.
		panic("quorum: KCV of a Backup Key failed")
	}
	return KCV(v)
}

// Wipe overwrites the key material with zeros.
//
// It only zeroes: the memory itself is released when the Key is unreachable,
// so a goroutine still holding Bytes() (an HSM load in flight when the
// operator quits) reads zeros, which fail the KCV check, rather than unmapped
// memory.
func (k *Key) Wipe() { k.buf.Wipe() }

// Validate checks the scheme: 2 ≤ K ≤ N ≤ MaxShares.
func (s Scheme) Validate() error {
	if s.K < 2 || s.N < s.K || s.N > MaxShares {
		return fmt.Errorf("quorum: invalid scheme %d of %d (need 2 ≤ k ≤ n ≤ %d)", s.K, s.N, MaxShares)
	}
	return nil
}

// String reads "2 of 3", as the appliance manual (Smart Card Handling, "Quorum") words it.
func (s Scheme) String() string { return fmt.Sprintf("%d of %d", s.K, s.N) }

// ValidateLabel checks a label: 1 to MaxLabelLen printable characters of
// valid UTF-8 (no control characters, since it goes to a screen and a card).
func ValidateLabel(label string) error {
	if !utf8.ValidString(label) {
		return fmt.Errorf("quorum: the label is not valid UTF-8")
	}
	n := utf8.RuneCountInString(label)
	if n == 0 {
		return fmt.Errorf("quorum: the label is empty")
	}
	if n > MaxLabelLen {
		return fmt.Errorf("quorum: the label has %d characters, at most %d fit", n, MaxLabelLen)
	}
	for _, r := range label {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("quorum: the label contains the unprintable character %U", r)
		}
	}
	return nil
}

// Generate makes a new Backup Key with crypto/rand and splits it into n share
// records. Created is now in UTC, truncated to the second (what the record
// stores). The records' Shares are secret: wipe them (Record.Wipe) once
// written.
func Generate(label string, s Scheme, now time.Time) (*Key, []*Record, error) {
	if err := ValidateLabel(label); err != nil {
		return nil, nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, nil, err
	}
	created := now.UTC().Truncate(time.Second)
	if u := created.Unix(); u < minUnix || u > maxUnix {
		return nil, nil, fmt.Errorf("quorum: creation time %s out of range", created.Format(time.RFC3339))
	}

	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	if _, err := rand.Read(key.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("quorum: random key: %w", err)
	}
	var id KeySetID
	if _, err := rand.Read(id[:]); err != nil {
		key.Wipe()
		return nil, nil, fmt.Errorf("quorum: random key-set ID: %w", err)
	}
	shares := make([][]byte, s.N)
	for i := range shares {
		shares[i] = make([]byte, ShareSize)
	}
	if err := split(key.Bytes(), s.K, shares); err != nil {
		key.Wipe()
		return nil, nil, fmt.Errorf("quorum: split: %w", err)
	}
	kv := key.KCV()
	recs := make([]*Record, len(shares))
	for i, sh := range shares {
		recs[i] = &Record{KeySetID: id, Label: label, Created: created, Scheme: s, Share: sh, KCV: kv}
	}
	fail := func(err error) (*Key, []*Record, error) {
		key.Wipe()
		for _, r := range recs {
			r.Wipe()
		}
		return nil, nil, err
	}

	// Prove before anything reaches a card that every record encodes and that
	// the shares rebuild this key; a card set that cannot is worse than none.
	for _, r := range recs {
		b, err := r.Marshal()
		if err != nil {
			return fail(err)
		}
		secmem.Wipe(b)
	}
	c := NewCollector(&id)
	defer c.Wipe()
	for _, r := range recs[:s.K] {
		if err := c.Add(r); err != nil {
			return fail(fmt.Errorf("quorum: self-check: %w", err))
		}
	}
	back, err := c.Combine()
	if err != nil {
		return fail(fmt.Errorf("quorum: self-check: %w", err))
	}
	same := subtle.ConstantTimeCompare(back.Bytes(), key.Bytes()) == 1
	back.Wipe()
	if !same {
		return fail(fmt.Errorf("quorum: self-check: the shares do not rebuild the key"))
	}
	return key, recs, nil
}

// Wipe overwrites the record's share with zeros.
func (r *Record) Wipe() { secmem.Wipe(r.Share) }
