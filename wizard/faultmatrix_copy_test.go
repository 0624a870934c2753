package wizard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
)

// The fault matrix for copying a Backup Key share card (menu "Copy a Backup
// Key share card"): cards 1–3 hold a 2-of-3 key set, card 1 is copied onto
// the empty card 4 (card 2 is the other source, card 5 the other target, for
// when the wizard sends a card away). Invariants:
//
//  1. success is reported only when the target reads back a record equal to
//     the source's;
//  2. the source's record is never changed, nor that of any card but the
//     target the operator confirmed; a write that did not complete is
//     reported as such, with the share still in memory, and the card can be
//     written again;
//  3. no PIN try is spent that the operator did not type, no card ends
//     blocked;
//  4. leaving with the share in memory asks first.

const menuCopy = "Copy a Backup Key share card"

// copyOperator drives the copy tool.
type copyOperator struct {
	*operator
	src, dst   int  // the deck cards the operator uses now
	leave      bool // the operator-time fault is Esc: answer the leave question with OK
	escAt      int  // the action before which the operator presses Esc (-1: never)
	restarted  int
	failedDsts map[int]bool // targets a write to which was reported incomplete
}

// shareEF reads card i's share EF as the wizard would, with the factory PIN.
func (o *operator) shareEF(i int) []byte {
	o.t.Helper()
	s, done := o.r.session(i)
	defer done()
	st, err := s.PINStatus(t0ctx(), tcos.SlotBackupKey)
	if err != nil || st.Blocked {
		o.t.Fatalf("card %d: Backup Key PIN %+v %v", i, st, err)
	}
	if err := s.VerifyPIN(t0ctx(), tcos.SlotBackupKey, []byte("123456")); err != nil {
		o.t.Fatalf("card %d: %v", i, err)
	}
	raw, err := s.ReadShareRecord(t0ctx())
	if err != nil {
		o.t.Fatalf("card %d: %v", i, err)
	}
	return raw
}

func (o *copyOperator) tool() *copyTool {
	t, _ := o.r.m.act.(*copyTool)
	return t
}

