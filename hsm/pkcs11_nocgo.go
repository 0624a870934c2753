//go:build !cgo

package hsm

import (
	"context"
)

// errNoCGO is what the PKCS#11 backend says in a binary built without cgo:
// loading a PKCS#11 module needs the C loader.
var errNoCGO = &p11Error{
	msg:  "pkcs11: this hsmcards was built without cgo (CGO_ENABLED=0), so it cannot load PKCS#11 modules; use a build with cgo",
	errs: []error{ErrModule},
}

// PKCS11 is the PKCS#11 backend; without cgo it cannot be opened.
type PKCS11 struct{}

var _ HSM = (*PKCS11)(nil)

// OpenPKCS11 fails with an error matching ErrModule: no cgo, no modules.
func OpenPKCS11(modulePath string, sel TokenSelector, pin []byte) (*PKCS11, error) {
	return nil, errNoCGO
}

// ListPKCS11Tokens fails with an error matching ErrModule: no cgo, no modules.
func ListPKCS11Tokens(modulePath string) ([]PKCS11Token, error) {
	return nil, errNoCGO
}

// Name says which HSM this is.
func (p *PKCS11) Name() string { return "PKCS#11 token (unavailable without cgo)" }

// Token describes the token in use; there is none without cgo.
func (p *PKCS11) Token() PKCS11Token { return PKCS11Token{} }

// BackupKey fails: without cgo there is no token.
func (p *PKCS11) BackupKey(ctx context.Context) (KeyInfo, bool, error) {
	return KeyInfo{}, false, errNoCGO
}

// LoadBackupKey fails: without cgo there is no token.
func (p *PKCS11) LoadBackupKey(ctx context.Context, key []byte, info KeyInfo, replace bool) (bool, error) {
	return false, errNoCGO
}

// Close does nothing.
func (p *PKCS11) Close() error { return nil }
