//go:build !cgo

package hsm

import "context"

// PKCS11UserSlot is the PKCS#11 user card slot; without cgo it cannot be
// opened.
type PKCS11UserSlot struct{}

var _ UserSlot = (*PKCS11UserSlot)(nil)

// OpenPKCS11UserSlot fails with an error matching ErrModule: no cgo, no modules.
func OpenPKCS11UserSlot(modulePath string, sel TokenSelector, soPIN []byte) (*PKCS11UserSlot, error) {
	return nil, errNoCGO
}

// SlotName says which slot this is.
func (p *PKCS11UserSlot) SlotName() string { return "PKCS#11 slot (unavailable without cgo)" }

// Token describes the token; there is none without cgo.
func (p *PKCS11UserSlot) Token() PKCS11Token { return PKCS11Token{} }

// UserCards fails: without cgo there is no token.
func (p *PKCS11UserSlot) UserCards(ctx context.Context) ([]UserCard, error) { return nil, errNoCGO }

// SetUserCards fails: without cgo there is no token.
func (p *PKCS11UserSlot) SetUserCards(ctx context.Context, pin []byte, cards []UserCard) error {
	return errNoCGO
}

// Login fails: without cgo there is no token.
func (p *PKCS11UserSlot) Login(ctx context.Context, pin []byte) error { return errNoCGO }

// Active is false: without cgo there is no token.
func (p *PKCS11UserSlot) Active() bool { return false }

// Close does nothing.
func (p *PKCS11UserSlot) Close() error { return nil }
