//go:build cgo && unix

package pkcs11

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

// Slot user card records are public CKO_DATA token objects in the slot's own
// token: CKA_APPLICATION userCardApp, CKA_LABEL
// "hsmcards-user-card:<20 hex digits of the card serial>", CKA_VALUE the
// hsm.UserCard record (MarshalBinary). Public, so they can be listed before
// anyone logs in: activating needs the wrapped PIN first.
const (
	userCardApp   = "hsmcards slot user card"
	userCardLabel = "hsmcards-user-card:"
)

// UserSlot is a PKCS#11 token whose user PIN is kept wrapped to slot
// user cards. It holds one R/W session, logged in as the user while active
// and as the SO only inside SetUserCards.
type UserSlot struct {
	mu sync.Mutex
	tokenSession
	soPIN  []byte
	closed bool
}

var _ hsm.UserSlot = (*UserSlot)(nil)

// OpenUserSlot opens a session (not logged in) on the token sel of the
// module at modulePath. soPIN, the token's SO PIN, is needed only to enroll
// and revoke (SetUserCards); it may be nil for activating alone. The slot
// keeps its own copy of soPIN until Close; the caller wipes soPIN.
//
// It must not be the token that holds the Backup Key: its user PIN becomes a
// secret only the cards know.
func OpenUserSlot(modulePath string, sel TokenSelector, soPIN []byte) (*UserSlot, error) {
	p := &UserSlot{}
	if err := p.openSession(modulePath, sel, " (the user card slot must not be the Backup Key's token)", nil); err != nil {
		return nil, err
	}
	p.soPIN = bytes.Clone(soPIN)
	return p, nil
}

// SlotName says which slot this is, for the screen.
func (p *UserSlot) SlotName() string {
	return fmt.Sprintf("PKCS#11 token %q (slot %d)", p.token.Label, p.token.SlotID)
}

// Token describes the token.
func (p *UserSlot) Token() Token { return p.token }

func (p *UserSlot) usable() error {
	if p.closed {
		return errors.New("pkcs11: the user card slot is closed")
	}
	return nil
}

// UserCards lists the user card records of the current generation.
func (p *UserSlot) UserCards(ctx context.Context) ([]hsm.UserCard, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return nil, err
	}
	objs, err := p.findCards()
	if err != nil {
		return nil, err
	}
	cards := make([]hsm.UserCard, 0, len(objs))
	for _, o := range objs {
		if o.err != nil {
			return nil, o.err
		}
		cards = append(cards, o.card)
	}
	return currentGeneration(cards), nil
}

type cardObject struct {
	handle p11.ObjectHandle
	card   hsm.UserCard
	err    error
}

// findCards finds every user card record object, parsed.
func (p *UserSlot) findCards() ([]cardObject, error) {
	handles, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_APPLICATION, userCardApp),
	})
	if err != nil {
		return nil, err
	}
	var out []cardObject
	for _, h := range handles {
		attrs, err := p.attrs(h, p11.CKA_LABEL, p11.CKA_VALUE)
		if err != nil {
			out = append(out, cardObject{handle: h, err: errorf([]error{err}, "pkcs11: cannot read a user card record in token %s (%s)", p.token, ckrName(err))})
			continue
		}
		label, value := string(attrs[p11.CKA_LABEL]), attrs[p11.CKA_VALUE]
		u, err := hsm.ParseUserCard(value)
		if err == nil && label != userCardLabel+hex.EncodeToString(u.Serial[:]) {
			err = fmt.Errorf("%w: its label does not name its card", hsm.ErrUserCardRecord)
		}
		if err != nil {
			err = fmt.Errorf("pkcs11: token %s: %w", p.token, err)
		}
		out = append(out, cardObject{handle: h, card: u, err: err})
	}
	return out, nil
}

