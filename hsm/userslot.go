package hsm

// The HSM side of the PKCS#11 slot user cards (docs/pkcs11.md, "Slot user
// cards"). A slot's user PIN is a random secret that nobody types; the slot
// keeps it only wrapped to each enrolled card's public key, in records
// beside the slot. Package slotuser makes the PINs and plans the changes;
// the slot keeps the records, and the list of its cards that nobody without
// the slot's PIN can change, and wraps the PIN only to that list.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/internal/oaep"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/secmem"
)

// UserCard is one enrolled slot user card as the slot keeps it. Every field
// is public: the wrapped PIN opens only with the card's private key, which
// never leaves the card.
type UserCard struct {
	// Serial is the card's ICCSN (tcos.Serial).
	Serial [10]byte
	// Label names the card for the people who handle it (its holder, say):
	// the security officer reads it beside the serial before every change.
	// Printable, at most MaxCardLabel characters; it may be empty.
	Label string
	// Enrolled is when the card was enrolled.
	Enrolled time.Time
	// PublicKey is the card's RSA public key, PKIX DER. It lets the slot's
	// PIN be wrapped to the card anew without the card.
	PublicKey []byte
	// WrappedPIN is the slot's user PIN, RSA-OAEP-SHA-256 to PublicKey.
	WrappedPIN []byte
	// Generation counts the changes of the slot's cards; every record of
	// one user PIN has the same.
	Generation uint64
	// Format is the record format it was read from (MarshalBinary writes
	// the newest, 2).
	Format int
}

// SameCard reports whether a and b are the same enrollment: serial, label,
// enrollment time and public key (the wrapped PIN may differ).
func SameCard(a, b UserCard) bool {
	return a.Serial == b.Serial && a.Label == b.Label && a.Enrolled.Equal(b.Enrolled) && bytes.Equal(a.PublicKey, b.PublicKey)
}

// SerialString is a card serial as the screen shows it (tcos.Serial's
// String).
func SerialString(s [10]byte) string { return strings.ToUpper(hex.EncodeToString(s[:])) }

// MaxUserCardRecord bounds an encoded UserCard; a record from a token or a
// file that is larger is refused before parsing.
const MaxUserCardRecord = 4096

// MaxCardLabel is the longest card label, in characters: what fits beside a
// serial and a date on an 80-column line.
const MaxCardLabel = 24

// CheckCardLabel says what is wrong with a card label, or nil.
func CheckCardLabel(label string) error {
	if !utf8.ValidString(label) {
		return errors.New("the card label is not valid text")
	}
	if n := utf8.RuneCountInString(label); n > MaxCardLabel {
		return fmt.Errorf("the card label has %d characters, at most %d fit", n, MaxCardLabel)
	}
	for _, r := range label {
		if !unicode.IsPrint(r) {
			return errors.New("the card label may hold printable characters only")
		}
	}
	if label != strings.TrimSpace(label) {
		return errors.New("the card label begins or ends with a space")
	}
	return nil
}

// userCardJSON is the record format, one JSON object (version 2; version 1
// had no label):
//
//	{"v":2,"serial":"<20 hex>","label":"...","enrolled":"<RFC 3339>","gen":N,
//	 "public_key":"<base64 DER>","wrapped_pin":"<base64>"}
type userCardJSON struct {
	V          int       `json:"v"`
	Serial     string    `json:"serial"`
	Label      *string   `json:"label,omitempty"`
	Enrolled   time.Time `json:"enrolled"`
	Generation uint64    `json:"gen"`
	PublicKey  string    `json:"public_key"`
	WrappedPIN string    `json:"wrapped_pin"`
}

// ErrUserCardRecord: a stored user card record is malformed.
var ErrUserCardRecord = errors.New("malformed slot user card record")

// MarshalBinary encodes the record kept in the token or the state file.
func (u UserCard) MarshalBinary() ([]byte, error) {
	label := u.Label
	return json.Marshal(userCardJSON{
		V: 2, Serial: hex.EncodeToString(u.Serial[:]), Label: &label, Enrolled: u.Enrolled.UTC(), Generation: u.Generation,
		PublicKey:  base64.StdEncoding.EncodeToString(u.PublicKey),
		WrappedPIN: base64.StdEncoding.EncodeToString(u.WrappedPIN),
	})
}

