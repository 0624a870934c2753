package wizard

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The fault matrix (docs/wizard.md, "Tests"): every flow is run clean once to count
// its APDUs and the operator's actions; then again for every fault at every
// APDU index, every operator-time fault (a timeout, a card pulled at a
// prompt) before every action, and every prop card in place of every deck
// card. An operator policy recovers the way the side panel says (retry,
// reinsert, another card, plug the reader back, OK after a timeout), and
// each case must end with the key in the HSM under four invariants:
//
//  1. success is reported only when k cards were read back and the HSM's KCV
//     (recomputed from the key it stores) is the key set's;
//  2. no card holds a record that verifies but belongs to no loaded key,
//     unless it held it before the case (nothing of the sort is written
//     behind the operator's back);
//  3. no PIN try is spent that the operator did not type: VERIFY commands
//     with a PIN that reached a card never outnumber the PINs typed for it,
//     and no card ends blocked;
//  4. the key is never lost while it is recoverable: an install keeps its
//     generated key in memory until it is in the HSM, and every case ends
//     with it there.

var matrixCases, matrixSurvived atomic.Int64

func TestMain(m *testing.M) {
	code := m.Run()
	if n := matrixCases.Load(); n > 0 {
		line := fmt.Sprintf("fault matrix: %d cases, %d survived\n", n, matrixSurvived.Load())
		fmt.Print(line)
		// go test shows a passing package's output only with -v; test.sh
		// names a file here so the count is printed on every run.
		if p := os.Getenv("HSMCARDS_FAULT_MATRIX_REPORT"); p != "" {
			if err := os.WriteFile(p, []byte(line), 0o644); err != nil {
				fmt.Fprintln(os.Stderr, "fault matrix report:", err)
				code = 1
			}
		}
	}
	os.Exit(code)
}

// matrixFlow is one flow of the matrix.
type matrixFlow struct {
	name   string
	deck   int // simulated cards: the set and one spare
	scheme quorum.Scheme
	// prepare brings a fresh rig to the flow's start (e.g. a key set on the
	// cards for a load); start opens the flow from the main menu.
	prepare func(o *operator)
	start   func(o *operator)
}

// operator drives a flow the way a person at the console would; each
// flow's operator embeds it.
type operator struct {
	t       *testing.T
	r       *rig
	f       *cardio.Faults
	scheme  quorum.Scheme
	typed   map[int]int  // PINs typed per deck card
	reached map[int]int  // VERIFY commands with a PIN that reached each card
	bad     map[int]bool // cards the wizard told the operator not to use
	perCard map[int]int  // commands per card
	cur     int          // the card the operator put in last
	readBy  []int        // the cards read so far in this reading
	restart func()       // starts the flow again from the main menu
	actions int
	// before runs before each action (operator-time faults).
	before func(action int)
}

func newOperator(t *testing.T, deck int, s quorum.Scheme) *operator {
	o := operatorOn(t, newRig(t, deck))
	o.scheme = s
	return o
}

// operatorOn is an operator at rig r, counting the commands and PINs that
// reach each card.
func operatorOn(t *testing.T, r *rig) *operator {
	o := &operator{t: t, r: r, f: r.sim.Faults(),
		typed: map[int]int{}, reached: map[int]int{}, bad: map[int]bool{}, perCard: map[int]int{}}
	o.f.MuteWaits = false // a mute card answers ErrCardMute at once, as after the step's deadline
	o.f.Trace = func(card int, cmd []byte) {
		o.perCard[card]++
		if len(cmd) > 5 && cmd[1] == tcos.INSVerify { // VERIFY with a PIN (docs/tcos.md)
			o.reached[card]++
		}
	}
	return o
}

// leave presses OK on the result screen, back to the menu, and checks
// that no secret outlived its step.
func (o *operator) leave() {
	o.t.Helper()
	if o.r.m.act != nil && frameOf(o.r.m.act).mode == frameDone {
		o.r.press("enter")
	}
	if o.r.m.act != nil {
		o.t.Fatalf("the activity did not end: %T", o.r.m.act)
	}
	o.r.seen.check(o.t, o.r.m)
}

