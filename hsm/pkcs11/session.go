//go:build cgo && unix

package pkcs11

// This file holds the PKCS#11 plumbing that HSM (the Backup Key's token)
// and UserSlot (the user card slot) share: loading a module once per
// process, claiming a token, one R/W session on it, the user login, and
// object search.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

// module is a loaded, initialised module. Cryptoki is initialised once per
// process (a second C_Initialize fails with CKR_CRYPTOKI_ALREADY_INITIALIZED,
// and C_Finalize ends every session), so all users of one module path share
// it, and the last one out finalises it.
type module struct {
	path string
	ctx  *p11.Ctx
	// secret makes the calls that carry a PIN or a key (secretcalls.go).
	secret *secretCalls
	refs   int
	// ownInit is false when something else in the process had initialised
	// the module; then we leave finalising to it.
	ownInit bool
	// inUse holds the slots with an open session of ours: login state is
	// per token and process, so a second one's C_Logout would log out the
	// first.
	inUse map[uint]bool
}

var modules = struct {
	sync.Mutex
	m map[string]*module
}{m: map[string]*module{}}

// acquireModule loads and initialises the module at path, or shares the one
// already loaded. Callers must release it.
func acquireModule(path string) (*module, error) {
	if path == "" {
		return nil, errorf([]error{hsm.ErrModule}, "pkcs11: no module path given (--pkcs11-module)")
	}
	if strings.ContainsRune(path, filepath.Separator) {
		// dlopen says little; a missing or unreadable file is worth naming.
		if _, err := os.Stat(path); err != nil {
			return nil, errorf([]error{hsm.ErrModule, err}, "pkcs11: cannot load module %q: %v", path, pathErrReason(err))
		}
	}
	modules.Lock()
	defer modules.Unlock()
	if m := modules.m[path]; m != nil {
		m.refs++
		return m, nil
	}
	ctx := p11.New(path)
	if ctx == nil {
		return nil, errorf([]error{hsm.ErrModule}, "pkcs11: cannot load module %q: not a loadable PKCS#11 library (dlopen or C_GetFunctionList failed)", path)
	}
	m := &module{path: path, ctx: ctx, refs: 1, ownInit: true, inUse: map[uint]bool{}}
	if err := ctx.Initialize(); err != nil {
		if !isCKR(err, p11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
			ctx.Destroy()
			return nil, errorf([]error{hsm.ErrModule, err}, "pkcs11: module %q: C_Initialize failed (%s)", path, ckrName(err))
		}
		m.ownInit = false
	}
	secret, err := openSecretCalls(path)
	if err != nil {
		if m.ownInit {
			_ = ctx.Finalize()
		}
		ctx.Destroy()
		return nil, errorf([]error{hsm.ErrModule}, "pkcs11: module %q: %v", path, err)
	}
	m.secret = secret
	modules.m[path] = m
	return m, nil
}

func pathErrReason(err error) string {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// release drops one reference; the last finalises and unloads the module.
func (m *module) release() error {
	modules.Lock()
	defer modules.Unlock()
	m.refs--
	if m.refs > 0 {
		return nil
	}
	delete(modules.m, m.path)
	var err error
	if m.ownInit {
		if ferr := m.ctx.Finalize(); ferr != nil {
			err = errorf([]error{ferr}, "pkcs11: module %q: C_Finalize failed (%s)", m.path, ckrName(ferr))
		}
	}
	m.secret.close()
	m.ctx.Destroy()
	return err
}

// tokens lists the initialised tokens of the module.
func (m *module) tokens() ([]Token, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return nil, errorf([]error{hsm.ErrModule, err}, "pkcs11: module %q: C_GetSlotList failed (%s)", m.path, ckrName(err))
	}
	var out []Token
	for _, id := range slots {
		ti, err := m.ctx.GetTokenInfo(id)
		if err != nil {
			// A token that vanished between the two calls is not ours.
			continue
		}
		if ti.Flags&flagTokenInitialized == 0 {
			continue
		}
		out = append(out, Token{
			SlotID:       id,
			Label:        safetext.Clean(ti.Label),
			Serial:       safetext.Clean(ti.SerialNumber),
			Manufacturer: safetext.Clean(ti.ManufacturerID),
			Model:        safetext.Clean(ti.Model),
			Flags:        ti.Flags,
		})
	}
	return out, nil
}

// claim marks slot as having an open session of ours; false if it already had.
func (m *module) claim(slot uint) bool {
	modules.Lock()
	defer modules.Unlock()
	if m.inUse[slot] {
		return false
	}
	m.inUse[slot] = true
	return true
}

