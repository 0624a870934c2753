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

// Check returns the key's key check (record format 2).
func (k *Key) Check() KeyCheck {
	v, err := kcv.Check(k.Bytes())
	if err != nil {
		// Unreachable: the array always has a valid AES-256 length.
		panic("quorum: key check of a Backup Key failed")
	}
	return KeyCheck(v)
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
// records of generation 1, format Version. Created is now in UTC, truncated
// to the second (what the record stores). The records' Shares are secret:
// wipe them (Record.Wipe) once written.
func Generate(label string, s Scheme, now time.Time) (*Key, []*Record, error) {
	if err := checkParams(label, s, 1, now); err != nil {
		return nil, nil, err
	}
	key, err := newKey()
	if err != nil {
		return nil, nil, err
	}
	if _, err := rand.Read(key.Bytes()); err != nil {
		return nil, nil, fmt.Errorf("quorum: random key: %w", err)
	}
	shares := make([][]byte, s.N)
	for i := range shares {
		shares[i] = make([]byte, ShareSize)
	}
	recs, err := splitRecords(key, label, s, 1, now, shares)
	if err != nil {
		key.Wipe()
		return nil, nil, err
	}
	return key, recs, nil
}

// Shares is the records of one card set made by Reshare. Their Share fields
// live in one secmem.Buffer: Destroy wipes and releases them all.
type Shares struct {
	// Records are the new set's n records, share i on Records[i].
	Records []*Record
	buf     *secmem.Buffer
}

// Destroy wipes the shares and releases their memory. The records stay,
// without shares.
func (s *Shares) Destroy() {
	if s == nil {
		return
	}
	for _, r := range s.Records {
		r.Share = nil
	}
	s.buf.Destroy()
}

// Reshare splits key anew into a new card set of the same key: a new random
// key-set ID, generation gen, label and scheme s, created now, in format
// Version (docs/lifecycle.md, "Re-issue"). Every k of the new shares rebuild
// key; no share of any other set combines with them. The shares live in the
// returned Shares' buffer: Destroy it when done.
func Reshare(key *Key, label string, s Scheme, gen Generation, now time.Time) (*Shares, error) {
	if err := checkParams(label, s, gen, now); err != nil {
		return nil, err
	}
	buf, err := secmem.NewBuffer(s.N * ShareSize)
	if err != nil {
		return nil, fmt.Errorf("quorum: allocating share memory: %w", err)
	}
	mem := buf.Bytes()
	shares := make([][]byte, s.N)
	for i := range shares {
		shares[i] = mem[i*ShareSize : (i+1)*ShareSize : (i+1)*ShareSize]
	}
	recs, err := splitRecords(key, label, s, gen, now, shares)
	if err != nil {
		buf.Destroy()
		return nil, err
	}
	return &Shares{Records: recs, buf: buf}, nil
}

// checkParams checks what a new card set is made of.
func checkParams(label string, s Scheme, gen Generation, now time.Time) error {
	if err := ValidateLabel(label); err != nil {
		return err
	}
	if err := s.Validate(); err != nil {
		return err
	}
	if gen < 1 {
		return fmt.Errorf("quorum: generation 0")
	}
	created := now.UTC().Truncate(time.Second)
	if u := created.Unix(); u < minUnix || u > maxUnix {
		return fmt.Errorf("quorum: creation time %s out of range", created.Format(time.RFC3339))
	}
	return nil
}

// splitRecords splits key into shares (len(shares) buffers of ShareSize,
// which it fills) under a new key-set ID and makes their records. Before
// anything reaches a card it proves that every record encodes and that every
// k of the shares rebuild key: a card set that cannot is worse than none. On
// error the shares are wiped.
func splitRecords(key *Key, label string, s Scheme, gen Generation, now time.Time, shares [][]byte) ([]*Record, error) {
	var id KeySetID
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("quorum: random key-set ID: %w", err)
	}
	if err := split(key.Bytes(), s.K, shares); err != nil {
		return nil, fmt.Errorf("quorum: split: %w", err)
	}
	set := KeySet{ID: id, Format: Version, Generation: gen, Label: label,
		Created: now.UTC().Truncate(time.Second), Scheme: s, KCV: key.KCV(), KeyCheck: key.Check()}
	recs := make([]*Record, len(shares))
	for i, sh := range shares {
		recs[i] = &Record{Format: set.Format, KeySetID: id, Generation: gen, Label: label, Created: set.Created,
			Scheme: s, Share: sh, KCV: set.KCV, KeyCheck: set.KeyCheck}
	}
	fail := func(err error) ([]*Record, error) {
		for _, r := range recs {
			r.Wipe()
		}
		return nil, err
	}
	for _, r := range recs {
		b, err := r.Marshal()
		if err != nil {
			return fail(err)
		}
		secmem.Wipe(b)
	}
	err := EachSubset(len(shares), s.K, func(idx []int) error {
		sub := make([][]byte, len(idx))
		for i, j := range idx {
			sub[i] = shares[j]
		}
		back, err := Combine(set, sub)
		if err != nil {
			return err
		}
		same := subtle.ConstantTimeCompare(back.Bytes(), key.Bytes()) == 1
		back.Wipe()
		if !same {
			return fmt.Errorf("the shares do not rebuild the key")
		}
		return nil
	})
	if err != nil {
		return fail(fmt.Errorf("quorum: self-check: %w", err))
	}
	return recs, nil
}

// EachSubset calls f with every k-subset of 0..n-1 (as ascending indexes, in
// lexicographic order) until f returns an error, which it returns. f must not
// keep idx.
func EachSubset(n, k int, f func(idx []int) error) error {
	if k < 1 || k > n {
		return nil
	}
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	for {
		if err := f(idx); err != nil {
			return err
		}
		// The rightmost index that can still move right.
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			return nil
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
}

// Wipe overwrites the record's share with zeros.
func (r *Record) Wipe() { secmem.Wipe(r.Share) }