// base is the operator every flow's operator embeds.
func (o *operator) base() *operator { return o }

func (o *operator) serial(i int) tcos.Serial { return o.r.cards[i-1].Serial() }

// insert puts deck card i in the reader.
func (o *operator) insert(i int) {
	o.cur = i
	o.r.press(fmt.Sprintf("f%d", i), "enter")
}

// typePIN types pin for the card in the reader.
func (o *operator) typePIN(pin string) {
	o.typed[o.cur]++
	o.r.press(pin, "enter")
}

// checkTries fails if a PIN reached a card more often than it was typed for
// that card (invariant 3).
func (o *operator) checkTries() {
	o.t.Helper()
	for card, n := range o.reached {
		if n > o.typed[card] {
			o.t.Errorf("card %d got %d PINs but the operator typed %d", card, n, o.typed[card])
		}
	}
}

// sentAway reports whether the wizard said to take the card out for good
// (refused: blocked, foreign, not of this key set, read already).
func sentAway(a activity) bool {
	f, st := frameOf(a), stepOf(a)
	return st != nil && st.state == stepInsert && f.mode == frameOn && f.note.level == lvError &&
		(strings.HasPrefix(f.note.next, "Take this card out") || strings.HasPrefix(f.note.next, "Take it out. "))
}

// frameOf is the frame of any activity.
func frameOf(a activity) *frame {
	switch a := a.(type) {
	case *installOp:
		return &a.f
	case *loadOp:
		return &a.f
	case *copyOp:
		return &a.f
	case *pinOp:
		return &a.f
	case *inspectOp:
		return &a.f
	case *slotCardOp:
		return &a.f
	case *slotListOp:
		return &a.f
	case *infoOp:
		return &a.f
	case *verifyOp:
		return &a.f
	case *reissueOp:
		return &a.f
	case *eraseOp:
		return &a.f
	}
	panic("unknown activity")
}

// stepOf is the card step an activity runs now, nil when it runs none.
func stepOf(a activity) *cardStep {
	switch a := a.(type) {
	case *installOp:
		switch a.state {
		case instWrite, instOverwrite, instWriting:
			return a.step
		case instRead:
			if a.reading.state == readCard {
				return a.reading.step
			}
		}
	case *loadOp:
		if a.reading.state == readCard {
			return a.reading.step
		}
	case *copyOp:
		return a.step
	case *pinOp:
		return a.step
	case *inspectOp:
		return a.step
	case *slotCardOp:
		if a.state == slotCard {
			return a.step
		}
	case *verifyOp:
		if a.state == verCard {
			return a.step
		}
	case *reissueOp:
		switch a.state {
		case riSource, riTarget, riOverwrite, riWriting:
			return a.step
		}
	case *eraseOp:
		switch a.state {
		case erCard, erConfirm, erErasing:
			return a.step
		}
	}
	return nil
}

// flowLoop is what one flow's operator does its own way in driveFlow.
type flowLoop struct {
	limit int // actions before the flow counts as stuck
	// ended reports whether the activity succeeded. nil: every end ends the
	// drive; else an activity left before success is started again
	// (o.restart), at most three times, and an end without success fails.
	ended func(activity) bool
	check func(activity)      // invariants that hold before every action
	act   func(activity) bool // the flow's action; false leaves the step to driveFlow
}