// tokenSession is one R/W session on one claimed token of a shared module.
// Its owner serialises calls.
type tokenSession struct {
	mod     *module
	token   Token
	session p11.SessionHandle
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
func (s *tokenSession) openSession(modulePath string, sel TokenSelector, busy string, check func(Token) error) (err error) {
	m, err := acquireModule(modulePath)
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
	tok, err := selectToken(tokens, sel)
	if err != nil {
		return errorf([]error{err}, "%v (module %q)", err, modulePath)
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
	s.session, err = m.ctx.OpenSession(tok.SlotID, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		s.session = 0
		return errorf([]error{err}, "pkcs11: cannot open a read-write session on token %s (%s)", tok, ckrName(err))
	}
	return nil
}

// closeSession logs out a user login of ours, closes the session, gives up
// the claim and releases the module.
func (s *tokenSession) closeSession() error {
	var errs []error
	if s.session != 0 {
		errs = append(errs, s.logoutUser())
		if err := s.mod.ctx.CloseSession(s.session); err != nil {
			errs = append(errs, errorf([]error{err}, "pkcs11: C_CloseSession failed (%s)", ckrName(err)))
		}
		s.session = 0
	}
	if s.claimed {
		s.claimed = false
		modules.Lock()
		delete(s.mod.inUse, s.token.SlotID)
		modules.Unlock()
	}
	errs = append(errs, s.mod.release())
	return errors.Join(errs...)
}

// loginUser does C_Login as CKU_USER with pin (its C copy wiped, see
// secretcalls.go). With alreadyOK, a token that already has our process logged in
// (CKR_USER_ALREADY_LOGGED_IN) is fine, and the login is not ours to end.
func (s *tokenSession) loginUser(pin []byte, alreadyOK bool) error {
	if len(pin) == 0 {
		// miekg/pkcs11 cannot pass the NULL PIN of a protected
		// authentication path, and an empty PIN is CKR_ARGUMENTS_BAD.
		return errorf([]error{hsm.ErrWrongPIN}, "pkcs11: no PIN given for token %s", s.token)
	}
	err := s.mod.secret.login(s.session, p11.CKU_USER, pin)
	switch {
	case err == nil:
		s.loggedIn = true
		return nil
	case alreadyOK && isCKR(err, p11.CKR_USER_ALREADY_LOGGED_IN):
		return nil
	}
	// The flags may have changed with this attempt.
	if ti, terr := s.mod.ctx.GetTokenInfo(s.token.SlotID); terr == nil {
		s.token.Flags = ti.Flags
	}
	return loginError(err, s.token)
}

// logoutUser ends a user login of ours.
func (s *tokenSession) logoutUser() error {
	if !s.loggedIn {
		return nil
	}
	s.loggedIn = false
	if err := s.mod.ctx.Logout(s.session); err != nil && !isCKR(err, p11.CKR_USER_NOT_LOGGED_IN) {
		return errorf([]error{err}, "pkcs11: C_Logout failed (%s)", ckrName(err))
	}
	return nil
}

// findObjects lists the handles of the objects matching tmpl.
func (s *tokenSession) findObjects(tmpl []*p11.Attribute) ([]p11.ObjectHandle, error) {
	ctx := s.mod.ctx
	if err := ctx.FindObjectsInit(s.session, tmpl); err != nil {
		return nil, errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, ckrName(err))
	}
	var handles []p11.ObjectHandle
	for {
		hs, _, err := ctx.FindObjects(s.session, 64)
		if err != nil {
			_ = ctx.FindObjectsFinal(s.session)
			return nil, errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, ckrName(err))
		}
		if len(hs) == 0 {
			break
		}
		handles = append(handles, hs...)
	}
	if err := ctx.FindObjectsFinal(s.session); err != nil {
		return nil, errorf([]error{err}, "pkcs11: cannot search token %s (%s)", s.token, ckrName(err))
	}
	return handles, nil
}

// attrs reads the attributes types of object h, by type; the module's error
// is returned as it is, for the caller to explain.
func (s *tokenSession) attrs(h p11.ObjectHandle, types ...uint) (map[uint][]byte, error) {
	query := make([]*p11.Attribute, len(types))
	for i, typ := range types {
		query[i] = p11.NewAttribute(typ, nil)
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

// isCKR reports whether err is the PKCS#11 return value rv.
func isCKR(err error, rv uint) bool {
	var e p11.Error
	return errors.As(err, &e) && uint(e) == rv
}

// ckrName gives the CKR_ name of a module error ("CKR_PIN_INCORRECT").
func ckrName(err error) string {
	var e p11.Error
	if !errors.As(err, &e) {
		return err.Error()
	}
	s := e.Error() // "pkcs11: 0xA0: CKR_PIN_INCORRECT"
	if i := strings.LastIndex(s, ": "); i >= 0 && strings.HasPrefix(s[i+2:], "CKR_") {
		return s[i+2:]
	}
	return fmt.Sprintf("CKR 0x%X", uint(e))
}
