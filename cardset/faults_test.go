package cardset

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The domain's fault matrix (docs/lifecycle.md, "Faults"): each flow (a
// re-issue, a verify, an erase) runs once clean to count its APDUs, its
// register calls and its actions; then again for every card fault at every
// APDU index, every register fault at every register call, and the
// operator quitting before every action. The flows drive real simulated
// cards through tcos, one card step at a time, as the wizard will. Two
// operators: one retries a failed step (takes the card out, plugs the
// reader back, inserts the card again), one gives up at the first failure.
// After every case:
//
//  1. the register is whole: the old set current (nothing committed), or
//     the new set current with the old one superseded; never between;
//  2. the current set is loadable from the cards: k of them hold it,
//     admitted, and rebuild the original key;
//  3. no card of a set that is not current is accepted (Admit refuses it),
//     every card still holding the superseded set is listed to collect, and
//     no card of the current set is;
//  4. the quorum's cards were not touched before the commit;
//  5. no secret outlives the re-issue: its buffers are gone after Commit or
//     Wipe;
//  6. a retrying operator always gets the re-issue committed; a verify
//     never writes the register or a card.

var factoryPIN = []byte(tcos.FactoryPIN)

// rig is a reader with simulated cards, a register and the installed set.
type rig struct {
	t      *testing.T
	cards  []*simcard.Card
	r      *cardio.SimReader
	f      *cardio.Faults
	reg    *memRegister
	ts     *testSet
	hsmKey *hsm.KeyInfo
}

// newRig makes n blank cards and installs ts on the cards on (ts.recs[j]
// on card on[j]); the register is adopted with those cards unless empty.
func newRig(t *testing.T, n int, ts *testSet, on []int, emptyRegister bool) *rig {
	g := &rig{t: t, ts: ts, hsmKey: hsmKeyOf(ts)}
	var sim []cardio.SimulatedCard
	for i := 1; i <= n; i++ {
		c := simcard.New(sn(i))
		g.cards = append(g.cards, c)
		sim = append(sim, c)
	}
	g.r = cardio.NewSimReader(sim)
	g.f = g.r.Faults()
	g.f.MuteWaits = false
	g.reg = newMemRegister(t, hsm.CardSets{})
	ctx := context.Background()
	for j, i := range on {
		rec := encode(t, ts.recs[j])
		if err := g.step(ctx, i, func(s *tcos.Session, _ Card) error { return s.WriteShareRecord(ctx, rec) }); err != nil {
			t.Fatal(err)
		}
	}
	if !emptyRegister {
		var ss []tcos.Serial
		for _, i := range on {
			ss = append(ss, sn(i))
		}
		if _, err := Adopt(ctx, g.reg, ts.set, ts.key.Check(), ss, day1); err != nil {
			t.Fatal(err)
		}
	}
	g.reg.calls, g.reg.writes = 0, 0
	return g
}

// step is one card step on card i: insert, connect, identify, PIN status,
// verify the PIN, read the share record, then more.
func (g *rig) step(ctx context.Context, i int, more func(s *tcos.Session, c Card) error) error {
	if err := g.r.Insert(i); err != nil {
		return err
	}
	conn, err := g.r.Connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	s := tcos.Open(conn, tcos.Options{})
	serial, err := s.Identify(ctx)
	if err != nil {
		return err
	}
	st, err := s.PINStatus(ctx, tcos.SlotBackupKey)
	if err != nil {
		return err
	}
	if st.Blocked {
		return tcos.ErrBlocked
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, bytes.Clone(factoryPIN)); err != nil {
		return err
	}
	raw, err := s.ReadShareRecord(ctx)
	if err != nil {
		return err
	}
	defer secmem.Wipe(raw)
	return more(s, Card{Serial: serial, TriesLeft: st.TriesLeft, Raw: raw})
}

// contents reads every card's record with no fault armed.
func (g *rig) contents() map[int][]byte {
	g.t.Helper()
	g.f.Disarm()
	g.f.Replug()
	out := map[int][]byte{}
	for i := range g.cards {
		err := g.step(context.Background(), i+1, func(_ *tcos.Session, c Card) error {
			out[i+1] = bytes.Clone(c.Raw)
			return nil
		})
		if err != nil {
			g.t.Fatalf("reading card %d after the case: %v", i+1, err)
		}
	}
	return out
}

