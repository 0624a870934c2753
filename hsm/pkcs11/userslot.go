//go:build cgo && unix

package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/secmem"
)

const (
	// userCardApp is the records' CKA_APPLICATION (cardlist.go).
	userCardApp = "hsmcards slot user card"
	// cardListApp is the own list's CKA_APPLICATION.
	cardListApp = "hsmcards slot user card list"
	// cardListLabel is the own list's CKA_LABEL.
	cardListLabel = "hsmcards-user-card-list"
)

func (l cardList) userCards() []hsm.UserCard {
	out := make([]hsm.UserCard, len(l.cards))
	for i, c := range l.cards {
		out[i] = c.card
	}
	return out
}

// UserSlot is a PKCS#11 token whose user PIN is kept wrapped to slot user
// cards (docs/pkcs11.md, "Slot user cards"). Its records are public token
// objects, so that a card can find its wrapped PIN before anyone logs in;
// anyone can add, change or delete them. What the slot's PIN is wrapped to is
// decided by the slot's own list of cards, a private object that only a
// session logged in with the slot's user PIN can write: a change logs in as
// the SO, sets a fresh user PIN (C_InitPIN), logs in as the user with it,
// reads the list, and writes the records and the next list.
//
// It holds one R/W session, logged in as the user while active and as the
// SO, then the user, only inside Change.
type UserSlot struct {
	mu sync.Mutex
	tokenSession
	soPIN  *secmem.Buffer
	closed bool
}

var _ hsm.UserSlot = (*UserSlot)(nil)

// OpenUserSlot opens a session (not logged in) on the token sel of the
// module at modulePath. soPIN, the token's SO PIN, is needed only to enroll
// and revoke (Change); it may be nil for activating alone. The slot keeps its
// own copy of soPIN, in locked memory outside the Go heap, until Close; the
// caller wipes soPIN.
//
// It must not be the token that holds the Backup Key: its user PIN becomes a
// secret only the cards know.
func OpenUserSlot(modulePath string, sel TokenSelector, soPIN []byte) (*UserSlot, error) {
	p := &UserSlot{}
	if len(soPIN) > 0 {
		b, err := secmem.NewBuffer(len(soPIN))
		if err != nil {
			return nil, err
		}
		copy(b.Bytes(), soPIN)
		p.soPIN = b
	}
	if err := p.openSession(modulePath, sel, " (the user card slot must not be the Backup Key's token)", nil); err != nil {
		p.soPIN.Destroy()
		return nil, err
	}
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

// Records lists the slot's records as anyone can read them.
func (p *UserSlot) Records(ctx context.Context) (hsm.Records, error) {
	if err := ctx.Err(); err != nil {
		return hsm.Records{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.Records{}, err
	}
	objs, _, err := p.recordObjects()
	if err != nil {
		return hsm.Records{}, err
	}
	return screen(objs), nil
}

// recordObjects reads every record object, with its handle.
func (p *UserSlot) recordObjects() ([]recordObject, []p11.ObjectHandle, error) {
	handles, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_APPLICATION, userCardApp),
	})
	if err != nil {
		return nil, nil, err
	}
	objs := make([]recordObject, 0, len(handles))
	for _, h := range handles {
		a, err := p.attrs(h, p11.CKA_LABEL, p11.CKA_VALUE)
		if err != nil {
			objs = append(objs, recordObject{err: errorf([]error{err}, "pkcs11: cannot read a user card record in token %s (%s)", p.token, ckrName(err))})
			continue
		}
		objs = append(objs, parseRecordObject(string(a[p11.CKA_LABEL]), a[p11.CKA_VALUE]))
	}
	return objs, handles, nil
}

// ownList reads the slot's own list, the newest if an interrupted change
// left two (both were written by the slot's user); ok is false when there
// is none, or none that parses.
func (p *UserSlot) ownList() (list cardList, handles []p11.ObjectHandle, ok bool, err error) {
	handles, err = p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_APPLICATION, cardListApp),
	})
	if err != nil {
		return cardList{}, nil, false, err
	}
	for _, h := range handles {
		a, err := p.attrs(h, p11.CKA_VALUE)
		if err != nil {
			continue
		}
		l, err := parseCardList(a[p11.CKA_VALUE])
		if err == nil && (!ok || l.generation > list.generation) {
			list, ok = l, true
		}
	}
	return list, handles, ok, nil
}

// Change sets a fresh user PIN as the SO, logs in as the user with it, and
// wraps it to the cards change leaves of the slot's own list. It writes the
// new records and the new list before it removes the old ones, so an
// interrupted change leaves records an activation refuses (and says so) and
// a list the next change reads.
func (p *UserSlot) Change(ctx context.Context, pin []byte, change hsm.CardChange) (_ hsm.ChangeResult, err error) {
	if err := ctx.Err(); err != nil {
		return hsm.ChangeResult{}, err
	}
	if len(pin) == 0 {
		return hsm.ChangeResult{}, errors.New("pkcs11: empty user PIN")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.ChangeResult{}, err
	}
	if p.soPIN == nil {
		return hsm.ChangeResult{}, hsm.ErrSOPINNeeded
	}
	if err := p.logoutUser(); err != nil {
		return hsm.ChangeResult{}, err
	}
	if err := p.loginSO(); err != nil {
		return hsm.ChangeResult{}, err
	}
	err = p.mod.secret.initPIN(p.session, pin)
	if lerr := p.logoutAny(); lerr != nil {
		err = errors.Join(err, lerr)
	}
	if err != nil {
		return hsm.ChangeResult{}, errorf([]error{err}, "pkcs11: token %s did not take the new user PIN (C_InitPIN: %s); nothing was changed", p.token, ckrName(err))
	}
	// From here the records wrap a PIN the token no longer has: a failure
	// is put right by the next change.
	if err := p.loginUser(pin, false); err != nil {
		return hsm.ChangeResult{}, fmt.Errorf("%w; the slot's user PIN was renewed but not wrapped to any card: enroll or revoke again", err)
	}
	defer func() { err = errors.Join(err, p.logoutUser()) }()

	list, lists, listed, err := p.ownList()
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	objs, handles, err := p.recordObjects()
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	_, d := audit(objs, list)
	next, ok := hsm.ApplyChange(list.userCards(), change)
	wrapped, err := hsm.WrapPIN(next, pin, list.generation+1)
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	if err := p.write(list.generation+1, wrapped); err != nil {
		return hsm.ChangeResult{}, err
	}
	for _, h := range append(lists, handles...) {
		if err := p.mod.ctx.DestroyObject(p.session, h); err != nil && !isCKR(err, p11.CKR_OBJECT_HANDLE_INVALID) {
			return hsm.ChangeResult{}, errorf([]error{err}, "pkcs11: the slot's cards are changed, but an old object could not be removed from token %s (%s); the next change removes it", p.token, ckrName(err))
		}
	}
	if !ok {
		return hsm.ChangeResult{}, &hsm.RecordsError{Discrepancies: d, Kept: wrapped, ListMissing: !listed}
	}
	return hsm.ChangeResult{Cards: wrapped, Removed: d.Refused}, nil
}

