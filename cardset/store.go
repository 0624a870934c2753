package cardset

import (
	"crypto/subtle"

	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
)

// shareStore keeps up to cap shares in one secmem.Buffer: outside the Go
// heap, locked where the system allows, wiped by wipe (docs/security.md,
// "Secrets in memory"). Slot i is share i.
type shareStore struct {
	buf  *secmem.Buffer
	used int
}

func newShareStore(n int) (*shareStore, error) {
	buf, err := secmem.NewBuffer(n * quorum.ShareSize)
	if err != nil {
		return nil, err
	}
	return &shareStore{buf: buf}, nil
}

// add copies share into the next free slot and returns the slot.
func (s *shareStore) add(share []byte) (int, bool) {
	if s == nil || s.buf.Len() == 0 || (s.used+1)*quorum.ShareSize > s.buf.Len() || len(share) != quorum.ShareSize {
		return 0, false
	}
	secmem.Copy(s.slot(s.used), share)
	s.used++
	return s.used - 1, true
}

// slot returns share i; it aliases the buffer.
func (s *shareStore) slot(i int) []byte {
	m := s.buf.Bytes()
	return m[i*quorum.ShareSize : (i+1)*quorum.ShareSize : (i+1)*quorum.ShareSize]
}

// x is the x coordinate of share i.
func (s *shareStore) x(i int) byte { return s.slot(i)[quorum.ShareSize-1] }

// equal compares shares i and j in constant time.
func (s *shareStore) equal(i, j int) bool {
	return subtle.ConstantTimeCompare(s.slot(i), s.slot(j)) == 1
}

// dropLast wipes the last share added and frees its slot.
func (s *shareStore) dropLast() {
	if s.used > 0 {
		s.used--
		secmem.Wipe(s.slot(s.used))
	}
}

// destroy wipes and releases the shares; the store is then empty.
func (s *shareStore) destroy() {
	if s != nil {
		s.buf.Destroy()
		s.used = 0
	}
}

// parse reads a card's record into a fresh Record whose share is copied into
// the store and wiped from the heap at once; Record.Share is nil on the
// result. It returns the record's slot.
func (s *shareStore) parse(raw []byte) (*quorum.Record, int, error) {
	r, err := quorum.Parse(raw)
	if err != nil {
		return nil, 0, err
	}
	i, ok := s.add(r.Share)
	r.Wipe()
	r.Share = nil
	if !ok {
		return nil, 0, ErrTooManyCards
	}
	return r, i, nil
}