// operator is how a case's operator meets a failure.
type operator int

const (
	retrying operator = iota // the step again, after taking the card out and plugging the reader in
	givingUp                 // the whole operation ends (Wipe)
)

func (o operator) String() string { return [...]string{"retry", "give up"}[o] }

// driver runs one operation's steps under an operator, counting actions
// (one per domain call) so that the operator can quit before any of them.
type driver struct {
	g       *rig
	op      operator
	quitAt  int // quit before this action; -1 never
	actions int
}

var errQuit = errors.New("the operator quit")

// act runs one action: retried up to 4 times by a retrying operator.
func (d *driver) act(f func() error) error {
	if d.actions == d.quitAt {
		return errQuit
	}
	d.actions++
	var err error
	for range 4 {
		d.g.f.Replug()
		if err = f(); err == nil || d.op == givingUp {
			return err
		}
	}
	return err
}

// flow is a re-issue of the matrix.
type flow struct {
	name      string
	deck      int
	scheme    quorum.Scheme
	format1   bool // the installed set is format 1, the register empty
	installOn []int
	sources   []int
	targets   []int
	params    Params
}

var reissueFlows = []flow{
	// The "done when": 2-of-3 from cards 1+2 onto cards 3, 4, 5.
	{name: "2of3 to 2of3", deck: 5, scheme: quorum.TwoOfThree, installOn: []int{1, 2, 3},
		sources: []int{1, 2}, targets: []int{3, 4, 5}, params: Params{Now: day2}},
	// A format 1 set, installed before the register, becomes 3-of-5.
	{name: "format 1 2of3 to 3of5", deck: 7, scheme: quorum.TwoOfThree, format1: true, installOn: []int{1, 2, 3},
		sources: []int{2, 3}, targets: []int{1, 4, 5, 6, 7},
		params: Params{Scheme: quorum.ThreeOfFive, Label: "Cluster Berlin 2026", Now: day2}},
}

// result is what a case did.
type result struct {
	ri   *Reissue
	plan *Plan
	err  error
}

// runReissue runs fl's re-issue on g.
func runReissue(g *rig, fl flow, d *driver) result {
	ctx := context.Background()
	var res result
	res.ri, res.err = NewReissue(g.reg.state(g.t), g.hsmKey)
	if res.err != nil {
		return res
	}
	ri := res.ri
	defer func() {
		if res.err != nil {
			ri.Wipe()
		}
	}()
	for _, i := range fl.sources {
		res.err = d.act(func() error {
			return g.step(ctx, i, func(_ *tcos.Session, c Card) error { _, err := ri.AddSource(c); return err })
		})
		if res.err != nil {
			return res
		}
	}
	if res.err = d.act(func() error { _, err := ri.Rebuild(); return err }); res.err != nil {
		return res
	}
	if res.err = d.act(func() error {
		params := fl.params
		params.HSM = heldBy(g.t, g.ts)
		p, err := ri.Plan(ctx, g.reg, params)
		res.plan = p
		return err
	}); res.err != nil {
		return res
	}
	for _, i := range fl.targets {
		res.err = d.act(func() error {
			return g.step(ctx, i, func(s *tcos.Session, c Card) error {
				w, err := ri.Target(c)
				if err != nil {
					return err
				}
				back, err := s.WriteShareRecordReadBack(ctx, w.Record())
				if err != nil {
					w.Release()
					return err
				}
				defer secmem.Wipe(back)
				return ri.Written(w, back)
			})
		})
		if res.err != nil {
			return res
		}
	}
	res.err = d.act(func() error { _, err := ri.Commit(ctx, g.reg, day2); return err })
	return res
}

// prepare makes the rig of a flow.
func prepare(t *testing.T, fl flow) *rig {
	ts := newSet(t, "Cluster Berlin", fl.scheme)
	if fl.format1 {
		ts = ts.asFormat1(t)
	}
	return newRig(t, fl.deck, ts, fl.installOn, fl.format1)
}

