package main

import (
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
)

// noTerminal is the PIN prompt of a run without a terminal.
func noTerminal(string) ([]byte, bool, error) { return nil, false, nil }

func TestOpenHSMSim(t *testing.T) {
	o := &options{hsm: "sim", simDir: t.TempDir()}
	h, err := openHSM(o, noTerminal)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if _, ok := hsm.UserSlotOf(h); !ok {
		t.Fatal("the simulated HSM has no slot for user cards")
	}
}

func TestOpenHSMRefusals(t *testing.T) {
	t.Setenv(hsm.PKCS11PINEnv, "")
	for _, tc := range []struct {
		o    options
		want string
	}{
		{options{hsm: "cloud"}, `unknown HSM "cloud"`},
		{options{hsm: "pkcs11"}, "needs --pkcs11-module"},
		{options{hsm: "pkcs11", pkcs11Module: "/x.so", pkcs11Token: "slot:x"}, "bad slot ID"},
		{options{hsm: "pkcs11", pkcs11Module: "/x.so"}, "no token PIN: set $" + hsm.PKCS11PINEnv},
	} {
		_, err := openHSM(&tc.o, noTerminal)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.o, err, tc.want)
		}
	}
}
