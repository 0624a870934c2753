package wizard

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The fault matrix for the PKCS#11 slot user cards: enroll card 3, which has
// no key pair yet, while card 1 is enrolled already (card 2, whose key pair
// is made, is the spare), and activate the slot with
// card 1 while cards 1 and 2 are enrolled (card 2 is the spare). Invariants:
//
//   - enroll: the slot's user PIN appears on no screen, in no APDU log and
//     in no audit trail; a card reported enrolled activates the slot; while
//     an enrollment has not succeeded the slot's cards are unchanged, and
//     the cards enrolled before still activate it afterwards;
//   - activate: success is reported only after the slot's Login succeeded
//     with the PIN the card unwrapped (the slot's current user PIN); a
//     failure never locks out the other cards;
//   - both: no PIN try is spent that the operator did not type; no card's
//     PKCS#11 slot PIN ends blocked.

// slotSpy records the user PINs the slot is given and every Login.
type slotSpy struct {
	hsm.UserSlot
	mu     sync.Mutex
	pins   [][]byte
	logins []loginCall
}

type loginCall struct {
	pin []byte
	err error
}

func (s *slotSpy) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	s.mu.Lock()
	s.pins = append(s.pins, bytes.Clone(pin))
	s.mu.Unlock()
	return s.UserSlot.Change(ctx, pin, change)
}

func (s *slotSpy) Login(ctx context.Context, pin []byte) error {
	err := s.UserSlot.Login(ctx, pin)
	s.mu.Lock()
	s.logins = append(s.logins, loginCall{bytes.Clone(pin), err})
	s.mu.Unlock()
	return err
}

