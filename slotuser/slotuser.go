// Package slotuser enrolls, activates and revokes PKCS#11 slot user cards
// (issue 5; DESIGN "Card profile", DF 4C00).
//
// A slot's user PIN is a random secret that nobody types (PINLength random
// letters and digits). The slot keeps it only wrapped — RSA-OAEP with
// SHA-256 — to the public key of each enrolled card, whose private key never
// leaves the card. Any one enrolled card, with its own PIN, activates the slot
// on its own: the card deciphers its wrap on the card, and the PIN goes
// straight into C_Login and is wiped.
//
// Every enrollment and every revocation makes a fresh user PIN and wraps it
// anew to each remaining card's stored public key (no card needs to be
// present but the one being enrolled). So a revoked card is locked out even
// if someone kept a copy of its old wrap, and revoking the last card leaves a
// PIN that no one can recover. Setting the PIN is the slot's security
// officer's act (for a PKCS#11 token, C_InitPIN after C_Login as SO).
package slotuser

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos"
)

// MaxCards is how many user cards one slot may have (issue 5).
const MaxCards = 5

// PINLength is the length of a slot's user PIN: 32 characters of 62 kinds,
// about 190 bits, within every PKCS#11 token's PIN length range we know of
// (SoftHSM2 takes 4–255).
const PINLength = 32

const pinAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Errors for the wizard to match.
var (
	ErrFull            = fmt.Errorf("the slot already has %d user cards; revoke one first", MaxCards)
	ErrAlreadyEnrolled = errors.New("this card is already enrolled for the slot; revoke it first to enroll it again")
	ErrNotEnrolled     = errors.New("this card is not enrolled for the slot")
	// ErrKeyChanged: the card's key pair is not the one it was enrolled with
	// (it was generated again since).
	ErrKeyChanged = errors.New("this card's key pair changed since it was enrolled; revoke it and enroll it again")
	// ErrCardCannotUnwrap: the card did not decipher a PIN wrapped to its
	// own public key correctly.
	ErrCardCannotUnwrap = errors.New("the card could not unwrap a PIN wrapped to its own key")
	// ErrDamagedAnswer: what the card unwrapped is not a PIN newPIN makes, so
	// its answer was spoilt on the way. It never reaches C_Login, where it
	// would count as a wrong user PIN (a token locks its user PIN after a
	// few, locking out every card) and read as a stale enrollment.
	ErrDamagedAnswer = errors.New("the card's answer was damaged on its way; nothing was sent to the slot, try again")
)

// Card is the card's half: a tcos.Session with the slot PIN verified.
type Card interface {
	GenerateKeyPair(ctx context.Context) error
	ReadPublicKey(ctx context.Context) (*rsa.PublicKey, error)
	Decipher(ctx context.Context, ciphertext []byte) ([]byte, error)
}

var _ Card = (*tcos.Session)(nil)

// newPIN makes a random user PIN; the caller wipes it.
func newPIN() ([]byte, error) {
	pin := make([]byte, PINLength)
	var buf [64]byte
	for i := 0; i < len(pin); {
		if _, err := rand.Read(buf[:]); err != nil {
			return nil, err
		}
		for _, b := range buf {
			// 62*4 = 248: reject above, so every character is equally likely.
			if int(b) < 4*len(pinAlphabet) && i < len(pin) {
				pin[i] = pinAlphabet[int(b)%len(pinAlphabet)]
				i++
			}
		}
	}
	clear(buf[:])
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

func wrap(pub *rsa.PublicKey, pin []byte) ([]byte, error) {
	return rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, pin, nil)
}

func find(cards []hsm.UserCard, serial tcos.Serial) int {
	for i, c := range cards {
		if c.Serial == serial {
			return i
		}
	}
	return -1
}

// enrolled lists the slot's cards and finds the one with serial in them;
// ErrNotEnrolled if it is not.
func enrolled(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial) ([]hsm.UserCard, int, error) {
	cards, err := slot.UserCards(ctx)
	if err != nil {
		return nil, -1, err
	}
	i := find(cards, serial)
	if i < 0 {
		return nil, -1, ErrNotEnrolled
	}
	return cards, i, nil
}

