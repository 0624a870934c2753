//go:build cgo && unix

package pkcs11

import (
	"errors"
	"sync"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

// HSM is the Backup Key's home in a PKCS#11 token: one logged-in RW session
// on one token of one module. It is safe for use by several goroutines.
type HSM struct {
	mu sync.Mutex
	tokenSession
	closed bool
	// extraTemplate is appended to the key template; tests use it to make a
	// real token refuse the template.
	extraTemplate []attr
	// hooks let tests stop a load at its steps (loadlock.go).
	hooks loadHooks
}

var _ hsm.HSM = (*HSM)(nil)

// ListTokens lists the initialised tokens of the module at modulePath,
// so the wizard can offer a choice before it asks for a PIN.
func ListTokens(modulePath string) (tokens []Token, err error) {
	m, err := acquireModule(modulePath)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, m.release()) }()
	return m.tokens()
}

// Open loads the module at modulePath, picks a token with sel, opens a
// read-write session and logs in as the user with pin. It wipes its own copy
// of the PIN; the caller wipes pin.
func Open(modulePath string, sel TokenSelector, pin []byte) (*HSM, error) {
	p := &HSM{}
	locked := func(tok Token) error {
		if tok.PINLocked() {
			return errorf([]error{hsm.ErrPINLocked}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
		}
		return nil
	}
	if err := p.openSession(modulePath, sel, "", locked); err != nil {
		return nil, err
	}
	if err := p.loginUser(pin, true); err != nil {
		return nil, errors.Join(err, p.closeSession())
	}
	return p, nil
}

// loginError turns C_Login's failure into an error that says what the
// operator can do, with the token's lock state as its flags report it.
func loginError(err error, tok Token) error {
	note := ""
	if n := tok.PINNote(); n != "" {
		note = "; " + n
	}
	switch {
	case isCKR(err, p11.CKR_PIN_INCORRECT):
		errs := []error{hsm.ErrWrongPIN, err}
		if tok.PINLocked() {
			errs = append(errs, hsm.ErrPINLocked)
		}
		return errorf(errs, "pkcs11: wrong PIN for token %s%s", tok, note)
	case isCKR(err, p11.CKR_PIN_LOCKED):
		return errorf([]error{hsm.ErrPINLocked, err}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
	case isCKR(err, p11.CKR_PIN_LEN_RANGE):
		return errorf([]error{hsm.ErrWrongPIN, err}, "pkcs11: the PIN for token %s has a length the token does not accept%s", tok, note)
	case isCKR(err, p11.CKR_USER_PIN_NOT_INITIALIZED):
		return errorf([]error{err}, "pkcs11: token %s has no user PIN yet; its security officer must set one", tok)
	case isCKR(err, p11.CKR_PIN_EXPIRED):
		return errorf([]error{err}, "pkcs11: the user PIN of token %s has expired; change it with the token's tools", tok)
	}
	return errorf([]error{err}, "pkcs11: cannot log in to token %s (%s)", tok, ckrName(err))
}

// Name says which HSM this is, for the screen.
func (p *HSM) Name() string { return "PKCS#11 token " + p.token.Label }

// Token describes the token in use.
func (p *HSM) Token() Token { return p.token }

// Close logs out, closes the session and, if no one else in the process uses
// the module, finalises and unloads it. Calling it again does nothing.
func (p *HSM) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.closeSession()
}
