//go:build cgo

package hsm

// This file holds the PKCS#11 plumbing that PKCS11 (the Backup Key's token)
// and PKCS11UserSlot (the user card slot) share: loading a module once per
// process, claiming a token, one R/W session on it, the user login, and
// object search.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"unsafe"

	"github.com/miekg/pkcs11"
)

// p11Module is a loaded, initialised module. Cryptoki is initialised once per
// process (a second C_Initialize fails with CKR_CRYPTOKI_ALREADY_INITIALIZED,
// and C_Finalize ends every session), so all users of one module path share
// it, and the last one out finalises it.
type p11Module struct {
	path string
	ctx  *pkcs11.Ctx
	refs int
	// ownInit is false when something else in the process had initialised
	// the module; then we leave finalising to it.
	ownInit bool
	// inUse holds the slots with an open session of ours: login state is
	// per token and process, so a second one's C_Logout would log out the
	// first.
	inUse map[uint]bool
}

var p11Modules = struct {
	sync.Mutex
	m map[string]*p11Module
}{m: map[string]*p11Module{}}

// acquireP11Module loads and initialises the module at path, or shares the one
// already loaded. Callers must release it.
func acquireP11Module(path string) (*p11Module, error) {
	if path == "" {
		return nil, p11Errorf([]error{ErrModule}, "pkcs11: no module path given (--pkcs11-module)")
	}
	if strings.ContainsRune(path, filepath.Separator) {
		// dlopen says little; a missing or unreadable file is worth naming.
		if _, err := os.Stat(path); err != nil {
			return nil, p11Errorf([]error{ErrModule, err}, "pkcs11: cannot load module %q: %v", path, p11PathErrReason(err))
		}
	}
	p11Modules.Lock()
	defer p11Modules.Unlock()
	if m := p11Modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, p11Errorf([]error{ErrModule}, "pkcs11: cannot load module %q: not a loadable PKCS#11 library (dlopen or C_GetFunctionList failed)", path)
	}
	m := &p11Module{path: path, ctx: ctx, refs: 1, ownInit: true, inUse: map[uint]bool{}}
	if err := ctx.Initialize(); err != nil {
		if !p11Is(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, p11Errorf([]error{ErrModule, err}, "pkcs11: module %q: C_Initialize failed (%s)", path, p11CKRName(err))
		}
		m.ownInit = false
	}
	p11Modules.m[path] = m
	return m, nil
}

func p11PathErrReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// release drops one reference; the last finalises and unloads the module.
func (m *p11Module) release() error {
	p11Modules.Lock()
	defer p11Modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(p11Modules.m, m.path)
	var err error
	if m.ownInit {
		if ferr := m.ctx.Finalize(); ferr != nil {
			err = p11Errorf([]error{ferr}, "pkcs11: module %q: C_Finalize failed (%s)", m.path, p11CKRName(ferr))
		}
	}
	m.ctx.Destroy()
	return err
}

// tokens lists the initialised tokens of the module.
func (m *p11Module) tokens() ([]PKCS11Token, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return nil, p11Errorf([]error{ErrModule, err}, "pkcs11: module %q: C_GetSlotList failed (%s)", m.path, p11CKRName(err))
	}
	var out []PKCS11Token
	for _, id := range slots {
		ti, err := m.ctx.GetTokenInfo(id)
		if err != nil {
			// A token that vanished between the two calls is not ours.
			continue
		}
		if ti.Flags&p11FlagTokenInitialized == 0 {
			continue
		}
		out = append(out, PKCS11Token{
			SlotID:       id,
			Label:        p11Printable(ti.Label),
			Serial:       p11Printable(ti.SerialNumber),
			Manufacturer: p11Printable(ti.ManufacturerID),
			Model:        p11Printable(ti.Model),
			Flags:        ti.Flags,
		})
	}
	return out, nil
}

// claim marks slot as having an open session of ours; false if it already had.
func (m *p11Module) claim(slot uint) bool {
	p11Modules.Lock()
	defer p11Modules.Unlock()
	if m.inUse[slot] {
		return false
	}
	m.inUse[slot] = true
	return true
}

// p11Session is one R/W session on one claimed token of a shared module.
// Its owner serialises calls.
type p11Session struct {
	mod     *p11Module
	token   PKCS11Token
	session pkcs11.SessionHandle
	// loggedIn says we logged the user in, so logoutUser logs out; it stays
	// false when the token already had our process logged in.
	loggedIn bool
	// claimed says this one holds the token's slot in mod.inUse.
	claimed bool
}