// ParseUserCard decodes a record written by MarshalBinary (format 2) or by
// an earlier hsmcards (format 1). Errors match ErrUserCardRecord and say
// which field is wrong, never what it holds.
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
	case j.V != 1 && j.V != 2:
		return bad(fmt.Sprintf("unknown version %d", j.V))
	case (j.V == 1) != (j.Label == nil):
		return bad("label")
	case len(j.Serial) != 2*len(u.Serial):
		return bad("serial")
	}
	if _, err := hex.Decode(u.Serial[:], []byte(j.Serial)); err != nil {
		return bad("serial")
	}
	if j.Label != nil {
		if CheckCardLabel(*j.Label) != nil || safetext.Clean(*j.Label) != *j.Label {
			return bad("label")
		}
		u.Label = *j.Label
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
	u.Enrolled, u.Generation, u.Format = j.Enrolled.UTC(), j.Generation, j.V
	return u, nil
}

// Refusal says why a record is refused.
type Refusal int

// Why records are refused. The first three can be told from a record alone;
// the rest only against the slot's own list of cards, after its user logged
// in.
const (
	// RefusedMalformed: not a record hsmcards writes.
	RefusedMalformed Refusal = iota + 1
	// RefusedDuplicate: one of several records for one card.
	RefusedDuplicate
	// RefusedFormat1: written by an hsmcards from before records were
	// checked against the slot's own list.
	RefusedFormat1
	// RefusedUnlisted: a card that is not in the slot's own list.
	RefusedUnlisted
	// RefusedAltered: a card of the list, but not the record hsmcards
	// wrote for it.
	RefusedAltered
	// RefusedOutdated: a card's record from an earlier change of the
	// slot's cards, put back or left by a change that did not finish.
	RefusedOutdated
)

func (r Refusal) String() string {
	switch r {
	case RefusedMalformed:
		return "not a record hsmcards writes"
	case RefusedDuplicate:
		return "one of several records for this card"
	case RefusedFormat1:
		return "written before records were checked (enroll the card again)"
	case RefusedUnlisted:
		return "not a card of this slot: hsmcards did not write it"
	case RefusedAltered:
		return "changed since hsmcards wrote it"
	case RefusedOutdated:
		return "an old record of this card, put back"
	}
	return "refused"
}

// RefusedRecord is a record in the slot that hsmcards does not use.
type RefusedRecord struct {
	// Serial and Label are what the record claims (zero when it does not
	// parse); Label is cleaned for the screen.
	Serial [10]byte
	Label  string
	Reason Refusal
}

func (r RefusedRecord) String() string {
	if r.Serial == ([10]byte{}) {
		return "a record: " + r.Reason.String()
	}
	return CardName(UserCard{Serial: r.Serial, Label: r.Label}) + ": " + r.Reason.String()
}

// CardName names a card for the screen: `card 0102…0A "label"`.
func CardName(c UserCard) string {
	s := "card " + SerialString(c.Serial)
	if c.Label != "" {
		s += fmt.Sprintf(" %q", c.Label)
	}
	return s
}

// Records is what a slot's records say before anything vouches for them.
type Records struct {
	// Cards are the records that parse, one per card.
	Cards []UserCard
	// Refused are the records hsmcards will not use.
	Refused []RefusedRecord
}

// Discrepancies are where a slot's records and its own list of cards differ.
type Discrepancies struct {
	// Refused are records the list does not vouch for.
	Refused []RefusedRecord
	// Missing are cards of the list whose record is gone.
	Missing []UserCard
}

// None reports whether the records and the list agree.
func (d Discrepancies) None() bool { return len(d.Refused) == 0 && len(d.Missing) == 0 }

// CardChange is one change of a slot's cards, as its security officer
// confirmed it.
type CardChange struct {
	// Enroll is the card being enrolled, its public key read from the card
	// itself in this process; nil when none is.
	Enroll *UserCard
	// Revoke is the serial of the card being revoked; nil when none is.
	Revoke *[10]byte
	// Confirmed are the cards the security officer was shown and agreed the
	// slot's user PIN be wrapped to (SameCard identity; wraps ignored).
	Confirmed []UserCard
}

// ChangeResult is what a change did.
type ChangeResult struct {
	// Cards are the slot's cards now, each with the new PIN wrapped to it.
	Cards []UserCard
	// Removed are records the slot had that hsmcards did not write, or that
	// were outdated: they are gone.
	Removed []RefusedRecord
}