// SetUserCards logs in as the SO, creates the new records, sets the user PIN
// (C_InitPIN) and removes the old records, in that order: should it stop half
// way, the newest generation of records is the one shown, and the SO can
// enroll again.
func (p *UserSlot) SetUserCards(ctx context.Context, pin []byte, cards []hsm.UserCard) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(pin) == 0 {
		return errors.New("pkcs11: empty user PIN")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	if len(p.soPIN) == 0 {
		return hsm.ErrSOPINNeeded
	}
	if err := p.logoutUser(); err != nil {
		return err
	}
	if err := p.loginSO(); err != nil {
		return err
	}
	defer func() {
		if lerr := p.mod.ctx.Logout(p.session); lerr != nil && !isCKR(lerr, p11.CKR_USER_NOT_LOGGED_IN) {
			err = errors.Join(err, errorf([]error{lerr}, "pkcs11: C_Logout of the SO failed (%s)", ckrName(lerr)))
		}
	}()
	old, err := p.findCards()
	if err != nil {
		return err
	}
	var created []p11.ObjectHandle
	undo := func(err error) error {
		for _, h := range created {
			if derr := p.mod.ctx.DestroyObject(p.session, h); derr != nil {
				err = errors.Join(err, errorf([]error{derr}, "pkcs11: cannot remove a new user card record (%s)", ckrName(derr)))
			}
		}
		return err
	}
	for _, c := range cards {
		rec, err := c.MarshalBinary()
		if err != nil {
			return undo(err)
		}
		h, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, false),
			p11.NewAttribute(p11.CKA_APPLICATION, userCardApp),
			p11.NewAttribute(p11.CKA_LABEL, userCardLabel+hex.EncodeToString(c.Serial[:])),
			p11.NewAttribute(p11.CKA_VALUE, rec),
		})
		if err != nil {
			return undo(errorf([]error{err}, "pkcs11: cannot store a user card record in token %s (%s)", p.token, ckrName(err)))
		}
		created = append(created, h)
	}
	if err := p.mod.secret.initPIN(p.session, pin); err != nil {
		return undo(errorf([]error{err}, "pkcs11: token %s did not take the new user PIN (C_InitPIN: %s)", p.token, ckrName(err)))
	}
	for _, o := range old {
		if err := p.mod.ctx.DestroyObject(p.session, o.handle); err != nil {
			return errorf([]error{err}, "pkcs11: the new user PIN is set, but an old user card record could not be removed from token %s (%s)", p.token, ckrName(err))
		}
	}
	return nil
}

func (p *UserSlot) loginSO() error {
	err := p.mod.secret.login(p.session, p11.CKU_SO, p.soPIN)
	switch {
	case err == nil:
		return nil
	case isCKR(err, p11.CKR_PIN_INCORRECT):
		return errorf([]error{hsm.ErrWrongPIN, err}, "pkcs11: wrong SO PIN for token %s", p.token)
	case isCKR(err, p11.CKR_PIN_LOCKED):
		return errorf([]error{hsm.ErrPINLocked, err}, "pkcs11: the SO PIN of token %s is locked", p.token)
	case isCKR(err, p11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN), isCKR(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		return errorf([]error{err}, "pkcs11: another login to token %s is active; close the other program using it", p.token)
	}
	return errorf([]error{err}, "pkcs11: cannot log in to token %s as SO (%s)", p.token, ckrName(err))
}

// Login does C_Login as CKU_USER with pin: the slot is then active.
func (p *UserSlot) Login(ctx context.Context, pin []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	if err := p.logoutUser(); err != nil {
		return err
	}
	return p.loginUser(pin, false)
}

// Active reports whether this session is logged in as the user, as the
// token itself says.
func (p *UserSlot) Active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || !p.loggedIn {
		return false
	}
	si, err := p.mod.ctx.GetSessionInfo(p.session)
	return err == nil && (si.State == p11.CKS_RW_USER_FUNCTIONS || si.State == p11.CKS_RO_USER_FUNCTIONS)
}

// Close logs out, closes the session, wipes the SO PIN and releases the module.
func (p *UserSlot) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.close()
}

func (p *UserSlot) close() error {
	clear(p.soPIN)
	p.soPIN = nil
	return p.closeSession()
}

// currentGeneration keeps the newest generation's cards: records of an older
// user PIN (left by an interrupted SetUserCards) wrap a PIN that no longer
// works.
func currentGeneration(cards []hsm.UserCard) []hsm.UserCard {
	var top uint64
	for _, c := range cards {
		top = max(top, c.Generation)
	}
	var out []hsm.UserCard
	for _, c := range cards {
		if c.Generation == top {
			out = append(out, c)
		}
	}
	return out
}
