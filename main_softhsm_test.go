//go:build cgo

package main

import (
	"context"
	"errors"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/softhsmtest"
	"github.com/hsmcards/hsmcards/wizard"
)

// slotUserPIN is a stand-in for the random user PIN the slot user cards hold.
var slotUserPIN = []byte("0123456789abcdef0123456789abcdef")

// checkOpened proves h holds a usable Backup Key token and, when so is true,
// that the SO PIN it was given can enroll.
func checkOpened(t *testing.T, h hsm.HSM, so bool) {
	t.Helper()
	slot, ok := hsm.UserSlotOf(h)
	if !ok {
		t.Fatal("no user card slot")
	}
	if _, _, err := h.BackupKey(context.Background()); err != nil {
		t.Fatal(err)
	}
	if reg, ok := hsm.CardSetsOf(h); !ok {
		t.Fatal("no card-set register")
	} else if _, err := reg.CardSets(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, err := slot.Change(context.Background(), slotUserPIN, hsm.CardChange{})
	if !so {
		if !errors.Is(err, hsm.ErrSOPINNeeded) {
			t.Fatalf("enrolling without an SO PIN: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("the SO PIN was not used: %v", err)
	}
	if err := slot.Login(context.Background(), slotUserPIN); err != nil {
		t.Fatal(err)
	}
}

// With $HSMCARDS_PKCS11_PIN set, the token opens before the wizard.
func TestConfigureHSMPKCS11FromEnv(t *testing.T) {
	module := softhsmtest.New(t, "appliance", "apps").Module
	t.Setenv(hsm.PKCS11PINEnv, softhsmtest.UserPIN)
	t.Setenv(hsm.PKCS11SOPINEnv, softhsmtest.SOPIN)
	var cfg wizard.Config
	o := &options{hsm: "pkcs11", pkcs11Module: module, pkcs11Token: "appliance", pkcs11UserToken: "apps"}
	if err := configureHSM(&cfg, o); err != nil {
		t.Fatal(err)
	}
	defer cfg.HSM.Close()
	if cfg.OpenHSM != nil || cfg.SOPINFor != "" {
		t.Fatal("the wizard would ask a PIN the environment gave")
	}
	checkOpened(t, cfg.HSM, true)

	t.Setenv(hsm.PKCS11PINEnv, "wrong-pin")
	if err := configureHSM(&wizard.Config{}, &options{hsm: "pkcs11", pkcs11Module: module, pkcs11Token: "label:nope"}); !errors.Is(err, hsm.ErrTokenNotFound) {
		t.Fatalf("unknown token: %v", err)
	}
}

// Without it, the wizard's OpenHSM logs in with the PINs typed there: a
// wrong PIN says so and leaves the token usable for the next try.
func TestConfigureHSMPKCS11InWizard(t *testing.T) {
	module := softhsmtest.New(t, "appliance", "apps").Module
	t.Setenv(hsm.PKCS11PINEnv, "")
	t.Setenv(hsm.PKCS11SOPINEnv, "")
	var cfg wizard.Config
	o := &options{hsm: "pkcs11", pkcs11Module: module, pkcs11Token: "appliance", pkcs11UserToken: "apps"}
	if err := configureHSM(&cfg, o); err != nil {
		t.Fatal(err)
	}
	if cfg.HSM != nil || cfg.OpenHSM == nil || cfg.SOPINFor == "" {
		t.Fatalf("HSM %v, OpenHSM set %v, SOPINFor %q", cfg.HSM, cfg.OpenHSM != nil, cfg.SOPINFor)
	}
	ctx := context.Background()
	if _, err := cfg.OpenHSM(ctx, []byte("wrong-pin-000"), nil); !errors.Is(err, hsm.ErrWrongPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	h, err := cfg.OpenHSM(ctx, []byte(softhsmtest.UserPIN), []byte{})
	if err != nil {
		t.Fatal(err)
	}
	checkOpened(t, h, false) // an empty SO PIN: activate only
	h.Close()
	h, err = cfg.OpenHSM(ctx, []byte(softhsmtest.UserPIN), []byte(softhsmtest.SOPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	checkOpened(t, h, true)
	h.Close()

	// $HSMCARDS_PKCS11_SO_PIN alone: the wizard asks only the token PIN.
	t.Setenv(hsm.PKCS11SOPINEnv, softhsmtest.SOPIN)
	cfg = wizard.Config{}
	if err := configureHSM(&cfg, o); err != nil {
		t.Fatal(err)
	}
	if cfg.SOPINFor != "" {
		t.Fatalf("the wizard would ask the SO PIN the environment gave (%q)", cfg.SOPINFor)
	}
	if h, err = cfg.OpenHSM(ctx, []byte(softhsmtest.UserPIN), nil); err != nil {
		t.Fatal(err)
	}
	checkOpened(t, h, true)
}
