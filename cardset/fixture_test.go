package cardset

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

var (
	day1 = time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC)
	day2 = time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC)
	day3 = time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
)

// sn is the serial of test card i.
func sn(i int) tcos.Serial { return tcos.Serial{0xC0, 0xFF, 0xEE, 0, 0, 0, 0, 0, 0, byte(i)} }

// testSet is a card set made for a test: its key, its records, and the
// records as cards hold them (255 bytes, zero-padded).
type testSet struct {
	key  *quorum.Key
	set  quorum.KeySet
	recs []*quorum.Record
}

// newSet generates a key and its set in format 2, generation 1.
func newSet(t testing.TB, label string, s quorum.Scheme) *testSet {
	t.Helper()
	key, recs, err := quorum.Generate(label, s, day1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(key.Wipe)
	return &testSet{key: key, set: recs[0].KeySet(), recs: recs}
}

// asFormat1 turns a generated set into a format 1 set (as installs before
// format 2 wrote them): generation 1, no key check, a new key-set ID.
func (ts *testSet) asFormat1(t testing.TB) *testSet {
	t.Helper()
	out := &testSet{key: ts.key}
	id := ts.set.ID
	id[0] ^= 0xF1
	for _, r := range ts.recs {
		c := *r
		c.Share = bytes.Clone(r.Share)
		c.Format, c.Generation, c.KeyCheck, c.KeySetID = quorum.Format1, 1, quorum.KeyCheck{}, id
		out.recs = append(out.recs, &c)
	}
	out.set = out.recs[0].KeySet()
	return out
}

// reshare makes generation gen of the same key.
func (ts *testSet) reshare(t testing.TB, s quorum.Scheme, gen quorum.Generation) *testSet {
	t.Helper()
	sh, err := quorum.Reshare(ts.key, ts.set.Label, s, gen, day2)
	if err != nil {
		t.Fatal(err)
	}
	out := &testSet{key: ts.key, set: sh.Records[0].KeySet()}
	for _, r := range sh.Records {
		c := *r
		c.Share = bytes.Clone(r.Share)
		out.recs = append(out.recs, &c)
	}
	sh.Destroy()
	return out
}

// raw is record i as a card holds it.
func (ts *testSet) raw(t testing.TB, i int) []byte { return encode(t, ts.recs[i]) }

func encode(t testing.TB, r *quorum.Record) []byte {
	t.Helper()
	b, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, tcos.ShareEFSize)
	copy(out, b)
	return out
}

// altered is record i with its share changed and the record re-checksummed:
// a consistent record of the set whose share is wrong.
func (ts *testSet) altered(t testing.TB, i int) []byte {
	t.Helper()
	c := *ts.recs[i]
	c.Share = bytes.Clone(c.Share)
	c.Share[3] ^= 0x40
	return encode(t, &c)
}

// relabelled is record i with another label, re-checksummed.
func (ts *testSet) relabelled(t testing.TB, i int, label string) []byte {
	t.Helper()
	c := *ts.recs[i]
	c.Label = label
	return encode(t, &c)
}

// card is test card i holding raw.
func card(i int, raw []byte) Card { return Card{Serial: sn(i), TriesLeft: 3, Raw: raw} }

func hsmKeyOf(ts *testSet) *hsm.KeyInfo {
	return &hsm.KeyInfo{KeySetID: ts.set.ID, Label: ts.set.Label, KCV: ts.set.KCV}
}

// registerOf is a register whose current set is ts (its cards serials).
func registerOf(ts *testSet, serials ...int) hsm.CardSets {
	var ss []tcos.Serial
	for _, i := range serials {
		ss = append(ss, sn(i))
	}
	c := cardSetOf(ts.set, ss)
	return hsm.CardSets{Revision: 1, KCV: ts.set.KCV, KeyCheck: ts.key.Check(), Current: &c}
}

// regFault is what memRegister does at a call.
type regFault int

const (
	regOK         regFault = iota
	regFailRead            // CardSets fails
	regFailBefore          // UpdateCardSets fails, nothing written
	regFailAfter           // UpdateCardSets writes, then fails
)

var errRegister = errors.New("register: injected fault")

// memRegister is an in-memory hsm.CardSetRegister with the simulated HSM's
// semantics (compare-and-swap, the encoding round trip) and a fault hook.
type memRegister struct {
	mu     sync.Mutex
	b      []byte
	calls  int
	writes int
	fault  func(call int, update bool) regFault
}

func newMemRegister(t testing.TB, c hsm.CardSets) *memRegister {
	m := &memRegister{}
	if c.Current != nil {
		b, err := c.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		m.b = b
	}
	return m
}

func (m *memRegister) at(update bool) regFault {
	m.calls++
	if m.fault == nil {
		return regOK
	}
	return m.fault(m.calls-1, update)
}

func (m *memRegister) CardSets(ctx context.Context) (hsm.CardSets, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.at(false) == regFailRead {
		return hsm.CardSets{}, errRegister
	}
	return m.read()
}

func (m *memRegister) read() (hsm.CardSets, error) {
	if m.b == nil {
		return hsm.CardSets{}, nil
	}
	return hsm.ParseCardSets(m.b)
}

func (m *memRegister) UpdateCardSets(ctx context.Context, prev uint64, next hsm.CardSets) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := m.at(true)
	if f == regFailBefore || f == regFailRead {
		return errRegister
	}
	cur, err := m.read()
	if err != nil {
		return err
	}
	if cur.Revision != prev {
		return hsm.ErrCardSetsChanged
	}
	next.Revision = prev + 1
	b, err := next.MarshalBinary()
	if err != nil {
		return err
	}
	m.b = b
	m.writes++
	if f == regFailAfter {
		return errRegister
	}
	return nil
}

// state reads the register without counting a call.
func (m *memRegister) state(t testing.TB) hsm.CardSets {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	c, err := m.read()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (ts *testSet) String() string { return fmt.Sprintf("%s gen %d", ts.set.Scheme, ts.set.Generation) }

// rechecksum recomputes the checksum of a record as a card holds it (the
// last 8 bytes of the record are SHA-256 of what comes before, FORMAT.md).
func rechecksum(t testing.TB, b []byte) []byte {
	t.Helper()
	n := int(b[1]) + 2 // E1 L …: short form in these records
	if b[1] >= 0x80 {
		t.Fatal("rechecksum: long form")
	}
	sum := sha256.Sum256(b[:n-10]) // before the element 9E 08
	out := bytes.Clone(b)
	copy(out[n-8:n], sum[:8])
	return out
}

func hsmKeyOfSet(s quorum.KeySet) *hsm.KeyInfo {
	return &hsm.KeyInfo{KeySetID: s.ID, Label: s.Label, KCV: s.KCV}
}

func registerOfSet(s quorum.KeySet, check quorum.KeyCheck) hsm.CardSets {
	c := cardSetOf(s, []tcos.Serial{sn(1), sn(2), sn(3)})
	return hsm.CardSets{KCV: s.KCV, KeyCheck: check, Current: &c}
}

// heldBy is a simulated HSM holding ts's key, for a re-issue whose
// register has no key check yet to prove the rebuilt key against.
func heldBy(t testing.TB, ts *testSet) hsm.HSM {
	t.Helper()
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	if _, err := h.LoadBackupKey(context.Background(), ts.key.Bytes(), *hsmKeyOf(ts), false); err != nil {
		t.Fatal(err)
	}
	return h
}
