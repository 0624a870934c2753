package wizard

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// The fault matrix for the card set's life (docs/lifecycle.md, "Faults";
// docs/wizard.md, "Tests"): Verify the card set, Re-issue the card set and
// Erase a card, each on a 2-of-3 set installed on cards 1–3, run clean, then
// under every fault at every APDU index and every operator-time fault
// before every action (faultCases), the operator recovering the way the
// side panel says. Invariants, beside those of every flow (no PIN try spent
// that was not typed, no secret left in memory):
//
//  1. the current set is always loadable: until a re-issue's commit the
//     register's current set is generation 1 and cards 1–3 are unchanged;
//  2. nothing is committed half: a committed re-issue's cards all hold
//     the new set, and every k of them rebuild the HSM's key;
//  3. Verify writes nothing, and a fault never makes it call a good card
//     BAD (a spoilt read is at worst damaged or unreadable);
//  4. Erase changes only the card erased, which ends empty, and the
//     register no longer counts it.

// lifeOperator drives one operation of the card set's life.
type lifeOperator struct {
	*operator
	kcv    string         // the HSM's KCV after the install
	before map[int][]byte // every card's share EF after the install
	reg    hsm.CardSets   // the register after the install
	act    func(a activity) bool
	ended  func(a activity) bool
	kept   bool // Esc answered the erase question: the card was kept
}

// newLifeOperator installs a 2-of-3 set on cards 1–3 of a deck of n.
func newLifeOperator(t *testing.T, n int) *lifeOperator {
	t.Helper()
	o := &lifeOperator{operator: newOperator(t, n, quorum.TwoOfThree)}
	o.kcv = o.r.installSet("matrix")
	o.before = map[int][]byte{}
	for i := 1; i <= n; i++ {
		o.before[i] = o.shareEF(i)
	}
	o.reg = o.r.register()
	clear(o.typed)
	clear(o.reached)
	clear(o.perCard)
	o.actions = 0
	return o
}

// next is the first of cards not in done (by serial), 0 when none is left.
func (o *lifeOperator) next(cards []int, done []tcos.Serial) int {
	for _, i := range cards {
		if !slices.Contains(done, o.serial(i)) && !o.bad[i] {
			return i
		}
	}
	return 0
}

// run drives the operation opened by menu to its end and checks the
// invariants every one of them shares.
func (o *lifeOperator) run(menu string, arm func(o *lifeOperator)) (a activity, apdus, actions int) {
	o.t.Helper()
	o.restart = func() { o.r.choose(menu) }
	start := o.f.Count()
	o.r.choose(menu)
	if arm != nil {
		arm(o)
	}
	a = driveFlow(o.operator, flowLoop{limit: 200, act: o.act, ended: o.ended})
	apdus, actions = o.f.Count()-start, o.actions
	o.f.Restore()
	o.leave()
	o.checkTries()
	if got := o.r.hsmKCV(); got != o.kcv {
		o.t.Errorf("the HSM's key changed: KCV %s, was %s", got, o.kcv)
	}
	return a, apdus, actions
}

// unchanged fails unless every card but those in except holds what it held
// after the install.
func (o *lifeOperator) unchanged(except ...int) {
	o.t.Helper()
	for i, b := range o.before {
		if !slices.Contains(except, i) && !bytes.Equal(b, o.shareEF(i)) {
			o.t.Errorf("card %d's share record changed", i)
		}
	}
}

// insertOrSkip puts card i in the reader, or finishes with finish when
// none is left; a card the wizard sends away is not offered again.
func (o *lifeOperator) insertOrSkip(a activity, i int, finish func()) {
	if i == 0 {
		finish()
		return
	}
	o.insert(i)
	if sentAway(a) {
		o.bad[i] = true
	}
}

// esc presses Esc (Cancel) before an action, and OK when the wizard asks
// whether to leave: the operator leaves, and the flow starts again.
func (o *lifeOperator) esc() {
	o.actions++
	if e, ok := o.r.m.act.(*eraseOp); ok && e.f.mode == frameOn && e.state == erConfirm {
		o.kept = true
	}
	o.r.press("esc")
	if o.r.m.act != nil && strings.Contains(o.r.screen(), "Leave this") {
		o.r.press("enter")
	}
}

func runVerifyCase(t *testing.T, arm func(o *lifeOperator)) (apdus, actions int) {
	t.Helper()
	o := newLifeOperator(t, 4)
	o.act = func(a activity) bool {
		v := a.(*verifyOp)
		if v.f.mode != frameOn || v.state != verCard {
			return false
		}
		switch v.step.state {
		case stepInsert:
			var done []tcos.Serial
			for _, c := range v.cards {
				done = append(done, c.Serial)
			}
			o.insertOrSkip(a, o.next([]int{1, 2, 3}, done), func() { o.r.press("esc") })
		case stepPIN:
			o.typePIN("123456")
		default:
			return false
		}
		return true
	}
	o.ended = func(a activity) bool { return a.(*verifyOp).report != nil }
	a, apdus, actions := o.run(menuVerify, arm)
	rep := a.(*verifyOp).report
	if len(rep.Cards)+len(o.bad) != 3 {
		t.Errorf("the verify ended with %d cards and %d sent away, want cards 1–3", len(rep.Cards), len(o.bad))
	}
	for _, c := range rep.Cards {
		if c.Verdict == cardset.Bad {
			t.Errorf("a fault made card %s BAD: %s", c.Serial, c.Reason)
		}
	}
	if arm == nil && rep.Outcome != cardset.AllGood {
		t.Errorf("the clean verify ended %s", rep.Outcome)
	}
	o.unchanged()
	if reg := o.r.register(); !sameRegister(reg, o.reg) {
		t.Errorf("the verify changed the register: %+v", reg)
	}
	return apdus, actions
}

