//go:build cgo

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
)

func TestOpenHSMPKCS11(t *testing.T) {
	module := "/usr/lib/softhsm/libsofthsm2.so"
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("SoftHSM2 module %s is missing (%v): install the Debian package softhsm2", module, err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.Mkdir(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\n"), 0o600)
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, l := range []string{"appliance", "apps"} {
		if out, err := exec.Command("softhsm2-util", "--init-token", "--free", "--label", l, "--so-pin", "so-pin-1", "--pin", "user-pin-1").CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util (Debian package softhsm2): %v\n%s", err, out)
		}
	}
	t.Setenv(hsm.PKCS11PINEnv, "user-pin-1")
	t.Setenv(hsm.PKCS11SOPINEnv, "")
	var asked []string
	ask := func(p string) ([]byte, bool, error) { asked = append(asked, p); return []byte("so-pin-1"), true, nil }
	o := &options{hsm: "pkcs11", pkcs11Module: module, pkcs11Token: "appliance", pkcs11UserToken: "apps"}
	h, err := openHSM(o, ask)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if len(asked) != 1 {
		t.Fatalf("asked %d PINs, want only the SO PIN", len(asked))
	}
	slot, ok := hsm.UserSlotOf(h)
	if !ok {
		t.Fatal("no user card slot")
	}
	if _, _, err := h.BackupKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := slot.SetUserCards(context.Background(), []byte("0123456789abcdef0123456789abcdef"), nil); err != nil {
		t.Fatalf("the SO PIN asked for was not used: %v", err)
	}
	if err := slot.Login(context.Background(), []byte("0123456789abcdef0123456789abcdef")); err != nil {
		t.Fatal(err)
	}

	t.Setenv(hsm.PKCS11PINEnv, "wrong-pin")
	if _, err := openHSM(&options{hsm: "pkcs11", pkcs11Module: module, pkcs11Token: "label:nope"}, noTerminal); !errors.Is(err, hsm.ErrTokenNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
}
