package wizard

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/i18n/i18ntest"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/scenario"
)

// Golden views, plain text after ansi.Strip: what an 80x24 console shows.
// Regenerate with: go test ./wizard -run TestGolden -update
func TestGoldenMenu(t *testing.T) {
	r := newRig(t, 3)
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestGoldenInsertPrompt(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "prod-cluster")
	r.press("enter")
	r.advance(12e9)
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestGoldenPINEntryLastTry(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "prod-cluster")
	r.press("enter")
	r.card(1, "111111")
	r.press("222222", "enter", "1234")
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestViewFits80x24(t *testing.T) {
	r := newRig(t, 5)
	check := func(when string) {
		t.Helper()
		lines := strings.Split(r.screen(), "\n")
		if len(lines) > 24 {
			t.Errorf("%s: %d lines", when, len(lines))
		}
		for _, l := range lines {
			if w := ansi.StringWidth(l); w > 80 {
				t.Errorf("%s: line of %d cells: %q", when, w, l)
			}
		}
	}
	check("menu")
	r.install(1, "a-rather-long-cluster-name-here")
	check("setup done")
	r.press("enter")
	for i := 1; i <= 5; i++ {
		r.card(i, "")
		check("PIN prompt")
		r.press("123456", "enter")
		check("written")
	}
	r.press("enter")
	r.card(1, "123456")
	r.card(1, "")
	check("duplicate refused")
	r.press("esc")
	check("leave question")

	// With the instructor's menu, as main sets it up on the simulated reader.
	r.m.cfg.Instructor = scenario.NewInstructor(r.sim, r.m.cfg.Printer)
	r.m.instr = newInstructor(r.m.cfg.Instructor)
	r.press("esc")
	check("instructor hint")
}

func TestPadShowsSeedPrompts(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	want := []struct {
		keys   []string
		l1, l2 string
	}{
		{nil, "Write New Key", "press OK/Cancel"},
		{[]string{"enter"}, "Insert 1. card", "press OK/Cancel"},
		{[]string{"f1", "enter"}, "Enter PIN", ""},
		{[]string{"1234"}, "Enter PIN", "****"},
		{[]string{"backspace"}, "Enter PIN", ""},
		{[]string{"123456", "enter"}, "Insert 2. card", "press OK/Cancel"},
	}
	for _, w := range want {
		r.press(w.keys...)
		pad := r.m.act.view().pad
		l1, l2 := pad[0], pad[1]
		if l1 != w.l1 || l2 != w.l2 {
			t.Fatalf("after %v the pad shows %q/%q, want %q/%q", w.keys, l1, l2, w.l1, w.l2)
		}
		if len(l1) > padInner || len(l2) > padInner {
			t.Fatalf("%q/%q does not fit 16 characters", l1, l2)
		}
	}
}

// Each menu entry's help fits its one line of an 80-column console, in
// every language.
func TestMenuHelpFitsOneLine(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		for _, it := range menuItems() {
			if n := ansi.StringWidth(i18ntest.Say(t, p, it.help)); n > 78 {
				t.Errorf("%q: help of %d cells", p.T(it.title), n)
			}
		}
	})
}

// spyReader counts every call into the simulated reader, its deck and the
// instructor.
type spyReader struct {
	*cardio.SimReader
	n *atomic.Int64
}

func (s spyReader) Present(ctx context.Context) (bool, error) {
	s.n.Add(1)
	return s.SimReader.Present(ctx)
}
func (s spyReader) WaitForCard(ctx context.Context) error {
	s.n.Add(1)
	return s.SimReader.WaitForCard(ctx)
}
func (s spyReader) WaitForRemoval(ctx context.Context) error {
	s.n.Add(1)
	return s.SimReader.WaitForRemoval(ctx)
}
func (s spyReader) Connect(ctx context.Context) (cardio.Card, error) {
	s.n.Add(1)
	return s.SimReader.Connect(ctx)
}
func (s spyReader) Insert(i int) error { s.n.Add(1); return s.SimReader.Insert(i) }
func (s spyReader) Remove()            { s.n.Add(1); s.SimReader.Remove() }
func (s spyReader) Inserted() int      { s.n.Add(1); return s.SimReader.Inserted() }

type spyInstructor struct {
	*scenario.Instructor
	n *atomic.Int64
}

func (s spyInstructor) Do(key string) string { s.n.Add(1); return s.Instructor.Do(key) }
func (s spyInstructor) Status() []string     { s.n.Add(1); return s.Instructor.Status() }

// Update and View never call the reader, the deck or the instructor: they
// may wait for the reader's lock, which a card command holds across the
// deck's fsync. Their work runs in commands.
func TestUpdateAndViewTouchNoReader(t *testing.T) {
	r := newRig(t, 4)
	var n atomic.Int64
	spy := spyReader{SimReader: r.sim, n: &n}
	cfg := r.m.cfg
	cfg.Reader, cfg.Sim = spy, spy
	cfg.Instructor = spyInstructor{Instructor: scenario.NewInstructor(r.sim, r.m.cfg.Printer), n: &n}
	r.m.env.trail.close()
	r.m = New(cfg)
	r.seen = newSecretsSeen()
	r.touched = &n
	r.run(r.m.Init())

	r.instructor("c") // the instructor's action runs in a command
	r.installSet("untouched")
	r.choose("Copy a Backup Key share card")
	r.card(1, "123456")
	r.card(4, "123456")
	r.press("enter")
	r.expect("Copy written")
	r.press("enter")
	r.choose("Inspect a card")
	r.card(2, "")
	r.press("enter", "123456", "enter")
	r.expect("Card inspected")
	r.advance(time.Second)
	if n.Load() == 0 {
		t.Fatal("the spy saw no call at all")
	}
}

// The Backup Key is generated in a command, not in Update: generating reads
// the system's random source.
func TestKeyIsGeneratedInACommand(t *testing.T) {
	r := newRig(t, 3)
	r.press("1", "enter", "enter", "lab")
	_, gen := r.m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	if r.m.act != nil {
		t.Fatal("the install started before its key was generated")
	}
	r.expect("Generating the Backup Key")
	r.run(gen)
	r.expect("Write New Key")
}

// The label field has the focus from the start: letters, digits and spaces
// go into it, ↑/↓ choose the quorum, nothing is dropped or toggled
// silently. Widths are terminal cells: a CJK label fits, with its cursor.
func TestSetupLabelFieldHasTheFocus(t *testing.T) {
	r := newRig(t, 5)
	r.press("1", "enter")
	r.expect("(•) 2 out of 3")
	r.press("dc 1 east")
	r.expect("Label (appliance or cluster name): dc 1 east", "(•) 2 out of 3")
	r.press("down")
	r.expect("(•) 3 out of 5")
	r.press("backspace", "backspace", "backspace", "backspace", "west")
	r.expect("Label (appliance or cluster name): dc 1 west")
	r.press("enter")
	r.expect("Write New Key", `3 of 5 · "dc 1 west"`)

	cjk := newRig(t, 3)
	cjk.press("1", "enter", strings.Repeat("東京", 20)) // 40 runes: 32 fit the record
	if got := len([]rune(cjk.m.setup.label.Value())); got != quorum.MaxLabelLen {
		t.Errorf("label of %d characters, want at most %d", got, quorum.MaxLabelLen)
	}
	for _, l := range strings.Split(cjk.screen(), "\n") {
		if w := ansi.StringWidth(l); w > 80 {
			t.Errorf("line of %d cells: %q", w, l)
		}
	}
	cjk.press("enter")
	cjk.expect("Write New Key")
}
