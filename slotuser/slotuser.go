// Package slotuser enrolls, activates and revokes PKCS#11 slot user cards
// (docs/pkcs11.md, "Slot user cards"; the appliance manual, Smart Card
// Handling: "PKCS#11 slot activation user smart card").
//
// A slot's user PIN is a random secret that nobody types (PINLength random
// letters and digits). The slot keeps it only wrapped — RSA-OAEP with
// SHA-256 — to the public key of each enrolled card, whose private key never
// leaves the card. Any one enrolled card, with its own PIN, activates the slot
// on its own: the card deciphers its wrap on the card, and the PIN goes
// straight into C_Login and is wiped.
//
// Every enrollment and every revocation makes a fresh user PIN, which the
// slot wraps anew to each card of its own list of cards (no card needs to be
// present but the one being enrolled). So a revoked card is locked out even
// if someone kept a copy of its old wrap, and revoking the last card leaves a
// PIN that no one can recover. A change is planned first (PrepareEnroll,
// PlanRevoke), shown to the slot's security officer, and made only when they
// confirm it (Apply); the slot makes it only if the cards it would leave are
// those the security officer saw.
package slotuser

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// MaxCards is how many user cards one slot may have.
const MaxCards = 5

// PINLength is the length of a slot's user PIN: 32 characters of 62 kinds,
// about 190 bits, within every PKCS#11 token's PIN length range we know of
// (SoftHSM2 takes 4–255).
const PINLength = 32

const pinAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Errors for the wizard to match. Those of an activation say what the
// records, the card or the slot showed; none sends a PIN the slot could
// count as wrong, but ErrStaleRecord, which is the slot's own answer.
var (
	ErrFull            = fmt.Errorf("the slot already has %d user cards; revoke one first", MaxCards)
	ErrAlreadyEnrolled = errors.New("this card is already enrolled for the slot; revoke it first to enroll it again")
	// ErrNotEnrolled: the slot holds no record for the card. Records are
	// public token objects, so a deleted record looks the same; the next
	// change writes the record of every card of the slot's own list again.
	ErrNotEnrolled = errors.New("the slot holds no record for this card: it is not enrolled, or its record was deleted from the token")
	// ErrDuplicateRecords: several records name the card. hsmcards writes
	// one; nothing is sent to the slot, so no try of its user PIN is spent
	// on a planted one.
	ErrDuplicateRecords = errors.New("the slot holds several records for this card; hsmcards writes one, so the others were planted or left by a change that did not finish")
	// ErrKeyChanged: the card's record names another public key than the
	// card has.
	ErrKeyChanged = errors.New("the slot's record for this card names another key than the card holds: the card made a new key pair since it was enrolled, or the record was changed by another program")
	// ErrWrapRefused: the card could not unwrap the PIN in its record.
	ErrWrapRefused = errors.New("the card cannot unwrap the PIN in its record: the record was changed by another program, or the card made a new key pair")
	// ErrStaleRecord: the slot refused the PIN the card unwrapped.
	ErrStaleRecord = errors.New("the slot refused the PIN in this card's record: the record is older than the slot's PIN (put back, or left by a change that did not finish) or was written by another program")
	// ErrCardCannotUnwrap: the card did not decipher a PIN wrapped to its
	// own public key correctly.
	ErrCardCannotUnwrap = errors.New("the card could not unwrap a PIN wrapped to its own key")
	// ErrDamagedAnswer: what the card unwrapped is not a PIN newPIN makes:
	// its answer was spoilt on the way, or its record was forged. It never
	// reaches C_Login, where it would count as a wrong user PIN (a token
	// locks its user PIN after a few, locking out every card).
	ErrDamagedAnswer = errors.New("what the card unwrapped is not a slot PIN: its answer was damaged on its way, or its record was forged; nothing was sent to the slot")
)

// RefusedError says the card's only record is one hsmcards does not use.
type RefusedError struct {
	Record hsm.RefusedRecord
}

func (e *RefusedError) Error() string {
	return "the slot's record for this card is refused: " + e.Record.Reason.String()
}

// Card is the card's half: a tcos.Session with the slot PIN verified.
type Card interface {
	GenerateKeyPair(ctx context.Context) error
	ReadPublicKey(ctx context.Context) (*rsa.PublicKey, error)
	Decipher(ctx context.Context, ciphertext []byte) ([]byte, error)
}

var _ Card = (*tcos.Session)(nil)

