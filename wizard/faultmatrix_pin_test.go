package wizard

import (
	"context"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
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

func (o *operator) drivePIN() *pinTool {
	o.t.Helper()
	var last *pinTool
	interrupted, tryNew := false, false
	for step := 0; step < 100; step++ {
		if o.f.Unplugged() {
			o.f.Replug()
		}
		t, _ := o.r.m.act.(*pinTool)
		if t == nil {
			return last
		}
		last = t
		if t.busy != "" {
			o.t.Fatalf("tool busy (%s) with no command running", t.busy)
		}
		if o.before != nil {
			o.before(o.actions)
			if o.r.m.act != t || t.busy != "" {
				continue
			}
		}
		o.actions++
		switch t.step {
		case tTimedOut:
			o.r.press("enter")
		case tInsert:
			if strings.Contains(t.note.next, "type the NEW PIN as the current one") {
				interrupted = true // as the side panel says
			}
			o.cur = 1
			o.r.press("f1", "enter")
		case tPIN:
			pin := "123456"
			if tryNew {
				pin = newTestPIN
			}
			o.typed[1]++
			o.r.press(pin, "enter")
			if t.step == tPIN && t.note.level == lvWarn && interrupted {
				tryNew = !tryNew // refused after an interruption: the other one
			}
		case tNewPIN, tNewPINAgain:
			o.r.press(newTestPIN, "enter")
			if t.step == tPIN && t.note.level == lvWarn && interrupted {
				tryNew = !tryNew
			}
		case tDone:
			o.r.press("enter")
		default:
			o.t.Fatalf("unexpected step %d: %s / %s", t.step, t.note.text, t.note.next)
		}
	}
	o.t.Fatalf("no end after 100 actions")
	return nil
}

// verifies reports whether pin verifies on card i's slot, spending a try
// only if it does not.
func (o *operator) verifies(i int, slot tcos.Slot, pin string) bool {
	o.t.Helper()
	rd := cardio.NewSimReader([]cardio.SimulatedCard{o.r.cards[i-1]})
	rd.Insert(1)
	ctx := context.Background()
	card, err := rd.Connect(ctx)
	if err != nil {
		o.t.Fatal(err)
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	st, err := s.PINStatus(ctx, slot)
	if err != nil || st.Blocked {
		o.t.Fatalf("card %d %s slot: %+v %v", i, slot, st, err)
	}
	return s.VerifyPIN(ctx, slot, []byte(pin)) == nil
}

func runPINCase(t *testing.T, slot tcos.Slot, arm func(o *operator)) (apdus, actions int) {
	t.Helper()
	o := newOperator(t, 2, quorum.TwoOfThree)
	base := o.f.Count()
	item := "Change the Backup Key share PIN"
	if slot == tcos.SlotPKCS11 {
		item = "Change the PKCS#11 slot user PIN"
	}
	o.r.choose(item)
	if _, ok := o.r.m.act.(*pinTool); !ok {
		t.Fatalf("menu item %q is not a PIN change:\n%s", item, o.r.screen())
	}
	if arm != nil {
		arm(o)
	}
	tool := o.drivePIN()
	if tool == nil || tool.step != tDone || tool.changed != o.serial(1) {
		t.Fatalf("the PIN change did not end in success")
	}
	for card, n := range o.reached {
		if n > o.typed[card] {
			t.Errorf("card %d got %d PINs but the operator typed %d", card, n, o.typed[card])
		}
	}
	apdus, actions = o.f.Count()-base, o.actions
	other := tcos.SlotPKCS11
	if slot == tcos.SlotPKCS11 {
		other = tcos.SlotBackupKey
	}
	if !o.verifies(1, slot, newTestPIN) {
		t.Fatalf("success reported, but the new PIN does not verify")
	}
	if !o.verifies(1, other, "123456") {
		t.Errorf("the other slot's PIN changed")
	}
	return apdus, actions
}

func TestFaultMatrixPINChange(t *testing.T) {
	for _, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
		name := "pin-" + map[tcos.Slot]string{tcos.SlotBackupKey: "backup", tcos.SlotPKCS11: "pkcs11"}[slot]
		var apdus, actions int
		if !t.Run(name+"/clean", func(t *testing.T) { apdus, actions = runPINCase(t, slot, nil) }) {
			t.Errorf("%s fails without faults", name)
			continue
		}
		t.Logf("%s: %d APDUs, %d operator actions", name, apdus, actions)
		// No prop cards: the card whose PIN changes is the one named, and a
		// refusal of a prop is the right end, covered by the tools' tests.
		fl := matrixFlow{deck: 0}
		for _, mc := range matrixCasesFor(t, fl, apdus, actions) {
			matrixCases.Add(1)
			if t.Run(name+"/"+mc.name, func(t *testing.T) { runPINCase(t, slot, mc.arm) }) {
				matrixSurvived.Add(1)
			}
		}
	}
}
