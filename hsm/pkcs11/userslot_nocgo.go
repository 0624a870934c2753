//go:build !cgo || !unix

package pkcs11

import (
	"context"

	"github.com/hsmcards/hsmcards/hsm"
)

// UserSlot is the PKCS#11 user card slot; without cgo it cannot be
// opened.
type UserSlot struct{}

var _ hsm.UserSlot = (*UserSlot)(nil)

// OpenUserSlot fails with an error matching hsm.ErrModule: no cgo, no modules.
func OpenUserSlot(modulePath string, sel TokenSelector, soPIN []byte) (*UserSlot, error) {
	return nil, errNoCGO
}

// SlotName says which slot this is.
func (p *UserSlot) SlotName() string { return "PKCS#11 slot (unavailable without cgo)" }

// Token describes the token; there is none without cgo.
func (p *UserSlot) Token() Token { return Token{} }

// Records fails: without cgo there is no token.
func (p *UserSlot) Records(ctx context.Context) (hsm.Records, error) { return hsm.Records{}, errNoCGO }

// Change fails: without cgo there is no token.
func (p *UserSlot) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	return hsm.ChangeResult{}, errNoCGO
}

// Login fails: without cgo there is no token.
func (p *UserSlot) Login(ctx context.Context, pin []byte) error { return errNoCGO }

// Logout does nothing: without cgo no one is logged in.
func (p *UserSlot) Logout() error { return nil }

// Audit fails: without cgo there is no token.
func (p *UserSlot) Audit(ctx context.Context) (hsm.Discrepancies, error) {
	return hsm.Discrepancies{}, errNoCGO
}

// Active is false: without cgo there is no token.
func (p *UserSlot) Active() bool { return false }

// Close does nothing.
func (p *UserSlot) Close() error { return nil }
