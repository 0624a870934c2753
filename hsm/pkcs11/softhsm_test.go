//go:build cgo && unix

package pkcs11

import (
	"testing"

	"github.com/hsmcards/hsmcards/internal/softhsmtest"
)

// The SoftHSM2 tests fail, not skip, without Debian's softhsm2 (see
// softhsmtest).
const (
	testSOPIN   = softhsmtest.SOPIN
	testUserPIN = softhsmtest.UserPIN
)

// softHSM is a private SoftHSM2 token store under the test's temp dir.
type softHSM struct {
	module string
	dir    string
}

// newSoftHSM sets up a token store and initialises one token per label, each
// with testSOPIN and testUserPIN.
func newSoftHSM(t *testing.T, labels ...string) *softHSM {
	t.Helper()
	st := softhsmtest.New(t, labels...)
	return &softHSM{module: st.Module, dir: st.Dir}
}

// open logs in to the token labelled label and closes it when the test ends.
func (s *softHSM) open(t *testing.T, label string) *HSM {
	t.Helper()
	p, err := Open(s.module, TokenByLabel(label), []byte(testUserPIN))
	if err != nil {
		t.Fatalf("Open(%q): %v", label, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}
