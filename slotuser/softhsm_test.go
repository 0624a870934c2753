//go:build cgo

package slotuser_test

import (
	"context"
	"errors"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/pkcs11"
	"github.com/hsmcards/hsmcards/internal/softhsmtest"
	"github.com/hsmcards/hsmcards/slotuser"
)

// The SoftHSM2 tests fail, not skip, without Debian's softhsm2 (see
// softhsmtest), like hsm's.
const (
	testSOPIN   = softhsmtest.SOPIN
	testUserPIN = softhsmtest.UserPIN
)

// softHSM makes a private token store with one token per label (SO PIN
// testSOPIN, user PIN testUserPIN) and returns the module path and the
// store's directory.
func softHSM(t *testing.T, labels ...string) (module, dir string) {
	t.Helper()
	st := softhsmtest.New(t, labels...)
	return st.Module, st.Dir
}

func openSlot(t *testing.T, module, label string, soPIN []byte) *pkcs11.UserSlot {
	t.Helper()
	s, err := pkcs11.OpenUserSlot(module, pkcs11.TokenByLabel(label), soPIN)
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
	bk, err := pkcs11.Open(module, pkcs11.TokenByLabel("appliance"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer bk.Close()
	if _, err := pkcs11.OpenUserSlot(module, pkcs11.TokenByLabel("appliance"), nil); err == nil {
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
	if err != nil || len(list.Cards) != 1 {
		t.Fatalf("List after reopening = %+v, %v; want 1 card", list, err)
	}
	if err := w.activate(again, 2); err != nil || !again.Active() {
		t.Fatalf("activate after reopening: %v", err)
	}
	if _, err := w.tryEnroll(again, 3); !errors.Is(err, hsm.ErrSOPINNeeded) {
		t.Fatalf("enrolling without the SO PIN: %v, want ErrSOPINNeeded", err)
	}
}

func TestSoftHSMWrongSOPIN(t *testing.T) {
	module, _ := softHSM(t, "apps")
	slot := openSlot(t, module, "apps", []byte("not-the-so-pin"))
	w := newWorld(t, 1)
	if _, err := w.tryEnroll(slot, 1); !errors.Is(err, hsm.ErrWrongPIN) {
		t.Fatalf("enrolling with a wrong SO PIN: %v, want ErrWrongPIN", err)
	}
	// Nothing changed: the token's user PIN is the old one, no record stored.
	if l, err := slotuser.List(context.Background(), slot); err != nil || len(l.Cards)+len(l.Refused) != 0 {
		t.Fatalf("List = %+v, %v", l, err)
	}
	if err := slot.Login(context.Background(), []byte(testUserPIN)); err != nil {
		t.Fatalf("the old user PIN: %v", err)
	}
}