// openSession loads the module at modulePath, picks a token with sel, claims
// it (busy is added to the error when it is already claimed), lets check
// refuse it, and opens a R/W session, not logged in. On error it has undone
// all of it.
func (s *p11Session) openSession(modulePath string, sel TokenSelector, busy string, check func(PKCS11Token) error) (err error) {
	m, err := acquireP11Module(modulePath)
	if err != nil {
		return err
	}
	s.mod = m
	defer func() {
		if err != nil {
			err = errors.Join(err, s.closeSession())
		}
	}()
	tokens, err := m.tokens()
	if err != nil {
		return err
	}
	tok, err := p11SelectToken(tokens, sel)
	if err != nil {
		return p11Errorf([]error{err}, "%v (module %q)", err, modulePath)
	}
	if !m.claim(tok.SlotID) {
		return fmt.Errorf("pkcs11: token %s is already open in this program%s", tok, busy)
	}
	s.token, s.claimed = tok, true
	if check != nil {
		if err := check(tok); err != nil {
			return err
		}
	}
	s.session, err = m.ctx.OpenSession(tok.SlotID, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		s.session = 0
		return p11Errorf([]error{err}, "pkcs11: cannot open a read-write session on token %s (%s)", tok, p11CKRName(err))
	}
	return nil
}

// closeSession logs out a user login of ours, closes the session, gives up
// the claim and releases the module.
func (s *p11Session) closeSession() error {
	var errs []error
	if s.session != 0 {
		errs = append(errs, s.logoutUser())
		if err := s.mod.ctx.CloseSession(s.session); err != nil {
			errs = append(errs, p11Errorf([]error{err}, "pkcs11: C_CloseSession failed (%s)", p11CKRName(err)))
		}
		s.session = 0
	}
	if s.claimed {
		s.claimed = false
		p11Modules.Lock()
		delete(s.mod.inUse, s.token.SlotID)
		p11Modules.Unlock()
	}
	errs = append(errs, s.mod.release())
	return errors.Join(errs...)
}

// loginUser does C_Login as CKU_USER with a copy of pin that it wipes (see
// p11String). With alreadyOK, a token that already has our process logged in
// (CKR_USER_ALREADY_LOGGED_IN) is fine, and the login is not ours to end.
func (s *p11Session) loginUser(pin []byte, alreadyOK bool) error {
	if len(pin) == 0 {
		// miekg/pkcs11 cannot pass the NULL PIN of a protected
		// authentication path, and an empty PIN is CKR_ARGUMENTS_BAD.
		return p11Errorf([]error{ErrWrongPIN}, "pkcs11: no PIN given for token %s", s.token)
	}
	own := bytes.Clone(pin)
	defer clear(own)
	err := s.mod.ctx.Login(s.session, pkcs11.CKU_USER, p11String(own))
	switch {
	case err == nil:
		s.loggedIn = true
		return nil
	case alreadyOK && p11Is(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		return nil
	}
	// The flags may have changed with this attempt.
	if ti, terr := s.mod.ctx.GetTokenInfo(s.token.SlotID); terr == nil {
		s.token.Flags = ti.Flags
	}
	return p11LoginError(err, s.token)
}

// logoutUser ends a user login of ours.
func (s *p11Session) logoutUser() error {
	if !s.loggedIn {
		return nil
	}
	s.loggedIn = false
	if err := s.mod.ctx.Logout(s.session); err != nil && !p11Is(err, pkcs11.CKR_USER_NOT_LOGGED_IN) {
		return p11Errorf([]error{err}, "pkcs11: C_Logout failed (%s)", p11CKRName(err))
	}
	return nil
}

// findObjects lists the handles of the objects matching tmpl.
func (s *p11Session) findObjects(tmpl []*pkcs11.Attribute) ([]pkcs11.ObjectHandle, error) {
	ctx := s.mod.ctx
	if err := ctx.FindObjectsInit(s.session, tmpl); err != nil {
		return nil, p11Errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, p11CKRName(err))
	}
	var handles []pkcs11.ObjectHandle
	for {
		hs, _, err := ctx.FindObjects(s.session, 64)
		if err != nil {
			_ = ctx.FindObjectsFinal(s.session)
			return nil, p11Errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, p11CKRName(err))
		}
		if len(hs) == 0 {
			break
		}
		handles = append(handles, hs...)
	}
	if err := ctx.FindObjectsFinal(s.session); err != nil {
		return nil, p11Errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, p11CKRName(err))
	}
	return handles, nil
}

// attrs reads the attributes types of object h, by type; the module's error
// is returned as it is, for the caller to explain.
func (s *p11Session) attrs(h pkcs11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	query := make([]*pkcs11.Attribute, len(types))
	for i, typ := range types {
		query[i] = pkcs11.NewAttribute(typ, nil)
	}
	got, err := s.mod.ctx.GetAttributeValue(s.session, h, query)
	if err != nil {
		return nil, err
	}
	out := make(map[uint][]byte, len(got))
	for _, a := range got {
		out[a.Type] = a.Value
	}
	return out, nil
}

// p11String hands the module a Go string that aliases b, so wiping b wipes it
// (the module's C copy is freed unwiped by miekg/pkcs11, out of our reach).
func p11String(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// p11Is reports whether err is the PKCS#11 return value rv.
func p11Is(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// p11CKRName gives the CKR_ name of a module error ("CKR_PIN_INCORRECT").
func p11CKRName(err error) string {
	var e pkcs11.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	s := e.Error() // "pkcs11: 0xA0: CKR_PIN_INCORRECT"
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s[i+2:], "CKR_") {
		return s[i+2:]
	}
	return fmt.Sprintf("CKR 0x%X", uint(e))
}