// driveFlow runs a flow to its end and returns its activity as it ended.
// Before each action it plugs an unplugged reader back in (as the side panel
// says), fails while a step still runs, checks the flow's invariants and
// runs the operator-time fault; then it counts the action and takes it: the
// flow's own, else OK on a timeout or at the end.
func driveFlow(o *operator, l flowLoop) activity {
	o.t.Helper()
	var last activity
	restarts := 0
	for range l.limit {
		if o.f.Unplugged() {
			o.f.Replug()
		}
		a := o.r.m.act
		if a == nil {
			if l.ended == nil || last != nil && l.ended(last) {
				return last
			}
			if restarts++; restarts > 3 {
				o.t.Fatalf("the flow was left %d times", restarts)
			}
			o.restart()
			continue
		}
		last = a
		if a.status().busy {
			o.t.Fatalf("busy with no command running")
		}
		if l.check != nil {
			l.check(a)
		}
		if o.before != nil {
			o.before(o.actions)
			if o.r.m.act != a || a.status().busy {
				continue
			}
		}
		o.actions++
		f := frameOf(a)
		switch {
		case l.act(a):
		case f.mode == frameDone && l.ended != nil && !l.ended(a):
			o.t.Fatalf("the flow ended without success: %s / %s", f.note.text, f.note.next)
		case f.mode == frameTimedOut, f.mode == frameDone:
			o.r.press("enter")
		default:
			st := stepOf(a)
			o.t.Fatalf("unexpected state (step %v): %s / %s", st != nil && st.state == stepInsert, f.note.text, f.note.next)
		}
	}
	o.t.Fatalf("no end after %d actions", l.limit)
	return last
}

// cer is the matrix's view of an install or a load.
type cer struct {
	a       activity
	f       *frame
	install *installOp // nil for a load
	reading *keyReading
}

func (o *operator) ceremony() *cer { return ceremonyOf(o.r.m.act) }

func ceremonyOf(a activity) *cer {
	switch a := a.(type) {
	case *installOp:
		return &cer{a: a, f: &a.f, install: a, reading: a.reading}
	case *loadOp:
		return &cer{a: a, f: &a.f, reading: a.reading}
	}
	return nil
}

// writing: the install writes its shares.
func (c *cer) writing() bool { return c.install != nil && c.install.state < instRead }

func (c *cer) written() []tcos.Serial {
	if c.install == nil {
		return nil
	}
	return c.install.written
}

func (c *cer) read() []tcos.Serial {
	if c.reading == nil {
		return nil
	}
	return c.reading.read
}

// asksStart: "Write New Key" or "Read (New) Key", press OK/Cancel.
func (c *cer) asksStart() bool {
	if c.f.mode != frameOn {
		return false
	}
	if c.install != nil && c.install.state == instStart {
		return true
	}
	return c.reading != nil && c.reading.state == readStart && (c.install == nil || c.install.state == instRead)
}

// pick chooses the card to insert: in the write phase the first card not yet
// written, when reading the first card of the set not yet read; never one
// the wizard sent away.
func (o *operator) pick(c *cer) int {
	for i := 1; i <= len(o.r.cards); i++ {
		s := o.serial(i)
		switch {
		case o.bad[i]:
		case c.writing() && indexOf(c.written(), s) < 0:
			return i
		case !c.writing() && indexOf(c.read(), s) < 0 && (c.install == nil || indexOf(c.written(), s) >= 0):
			return i
		}
	}
	return 0
}

// drive runs the ceremony to its end and returns it, or fails.
func (o *operator) drive() *cer {
	o.t.Helper()
	a := driveFlow(o, flowLoop{limit: 200, act: func(a activity) bool { return o.actCeremony(ceremonyOf(a)) },
		check: func(a activity) {
			if c := ceremonyOf(a); c.install != nil && c.install.state != instDone && bytes.Equal(c.install.key.Bytes(), make([]byte, quorum.KeySize)) {
				o.t.Fatalf("the generated key left memory before it was in the HSM")
			}
		}})
	return ceremonyOf(a)
}

