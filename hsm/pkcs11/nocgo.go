//go:build !cgo || !unix

package pkcs11

import (
	"context"

	"github.com/hsmcards/hsmcards/hsm"
)

// errNoCGO is what the PKCS#11 backend says in a binary built without cgo:
// loading a PKCS#11 module needs the C loader.
var errNoCGO = hsm.NewError("pkcs11: this hsmcards was built without cgo (CGO_ENABLED=0), so it cannot load PKCS#11 modules; use a build with cgo", hsm.ErrModule)

// HSM is the PKCS#11 backend; without cgo it cannot be opened.
type HSM struct{}

var (
	_ hsm.HSM           = (*HSM)(nil)
	_ hsm.CardSetsNoter = (*HSM)(nil)
)

// Open fails with an error matching hsm.ErrModule: no cgo, no modules.
func Open(modulePath string, sel TokenSelector, pin []byte) (*HSM, error) {
	return nil, errNoCGO
}

// ListTokens fails with an error matching hsm.ErrModule: no cgo, no modules.
func ListTokens(modulePath string) ([]Token, error) {
	return nil, errNoCGO
}

// Name says which HSM this is.
func (p *HSM) Name() string { return "PKCS#11 token (unavailable without cgo)" }

// Token describes the token in use; there is none without cgo.
func (p *HSM) Token() Token { return Token{} }

// BackupKey fails: without cgo there is no token.
func (p *HSM) BackupKey(ctx context.Context) (hsm.KeyInfo, bool, error) {
	return hsm.KeyInfo{}, false, errNoCGO
}

// LoadBackupKey fails: without cgo there is no token.
func (p *HSM) LoadBackupKey(ctx context.Context, key []byte, info hsm.KeyInfo, replace bool) (bool, error) {
	return false, errNoCGO
}

// CardSets fails: without cgo there is no token.
func (p *HSM) CardSets(ctx context.Context) (hsm.CardSets, error) { return hsm.CardSets{}, errNoCGO }

// CardSetsWithNotes fails: without cgo there is no token.
func (p *HSM) CardSetsWithNotes(ctx context.Context) (hsm.CardSets, []hsm.CardSetsNote, error) {
	return hsm.CardSets{}, nil, errNoCGO
}

// UpdateCardSets fails: without cgo there is no token.
func (p *HSM) UpdateCardSets(ctx context.Context, prev uint64, next hsm.CardSets) error {
	return errNoCGO
}

// Close does nothing.
func (p *HSM) Close() error { return nil }
