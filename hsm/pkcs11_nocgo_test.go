//go:build !cgo

package hsm

import (
	"context"
	"errors"
	"strings"
	"testing"
)

func TestPKCS11WithoutCGO(t *testing.T) {
	if _, err := OpenPKCS11("/usr/lib/softhsm/libsofthsm2.so", TokenSelector{}, []byte("1234")); !errors.Is(err, ErrModule) || !strings.Contains(err.Error(), "cgo") {
		t.Errorf("OpenPKCS11 = %v, want ErrModule naming cgo", err)
	}
	if _, err := ListPKCS11Tokens("/usr/lib/softhsm/libsofthsm2.so"); !errors.Is(err, ErrModule) {
		t.Errorf("ListPKCS11Tokens = %v, want ErrModule", err)
	}
	var p PKCS11
	if _, err := p.LoadBackupKey(context.Background(), make([]byte, 32), KeyInfo{}, false); !errors.Is(err, ErrModule) {
		t.Errorf("LoadBackupKey = %v, want ErrModule", err)
	}
}
