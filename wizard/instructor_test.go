package wizard

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
)

// instructor presses an instructor key (ctrl+f, then letters).
func (r *rig) instructor(keys ...string) {
	r.t.Helper()
	_, cmd := r.m.Update(tea.KeyPressMsg{Code: 'f', Mod: tea.ModCtrl})
	r.run(cmd)
	r.press(keys...)
}

func TestInstructorKeysNeedAFaultLayer(t *testing.T) {
	r := newRig(t, 3)
	r.instructor()
	r.expectNot("Instructor")
	r.expect("Main menu")
	r.expectNot("ctrl+f instructor")
}

func TestInstructorTearThenWrongPINLive(t *testing.T) {
	r := newRig(t, 3)
	f := r.train()
	r.install(0, "live")
	r.expect("ctrl+f instructor")
	r.instructor()
	r.expect("Instructor: make something go wrong", "t  pull the card halfway through the next share write")
	r.press("1") // a digit in the open menu reaches no ceremony
	r.expect("Instructor: make something go wrong")
	r.press("esc")
	r.expect("Write New Key")

	r.press("enter")
	r.card(1, "123456")
	r.instructor("t")
	r.expect("Training faults: tear at the next write")
	if n := strings.Count(r.screen(), "tear at the next write"); n != 1 {
		t.Fatalf("the armed fault is shown %d times:\n%s", n, r.screen())
	}
	r.card(2, "123456")
	r.expect("The share was not written completely")
	if r.sim.Inserted() != 0 {
		t.Fatal("the torn card is still in the reader")
	}
	r.card(2, "123456")
	r.expect("damaged share record")
	r.press("enter") // write it again
	r.expect("Share 2 written")

	r.instructor("w")
	r.card(3, "123456")
	r.expect("Wrong PIN", "2 PIN tries left")
	r.press("123456", "enter")
	r.expect("All 3 shares are written")

	r.instructor("u")
	r.expect("reader unplugged")
	r.press("enter")
	r.card(1, "")
	r.expect("The card reader is not connected")
	r.instructor("u")
	r.card(1, "123456")
	r.card(3, "123456")
	r.expect("Key loaded")
	if len(f.Fired()) != 2 {
		t.Errorf("fired %+v", f.Fired())
	}

	var outcomes []audit.Outcome
	for _, e := range r.auditEvents() {
		if e.Step == audit.StepWriteCard || e.Step == audit.StepVerifyPIN || e.Step == audit.StepIdentify {
			outcomes = append(outcomes, e.Outcome)
		}
	}
	want := map[audit.Outcome]bool{audit.OutcomeRemoved: false, audit.OutcomeWrongPIN: false, audit.OutcomeNoReader: false}
	for _, o := range outcomes {
		if _, ok := want[o]; ok {
			want[o] = true
		}
	}
	for o, seen := range want {
		if !seen {
			t.Errorf("the audit trail lacks a %q event: %v", o, outcomes)
		}
	}
}

func TestInstructorPropsAndClear(t *testing.T) {
	r := newRig(t, 3)
	f := r.train()
	r.press("f2")
	r.instructor("x")
	r.expect("card 2 is a foreign card (F2 inserts, c restores)")
	r.instructor("b") // card 2 is out: nothing to swap
	r.expect("insert the card to replace first")
	r.press("2", "enter", "enter") // Load Backup Key
	r.card(2, "")
	r.expect("This is not an appliance smart card")
	r.instructor("c")
	r.expectNot("card 2 is a foreign card")
	if f.Substituted(2) {
		t.Fatal("restore left the prop")
	}
	r.card(2, "")
	r.expect("Enter PIN")
}

// TestScenarioExampleRecovers runs the README's example scenario through the
// matrix operator: the install survives it without a restart.
func TestScenarioExampleRecovers(t *testing.T) {
	s, err := scenario.ParseFile("../testdata/scenarios/pulled-then-wrong-pin.txt")
	if err != nil {
		t.Fatal(err)
	}
	o := newOperator(t, 4, quorum.TwoOfThree)
	var serials []tcos.Serial
	for _, c := range o.r.cards {
		serials = append(serials, c.Serial())
	}
	if err := s.Apply(o.f, serials); err != nil {
		t.Fatal(err)
	}
	o.r.install(0, "scenario")
	c := o.drive()
	o.check(c, nil)
	if n := len(o.f.Fired()); n != len(s.Steps) {
		t.Errorf("%d of %d faults fired", n, len(s.Steps))
	}
	if o.typed[3] != 2 { // card 3: a PIN that arrives wrong, then the right one
		t.Errorf("card 3: %d PINs typed", o.typed[3])
	}
}