// newPIN makes a random user PIN in locked memory outside the Go heap; the
// caller destroys it.
func newPIN() (*secmem.Buffer, error) {
	pin, err := secmem.NewBuffer(PINLength)
	if err != nil {
		return nil, err
	}
	b := pin.Bytes()
	var buf [64]byte
	defer secmem.Wipe(buf[:])
	for i := 0; i < len(b); {
		if _, err := rand.Read(buf[:]); err != nil {
			pin.Destroy()
			return nil, err
		}
		for _, r := range buf {
			// 62*4 = 248: reject above, so every character is equally likely.
			if int(r) < 4*len(pinAlphabet) && i < len(b) {
				b[i] = pinAlphabet[int(r)%len(pinAlphabet)]
				i++
			}
		}
	}
	return pin, nil
}

// wellFormed says whether pin is one newPIN could have made.
func wellFormed(pin []byte) bool {
	if len(pin) != PINLength {
		return false
	}
	for _, c := range pin {
		if !bytes.ContainsRune([]byte(pinAlphabet), rune(c)) {
			return false
		}
	}
	return true
}

// Plan is a change of a slot's cards, for its security officer to see and
// confirm before anything changes.
type Plan struct {
	// Cards are the cards the slot's new user PIN is to be wrapped to.
	Cards []hsm.UserCard
	// Enrolling is the card being enrolled (also in Cards); nil when
	// revoking.
	Enrolling *hsm.UserCard
	// Revoking is the card being revoked; nil when enrolling.
	Revoking *hsm.UserCard
	// Refused are the slot's records that hsmcards does not use; the change
	// removes them.
	Refused []hsm.RefusedRecord
}

func find(cards []hsm.UserCard, serial tcos.Serial) int {
	for i, c := range cards {
		if c.Serial == serial {
			return i
		}
	}
	return -1
}

// PlanRevoke plans revoking the card with serial from the slot whose records
// are recs. It needs no card: a lost card must be revocable.
func PlanRevoke(recs hsm.Records, serial tcos.Serial) (*Plan, error) {
	i := find(recs.Cards, serial)
	if i < 0 {
		return nil, ErrNotEnrolled
	}
	revoking := recs.Cards[i]
	return &Plan{
		Cards:    append(recs.Cards[:i:i], recs.Cards[i+1:]...),
		Revoking: &revoking,
		Refused:  recs.Refused,
	}, nil
}

// PlanEnroll plans enrolling card (serial, label, enrollment time and
// public key) for the slot whose records are recs.
func PlanEnroll(recs hsm.Records, card hsm.UserCard) (*Plan, error) {
	if find(recs.Cards, card.Serial) >= 0 {
		return nil, ErrAlreadyEnrolled
	}
	if len(recs.Cards) >= MaxCards {
		return nil, ErrFull
	}
	if err := hsm.CheckCardLabel(card.Label); err != nil {
		return nil, err
	}
	card.WrappedPIN, card.Generation = nil, 0
	return &Plan{
		Cards:     append(append([]hsm.UserCard(nil), recs.Cards...), card),
		Enrolling: &card,
		Refused:   recs.Refused,
	}, nil
}

// PrepareEnroll has the card (its slot PIN verified) show its key pair, or
// make one if it has none — a card may serve several slots — and prove it
// unwraps what is wrapped to that key; then it plans its enrollment for the
// slot, under label. Nothing is stored.
func PrepareEnroll(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial, card Card, label string, now time.Time) (*Plan, error) {
	if err := hsm.CheckCardLabel(label); err != nil {
		return nil, err
	}
	recs, err := slot.Records(ctx)
	if err != nil {
		return nil, err
	}
	if find(recs.Cards, serial) >= 0 {
		return nil, ErrAlreadyEnrolled
	}
	if len(recs.Cards) >= MaxCards {
		return nil, ErrFull
	}
	pub, err := card.ReadPublicKey(ctx)
	if errors.Is(err, tcos.ErrNoKeyPair) {
		if err = card.GenerateKeyPair(ctx); err == nil {
			pub, err = card.ReadPublicKey(ctx)
		}
	}
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	u := hsm.UserCard{Serial: serial, Label: label, Enrolled: now.UTC(), PublicKey: der}
	if err := proveUnwrap(ctx, card, u); err != nil {
		return nil, err
	}
	return PlanEnroll(recs, u)
}