// makeKeyedDeck makes a deck directory whose cards 1 and 2 have their slot
// user key pairs already (card 3 is fresh): once per test, since an RSA-2048
// key pair takes the simulated card tens of milliseconds. Every case copies
// it.
func makeKeyedDeck(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keyed")
	d, err := simcard.OpenDeck(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range d.Cards()[:2] {
		if err := withSession(c, func(s *tcos.Session) error { return s.GenerateKeyPair(t0ctx()) }); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// withSession opens card c in a reader of its own, verifies its PKCS#11
// slot PIN (factory PIN) and runs f.
func withSession(c cardio.SimulatedCard, f func(s *tcos.Session) error) error {
	rd := cardio.NewSimReader([]cardio.SimulatedCard{c})
	if err := rd.Insert(1); err != nil {
		return err
	}
	card, err := rd.Connect(t0ctx())
	if err != nil {
		return err
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(t0ctx()); err != nil {
		return err
	}
	st, err := s.PINStatus(t0ctx(), tcos.SlotPKCS11)
	if err != nil {
		return err
	}
	if st.Blocked {
		return fmt.Errorf("the PKCS#11 slot PIN is blocked")
	}
	if err := s.VerifyPIN(t0ctx(), tcos.SlotPKCS11, []byte("123456")); err != nil {
		return err
	}
	return f(s)
}

// slotOperator drives the enroll and activate tools.
type slotOperator struct {
	*operator
	spy     *slotSpy
	op      slotOp
	want    int // the card the operator uses now
	spare   int
	initial []hsm.UserCard // the slot's cards when the case started
	screens []string
	tries   map[int]int // insertions per card
}

// newSlotOperator is a rig on a copy of the keyed deck, with a simulated
// slot for user cards on which cards 1..enrolled are enrolled.
func newSlotOperator(t *testing.T, deck string, op slotOp, enrolled int) *slotOperator {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "deck")
	if err := os.CopyFS(dir, os.DirFS(deck)); err != nil {
		t.Fatal(err)
	}
	d, err := simcard.OpenDeck(dir, 3)
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, d.Cards(), d.SimulatedCards(), t.TempDir())
	sim, err := hsm.OpenSimUserSlot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	spy := &slotSpy{UserSlot: sim}
	cfg := r.m.cfg
	cfg.HSM = hsm.WithUserSlot(r.hsm, spy)
	r.m.env.trail.close()
	r.m = New(cfg)
	r.seen = newSecretsSeen()
	r.run(r.m.Init())

	for i := 1; i <= enrolled; i++ {
		c := r.cards[i-1]
		if err := withSession(c, func(s *tcos.Session) error {
			plan, err := slotuser.PrepareEnroll(t0ctx(), spy, c.Serial(), s, fmt.Sprintf("card %d", i), r.clock)
			if err == nil {
				_, err = slotuser.Apply(t0ctx(), spy, plan)
			}
			return err
		}); err != nil {
			t.Fatalf("enrolling card %d: %v", i, err)
		}
	}
	so := &slotOperator{operator: operatorOn(t, r), spy: spy, op: op, tries: map[int]int{}}
	so.restart = func() { r.choose(so.menu()) }
	recs, err := spy.Records(t0ctx())
	if err != nil {
		t.Fatal(err)
	}
	so.initial = recs.Cards
	r.screens = &so.screens
	return so
}

func (o *slotOperator) tool() *slotCardOp {
	t, _ := o.r.m.act.(*slotCardOp)
	return t
}

func (o *slotOperator) menu() string {
	if o.op == slotEnroll {
		return menuEnroll
	}
	return menuActivate
}

// sameCards reports whether the slot still has exactly the initial cards,
// with the same wraps.
func (o *slotOperator) sameCards() bool {
	recs, err := o.spy.Records(t0ctx())
	if err != nil {
		o.t.Fatal(err)
	}
	return slices.EqualFunc(recs.Cards, o.initial, func(a, b hsm.UserCard) bool {
		return a.Serial == b.Serial && a.Generation == b.Generation && bytes.Equal(a.WrappedPIN, b.WrappedPIN)
	})
}

// drive runs the tool to its success and returns it.
func (o *slotOperator) drive() *slotCardOp {
	o.t.Helper()
	a := driveFlow(o.operator, flowLoop{limit: 150, act: func(a activity) bool { return o.act(a.(*slotCardOp)) },
		ended: func(a activity) bool { return a.(*slotCardOp).done != (tcos.Serial{}) },
		check: func(a activity) {
			if t := a.(*slotCardOp); t.done == (tcos.Serial{}) && !o.sameCards() {
				o.t.Fatalf("the slot's cards changed, but the tool reports no success: %s / %s", t.f.note.text, t.f.note.next)
			}
		}})
	t, _ := a.(*slotCardOp)
	return t
}

func (o *slotOperator) act(t *slotCardOp) bool {
	if t.f.mode != frameOn {
		return false
	}
	switch t.state {
	case slotLabel:
		o.r.press("card 3", "enter")
		return true
	case slotConfirm:
		// The security officer confirms the cards shown: the slot's cards
		// and the one being enrolled, nothing else.
		if t.plan == nil || len(t.plan.Cards) != len(o.initial)+1 || t.plan.Enrolling == nil || t.plan.Enrolling.Serial != o.serial(o.cur) {
			o.t.Fatalf("the confirmation shows %+v", t.plan)
		}
		o.r.press("enter")
		return true
	case slotCard:
	default:
		return false
	}
	switch t.step.state {
	case stepInsert:
		if o.tries[o.want]++; o.tries[o.want] > 6 {
			o.t.Fatalf("card %d tried %d times; wizard says: %s / %s", o.want, o.tries[o.want]-1, t.f.note.text, t.f.note.next)
		}
		o.insert(o.want)
		if sentAway(t) {
			if o.want == o.spare {
				o.t.Fatalf("the wizard sent away the spare card %d too: %s / %s", o.cur, t.f.note.text, t.f.note.next)
			}
			o.want = o.spare
		}
	case stepPIN:
		o.typePIN("123456")
		// No card of the matrix is stale or changed: advice to revoke or
		// enroll a card anew would have the operator undo a good card.
		if flat := strings.Join(strings.Fields(t.f.note.text+" "+t.f.note.next), " "); strings.Contains(flat, "evoke") || strings.Contains(flat, "enroll it again") {
			o.t.Fatalf("after a fault the wizard advises to revoke a good card: %s / %s", t.f.note.text, t.f.note.next)
		}
		if t.state == slotDone && t.done != (tcos.Serial{}) && o.op == slotActivate {
			o.spy.mu.Lock()
			n := len(o.spy.logins)
			ok := n > 0 && o.spy.logins[n-1].err == nil && bytes.Equal(o.spy.logins[n-1].pin, o.spy.pins[len(o.spy.pins)-1])
			o.spy.mu.Unlock()
			if !ok || !o.spy.Active() {
				o.t.Fatalf("activation reported, but the slot's Login did not succeed with its user PIN")
			}
		}
	default:
		return false
	}
	return true
}

// activates has card i activate the slot directly (not through the wizard).
func (o *slotOperator) activates(i int) error {
	c := o.r.cards[i-1]
	return withSession(c, func(s *tcos.Session) error {
		d, err := slotuser.Activate(t0ctx(), o.spy, c.Serial(), s)
		if err != nil {
			return err
		}
		if !d.None() {
			return fmt.Errorf("the slot's own list disowns records: %+v", d)
		}
		if !o.spy.Active() {
			return fmt.Errorf("the slot is not active")
		}
		return nil
	})
}

// pinsNowhere fails if a user PIN of the slot shows on a screen, in the APDU
// log or in the audit trail.
func (o *slotOperator) pinsNowhere() {
	o.t.Helper()
	auditLog, err := os.ReadFile(o.r.auditPath)
	if err != nil {
		o.t.Fatal(err)
	}
	where := map[string]string{"screens": strings.Join(o.screens, "\n"), "APDU log": o.r.apdus(), "audit trail": string(auditLog)}
	for _, pin := range o.spy.pins {
		for name, text := range where {
			for _, form := range []string{string(pin), hex.EncodeToString(pin), strings.ToUpper(hex.EncodeToString(pin)), spacedHex(pin), string(pin[:8])} {
				if strings.Contains(text, form) {
					o.t.Errorf("the slot's user PIN appears in the %s", name)
				}
			}
		}
	}
}

type slotFlow struct {
	name     string
	op       slotOp
	enrolled int // cards enrolled before the case
	want     int // the card to enroll or activate with
	spare    int // the card used when the wizard sends want away
	deck     string
}

func runSlotCase(t *testing.T, fl slotFlow, arm func(o *slotOperator)) (apdus, actions int) {
	t.Helper()
	o := newSlotOperator(t, fl.deck, fl.op, fl.enrolled)
	o.want, o.spare = fl.want, fl.spare
	start := o.f.Count()
	o.r.choose(o.menu())
	if o.tool() == nil {
		t.Fatalf("menu entry %q opened no tool:\n%s", o.menu(), o.r.screen())
	}
	if arm != nil {
		arm(o)
	}
	tool := o.drive()
	apdus, actions = o.f.Count()-start, o.actions
	o.f.Restore()
	if tool == nil || tool.done != o.serial(o.cur) {
		t.Fatalf("the tool did not end in success with card %d", o.cur)
	}
	o.leave()
	o.checkTries()
	recs, err := o.spy.Records(t0ctx())
	if err != nil {
		t.Fatal(err)
	}
	var serials []tcos.Serial
	for _, c := range recs.Cards {
		serials = append(serials, c.Serial)
	}
	var want []tcos.Serial
	for _, c := range o.initial {
		want = append(want, c.Serial)
	}
	if fl.op == slotEnroll {
		want = append(want, o.serial(o.cur))
	}
	slices.SortFunc(serials, func(a, b tcos.Serial) int { return bytes.Compare(a[:], b[:]) })
	slices.SortFunc(want, func(a, b tcos.Serial) int { return bytes.Compare(a[:], b[:]) })
	if !slices.Equal(serials, want) {
		t.Fatalf("the slot's cards are %v, want %v", serials, want)
	}
	o.pinsNowhere()
	for _, l := range o.spy.logins {
		if l.err != nil {
			// A token counts wrong user PINs and may lock the slot for
			// every card: a fault must never bring one to C_Login.
			t.Errorf("the slot's Login was given a wrong PIN: %v", l.err)
		}
	}
	// Every enrolled card activates the slot: the one just enrolled, those
	// enrolled before, and the ones an activation did not use.
	for i := 1; i <= 3; i++ {
		if !slices.Contains(want, o.serial(i)) {
			continue
		}
		if err := o.activates(i); err != nil {
			t.Errorf("enrolled card %d cannot activate the slot: %v", i, err)
		}
	}
	return apdus, actions
}

// pkcs11BlockedProp is a card with serial sn whose PKCS#11 slot PIN is
// blocked (three wrong PINs).
func pkcs11BlockedProp(sn tcos.Serial) (cardio.SimulatedCard, error) {
	c := simcard.New(sn)
	rd := cardio.NewSimReader([]cardio.SimulatedCard{c})
	if err := rd.Insert(1); err != nil {
		return nil, err
	}
	card, err := rd.Connect(t0ctx())
	if err != nil {
		return nil, err
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(t0ctx()); err != nil {
		return nil, err
	}
	for range tcos.MaxTries {
		s.VerifyPIN(t0ctx(), tcos.SlotPKCS11, []byte("000000"))
	}
	if st, err := s.PINStatus(t0ctx(), tcos.SlotPKCS11); err != nil || !st.Blocked {
		return nil, fmt.Errorf("blocked prop: %+v %v", st, err)
	}
	return c, nil
}

func TestFaultMatrixSlotUser(t *testing.T) {
	flows := []slotFlow{
		{name: "enroll", op: slotEnroll, enrolled: 1, want: 3, spare: 2},
		{name: "activate", op: slotActivate, enrolled: 2, want: 1, spare: 2},
	}
	deck := makeKeyedDeck(t)
	for _, fl := range flows {
		fl.deck = deck
		run := func(t *testing.T, arm func(o *slotOperator)) (int, int) { return runSlotCase(t, fl, arm) }
		blocked := func(o *operator) (cardio.SimulatedCard, error) { return pkcs11BlockedProp(o.serial(fl.want)) }
		// In parallel: an enrollment makes an RSA key pair on card 3 in
		// every case.
		runMatrix(t, fl.name, true, run, func(int) []matrixCase[*slotOperator] {
			return []matrixCase[*slotOperator]{
				propCase[*slotOperator](fmt.Sprintf("foreign@card%d", fl.want), fl.want, foreignProp),
				propCase[*slotOperator](fmt.Sprintf("blocked@card%d", fl.want), fl.want, blocked),
			}
		})
	}
}