func (o *operator) actCeremony(c *cer) bool {
	st := stepOf(c.a)
	switch {
	case c.asksStart():
		o.r.press("enter")
	case c.f.mode != frameOn || st == nil:
		return false
	case st.state == stepInsert:
		i := o.pick(c)
		if i == 0 && c.install == nil && len(o.readBy) > 0 && o.restart != nil {
			// The reading locked on to the key set of the first card,
			// and the rest of the cards are of another: as the side
			// panel says, leave and start again without that card.
			for _, b := range o.readBy {
				o.bad[b] = true
			}
			for k := range o.bad {
				if !slices.Contains(o.readBy, k) {
					delete(o.bad, k)
				}
			}
			o.readBy = nil
			o.r.press("esc")
			if o.ceremony() != nil {
				o.t.Fatalf("leaving a load that holds no key asked first")
			}
			o.restart()
			return true
		}
		if i == 0 {
			o.t.Fatalf("no usable card left; wizard says: %s / %s", c.f.note.text, c.f.note.next)
		}
		o.insert(i)
		o.sendAway(c.a)
	case st.state == stepPIN:
		n := len(c.read())
		o.typePIN("123456")
		if len(c.read()) > n {
			o.readBy = append(o.readBy, o.cur)
		}
		o.sendAway(c.a)
	case c.install != nil && c.install.state == instOverwrite:
		if rec := st.res.rec; st.res.recErr == nil && rec.KeySetID != c.install.records[0].KeySetID {
			// A share of another Backup Key: keep it, use another card.
			o.bad[o.cur] = true
			o.r.press("esc")
		} else {
			o.r.press("enter") // damaged, or already this key's: write again
		}
	default:
		return false
	}
	return true
}

// sendAway marks the card unusable when the wizard said to take it out for
// good.
func (o *operator) sendAway(a activity) {
	if sentAway(a) {
		o.bad[o.cur] = true
	}
}

// session opens card i in a reader of its own, failing if slot's PIN is
// blocked; done closes it.
func (o *operator) session(i int, slot tcos.Slot) (s *tcos.Session, done func()) {
	o.t.Helper()
	s, done = o.r.session(i)
	if st, err := s.PINStatus(t0ctx(), slot); err != nil || st.Blocked {
		done()
		o.t.Fatalf("card %d %s PIN: %+v %v", i, slot, st, err)
	}
	return s, done
}

// shareEF reads card i's share EF as the wizard would, with the factory PIN.
func (o *operator) shareEF(i int) []byte {
	o.t.Helper()
	s, done := o.session(i, tcos.SlotBackupKey)
	defer done()
	if err := s.VerifyPIN(t0ctx(), tcos.SlotBackupKey, []byte("123456")); err != nil {
		o.t.Fatalf("card %d: %v", i, err)
	}
	raw, err := s.ReadShareRecord(t0ctx())
	if err != nil {
		o.t.Fatalf("card %d: %v", i, err)
	}
	return raw
}

// records reads every deck card's share record the way the wizard does:
// the records that parse.
func (o *operator) records() map[int]*quorum.Record {
	o.t.Helper()
	out := map[int]*quorum.Record{}
	for i := 1; i <= len(o.r.cards); i++ {
		if rec, err := quorum.Parse(o.shareEF(i)); err == nil {
			out[i] = rec
		}
	}
	return out
}

