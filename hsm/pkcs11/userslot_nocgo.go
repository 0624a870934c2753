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

// UserCards fails: without cgo there is no token.
func (p *UserSlot) UserCards(ctx context.Context) ([]hsm.UserCard, error) { return nil, errNoCGO }

// SetUserCards fails: without cgo there is no token.
func (p *UserSlot) SetUserCards(ctx context.Context, pin []byte, cards []hsm.UserCard) error {
	return errNoCGO
}

// Login fails: without cgo there is no token.
func (p *UserSlot) Login(ctx context.Context, pin []byte) error { return errNoCGO }

// Active is false: without cgo there is no token.
func (p *UserSlot) Active() bool { return false }

// Close does nothing.
func (p *UserSlot) Close() error { return nil }