// proveUnwrap wraps a random PIN to the card's key as the slot will, and
// has the card unwrap it.
func proveUnwrap(ctx context.Context, card Card, u hsm.UserCard) error {
	test, err := newPIN()
	if err != nil {
		return err
	}
	defer test.Destroy()
	wrapped, err := hsm.WrapPIN([]hsm.UserCard{u}, test.Bytes(), 0)
	if err != nil {
		return err
	}
	back, err := card.Decipher(ctx, wrapped[0].WrappedPIN)
	if err != nil {
		return err
	}
	same := subtle.ConstantTimeCompare(back, test.Bytes()) == 1
	secmem.Wipe(back)
	if !same {
		return ErrCardCannotUnwrap
	}
	return nil
}

// Apply makes the change plan says, as the security officer confirmed it: a
// fresh user PIN, wrapped by the slot to plan.Cards. When the slot's own
// list of cards does not give plan.Cards, nothing of the change is made
// (*hsm.RecordsError). The PIN exists only inside Apply and the slot.
func Apply(ctx context.Context, slot hsm.UserSlot, plan *Plan) (hsm.ChangeResult, error) {
	change := hsm.CardChange{Enroll: plan.Enrolling, Confirmed: plan.Cards}
	if plan.Revoking != nil {
		s := plan.Revoking.Serial
		change.Revoke = &s
	}
	pin, err := newPIN()
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	defer pin.Destroy()
	return slot.Change(ctx, pin.Bytes(), change)
}

// Activate has the card (its slot PIN verified) unwrap the slot's user PIN
// and logs the slot's user in with it; the PIN is wiped at once. With the
// slot active it reads the slot's own list of cards and returns where the
// records differ from it; an *AuditError says that failed, the slot active.
func Activate(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial, card Card) (hsm.Discrepancies, error) {
	recs, err := slot.Records(ctx)
	if err != nil {
		return hsm.Discrepancies{}, err
	}
	i := find(recs.Cards, serial)
	if i < 0 {
		for _, r := range recs.Refused {
			if r.Serial != serial {
				continue
			}
			if r.Reason == hsm.RefusedDuplicate {
				return hsm.Discrepancies{}, ErrDuplicateRecords
			}
			return hsm.Discrepancies{}, &RefusedError{Record: r}
		}
		return hsm.Discrepancies{}, ErrNotEnrolled
	}
	rec := recs.Cards[i]
	pub, err := card.ReadPublicKey(ctx)
	if errors.Is(err, tcos.ErrNoKeyPair) {
		return hsm.Discrepancies{}, ErrKeyChanged
	}
	if err != nil {
		return hsm.Discrepancies{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil || subtle.ConstantTimeCompare(der, rec.PublicKey) != 1 {
		return hsm.Discrepancies{}, ErrKeyChanged
	}
	if len(rec.WrappedPIN) != tcos.CiphertextLen {
		return hsm.Discrepancies{}, ErrWrapRefused
	}
	pin, err := card.Decipher(ctx, rec.WrappedPIN)
	if errors.Is(err, tcos.ErrWrongData) {
		return hsm.Discrepancies{}, ErrWrapRefused
	}
	if err != nil {
		return hsm.Discrepancies{}, err
	}
	defer secmem.Wipe(pin)
	if !wellFormed(pin) {
		return hsm.Discrepancies{}, ErrDamagedAnswer
	}
	if err := slot.Login(ctx, pin); err != nil {
		if errors.Is(err, hsm.ErrWrongPIN) {
			return hsm.Discrepancies{}, fmt.Errorf("%w (%v)", ErrStaleRecord, err)
		}
		return hsm.Discrepancies{}, err
	}
	d, err := slot.Audit(ctx)
	if err != nil {
		return hsm.Discrepancies{}, &AuditError{Err: err}
	}
	return d, nil
}

// AuditError says the slot is active, but its records could not be checked
// against its own list of cards.
type AuditError struct {
	Err error
}

func (e *AuditError) Error() string {
	return "the slot is active, but its records could not be checked against its own list of cards: " + e.Err.Error()
}

func (e *AuditError) Unwrap() error { return e.Err }

// List returns the slot's records, oldest enrollment first.
func List(ctx context.Context, slot hsm.UserSlot) (hsm.Records, error) {
	recs, err := slot.Records(ctx)
	if err != nil {
		return hsm.Records{}, err
	}
	sort.SliceStable(recs.Cards, func(i, j int) bool { return recs.Cards[i].Enrolled.Before(recs.Cards[j].Enrolled) })
	return recs, nil
}
