package hsm

// This file is the HSM side of the PKCS#11 slot user cards (issue 5, DESIGN
// "Card profile": DF 4C00). A slot's user PIN is a random secret that nobody
// types; the slot keeps it only wrapped to each enrolled card's public key,
// as public records beside the slot. Package slotuser makes the PINs and the
// wraps; this file is where they are kept and where the PIN is used.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// UserCard is one enrolled slot user card as the slot keeps it. Every field
// is public: the wrapped PIN opens only with the card's private key, which
// never leaves the card.
type UserCard struct {
	// Serial is the card's ICCSN (tcos.Serial).
	Serial [10]byte
	// Enrolled is when the card was enrolled.
	Enrolled time.Time
	// PublicKey is the card's RSA public key, PKIX DER. It lets the slot's
	// PIN be re-wrapped to the card without the card.
	PublicKey []byte
	// WrappedPIN is the slot's user PIN, RSA-OAEP-SHA-256 to PublicKey.
	WrappedPIN []byte
	// Generation counts the slot's user PINs; every card of one PIN has the
	// same generation.
	Generation uint64
}

// MaxUserCardRecord bounds an encoded UserCard; a record from a token or a
// file that is larger is refused before parsing.
const MaxUserCardRecord = 4096

// userCardJSON is the record format (version 1), one JSON object:
//
//	{"v":1,"serial":"<20 hex>","enrolled":"<RFC 3339>","gen":N,
//	 "public_key":"<base64 DER>","wrapped_pin":"<base64>"}
type userCardJSON struct {
	V          int       `json:"v"`
	Serial     string    `json:"serial"`
	Enrolled   time.Time `json:"enrolled"`
	Generation uint64    `json:"gen"`
	PublicKey  string    `json:"public_key"`
	WrappedPIN string    `json:"wrapped_pin"`
}

// ErrUserCardRecord: a stored user card record is malformed.
var ErrUserCardRecord = errors.New("malformed slot user card record")

// MarshalBinary encodes the record kept in the token or the state file.
func (u UserCard) MarshalBinary() ([]byte, error) {
	return json.Marshal(userCardJSON{
		V: 1, Serial: hex.EncodeToString(u.Serial[:]), Enrolled: u.Enrolled.UTC(), Generation: u.Generation,
		PublicKey:  base64.StdEncoding.EncodeToString(u.PublicKey),
		WrappedPIN: base64.StdEncoding.EncodeToString(u.WrappedPIN),
	})
}

// ParseUserCard decodes a record written by MarshalBinary. Errors match
// ErrUserCardRecord and say which field is wrong, never what it holds.
func ParseUserCard(b []byte) (UserCard, error) {
	bad := func(why string) (UserCard, error) {
		return UserCard{}, fmt.Errorf("%w: %s", ErrUserCardRecord, why)
	}
	if len(b) > MaxUserCardRecord {
		return bad("too long")
	}
	var j userCardJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return bad("not a JSON record")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("data after the record")
	}
	var u UserCard
	switch {
	case j.V != 1:
		return bad(fmt.Sprintf("unknown version %d", j.V))
	case len(j.Serial) != 2*len(u.Serial):
		return bad("serial")
	}
	if _, err := hex.Decode(u.Serial[:], []byte(j.Serial)); err != nil {
		return bad("serial")
	}
	var err error
	if u.PublicKey, err = base64.StdEncoding.Strict().DecodeString(j.PublicKey); err != nil || len(u.PublicKey) == 0 {
		return bad("public key")
	}
	if u.WrappedPIN, err = base64.StdEncoding.Strict().DecodeString(j.WrappedPIN); err != nil || len(u.WrappedPIN) == 0 {
		return bad("wrapped PIN")
	}
	if j.Enrolled.IsZero() {
		return bad("enrollment time")
	}
	u.Enrolled, u.Generation = j.Enrolled.UTC(), j.Generation
	return u, nil
}

// UserSlot is a PKCS#11 slot (or the simulated HSM's stand-in for one) whose
// user PIN is kept wrapped to slot user cards. Implementations are safe for
// use by several goroutines.
type UserSlot interface {
	// SlotName says which slot this is, for the screen.
	SlotName() string
	// UserCards lists the enrolled cards of the current user PIN.
	UserCards(ctx context.Context) ([]UserCard, error)
	// SetUserCards makes pin the slot's user PIN and cards (each with pin
	// wrapped to it) its enrolled cards, replacing both. It logs the slot's
	// user out first. It needs the slot's security officer where the slot has
	// one (the PKCS#11 token's SO PIN, given when the slot was opened).
	SetUserCards(ctx context.Context, pin []byte, cards []UserCard) error
	// Login logs the slot's user in with pin (C_Login), which makes the slot
	// active until Close or the next Login or SetUserCards. A wrong PIN gives
	// an error matching ErrWrongPIN.
	Login(ctx context.Context, pin []byte) error
	// Active reports whether the slot's user is logged in.
	Active() bool
	// Close logs out and releases the slot.
	Close() error
}

// ErrNoUserPIN means the slot has no user PIN of ours yet: no card was ever
// enrolled.
var ErrNoUserPIN = errors.New("the slot has no user PIN yet; enroll a user card first")

// ErrSOPINNeeded means enrolling or revoking needs the PKCS#11 token's SO PIN,
// which was not given.
var ErrSOPINNeeded = errors.New("pkcs11: enrolling and revoking user cards needs the token's SO PIN ($" + PKCS11SOPINEnv + ")")

// PKCS11SOPINEnv names the environment variable with the SO PIN of the token
// whose user cards are managed.
const PKCS11SOPINEnv = "HSMCARDS_PKCS11_SO_PIN"

// currentGeneration keeps the newest generation's cards: records of an older
// user PIN (left by an interrupted SetUserCards) wrap a PIN that no longer
// works.
func currentGeneration(cards []UserCard) []UserCard {
	var top uint64
	for _, c := range cards {
		top = max(top, c.Generation)
	}
	var out []UserCard
	for _, c := range cards {
		if c.Generation == top {
			out = append(out, c)
		}
	}
	return out
}

// withUserSlot is an HSM that also has a slot for user cards.
type withUserSlot struct {
	HSM
	slot UserSlot
}

func (w withUserSlot) UserSlot() UserSlot { return w.slot }

func (w withUserSlot) Close() error { return errors.Join(w.slot.Close(), w.HSM.Close()) }

// WithUserSlot returns h with slot as its slot for user cards (see
// UserSlotOf). Closing the result closes both.
func WithUserSlot(h HSM, slot UserSlot) HSM { return withUserSlot{HSM: h, slot: slot} }

// UserSlotOf returns the slot for user cards that h was given, if any.
func UserSlotOf(h HSM) (UserSlot, bool) {
	w, ok := h.(interface{ UserSlot() UserSlot })
	if !ok || w.UserSlot() == nil {
		return nil, false
	}
	return w.UserSlot(), true
}
