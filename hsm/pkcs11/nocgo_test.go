//go:build !cgo || !unix

package pkcs11

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
)

func TestPKCS11WithoutCGO(t *testing.T) {
	if _, err := Open("/usr/lib/softhsm/libsofthsm2.so", TokenSelector{}, []byte("1234")); !errors.Is(err, hsm.ErrModule) || !strings.Contains(err.Error(), "cgo") {
		t.Errorf("Open = %v, want hsm.ErrModule naming cgo", err)
	}
	if _, err := ListTokens("/usr/lib/softhsm/libsofthsm2.so"); !errors.Is(err, hsm.ErrModule) {
		t.Errorf("ListTokens = %v, want hsm.ErrModule", err)
	}
	var p HSM
	if _, err := p.LoadBackupKey(context.Background(), make([]byte, 32), hsm.KeyInfo{}, false); !errors.Is(err, hsm.ErrModule) {
		t.Errorf("LoadBackupKey = %v, want hsm.ErrModule", err)
	}
}