func runReissueCase(t *testing.T, arm func(o *lifeOperator)) (apdus, actions int) {
	t.Helper()
	o := newLifeOperator(t, 7) // card 7: the spare new card
	o.act = func(a activity) bool {
		ri := a.(*reissueOp)
		if ri.f.mode != frameOn {
			return false
		}
		switch {
		case ri.state == riParams, ri.state == riOverwrite, ri.state == riRetry:
			o.r.press("enter")
		case (ri.state == riSource || ri.state == riTarget) && ri.step.state == stepInsert:
			if ri.state == riSource {
				o.insertOrSkip(a, o.next([]int{1, 2, 3}, ri.quorum), func() { o.t.Fatal("no source card left") })
			} else {
				o.insertOrSkip(a, o.next([]int{4, 5, 6, 7}, ri.r.Cards()), func() { o.t.Fatal("no target card left") })
			}
		case (ri.state == riSource || ri.state == riTarget) && ri.step.state == stepPIN:
			o.typePIN("123456")
		default:
			return false
		}
		return true
	}
	o.ended = func(a activity) bool { return a.(*reissueOp).done != nil }
	// Before the commit the current set stays generation 1 on cards 1–3.
	check := o.ended
	o.ended = func(a activity) bool {
		if !check(a) {
			if reg := o.r.register(); reg.Current == nil || reg.Current.Generation != 1 {
				o.t.Fatalf("the current set changed before the commit: %+v", reg.Current)
			}
			return false
		}
		return true
	}
	_, apdus, actions = o.run(menuReissue, arm)
	reg := o.r.register()
	if reg.Current == nil || reg.Current.Generation != 2 || len(reg.Current.Serials) != 3 {
		t.Fatalf("the register after the re-issue: %+v", reg.Current)
	}
	var written []int
	for _, i := range []int{4, 5, 6, 7} {
		if slices.Contains(reg.Current.Serials, [10]byte(o.serial(i))) {
			written = append(written, i)
		}
	}
	if len(written) != 3 {
		t.Fatalf("the new set's cards are not 3 of cards 4–7: %v", written)
	}
	o.unchanged(4, 5, 6, 7)
	// Every k of the new cards rebuild the HSM's key: Verify says so.
	info, _, err := o.r.hsm.BackupKey(t0ctx())
	if err != nil {
		t.Fatal(err)
	}
	v, err := cardset.NewVerify(reg, &info)
	if err != nil {
		t.Fatal(err)
	}
	for _, i := range written {
		if _, err := v.Add(cardset.Card{Serial: o.serial(i), TriesLeft: tcos.MaxTries, Raw: o.r.rawCard(i)}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := v.Finish()
	if err != nil || rep.Outcome != cardset.AllGood {
		t.Fatalf("the committed set does not verify: %v %v", rep, err)
	}
	return apdus, actions
}

func runEraseCase(t *testing.T, arm func(o *lifeOperator)) (apdus, actions int) {
	t.Helper()
	o := newLifeOperator(t, 4)
	o.act = func(a activity) bool {
		e := a.(*eraseOp)
		if e.f.mode != frameOn {
			return false
		}
		switch {
		case e.state == erConfirm, e.state == erRetry:
			o.r.press("enter")
		case e.state == erCard && e.step.state == stepInsert:
			o.insertOrSkip(a, 1, nil)
		case e.state == erCard && e.step.state == stepPIN:
			o.typePIN("123456")
		default:
			return false
		}
		return true
	}
	o.ended = func(a activity) bool {
		e := a.(*eraseOp)
		return e.state == erDone && (e.erased || o.kept)
	}
	a, apdus, actions := o.run(menuErase, arm)
	if !a.(*eraseOp).erased {
		// Esc at the question: nothing changed.
		o.unchanged()
		if reg := o.r.register(); !sameRegister(reg, o.reg) {
			t.Errorf("an erase not done changed the register: %+v", reg)
		}
		return apdus, actions
	}
	o.unchanged(1)
	if rec := o.shareEF(1); !bytes.Equal(rec, make([]byte, len(rec))) && len(bytes.Trim(rec, "\x00")) != 0 {
		t.Errorf("card 1 is not empty after the erase")
	}
	if reg := o.r.register(); reg.Current == nil || slices.Contains(reg.Current.Serials, [10]byte(o.serial(1))) {
		t.Errorf("the register still counts the erased card: %+v", reg.Current)
	}
	return apdus, actions
}

// sameRegister reports whether two reads of the register are the same.
func sameRegister(a, b hsm.CardSets) bool { return reflect.DeepEqual(a, b) }

func lifeCases(actions int) []matrixCase[*lifeOperator] {
	var cases []matrixCase[*lifeOperator]
	for a := range actions {
		cases = append(cases, beforeCase(fmt.Sprintf("esc@action%d", a), a, func(o *lifeOperator) { o.esc() }))
	}
	return cases
}

func TestFaultMatrixVerify(t *testing.T) {
	runMatrix(t, "verify", false, runVerifyCase, nil)
}

func TestFaultMatrixReissue(t *testing.T) {
	runMatrix(t, "reissue", false, runReissueCase, lifeCases)
}

func TestFaultMatrixErase(t *testing.T) {
	runMatrix(t, "erase", false, runEraseCase, lifeCases)
}
