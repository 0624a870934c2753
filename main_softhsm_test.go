//go:build cgo

package main

import (
	"context"
	"errors"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/softhsmtest"
)

func TestOpenHSMPKCS11(t *testing.T) {
	module := softhsmtest.New(t, "appliance", "apps").Module
	t.Setenv(hsm.PKCS11PINEnv, softhsmtest.UserPIN)
	t.Setenv(hsm.PKCS11SOPINEnv, "")
	var asked []string
	ask := func(p string) ([]byte, bool, error) {
		asked = append(asked, p)
		return []byte(softhsmtest.SOPIN), true, nil
	}
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
