package wizard

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/audit"
)

// sealShown is the audit trail's line and short hash the result screen
// shows (docs/wizard.md, "The audit trail's seal").
var sealShown = regexp.MustCompile(`Audit trail: line (\d+), hash ([0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4})`)

// seal reads the seal off the result screen.
func (r *rig) seal() (line int, short string) {
	r.t.Helper()
	flat := strings.Join(strings.Fields(r.screen()), " ")
	m := sealShown.FindStringSubmatch(flat)
	if m == nil {
		r.t.Fatalf("the result shows no seal:\n%s", r.screen())
	}
	n, _ := strconv.Atoi(m[1])
	return n, m[2]
}

// Every ceremony's result screen shows the trail's head right after its
// summary line: the line's number and the short form of its hash, as
// `hsmcards audit verify` and the protocol print them.
func TestResultShowsTrailSeal(t *testing.T) {
	r := newRig(t, 4)
	type shown struct {
		op    audit.Operation
		line  int
		short string
	}
	var seals []shown
	take := func(op audit.Operation) {
		t.Helper()
		n, s := r.seal()
		seals = append(seals, shown{op, n, s})
		r.press("enter")
		r.expect("Main menu")
	}

	r.install(0, "seal")
	r.press("enter")
	for i := 1; i <= 3; i++ {
		r.card(i, "123456")
	}
	r.press("enter")
	r.card(1, "123456")
	r.card(2, "123456")
	r.see("Key loaded")
	take(audit.OpInstall)

	r.press(menuPath(t, "Load Backup Key")...)
	r.press("enter")
	r.card(2, "123456")
	r.card(3, "123456")
	r.see("already loaded")
	take(audit.OpLoad)

	r.press(menuPath(t, "Copy a Backup Key share card")...)
	r.card(1, "123456")
	r.card(4, "123456")
	r.press("enter")
	r.see("Card copied")
	take(audit.OpCopy)

	r.press(menuPath(t, "Change the Backup Key share PIN")...)
	r.card(4, "123456")
	r.press("11223344", "enter", "11223344", "enter")
	r.see("PIN changed")
	take(audit.OpChangePIN)

	r.press(menuPath(t, "Inspect a card")...)
	r.card(4, "")
	r.press("enter", "11223344", "enter")
	r.see("Card inspected")
	take(audit.OpInspect)

	r.m.env.trail.close()
	tr, err := audit.ReadFile(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	last := 0
	for _, s := range seals {
		if s.line <= last || s.line > len(tr.Lines) {
			t.Fatalf("%s: line %d (the one before %d, the trail has %d)", s.op, s.line, last, len(tr.Lines))
		}
		last = s.line
		ln := tr.Lines[s.line-1]
		if ln.Operation != s.op || ln.Step != audit.StepSummary {
			t.Errorf("%s: line %d is %s/%s, not the summary", s.op, s.line, ln.Operation, ln.Step)
		}
		if want := (audit.Head{Line: s.line, Hash: ln.Hash}).Short(); s.short != want {
			t.Errorf("%s: shows %s, line %d's hash is %s", s.op, s.short, s.line, want)
		}
	}
}
