package wizard

import (
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// The fault matrix for changing a slot PIN (both menu items): card 1's
// PIN goes from 123456 to 654321. An operator whose change was interrupted
// does not know whether it landed: when the current PIN is refused after an
// interruption, they try the new one (what the side panel must make clear).
// Invariants: success is reported only when the new PIN verifies on the
// card; no PIN reaches the card that the operator did not type; the card is
// never blocked; the other slot keeps its PIN.

const newTestPIN = "654321"

func (o *operator) drivePIN() *pinOp {
	o.t.Helper()
	interrupted, tryNew := false, false
	a := driveFlow(o, flowLoop{limit: 100, act: func(a activity) bool {
		t := a.(*pinOp)
		if t.f.mode != frameOn || t.state == pinDone {
			return false
		}
		switch t.step.state {
		case stepInsert:
			if strings.Contains(t.f.note.next, "type the NEW PIN as the current one") {
				interrupted = true // as the side panel says
			}
			o.insert(1)
			return true
		case stepPIN:
			if t.step.field == 0 {
				pin := "123456"
				if tryNew {
					pin = newTestPIN
				}
				o.typePIN(pin)
			} else {
				o.r.press(newTestPIN, "enter")
			}
		default:
			return false
		}
		if t.step.state == stepPIN && t.step.field == 0 && t.f.note.level == lvWarn && interrupted {
			tryNew = !tryNew // refused after an interruption: the other one
		}
		return true
	}})
	t, _ := a.(*pinOp)
	return t
}

// verifies reports whether pin verifies on card i's slot, spending a try
// only if it does not.
func (o *operator) verifies(i int, slot tcos.Slot, pin string) bool {
	o.t.Helper()
	s, done := o.session(i, slot)
	defer done()
	return s.VerifyPIN(t0ctx(), slot, []byte(pin)) == nil
}

func runPINCase(t *testing.T, slot tcos.Slot, arm func(o *operator)) (apdus, actions int) {
	t.Helper()
	o := newOperator(t, 2, quorum.TwoOfThree)
	o.cur = 1 // the card whose PIN changes
	base := o.f.Count()
	item, other := "Change the Backup Key share PIN", tcos.SlotPKCS11
	if slot == tcos.SlotPKCS11 {
		item, other = "Change the PKCS#11 slot user PIN", tcos.SlotBackupKey
	}
	o.r.choose(item)
	if _, ok := o.r.m.act.(*pinOp); !ok {
		t.Fatalf("menu item %q is not a PIN change:\n%s", item, o.r.screen())
	}
	if arm != nil {
		arm(o)
	}
	tool := o.drivePIN()
	if tool == nil || tool.state != pinDone || tool.changed != o.serial(1) {
		t.Fatalf("the PIN change did not end in success")
	}
	o.leave()
	o.checkTries()
	apdus, actions = o.f.Count()-base, o.actions
	if !o.verifies(1, slot, newTestPIN) {
		t.Fatalf("success reported, but the new PIN does not verify")
	}
	if !o.verifies(1, other, "123456") {
		t.Errorf("the other slot's PIN changed")
	}
	return apdus, actions
}

// No prop cards: the card whose PIN changes is the one named, and a refusal
// of a prop is the right end, covered by the tools' tests.
func TestFaultMatrixPINChange(t *testing.T) {
	for _, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
		name := map[tcos.Slot]string{tcos.SlotBackupKey: "pin-backup", tcos.SlotPKCS11: "pin-pkcs11"}[slot]
		run := func(t *testing.T, arm func(o *operator)) (int, int) { return runPINCase(t, slot, arm) }
		runMatrix(t, name, false, run, nil)
	}
}