// checkReissue holds the invariants after a case.
func checkReissue(t *testing.T, g *rig, fl flow, res result, op operator, before map[int][]byte) {
	t.Helper()
	if res.ri != nil && res.ri.live() {
		t.Error("the re-issue still holds secret memory")
	}
	st := g.reg.state(t)
	cards := g.contents()
	old := g.ts.set
	committed := false
	switch {
	case st.Current == nil && fl.format1:
		// The register was empty and Plan never wrote it: nothing began.
	case st.Current != nil && st.Current.KeySetID == old.ID:
	case st.Current != nil && res.plan != nil && st.Current.KeySetID == res.plan.New.ID:
		committed = true
		if !slices.ContainsFunc(st.Superseded, func(s hsm.SupersededSet) bool { return s.KeySetID == old.ID }) {
			t.Fatal("the new set is current but the old one is not superseded")
		}
		if slices.ContainsFunc(st.Uncommitted, func(c hsm.CardSet) bool { return c.KeySetID == res.plan.New.ID }) {
			t.Fatal("the current set is still listed as uncommitted")
		}
	default:
		t.Fatalf("the register's current set is neither the old nor the new one: %+v", st.Current)
	}
	if op == retrying && !committed {
		t.Fatalf("a retrying operator did not get the re-issue committed: %v", res.err)
	}
	if res.err == nil && !committed {
		t.Fatal("the re-issue reported success without committing")
	}

	// Every card: what it holds, and whether a Load would take it.
	curSet := old
	if committed {
		curSet = res.plan.New
	}
	var loadable []int
	for i, raw := range cards {
		rec, err := quorum.Parse(raw)
		if err != nil {
			continue
		}
		set := rec.KeySet()
		rec.Wipe()
		admitted := Admit(st, set) == nil
		switch {
		case set.ID == curSet.ID:
			if !admitted {
				t.Fatalf("card %d of the current set refused", i)
			}
			loadable = append(loadable, i)
		case admitted && !(fl.format1 && st.Current == nil):
			t.Fatalf("card %d holds a set that is not current (generation %d) and is accepted", i, set.Generation)
		}
		if committed && set.ID == curSet.ID {
			for _, s := range st.Superseded {
				if slices.Contains(s.Serials, [10]byte(sn(i))) {
					t.Fatalf("card %d holds the current set but is listed to collect (generation %d)", i, s.Generation)
				}
			}
		}
		if committed && set.ID == old.ID {
			var sup hsm.SupersededSet
			for _, s := range st.Superseded {
				if s.KeySetID == old.ID {
					sup = s
				}
			}
			if !slices.Contains(sup.Serials, [10]byte(sn(i))) {
				t.Fatalf("card %d still holds the superseded set but is not listed to collect (%v)", i, sup.Serials)
			}
		}
	}
	slices.Sort(loadable)
	k := curSet.Scheme.K
	if len(loadable) < k {
		t.Fatalf("the current set is not loadable: %d of its cards left (%v), k = %d", len(loadable), loadable, k)
	}
	kv, err := deck(cards).load(st, loadable...)
	if err != nil || kv != old.KCV {
		t.Fatalf("loading the current set from cards %v: %X, %v", loadable, kv, err)
	}
	if committed {
		if len(loadable) != curSet.Scheme.N {
			t.Fatalf("committed with %d of %d new cards on the deck", len(loadable), curSet.Scheme.N)
		}
		// Every k of them.
		_ = quorum.EachSubset(len(loadable), k, func(idx []int) error {
			var sub []int
			for _, j := range idx {
				sub = append(sub, loadable[j])
			}
			if kv, err := deck(cards).load(st, sub...); err != nil || kv != old.KCV {
				t.Fatalf("new cards %v: %v", sub, err)
			}
			return nil
		})
	} else {
		for _, i := range fl.sources {
			if !bytes.Equal(cards[i], before[i]) {
				t.Fatalf("quorum card %d changed though nothing was committed", i)
			}
		}
	}
}

var matrixCases int

func TestReissueFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix takes a few seconds")
	}
	for _, fl := range reissueFlows {
		t.Run(fl.name, func(t *testing.T) {
			// Clean, to count.
			g := prepare(t, fl)
			start := g.f.Count()
			d := &driver{g: g, quitAt: -1}
			res := runReissue(g, fl, d)
			if res.err != nil {
				t.Fatalf("clean run: %v", res.err)
			}
			apdus, calls, actions := g.f.Count()-start, g.reg.calls, d.actions
			checkReissue(t, g, fl, res, retrying, nil)
			t.Logf("%d APDUs, %d register calls, %d actions", apdus, calls, actions)

			for _, op := range []operator{retrying, givingUp} {
				for idx := range apdus {
					for _, kind := range cardio.FaultKinds() {
						name := fmt.Sprintf("%v at APDU %d, %v", kind, idx, op)
						g := prepare(t, fl)
						before := g.contents()
						g.f.Arm(cardio.Rule{Kind: kind, After: idx, Label: name})
						res := runReissue(g, fl, &driver{g: g, op: op, quitAt: -1})
						t.Run(name, func(t *testing.T) { checkReissue(t, g, fl, res, op, before) })
						matrixCases++
					}
				}
				for call := range calls + 2 {
					for _, rf := range []regFault{regFailRead, regFailBefore, regFailAfter} {
						name := fmt.Sprintf("register fault %d at call %d, %v", rf, call, op)
						g := prepare(t, fl)
						before := g.contents()
						g.reg.fault = func(c int, update bool) regFault {
							if c == call && (update || rf == regFailRead) {
								return rf
							}
							return regOK
						}
						res := runReissue(g, fl, &driver{g: g, op: op, quitAt: -1})
						g.reg.fault = nil
						t.Run(name, func(t *testing.T) { checkReissue(t, g, fl, res, op, before) })
						matrixCases++
					}
				}
			}
			for q := range actions + 1 {
				name := fmt.Sprintf("quit before action %d", q)
				g := prepare(t, fl)
				before := g.contents()
				res := runReissue(g, fl, &driver{g: g, op: givingUp, quitAt: q})
				t.Run(name, func(t *testing.T) {
					if q < actions && !errors.Is(res.err, errQuit) {
						t.Fatalf("the case did not quit: %v", res.err)
					}
					op := givingUp
					if q == actions {
						op = retrying // never quits: it commits
					}
					checkReissue(t, g, fl, res, op, before)
				})
				matrixCases++
			}
		})
	}
	t.Logf("%d cases", matrixCases)
}

// TestVerifyFaultMatrix: a verify under every card fault never writes a
// card or the register, and a retrying operator gets the clean run's
// verdicts.
func TestVerifyFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix takes a few seconds")
	}
	ctx := context.Background()
	run := func(g *rig, d *driver) (*Report, error) {
		v, err := NewVerify(g.reg.state(g.t), g.hsmKey)
		if err != nil {
			return nil, err
		}
		defer v.Wipe()
		for _, i := range []int{1, 2, 3} {
			err := d.act(func() error {
				return g.step(ctx, i, func(_ *tcos.Session, c Card) error { _, err := v.Add(c); return err })
			})
			if err != nil {
				return nil, err
			}
		}
		return v.Finish()
	}
	mk := func() *rig {
		ts := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
		return newRig(t, 3, ts, []int{1, 2, 3}, false)
	}
	g := mk()
	start := g.f.Count()
	rep, err := run(g, &driver{g: g, quitAt: -1})
	if err != nil || rep.Outcome != AllGood {
		t.Fatalf("clean run: %v", err)
	}
	apdus := g.f.Count() - start
	for _, op := range []operator{retrying, givingUp} {
		for idx := range apdus {
			for _, kind := range cardio.FaultKinds() {
				g := mk()
				before, rev := g.contents(), g.reg.state(t).Revision
				g.reg.calls = 0
				g.f.Arm(cardio.Rule{Kind: kind, After: idx})
				rep, err := run(g, &driver{g: g, op: op, quitAt: -1})
				t.Run(fmt.Sprintf("%v at APDU %d, %v", kind, idx, op), func(t *testing.T) {
					if op == retrying && (err != nil || rep.Outcome != AllGood || rep.HSM != HSMSameKey) {
						t.Fatalf("%v, %+v", err, rep)
					}
					after := g.contents()
					for i := range before {
						if !bytes.Equal(before[i], after[i]) {
							t.Fatalf("card %d changed", i)
						}
					}
					if g.reg.writes != 0 || g.reg.state(t).Revision != rev {
						t.Fatal("the register was written")
					}
				})
				matrixCases++
			}
		}
	}
}

