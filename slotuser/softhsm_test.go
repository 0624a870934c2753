//go:build cgo

package slotuser_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
)

// The SoftHSM2 tests need Debian's softhsm2 (DESIGN.md, HSM side); they fail,
// not skip, without it, like hsm's.
const (
	softHSMModule    = "/usr/lib/softhsm/libsofthsm2.so"
	softHSMModuleEnv = "HSMCARDS_TEST_SOFTHSM2_MODULE"
	testSOPIN        = "so-pin-87654321"
	testUserPIN      = "user-pin-123456"
)

// softHSM makes a private token store with one token per label (SO PIN
// testSOPIN, user PIN testUserPIN) and returns the module path and the
// store's directory.
func softHSM(t *testing.T, labels ...string) (module, dir string) {
	t.Helper()
	module = os.Getenv(softHSMModuleEnv)
	if module == "" {
		module = softHSMModule
	}
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("SoftHSM2 module %s is missing (%v): install the Debian package softhsm2 (apt-get install softhsm2) or set %s", module, err, softHSMModuleEnv)
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("softhsm2-util not found (%v): install the Debian package softhsm2 (apt-get install softhsm2)", err)
	}
	dir = t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	if err := os.WriteFile(conf, []byte("directories.tokendir = "+tokens+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, l := range labels {
		out, err := exec.Command(util, "--init-token", "--free", "--label", l, "--so-pin", testSOPIN, "--pin", testUserPIN).CombinedOutput()
		if err != nil {
			t.Fatalf("softhsm2-util --init-token --label %s: %v\n%s", l, err, out)
		}
	}
	return module, dir
}

func openSlot(t *testing.T, module, label string, soPIN []byte) *hsm.PKCS11UserSlot {
	t.Helper()
	s, err := hsm.OpenPKCS11UserSlot(module, hsm.TokenByLabel(label), soPIN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestSoftHSMSlot(t *testing.T) {
	module, dir := softHSM(t, "appliance", "apps")
	// The Backup Key token is open beside it, as in the wizard.
	bk, err := hsm.OpenPKCS11(module, hsm.TokenByLabel("appliance"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	if _, err := hsm.OpenPKCS11UserSlot(module, hsm.TokenByLabel("appliance"), nil); err == nil {
		t.Fatal("the Backup Key's token was opened as a user card slot too")
	}

	slot := openSlot(t, module, "apps", []byte(testSOPIN))
	spy := &spySlot{UserSlot: slot}
	w := newWorld(t, 3)
	exercise(t, w, spy)

	ctx := context.Background()
	if err := slot.Login(ctx, []byte(testUserPIN)); !errors.Is(err, hsm.ErrWrongPIN) {
		t.Errorf("the token's first user PIN still works: %v", err)
	}
	checkNowhere(t, spy.pins, []string{w.deck.Dir(), dir}, map[string]string{"the APDU log": w.log.String()})

	// A new process without the SO PIN lists and activates, but cannot enroll.
	if err := slot.Close(); err != nil {
		t.Fatal(err)
	}
	again := openSlot(t, module, "apps", nil)
	list, err := slotuser.List(ctx, again)
	if err != nil || len(list) != 1 {
		t.Fatalf("List after reopening = %d cards, %v; want 1", len(list), err)
	}
	if err := w.activate(again, 2); err != nil || !again.Active() {
		t.Fatalf("activate after reopening: %v", err)
	}
	s3, sn3 := w.session(3)
	if _, err := slotuser.Enroll(ctx, again, sn3, s3, list[0].Enrolled); !errors.Is(err, hsm.ErrSOPINNeeded) {
		t.Fatalf("Enroll without the SO PIN: %v, want ErrSOPINNeeded", err)
	}
}

func TestSoftHSMWrongSOPIN(t *testing.T) {
	module, _ := softHSM(t, "apps")
	slot := openSlot(t, module, "apps", []byte("not-the-so-pin"))
	w := newWorld(t, 1)
	s, sn := w.session(1)
	_, err := slotuser.Enroll(context.Background(), slot, sn, s, testTime)
	if !errors.Is(err, hsm.ErrWrongPIN) {
		t.Fatalf("Enroll with a wrong SO PIN: %v, want ErrWrongPIN", err)
	}
	// Nothing changed: the token's user PIN is the old one, no record stored.
	if l, err := slotuser.List(context.Background(), slot); err != nil || len(l) != 0 {
		t.Fatalf("List = %v, %v", l, err)
	}
	if err := slot.Login(context.Background(), []byte(testUserPIN)); err != nil {
		t.Fatalf("the old user PIN: %v", err)
	}
}