// write creates the records of cards and the list of them, in generation
// gen; on failure it removes what it created.
func (p *UserSlot) write(gen uint64, cards []hsm.UserCard) (err error) {
	var created []p11.ObjectHandle
	defer func() {
		if err == nil {
			return
		}
		for _, h := range created {
			if derr := p.mod.ctx.DestroyObject(p.session, h); derr != nil {
				err = errors.Join(err, errorf([]error{derr}, "pkcs11: cannot remove a new user card record (%s)", ckrName(derr)))
			}
		}
		err = fmt.Errorf("%w; the slot's user PIN was renewed but not wrapped to any card: enroll or revoke again", err)
	}()
	records := make([][]byte, len(cards))
	for i, c := range cards {
		if records[i], err = c.MarshalBinary(); err != nil {
			return err
		}
		h, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, false),
			p11.NewAttribute(p11.CKA_APPLICATION, userCardApp),
			p11.NewAttribute(p11.CKA_LABEL, recordLabel(c.Serial)),
			p11.NewAttribute(p11.CKA_VALUE, records[i]),
		})
		if err != nil {
			return errorf([]error{err}, "pkcs11: cannot store a user card record in token %s (%s)", p.token, ckrName(err))
		}
		created = append(created, h)
	}
	value, err := newCardList(gen, cards, records).marshal()
	if err != nil {
		return err
	}
	h, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_MODIFIABLE, false),
		p11.NewAttribute(p11.CKA_APPLICATION, cardListApp),
		p11.NewAttribute(p11.CKA_LABEL, cardListLabel),
		p11.NewAttribute(p11.CKA_VALUE, value),
	})
	if err != nil {
		return errorf([]error{err}, "pkcs11: cannot store the slot's list of cards in token %s (%s)", p.token, ckrName(err))
	}
	created = append(created, h)
	return nil
}

func (p *UserSlot) loginSO() error {
	err := p.mod.secret.login(p.session, p11.CKU_SO, p.soPIN.Bytes())
	switch {
	case err == nil:
		return nil
	case isCKR(err, p11.CKR_PIN_INCORRECT):
		return errorf([]error{hsm.ErrWrongPIN, err}, "pkcs11: wrong SO PIN for token %s; nothing was changed", p.token)
	case isCKR(err, p11.CKR_PIN_LOCKED):
		return errorf([]error{hsm.ErrPINLocked, err}, "pkcs11: the SO PIN of token %s is locked", p.token)
	case isCKR(err, p11.CKR_USER_ANOTHER_ALREADY_LOGGED_IN), isCKR(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		return errorf([]error{err}, "pkcs11: another login to token %s is active; close the other program using it", p.token)
	}
	return errorf([]error{err}, "pkcs11: cannot log in to token %s as SO (%s)", p.token, ckrName(err))
}

// logoutAny ends the SO's login.
func (p *UserSlot) logoutAny() error {
	if err := p.mod.ctx.Logout(p.session); err != nil && !isCKR(err, p11.CKR_USER_NOT_LOGGED_IN) {
		return errorf([]error{err}, "pkcs11: C_Logout of the SO failed (%s)", ckrName(err))
	}
	return nil
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

// Logout ends the user's login: the slot is no longer active.
func (p *UserSlot) Logout() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	return p.logoutUser()
}

// Audit reads the slot's own list, which needs the user logged in, and
// compares the records with it.
func (p *UserSlot) Audit(ctx context.Context) (hsm.Discrepancies, error) {
	if err := ctx.Err(); err != nil {
		return hsm.Discrepancies{}, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.Discrepancies{}, err
	}
	if !p.activeLocked() {
		return hsm.Discrepancies{}, errors.New("pkcs11: the slot is not active; its own list of cards cannot be read")
	}
	list, _, listed, err := p.ownList()
	if err != nil {
		return hsm.Discrepancies{}, err
	}
	objs, _, err := p.recordObjects()
	if err != nil {
		return hsm.Discrepancies{}, err
	}
	if !listed {
		list = cardList{}
	}
	_, d := audit(objs, list)
	return d, nil
}

// Active reports whether this session is logged in as the user, as the
// token itself says.
func (p *UserSlot) Active() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.closed && p.activeLocked()
}

func (p *UserSlot) activeLocked() bool {
	if !p.loggedIn {
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
	p.soPIN.Destroy()
	p.soPIN = nil
	return p.closeSession()
}
