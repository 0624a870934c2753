package wizard

import (
	"bytes"
	"testing"

	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
)

// The invariant "no secret buffer outlives its step": every card step, share
// record, Backup Key, collector and PIN field the wizard ever held is
// remembered as it is seen, and once its step (or operation) has ended each
// must be wiped, and every PIN field back in the pool, cleared.

// secretsSeen are the holders of secrets seen in the wizard.
type secretsSeen struct {
	steps   map[*cardStep]bool
	records map[*quorum.Record]bool
	keys    map[*quorum.Key]bool
	colls   map[*quorum.Collector]bool
	fields  map[*secmem.Field]bool
	// raws are the share records cards handed over as they hold them (and
	// what they read back after a write); the card set's life keeps its
	// secrets in a Verify or a Reissue.
	raws     map[*secmem.Buffer]bool
	verifies map[*cardset.Verify]bool
	reissues map[*cardset.Reissue]bool
}

func newSecretsSeen() *secretsSeen {
	return &secretsSeen{steps: map[*cardStep]bool{}, records: map[*quorum.Record]bool{}, keys: map[*quorum.Key]bool{},
		colls: map[*quorum.Collector]bool{}, fields: map[*secmem.Field]bool{}, raws: map[*secmem.Buffer]bool{},
		verifies: map[*cardset.Verify]bool{}, reissues: map[*cardset.Reissue]bool{}}
}

// observe notes every holder of a secret m has now.
func (s *secretsSeen) observe(m *Model) {
	for _, f := range m.env.pins.free {
		s.fields[f] = true
	}
	rec := func(r *quorum.Record) {
		if r != nil {
			s.records[r] = true
		}
	}
	key := func(k *quorum.Key) {
		if k != nil {
			s.keys[k] = true
		}
	}
	step := func(st *cardStep) {
		if st == nil {
			return
		}
		s.steps[st] = true
		rec(st.res.rec)
		if st.res.raw != nil {
			s.raws[st.res.raw] = true
		}
		for _, f := range st.fields {
			s.fields[f] = true
		}
	}
	reading := func(r *keyReading) {
		if r == nil {
			return
		}
		step(r.step)
		key(r.key)
		s.colls[r.coll] = true
	}
	switch a := m.act.(type) {
	case *installOp:
		key(a.key)
		for _, r := range a.records {
			rec(r)
		}
		step(a.step)
		reading(a.reading)
	case *loadOp:
		reading(a.reading)
	case *copyOp:
		rec(a.src)
		step(a.step)
	case *pinOp:
		step(a.step)
	case *inspectOp:
		step(a.step)
	case *slotCardOp:
		step(a.step)
	case *verifyOp:
		step(a.step)
		if a.v != nil {
			s.verifies[a.v] = true
		}
	case *reissueOp:
		step(a.step)
		if a.r != nil {
			s.reissues[a.r] = true
		}
	case *eraseOp:
		step(a.step)
	}
}

// check fails for every secret that outlived its step: called once the
// activity has ended (left, quit or done).
func (s *secretsSeen) check(t *testing.T, m *Model) { t.Helper(); s.checkWith(t, m, true) }

// checkWiped is check without requiring the PIN fields back in the pool.
func (s *secretsSeen) checkWiped(t *testing.T, m *Model) { t.Helper(); s.checkWith(t, m, false) }

func (s *secretsSeen) checkWith(t *testing.T, m *Model, pooled bool) {
	t.Helper()
	zero := func(b []byte) bool { return !bytes.ContainsFunc(b, func(r rune) bool { return r != 0 }) }
	for st := range s.steps {
		if st.state != stepEnded {
			t.Errorf("a card step (%q) did not end with its activity", st.prompt)
		}
		if len(st.fields) != 0 {
			t.Errorf("a card step (%q) ended holding %d PIN fields", st.prompt, len(st.fields))
		}
	}
	for r := range s.records {
		if !zero(r.Share) {
			t.Errorf("a share record (%q) outlived its step unwiped", r.Label)
		}
	}
	for k := range s.keys {
		if !zero(k.Bytes()) {
			t.Errorf("a Backup Key outlived its operation unwiped")
		}
	}
	for c := range s.colls {
		if c.Have() != 0 {
			t.Errorf("a collector still holds %d shares", c.Have())
		}
	}
	for b := range s.raws {
		if b.Len() != 0 {
			t.Errorf("a share record as a card holds it (%d bytes) outlived its step", b.Len())
		}
	}
	for v := range s.verifies {
		if v.Holds() {
			t.Errorf("a verify still holds shares")
		}
	}
	for r := range s.reissues {
		if r.Holds() {
			t.Errorf("a re-issue still holds secrets (key held: %v)", r.HoldsKey())
		}
	}
	free := map[*secmem.Field]bool{}
	for _, f := range m.env.pins.free {
		free[f] = true
	}
	for f := range s.fields {
		if f.Len() != 0 {
			t.Errorf("a PIN field still holds %d digits", f.Len())
		}
		if pooled && !free[f] {
			t.Errorf("a PIN field was not given back to the pool")
		}
	}
}