// rewrap gives every card a wrap of pin under its stored public key, in
// generation gen.
func rewrap(cards []hsm.UserCard, pin []byte, gen uint64) ([]hsm.UserCard, error) {
	out := make([]hsm.UserCard, len(cards))
	for i, c := range cards {
		k, err := x509.ParsePKIXPublicKey(c.PublicKey)
		pub, ok := k.(*rsa.PublicKey)
		if err != nil || !ok {
			return nil, fmt.Errorf("the stored public key of card %s is unusable", tcos.Serial(c.Serial))
		}
		w, err := wrap(pub, pin)
		if err != nil {
			return nil, err
		}
		c.WrappedPIN, c.Generation = w, gen
		out[i] = c
	}
	return out, nil
}

func nextGeneration(cards []hsm.UserCard) uint64 {
	var g uint64
	for _, c := range cards {
		g = max(g, c.Generation)
	}
	return g + 1
}

// Enroll enrolls the card (its slot PIN verified) for slot. The card's key
// pair is reused if it has one — a card may serve several slots — and
// generated otherwise. A card already enrolled is refused (ErrAlreadyEnrolled):
// revoke it first, so that replacing a card is always two visible acts. The
// slot gets a fresh user PIN, wrapped to every enrolled card and the new one;
// the card proves it can unwrap its wrap before anything is stored.
func Enroll(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial, card Card, now time.Time) (hsm.UserCard, error) {
	cards, err := slot.UserCards(ctx)
	if err != nil {
		return hsm.UserCard{}, err
	}
	if find(cards, serial) >= 0 {
		return hsm.UserCard{}, ErrAlreadyEnrolled
	}
	if len(cards) >= MaxCards {
		return hsm.UserCard{}, ErrFull
	}
	pub, err := card.ReadPublicKey(ctx)
	if errors.Is(err, tcos.ErrNoKeyPair) {
		if err = card.GenerateKeyPair(ctx); err == nil {
			pub, err = card.ReadPublicKey(ctx)
		}
	}
	if err != nil {
		return hsm.UserCard{}, err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return hsm.UserCard{}, err
	}
	pin, err := newPIN()
	if err != nil {
		return hsm.UserCard{}, err
	}
	defer clear(pin)
	gen := nextGeneration(cards)
	all, err := rewrap(append(cards, hsm.UserCard{Serial: serial, Enrolled: now.UTC(), PublicKey: der}), pin, gen)
	if err != nil {
		return hsm.UserCard{}, err
	}
	mine := all[len(all)-1]
	back, err := card.Decipher(ctx, mine.WrappedPIN)
	if err != nil {
		return hsm.UserCard{}, err
	}
	same := subtle.ConstantTimeCompare(back, pin) == 1
	clear(back)
	if !same {
		return hsm.UserCard{}, ErrCardCannotUnwrap
	}
	if err := slot.SetUserCards(ctx, pin, all); err != nil {
		return hsm.UserCard{}, err
	}
	return mine, nil
}

// Activate has the card (its slot PIN verified) unwrap the slot's user PIN
// and logs the slot's user in with it. The PIN is wiped at once.
func Activate(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial, card Card) error {
	cards, i, err := enrolled(ctx, slot, serial)
	if err != nil {
		return err
	}
	pub, err := card.ReadPublicKey(ctx)
	if errors.Is(err, tcos.ErrNoKeyPair) {
		return ErrKeyChanged
	}
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil || subtle.ConstantTimeCompare(der, cards[i].PublicKey) != 1 {
		return ErrKeyChanged
	}
	pin, err := card.Decipher(ctx, cards[i].WrappedPIN)
	if err != nil {
		return err
	}
	defer clear(pin)
	if !wellFormed(pin) {
		return ErrDamagedAnswer
	}
	return slot.Login(ctx, pin)
}

// Revoke removes the card from slot. It needs no card: a lost card must be
// revocable. The slot gets a fresh user PIN wrapped to the remaining cards.
func Revoke(ctx context.Context, slot hsm.UserSlot, serial tcos.Serial) error {
	cards, i, err := enrolled(ctx, slot, serial)
	if err != nil {
		return err
	}
	rest := append(cards[:i:i], cards[i+1:]...)
	pin, err := newPIN()
	if err != nil {
		return err
	}
	defer clear(pin)
	rest, err = rewrap(rest, pin, nextGeneration(cards))
	if err != nil {
		return err
	}
	return slot.SetUserCards(ctx, pin, rest)
}

// List returns the enrolled cards, oldest enrollment first.
func List(ctx context.Context, slot hsm.UserSlot) ([]hsm.UserCard, error) {
	cards, err := slot.UserCards(ctx)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(cards, func(i, j int) bool { return cards[i].Enrolled.Before(cards[j].Enrolled) })
	return cards, nil
}
