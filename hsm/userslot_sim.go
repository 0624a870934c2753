package hsm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hsmcards/hsmcards/internal/atomicfile"
)

// SimUserSlotFile is the simulated slot's state file inside the simulated
// HSM's directory.
const SimUserSlotFile = "slot-users.json"

// SimUserSlot is the simulated HSM's PKCS#11 slot for user cards. Its state
// file holds the enrolled cards' records and a salted SHA-256 of the user
// PIN, the way a token keeps a PIN verifier: never the PIN itself. Login
// compares against it.
type SimUserSlot struct {
	mu     sync.Mutex
	dir    string
	active bool
	closed bool
}

var _ UserSlot = (*SimUserSlot)(nil)

// OpenSimUserSlot opens the simulated slot whose state lives in dir (the
// simulated HSM's directory), creating dir if needed.
func OpenSimUserSlot(dir string) (*SimUserSlot, error) {
	if err := makeStateDir(dir, "simulated slot"); err != nil {
		return nil, err
	}
	return &SimUserSlot{dir: dir}, nil
}

// SlotName says which slot this is, for the screen.
func (s *SimUserSlot) SlotName() string { return "simulated PKCS#11 slot" }

// Path is the state file.
func (s *SimUserSlot) Path() string { return filepath.Join(s.dir, SimUserSlotFile) }

type simSlotState struct {
	Format  int             `json:"format"`
	PIN     *simPINVerifier `json:"user_pin"`
	Records []simRecord     `json:"cards"`
}

type simPINVerifier struct {
	Salt hexBytes `json:"salt"`
	Hash hexBytes `json:"sha256"`
}

// simRecord is a UserCard record as ParseUserCard reads it, inline.
type simRecord = json.RawMessage

func pinVerifier(pin []byte) *simPINVerifier {
	v := &simPINVerifier{Salt: make([]byte, 16)}
	rand.Read(v.Salt)
	v.Hash = simPINHash(v.Salt, pin)
	return v
}

// simPINHash is SHA-256(salt || pin). The hash keeps the unhashed end of
// its input in its state, which Reset leaves: it is overwritten before the
// state goes.
func simPINHash(salt, pin []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(pin)
	sum := h.Sum(nil)
	h.Reset()
	h.Write(make([]byte, sha256.BlockSize-1))
	return sum
}

func errSlotDamaged(why string) error {
	return fmt.Errorf("simulated slot: the state file is damaged (%s)", why)
}

var errSlotClosed = errors.New("simulated slot: closed")

func (s *SimUserSlot) read() (*simSlotState, []UserCard, error) {
	if s.closed {
		return nil, nil, errSlotClosed
	}
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return &simSlotState{Format: 1}, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("simulated slot: %w", err)
	}
	var st simSlotState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, nil, errSlotDamaged("not valid state JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, nil, errSlotDamaged("data after the state")
	}
	if st.Format != 1 {
		return nil, nil, errSlotDamaged(fmt.Sprintf("unknown format %d", st.Format))
	}
	if st.PIN != nil && (len(st.PIN.Salt) != 16 || len(st.PIN.Hash) != sha256.Size) {
		return nil, nil, errSlotDamaged("the user PIN verifier")
	}
	cards := make([]UserCard, 0, len(st.Records))
	for i, r := range st.Records {
		u, err := ParseUserCard(r)
		if err != nil {
			return nil, nil, errSlotDamaged(fmt.Sprintf("card record %d: %v", i+1, err))
		}
		cards = append(cards, u)
	}
	return &st, cards, nil
}

// Records lists the enrolled cards: the state file is the simulated slot's
// own list, and nothing but its records.
func (s *SimUserSlot) Records(ctx context.Context) (Records, error) {
	if err := ctx.Err(); err != nil {
		return Records{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, cards, err := s.read()
	return Records{Cards: cards}, err
}

// Change replaces the user PIN verifier and the cards in one atomic write.
// The simulated slot has no security officer.
func (s *SimUserSlot) Change(ctx context.Context, pin []byte, change CardChange) (ChangeResult, error) {
	if err := ctx.Err(); err != nil {
		return ChangeResult{}, err
	}
	if len(pin) == 0 {
		return ChangeResult{}, errors.New("simulated slot: empty user PIN")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ChangeResult{}, errSlotClosed
	}
	s.active = false
	_, own, err := s.read()
	if err != nil {
		return ChangeResult{}, err
	}
	next, ok := ApplyChange(own, change)
	var gen uint64
	for _, c := range own {
		gen = max(gen, c.Generation)
	}
	wrapped, err := WrapPIN(next, pin, gen+1)
	if err != nil {
		return ChangeResult{}, fmt.Errorf("simulated slot: %w", err)
	}
	st := simSlotState{Format: 1, PIN: pinVerifier(pin), Records: []simRecord{}}
	for _, c := range wrapped {
		r, err := c.MarshalBinary()
		if err != nil {
			return ChangeResult{}, fmt.Errorf("simulated slot: %w", err)
		}
		st.Records = append(st.Records, r)
	}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return ChangeResult{}, fmt.Errorf("simulated slot: %w", err)
	}
	if err := atomicfile.Write(s.Path(), append(b, '\n')); err != nil {
		return ChangeResult{}, fmt.Errorf("simulated slot: %w", err)
	}
	if !ok {
		return ChangeResult{}, &RecordsError{Kept: wrapped}
	}
	return ChangeResult{Cards: wrapped}, nil
}

// Login checks pin against the stored verifier; the slot is then active.
func (s *SimUserSlot) Login(ctx context.Context, pin []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active = false
	st, _, err := s.read()
	if err != nil {
		return err
	}
	if st.PIN == nil {
		return ErrNoUserPIN
	}
	if subtle.ConstantTimeCompare(simPINHash(st.PIN.Salt, pin), st.PIN.Hash) != 1 {
		return NewError("simulated slot: wrong user PIN", ErrWrongPIN)
	}
	s.active = true
	return nil
}

// Audit finds nothing: the state file is both the records and the list.
func (s *SimUserSlot) Audit(ctx context.Context) (Discrepancies, error) {
	if !s.Active() {
		return Discrepancies{}, errors.New("simulated slot: not active")
	}
	return Discrepancies{}, ctx.Err()
}

// Active reports whether Login succeeded since the last change.
func (s *SimUserSlot) Active() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Close logs out; later calls fail.
func (s *SimUserSlot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.active, s.closed = false, true
	return nil
}
