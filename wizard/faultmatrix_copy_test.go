package wizard

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/quorum"
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
	src, dst   int          // the deck cards the operator uses now
	failedDsts map[int]bool // targets a write to which was reported incomplete
}

func (o *copyOperator) tool() *copyOp {
	t, _ := o.r.m.act.(*copyOp)
	return t
}

// drive runs the copy to its end and returns the copy as it ended.
func (o *copyOperator) drive() *copyOp {
	o.t.Helper()
	a := driveFlow(o.operator, flowLoop{limit: 150, act: func(a activity) bool { return o.act(a.(*copyOp)) },
		ended: func(a activity) bool { return a.(*copyOp).copied != (tcos.Serial{}) }})
	t, _ := a.(*copyOp)
	return t
}

func (o *copyOperator) act(t *copyOp) bool {
	if t.f.mode != frameOn {
		return false
	}
	switch {
	case t.step.state == stepInsert:
		target := t.src != nil
		i := o.src
		if target {
			i = o.dst
		}
		o.insert(i)
		if sentAway(t) {
			o.sendAwayCopy(target)
		}
	case t.step.state == stepPIN:
		o.typePIN("123456")
	case t.state == copyConfirm:
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
			if t.state == copyTarget {
				// The write failed: the operator must be told so, and that
				// the share is still held.
				o.r.expect("The copy was not written completely", "The share is still in memory", "it will be written again")
				if t.status().holds != holdsShare {
					o.t.Fatalf("the share left memory after a failed write")
				}
				o.failedDsts[o.cur] = true
			}
		}
	default:
		return false
	}
	return true
}

func (o *copyOperator) sendAwayCopy(target bool) {
	switch {
	case target && o.dst == 4:
		o.dst = 5
	case !target && o.src == 1:
		o.src = 2
	default:
		o.t.Fatalf("the wizard sent away card %d too: %s / %s", o.cur, o.tool().f.note.text, o.tool().f.note.next)
	}
}

// esc is the operator pressing Esc (Cancel) before an action: leaving the
// tool must ask first while the share is held; the operator then leaves or
// stays. Esc counts as an action, so that it is pressed once.
func (o *copyOperator) esc(leave bool) {
	o.actions++
	t := o.tool()
	held := t.status().holds == holdsShare
	inserting := t.f.mode == frameOn && t.step.state == stepInsert
	timedOut := t.f.mode == frameTimedOut
	o.r.press("esc")
	switch {
	case inserting && held:
		o.r.expect("Leave this tool?", "held in memory and was not copied yet")
		if o.r.m.act != t || t.status().holds != holdsShare {
			o.t.Fatalf("Esc with the share in memory left without asking")
		}
		if !leave {
			o.r.press("esc")
			if t.step.state != stepInsert || t.f.mode != frameOn || t.status().holds != holdsShare {
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
	case timedOut && held:
		o.r.expect("Leave this tool?")
		o.r.press("esc")
	}
}

// runCopyCase runs one copy with arm applied at its start.
func runCopyCase(t *testing.T, arm func(o *copyOperator)) (apdus, actions int) {
	t.Helper()
	o := &copyOperator{operator: newOperator(t, 5, quorum.TwoOfThree), src: 1, dst: 4, failedDsts: map[int]bool{}}
	o.restart = func() { o.r.choose(menuCopy) }
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
	if tool.status().holds != holdsNothing {
		t.Errorf("the share is still held after the copy")
	}
	o.leave()
	o.checkTries()
	after := map[int][]byte{}
	for i := 1; i <= 5; i++ {
		after[i] = o.shareEF(i)
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
	runMatrix(t, "copy", false, runCopyCase, func(actions int) []matrixCase[*copyOperator] {
		var cases []matrixCase[*copyOperator]
		for a := range actions {
			cases = append(cases,
				beforeCase(fmt.Sprintf("esc-stay@action%d", a), a, func(o *copyOperator) { o.esc(false) }),
				beforeCase(fmt.Sprintf("esc-leave@action%d", a), a, func(o *copyOperator) { o.esc(true) }))
		}
		return append(cases,
			propCase[*copyOperator]("foreign-source", 1, foreignProp),
			propCase[*copyOperator]("blocked-source", 1, blockedProp(1)),
			propCase[*copyOperator]("foreign-target", 4, foreignProp),
			propCase[*copyOperator]("blocked-target", 4, blockedProp(4)),
			propCase[*copyOperator]("otherset-target", 4, otherSetProp))
	})
}
