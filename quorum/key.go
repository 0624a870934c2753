package quorum

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/vault/shamir"
	"github.com/hsmcards/hsmcards/kcv"
)

// Key is a Backup Key held in memory. Wipe it when done.
type Key struct {
	b [KeySize]byte
}

// NewKey returns a Key holding a copy of b, which must be KeySize bytes.
func NewKey(b []byte) (*Key, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("quorum: a Backup Key is %d bytes, not %d", KeySize, len(b))
	}
	k := new(Key)
	copy(k.b[:], b)
	return k, nil
}

// Bytes returns the key material. The slice aliases the Key: Wipe clears it.
func (k *Key) Bytes() []byte { return k.b[:] }

// KCV returns the key's check value.
func (k *Key) KCV() KCV {
	v, err := kcv.AES(k.b[:])
	if err != nil {
		// Unreachable: the array always has a valid AES-256 length.
		panic("quorum: KCV of a Backup Key failed")
	}
	return KCV(v)
}

// Wipe overwrites the key material with zeros.
func (k *Key) Wipe() { clear(k.b[:]) }

// Validate checks the scheme: 2 ≤ K ≤ N ≤ MaxShares.
func (s Scheme) Validate() error {
	if s.K < 2 || s.N < s.K || s.N > MaxShares {
		return fmt.Errorf("quorum: invalid scheme %d of %d (need 2 ≤ k ≤ n ≤ %d)", s.K, s.N, MaxShares)
	}
	return nil
}

// String reads "2 of 3", as the seed words it.
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

	key := new(Key)
	if _, err := rand.Read(key.b[:]); err != nil {
		return nil, nil, fmt.Errorf("quorum: random key: %w", err)
	}
	var id KeySetID
	if _, err := rand.Read(id[:]); err != nil {
		key.Wipe()
		return nil, nil, fmt.Errorf("quorum: random key-set ID: %w", err)
	}
	shares, err := shamir.Split(key.b[:], s.N, s.K)
	if err != nil {
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
		clear(b)
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
func (r *Record) Wipe() { clear(r.Share) }