// check asserts the invariants on a ceremony that ended.
func (o *operator) check(c *cer, before map[int]*quorum.Record) {
	o.t.Helper()
	if c == nil || c.f.mode != frameDone || c.reading == nil || !c.reading.loadedOK() {
		o.t.Fatalf("the ceremony did not end with the key loaded")
	}
	info, ok, err := o.r.hsm.BackupKey(context.Background())
	if err != nil || !ok {
		o.t.Fatalf("success reported but the HSM holds no key: %v", err)
	}
	if loaded := c.reading.loaded; info.KCV != loaded.KCV || info.KeySetID != loaded.KeySetID {
		o.t.Fatalf("success reported for KCV %X but the HSM holds %X", loaded.KCV, info.KCV)
	}
	if len(c.read()) < o.scheme.K {
		o.t.Fatalf("success after reading %d cards of %d needed", len(c.read()), o.scheme.K)
	}
	o.checkTries()
	recs := o.records() // after the tries check: a right PIN resets the counter
	for i, rec := range recs {
		if rec.KeySetID == info.KeySetID {
			continue
		}
		if b := before[i]; b != nil && b.KeySetID == rec.KeySetID {
			continue
		}
		o.t.Errorf("card %d holds a valid share of key set %X (KCV %X) that no HSM holds", i, rec.KeySetID[:4], rec.KCV)
	}
	if c.install != nil {
		if len(c.written()) != o.scheme.N {
			o.t.Fatalf("install ended with %d of %d shares written", len(c.written()), o.scheme.N)
		}
		for _, s := range c.written() {
			found := false
			for i, rec := range recs {
				if o.serial(i) == s && rec.KeySetID == info.KeySetID {
					found = true
				}
			}
			if !found {
				o.t.Errorf("card %s was counted as written but holds no share of the loaded key", s)
			}
		}
	}
}

func matrixFlows() []matrixFlow {
	install := func(scheme int) func(o *operator) {
		return func(o *operator) { o.r.install(scheme, "matrix") }
	}
	return []matrixFlow{
		{name: "install-2of3", deck: 4, scheme: quorum.TwoOfThree, start: install(0)},
		{name: "install-3of5", deck: 6, scheme: quorum.ThreeOfFive, start: install(1)},
		{name: "load-2of3", deck: 4, scheme: quorum.TwoOfThree,
			prepare: func(o *operator) {
				// A key set on cards 1–3, then a new, empty HSM.
				o.r.install(0, "matrix")
				saved := o.bad
				o.bad = map[int]bool{4: true}
				if c := o.drive(); c == nil || !c.reading.loadedOK() {
					o.t.Fatal("preparing the key set failed")
				}
				o.bad = saved
				if err := os.Remove(o.r.hsm.Path()); err != nil {
					o.t.Fatal(err)
				}
				o.r.run(hsmInfoCmd(o.r.hsm))
			},
			start: func(o *operator) { o.r.press("2", "enter") }},
	}
}

// runCase runs one flow with arm applied at its start.
func runCase(t *testing.T, fl matrixFlow, arm func(o *operator)) (apdus, actions int) {
	t.Helper()
	o := newOperator(t, fl.deck, fl.scheme)
	before := map[int]*quorum.Record{}
	if fl.prepare != nil {
		fl.prepare(o)
		before = o.records()
	}
	clear(o.typed)
	clear(o.reached)
	clear(o.perCard)
	base := o.f.Count()
	o.actions = 0
	o.readBy = nil
	o.restart = func() { fl.start(o) }
	fl.start(o)
	if arm != nil {
		arm(o)
	}
	c := o.drive()
	o.check(c, before)
	o.leave()
	if arm == nil {
		t.Logf("APDUs per card: %v", o.perCard)
	}
	return o.f.Count() - base, o.actions
}

// matrixOperator is a flow's operator: *operator, or one that embeds it.
type matrixOperator interface{ base() *operator }

// matrixCase is one case of a flow: arm sets its fault up at the start.
type matrixCase[O matrixOperator] struct {
	name string
	arm  func(o O)
}

// faultCases are the cases every flow runs: every fault at every APDU index
// and every operator-time fault before every action of the clean run.
func faultCases[O matrixOperator](apdus, actions int) []matrixCase[O] {
	var cases []matrixCase[O]
	arm := func(name string, r cardio.Rule) {
		cases = append(cases, matrixCase[O]{name, func(o O) { o.base().f.Arm(r) }})
	}
	for i := range apdus {
		for _, k := range cardio.FaultKinds() {
			arm(fmt.Sprintf("%s@apdu%d", k, i), cardio.Rule{Kind: k, After: i})
		}
		// A tear late in a write: the whole record landed (it is shorter than
		// the padded EF), only the answer was lost.
		arm(fmt.Sprintf("tear-late@apdu%d", i), cardio.Rule{Kind: cardio.FaultTear, After: i, Keep: tcos.ShareEFSize - 1})
	}
	for a := range actions {
		cases = append(cases,
			beforeCase(fmt.Sprintf("timeout@action%d", a), a, func(o O) {
				o.base().r.advance(DefaultInsertTimeout + DefaultPINTimeout)
			}),
			beforeCase(fmt.Sprintf("f12@action%d", a), a, func(o O) { o.base().r.press("f12") }))
	}
	return cases
}