// drive runs the copy to its end and returns the tool as it ended.
func (o *copyOperator) drive() *copyTool {
	o.t.Helper()
	var last *copyTool
	for step := 0; step < 150; step++ {
		if o.f.Unplugged() {
			o.f.Replug()
		}
		t := o.tool()
		if t == nil {
			if last != nil && last.copied != (tcos.Serial{}) {
				return last
			}
			// The operator left (or the tool left on its own): start again.
			if o.restarted++; o.restarted > 3 {
				o.t.Fatalf("the copy was left %d times", o.restarted)
			}
			o.r.choose(menuCopy)
			continue
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
		if o.actions == o.escAt {
			o.actions++
			o.esc(t)
			continue
		}
		o.actions++
		switch t.step {
		case tTimedOut:
			o.r.press("enter")
		case tInsert:
			target := t.src != nil
			o.cur = o.src
			if target {
				o.cur = o.dst
			}
			o.r.press(fmt.Sprintf("f%d", o.cur), "enter")
			if t.step == tInsert && t.note.level == lvError &&
				(strings.HasPrefix(t.note.next, "Take this card out") || strings.HasPrefix(t.note.next, "Take it out. ")) {
				o.sendAwayCopy(target)
			}
		case tPIN:
			o.typed[o.cur]++
			o.r.press("123456", "enter")
		case tConfirm:
			flat := strings.Join(strings.Fields(o.r.screen()), " ")
			switch {
			case strings.Contains(flat, "DIFFERENT Backup Key"), strings.Contains(flat, "ANOTHER share"), strings.Contains(flat, "does not know"):
				o.r.press("esc") // keep that share: use another card
				o.sendAwayCopy(true)
			default:
				if o.failedDsts[o.cur] && !strings.Contains(flat, "damaged share record") &&
					!strings.Contains(flat, "already holds this very share") && !strings.Contains(flat, "is empty") {
					o.t.Fatalf("a target whose write was interrupted is shown as neither damaged, a copy, nor empty:\n%s", o.r.screen())
				}
				o.r.press("enter")
				if t.step == tInsert {
					// The write failed: the operator must be told so, and that
					// the share is still held.
					o.r.expect("The copy was not written completely", "The share is still in memory", "it will be written again")
					if !t.holdsKey() {
						o.t.Fatalf("the share left memory after a failed write")
					}
					o.failedDsts[o.cur] = true
				}
			}
		case tDone:
			if t.copied == (tcos.Serial{}) {
				o.t.Fatalf("the copy ended without a copy: %s / %s", t.note.text, t.note.next)
			}
			o.r.press("enter")
		default:
			o.t.Fatalf("unexpected step %d: %s / %s", t.step, t.note.text, t.note.next)
		}
	}
	o.t.Fatalf("no end after 150 actions")
	return nil
}

func (o *copyOperator) sendAwayCopy(target bool) {
	switch {
	case target && o.dst == 4:
		o.dst = 5
	case !target && o.src == 1:
		o.src = 2
	default:
		o.t.Fatalf("the wizard sent away card %d too: %s / %s", o.cur, o.tool().note.text, o.tool().note.next)
	}
}

// esc is the operator pressing Esc (Cancel) before an action: leaving the
// tool must ask first while the share is held; the operator then leaves
// (o.leave) or stays.
func (o *copyOperator) esc(t *copyTool) {
	held, step := t.holdsKey(), t.step
	o.r.press("esc")
	switch {
	case step == tInsert && held:
		o.r.expect("Leave this tool?", "held in memory and was not copied yet")
		if o.r.m.act != t || !t.holdsKey() {
			o.t.Fatalf("Esc with the share in memory left without asking")
		}
		if !o.leave {
			o.r.press("esc")
			if t.step != tInsert || !t.holdsKey() {
				o.t.Fatalf("staying after the leave question lost the share")
			}
			return
		}
		share := t.src.Share
		o.r.press("enter")
		if o.r.m.act == t || !bytes.Equal(share, make([]byte, len(share))) {
			o.t.Fatalf("leaving did not leave, or did not wipe the share")
		}
		// A new copy starts from the source.
		o.src, o.dst = 1, 4
	case step == tTimedOut && held:
		o.r.expect("Leave this tool?")
		o.r.press("esc")
	}
}

// runCopyCase runs one copy with arm applied at its start.
func runCopyCase(t *testing.T, arm func(o *copyOperator)) (apdus, actions int) {
	t.Helper()
	base := newOperator(t, 5, quorum.TwoOfThree)
	o := &copyOperator{operator: base, src: 1, dst: 4, escAt: -1, failedDsts: map[int]bool{}}
	o.r.installSet("matrix")
	before := map[int][]byte{}
	for i := 1; i <= 5; i++ {
		before[i] = o.shareEF(i)
	}
	clear(o.typed)
	clear(o.reached)
	start := o.f.Count()
	o.r.choose(menuCopy)
	if o.tool() == nil {
		t.Fatalf("no copy tool:\n%s", o.r.screen())
	}
	if arm != nil {
		arm(o)
	}
	tool := o.drive()
	apdus, actions = o.f.Count()-start, o.actions
	o.f.Restore()

	if tool == nil || tool.copied != o.serial(o.dst) {
		t.Fatalf("the copy did not end with card %d copied", o.dst)
	}
	if tool.holdsKey() {
		t.Errorf("the share is still held after the copy")
	}
	for card, n := range o.reached {
		if n > o.typed[card] {
			t.Errorf("card %d got %d PINs but the operator typed %d", card, n, o.typed[card])
		}
	}
	after := map[int][]byte{}
	for i := 1; i <= 5; i++ {
		after[i] = o.shareEF(i)
	}
	for i := 1; i <= 5; i++ {
		if i != o.dst && !bytes.Equal(before[i], after[i]) {
			t.Errorf("card %d's share record changed, but card %d was the target", i, o.dst)
		}
	}
	src, err := quorum.Parse(before[o.src])
	if err != nil {
		t.Fatalf("source card %d: %v", o.src, err)
	}
	got, err := quorum.Parse(after[o.dst])
	if err != nil {
		t.Fatalf("success reported, but target card %d reads back a bad record: %v", o.dst, err)
	}
	a, _ := src.Marshal()
	b, _ := got.Marshal()
	if !bytes.Equal(a, b) {
		t.Fatalf("success reported, but target card %d holds another record than source card %d", o.dst, o.src)
	}
	return apdus, actions
}

func TestFaultMatrixCopy(t *testing.T) {
	const name = "copy"
	var apdus, actions int
	if !t.Run(name+"/clean", func(t *testing.T) { apdus, actions = runCopyCase(t, nil) }) {
		t.Fatalf("%s fails without faults", name)
	}
	t.Logf("%s: %d APDUs, %d operator actions", name, apdus, actions)
	type copyCase struct {
		name string
		arm  func(o *copyOperator)
	}
	var cases []copyCase
	for _, mc := range matrixCasesFor(t, matrixFlow{deck: 0}, apdus, actions) {
		cases = append(cases, copyCase{mc.name, func(o *copyOperator) { mc.arm(o.operator) }})
	}
	for a := 0; a < actions; a++ {
		cases = append(cases,
			copyCase{fmt.Sprintf("esc-stay@action%d", a), func(o *copyOperator) { o.escAt = a }},
			copyCase{fmt.Sprintf("esc-leave@action%d", a), func(o *copyOperator) { o.escAt, o.leave = a, true }})
	}
	props := []struct {
		name string
		card int
		mk   func(o *copyOperator) (cardio.SimulatedCard, error)
	}{
		{"foreign-source", 1, func(*copyOperator) (cardio.SimulatedCard, error) { return scenario.ForeignProp(), nil }},
		{"blocked-source", 1, func(o *copyOperator) (cardio.SimulatedCard, error) { return scenario.BlockedProp(o.serial(1)) }},
		{"foreign-target", 4, func(*copyOperator) (cardio.SimulatedCard, error) { return scenario.ForeignProp(), nil }},
		{"blocked-target", 4, func(o *copyOperator) (cardio.SimulatedCard, error) { return scenario.BlockedProp(o.serial(4)) }},
		{"otherset-target", 4, func(*copyOperator) (cardio.SimulatedCard, error) {
			var sn tcos.Serial
			copy(sn[:], "OTHERSET01")
			return scenario.OtherKeySetProp(sn, "elsewhere")
		}},
	}
	for _, p := range props {
		cases = append(cases, copyCase{p.name, func(o *copyOperator) {
			prop, err := p.mk(o)
			if err != nil {
				o.t.Fatal(err)
			}
			if err := o.f.Substitute(p.card, prop); err != nil {
				o.t.Fatal(err)
			}
		}})
	}
	for _, c := range cases {
		matrixCases.Add(1)
		if t.Run(name+"/"+c.name, func(t *testing.T) { runCopyCase(t, c.arm) }) {
			matrixSurvived.Add(1)
		}
	}
}