// RecordsError says a change was not made because the cards it would leave
// are not those the security officer confirmed: the records the change was
// planned from did not match the slot's own list of cards (someone without
// the slot's PINs added, changed or removed records). The slot's user PIN is
// renewed all the same and wrapped to the cards of its own list, unchanged
// (Kept): a PKCS#11 token's C_InitPIN comes before the list can be read.
type RecordsError struct {
	Discrepancies
	// Kept are the slot's cards, to which its new user PIN is wrapped.
	Kept []UserCard
	// ListMissing says the slot has no list of its own (no change was ever
	// made, or one by an hsmcards from before lists), so no record could
	// be vouched for.
	ListMissing bool
}

func (e *RecordsError) Error() string {
	var parts []string
	for _, r := range e.Refused {
		parts = append(parts, r.String())
	}
	for _, c := range e.Missing {
		parts = append(parts, CardName(c)+": its record was gone (written again)")
	}
	s := "the slot's records do not match its own list of cards, so the change was not made"
	if e.ListMissing {
		s = "the slot has no list of its own cards to check its records against, so the change was not made and every record was refused"
	}
	if len(parts) > 0 {
		s += " (" + strings.Join(parts, "; ") + ")"
	}
	return s
}

// ApplyChange returns the cards change leaves of own, the slot's own list,
// and whether they are exactly the cards the security officer confirmed.
func ApplyChange(own []UserCard, change CardChange) ([]UserCard, bool) {
	next := make([]UserCard, 0, len(own)+1)
	for _, c := range own {
		if change.Revoke != nil && c.Serial == *change.Revoke {
			continue
		}
		if change.Enroll != nil && c.Serial == change.Enroll.Serial {
			return own, false // the list has it already: the records hid it
		}
		next = append(next, c)
	}
	// Revoking a card the list does not have (a planted record) leaves the
	// list's cards, which is what the security officer confirmed if the rest
	// matches: the record goes with the change.
	if change.Enroll != nil {
		next = append(next, *change.Enroll)
	}
	if len(next) != len(change.Confirmed) {
		return own, false
	}
	for _, c := range change.Confirmed {
		found := false
		for _, n := range next {
			found = found || SameCard(c, n)
		}
		if !found {
			return own, false
		}
	}
	return next, true
}

// WrapPIN returns cards with pin wrapped to each one's public key, in
// generation gen. It leaves no copy of pin (internal/oaep).
func WrapPIN(cards []UserCard, pin []byte, gen uint64) ([]UserCard, error) {
	out := make([]UserCard, len(cards))
	for i, c := range cards {
		k, err := x509.ParsePKIXPublicKey(c.PublicKey)
		pub, ok := k.(*rsa.PublicKey)
		if err != nil || !ok {
			return nil, fmt.Errorf("the stored public key of card %s is unusable", SerialString(c.Serial))
		}
		// Under secmem.Do, a build with runtime/secret also erases the
		// registers and stack the encryption used.
		secmem.Do(func() { c.WrappedPIN, err = oaep.Encrypt(rand.Reader, pub, pin) })
		if err != nil {
			return nil, fmt.Errorf("card %s: %w", SerialString(c.Serial), err)
		}
		c.Generation, c.Format = gen, 2
		out[i] = c
	}
	return out, nil
}

// UserSlot is a PKCS#11 slot (or the simulated HSM's stand-in for one) whose
// user PIN is kept wrapped to slot user cards. Implementations are safe for
// use by several goroutines.
type UserSlot interface {
	// SlotName says which slot this is, for the screen.
	SlotName() string
	// Records lists the slot's user card records as anyone may read them
	// before the slot's user logs in. Nothing vouches for them: they serve
	// to find a card's wrapped PIN, and to show the security officer what a
	// change starts from.
	Records(ctx context.Context) (Records, error)
	// Change makes pin the slot's user PIN and wraps it to the cards change
	// leaves of the slot's own list of cards, which only the slot's user
	// can write; records it did not write go. It logs the slot's user out
	// first and needs the slot's security officer where the slot has one
	// (the PKCS#11 token's SO PIN, given when the slot was opened). When
	// the cards it would leave are not change.Confirmed, it makes no change
	// and says so with a *RecordsError.
	Change(ctx context.Context, pin []byte, change CardChange) (ChangeResult, error)
	// Login logs the slot's user in with pin (C_Login), which makes the slot
	// active until Close or the next Login or Change. A wrong PIN gives an
	// error matching ErrWrongPIN.
	Login(ctx context.Context, pin []byte) error
	// Audit compares the records with the slot's own list of cards; the
	// slot must be active.
	Audit(ctx context.Context) (Discrepancies, error)
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