// beforeCase has the operator do what do does before action a.
func beforeCase[O matrixOperator](name string, a int, do func(o O)) matrixCase[O] {
	return matrixCase[O]{name, func(o O) {
		o.base().before = func(n int) {
			if n == a {
				do(o)
			}
		}
	}}
}

// propCase puts the prop card mk makes in place of deck card j.
func propCase[O matrixOperator](name string, j int, mk func(o *operator) (cardio.SimulatedCard, error)) matrixCase[O] {
	return matrixCase[O]{name, func(o O) {
		p, err := mk(o.base())
		if err == nil {
			err = o.base().f.Substitute(j, p)
		}
		if err != nil {
			o.base().t.Fatal(err)
		}
	}}
}

func foreignProp(*operator) (cardio.SimulatedCard, error) { return simcard.Foreign{}, nil }

// blockedProp is card j with its Backup Key PIN blocked.
func blockedProp(j int) func(o *operator) (cardio.SimulatedCard, error) {
	return func(o *operator) (cardio.SimulatedCard, error) {
		return simcard.BlockedTwin(o.serial(j), tcos.SlotBackupKey)
	}
}

// otherSetProp holds a share of another key set.
func otherSetProp(*operator) (cardio.SimulatedCard, error) {
	var sn tcos.Serial
	copy(sn[:], "OTHERSET01")
	return simcard.OtherKeySet(sn, "elsewhere")
}

// runMatrix runs flow name clean, then once for each of its faultCases and
// the cases more (if any) adds, counting every case for TestMain's line. Parallel
// cases suit a flow whose every case is slow.
func runMatrix[O matrixOperator](t *testing.T, name string, parallel bool,
	run func(t *testing.T, arm func(o O)) (apdus, actions int), more func(actions int) []matrixCase[O]) {
	t.Helper()
	var apdus, actions int
	if !t.Run(name+"/clean", func(t *testing.T) { apdus, actions = run(t, nil) }) {
		t.Errorf("%s fails without faults", name)
		return
	}
	t.Logf("%s: %d APDUs, %d operator actions", name, apdus, actions)
	cases := faultCases[O](apdus, actions)
	if more != nil {
		cases = append(cases, more(actions)...)
	}
	t.Run(name, func(t *testing.T) {
		for _, mc := range cases {
			matrixCases.Add(1)
			t.Run(mc.name, func(t *testing.T) {
				if parallel {
					t.Parallel()
				}
				defer func() {
					if !t.Failed() {
						matrixSurvived.Add(1)
					}
				}()
				run(t, mc.arm)
			})
		}
	})
}

func TestFaultMatrix(t *testing.T) {
	for _, fl := range matrixFlows() {
		run := func(t *testing.T, arm func(o *operator)) (int, int) { return runCase(t, fl, arm) }
		runMatrix(t, fl.name, false, run, func(int) (cases []matrixCase[*operator]) {
			for j := 1; j <= fl.deck; j++ {
				cases = append(cases,
					propCase[*operator](fmt.Sprintf("foreign@card%d", j), j, foreignProp),
					propCase[*operator](fmt.Sprintf("blocked@card%d", j), j, blockedProp(j)),
					propCase[*operator](fmt.Sprintf("otherset@card%d", j), j, otherSetProp))
			}
			return cases
		})
	}
}
