package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/wizard"
)

func TestConfigureHSMSim(t *testing.T) {
	var cfg wizard.Config
	if err := configureHSM(&cfg, &options{hsm: "sim", simDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	defer cfg.HSM.Close()
	if _, ok := hsm.UserSlotOf(cfg.HSM); !ok {
		t.Fatal("the simulated HSM has no slot for user cards")
	}
	if cfg.OpenHSM != nil {
		t.Fatal("the simulated HSM asks for a PIN")
	}
}

func TestConfigureHSMRefusals(t *testing.T) {
	t.Setenv(hsm.PKCS11PINEnv, "")
	for _, tc := range []struct {
		o    options
		want string
	}{
		{options{hsm: "cloud"}, `unknown HSM "cloud"`},
		{options{hsm: "pkcs11"}, "needs --pkcs11-module"},
		{options{hsm: "pkcs11", pkcs11Module: "/x.so", pkcs11Token: "slot:x"}, "bad slot ID"},
		{options{hsm: "pkcs11", pkcs11Module: "/x.so", pkcs11UserToken: "slot:0xz"}, "bad slot ID"},
	} {
		var cfg wizard.Config
		err := configureHSM(&cfg, &tc.o)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}

// Without $HSMCARDS_PKCS11_PIN nothing is asked before the wizard: the
// wizard asks, and opens the token with cfg.OpenHSM.
func TestConfigureHSMPINInWizard(t *testing.T) {
	for _, tc := range []struct {
		name     string
		o        options
		soEnv    string
		wantName string
		wantSO   string
	}{
		{"by label", options{pkcs11Token: "appliance"}, "", "PKCS#11 token appliance", ""},
		{"by slot", options{pkcs11Token: "slot:3"}, "", "PKCS#11 token in slot 3", ""},
		{"only token", options{}, "", "PKCS#11 token (the module's only one)", ""},
		{"user token, SO PIN asked", options{pkcs11Token: "appliance", pkcs11UserToken: "apps"}, "", "PKCS#11 token appliance", "PKCS#11 token apps"},
		{"user token, SO PIN from env", options{pkcs11Token: "appliance", pkcs11UserToken: "apps"}, "so-from-env", "PKCS#11 token appliance", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(hsm.PKCS11PINEnv, "")
			t.Setenv(hsm.PKCS11SOPINEnv, tc.soEnv)
			o := tc.o
			o.hsm, o.pkcs11Module = "pkcs11", "/nonexistent/libpkcs11.so"
			var cfg wizard.Config
			if err := configureHSM(&cfg, &o); err != nil {
				t.Fatal(err)
			}
			if cfg.HSM != nil || cfg.OpenHSM == nil {
				t.Fatalf("HSM %v, OpenHSM set %v: want the wizard to open it", cfg.HSM, cfg.OpenHSM != nil)
			}
			if cfg.HSMName != tc.wantName || cfg.SOPINFor != tc.wantSO {
				t.Fatalf("HSMName %q, SOPINFor %q; want %q, %q", cfg.HSMName, cfg.SOPINFor, tc.wantName, tc.wantSO)
			}
			// The module is loaded only when the operator has typed the PIN.
			h, err := cfg.OpenHSM(context.Background(), []byte("1234"), nil)
			if !errors.Is(err, hsm.ErrModule) || h != nil {
				t.Fatalf("missing module: %v", err)
			}
			if strings.Contains(err.Error(), "1234") {
				t.Fatalf("the PIN is in the error: %v", err)
			}
		})
	}
}