// TestEraseFaultMatrix: erasing card 3 of a 2-of-3 set under every card and
// register fault: the card is erased or holds its share (or, torn, a damaged
// record), the register drops it only once it is erased, and the set stays
// loadable from cards 1 and 2.
func TestEraseFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the matrix takes a few seconds")
	}
	ctx := context.Background()
	// Two actions, as the wizard does them: the card step (its record read,
	// the plan, the erase), then the register's bookkeeping with the plan
	// still in hand, so that a register fault is retried without the card
	// (which, blank by then, no longer says which set it held).
	run := func(g *rig, d *driver) error {
		var p ErasePlan
		planned := false
		err := d.act(func() error {
			return g.step(ctx, 3, func(s *tcos.Session, c Card) error {
				q, err := PlanErase(g.reg.state(g.t), g.hsmKey, c)
				if err != nil {
					return err
				}
				if q.Kind == Share && (!q.Confirm || q.Known != 3 || q.Standing != Current) {
					return fmt.Errorf("plan %+v", q)
				}
				if q.Kind == Share || !planned {
					p, planned = q, true // a retry after a torn erase keeps what the first read said
				}
				return s.EraseShareRecord(ctx)
			})
		})
		if err != nil {
			return err
		}
		return d.act(func() error { _, err := Erased(ctx, g.reg, p); return err })
	}
	mk := func() *rig {
		ts := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
		return newRig(t, 3, ts, []int{1, 2, 3}, false)
	}
	check := func(t *testing.T, g *rig, op operator, err error) {
		st := g.reg.state(t)
		cards := g.contents()
		listed := slices.Contains(st.Current.Serials, [10]byte(sn(3)))
		_, perr := quorum.Parse(cards[3])
		erased := errors.Is(perr, quorum.ErrEmpty)
		if !listed && !erased {
			t.Fatal("the register dropped card 3, which is not erased")
		}
		if op == retrying && (err != nil || listed || !erased) {
			t.Fatalf("a retrying operator: %v, listed %v, erased %v", err, listed, erased)
		}
		if kv, err := deck(cards).load(st, 1, 2); err != nil || kv != g.ts.set.KCV {
			t.Fatalf("the set is not loadable from cards 1 and 2: %v", err)
		}
	}
	g := mk()
	start := g.f.Count()
	if err := run(g, &driver{g: g, quitAt: -1}); err != nil {
		t.Fatal(err)
	}
	check(t, g, retrying, nil)
	apdus, calls := g.f.Count()-start, g.reg.calls
	for _, op := range []operator{retrying, givingUp} {
		for idx := range apdus {
			for _, kind := range cardio.FaultKinds() {
				g := mk()
				g.f.Arm(cardio.Rule{Kind: kind, After: idx})
				err := run(g, &driver{g: g, op: op, quitAt: -1})
				t.Run(fmt.Sprintf("%v at APDU %d, %v", kind, idx, op), func(t *testing.T) { check(t, g, op, err) })
				matrixCases++
			}
		}
		for call := range calls + 1 {
			for _, rf := range []regFault{regFailRead, regFailBefore, regFailAfter} {
				g := mk()
				g.reg.fault = func(c int, update bool) regFault {
					if c == call && (update || rf == regFailRead) {
						return rf
					}
					return regOK
				}
				err := run(g, &driver{g: g, op: op, quitAt: -1})
				g.reg.fault = nil
				t.Run(fmt.Sprintf("register fault %d at call %d, %v", rf, call, op), func(t *testing.T) { check(t, g, op, err) })
				matrixCases++
			}
		}
	}
}
