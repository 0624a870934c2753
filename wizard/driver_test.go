package wizard

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// rig is a wizard on a simulated reader with simulated cards and HSM, driven
// at the Update level: every tea.Cmd runs synchronously and its message is fed
// back, so a test reads as the operator's keystrokes.
type rig struct {
	t     *testing.T
	m     *Model
	cards []*simcard.Card
	sim   *cardio.SimReader
	hsm   *hsm.Sim
	log   *bytes.Buffer
	clock time.Time
	quit  bool

	auditPath string
	// screens, when set, collects the screen after every key.
	screens *[]string
	// touched, when set, counts calls into the reader, the deck and the
	// instructor: update fails if Update or View makes one.
	touched *atomic.Int64
	// seen remembers every holder of a secret, for the check that none
	// outlives its step.
	seen *secretsSeen
}

// update is Update and View, as the program calls them, checking that
// neither touches the reader, the deck or the instructor.
func (r *rig) update(msg tea.Msg) tea.Cmd {
	r.t.Helper()
	var before int64
	if r.touched != nil {
		before = r.touched.Load()
	}
	_, cmd := r.m.Update(msg)
	r.m.View()
	if r.touched != nil && r.touched.Load() != before {
		r.t.Fatalf("Update or View of %T called the reader, the deck or the instructor", msg)
	}
	if r.seen != nil {
		r.seen.observe(r.m)
	}
	return cmd
}

// auditEvents flushes the audit trail, checks that its chain verifies and
// returns the wizard's events (without the chain's session lines).
func (r *rig) auditEvents() []audit.Event {
	r.t.Helper()
	r.m.env.trail.close()
	r.m.env.trail = newTrail(nil)
	tr, err := audit.ReadFile(r.auditPath)
	if err != nil {
		r.t.Fatal(err)
	}
	return tr.Events()
}

func newRig(t *testing.T, n int) *rig {
	t.Helper()
	cards := make([]*simcard.Card, n)
	sc := make([]cardio.SimulatedCard, n)
	for i := range cards {
		var s tcos.Serial
		copy(s[:], fmt.Sprintf("TESTCARD%02d", i+1))
		cards[i] = simcard.New(s)
		sc[i] = cards[i]
	}
	return newRigWith(t, cards, sc, t.TempDir())
}

func newRigWith(t *testing.T, cards []*simcard.Card, sc []cardio.SimulatedCard, hsmDir string) *rig {
	t.Helper()
	h, err := hsm.OpenSim(hsmDir)
	if err != nil {
		t.Fatal(err)
	}
	r := &rig{t: t, cards: cards, sim: cardio.NewSimReader(sc), hsm: h, log: &bytes.Buffer{},
		clock: time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), seen: newSecretsSeen()}
	r.auditPath = filepath.Join(t.TempDir(), "audit.jsonl")
	al, err := audit.Open(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	r.m = New(Config{Reader: r.sim, Sim: r.sim, HSM: h, APDULog: r.log, Audit: al, Now: func() time.Time { return r.clock }})
	r.run(r.m.Init())
	return r
}

// train gives the rig the trainer's instructor menu, as main does on the
// simulated reader: the model starts anew with it.
func (r *rig) train() *cardio.Faults {
	r.t.Helper()
	cfg := r.m.cfg
	cfg.Instructor = scenario.NewInstructor(r.sim, r.m.cfg.Printer)
	r.m.env.trail.close()
	r.m = New(cfg)
	r.seen = newSecretsSeen()
	r.run(r.m.Init())
	return r.sim.FaultLayer()
}

// run executes cmd and everything it leads to.
func (r *rig) run(cmd tea.Cmd) {
	r.t.Helper()
	if cmd == nil {
		return
	}
	msg := cmd()
	switch msg := msg.(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			r.run(c)
		}
	case tea.QuitMsg:
		r.quit = true
	default:
		next := r.update(msg)
		r.run(next)
	}
}

// press sends keys: "enter", "esc", "backspace", "f1", "ctrl+c", or a string of
// digits/text typed one rune at a time.
func (r *rig) press(keys ...string) {
	r.t.Helper()
	for _, k := range keys {
		for _, msg := range keyMsgs(k) {
			cmd := r.update(msg)
			r.run(cmd)
			if r.screens != nil {
				*r.screens = append(*r.screens, r.screen())
			}
		}
	}
}

func keyMsgs(k string) []tea.KeyPressMsg {
	named := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "esc": {Code: tea.KeyEscape}, "backspace": {Code: tea.KeyBackspace},
		"up": {Code: tea.KeyUp}, "down": {Code: tea.KeyDown}, "ctrl+c": {Code: 'c', Mod: tea.ModCtrl},
		"ctrl+f": {Code: 'f', Mod: tea.ModCtrl},
		"f12":    {Code: tea.KeyF12},
	}
	if m, ok := named[k]; ok {
		return []tea.KeyPressMsg{m}
	}
	if len(k) == 2 && k[0] == 'f' && k[1] >= '1' && k[1] <= '9' {
		return []tea.KeyPressMsg{{Code: tea.KeyF1 + rune(k[1]-'1')}}
	}
	var out []tea.KeyPressMsg
	for _, c := range k {
		out = append(out, tea.KeyPressMsg{Code: c, Text: string(c)})
	}
	return out
}

// advance moves the clock and delivers a tick.
func (r *rig) advance(d time.Duration) {
	r.t.Helper()
	r.clock = r.clock.Add(d)
	cmd := r.update(tickMsg(r.clock))
	r.run(cmd)
}

// screen is the view as plain text.
func (r *rig) screen() string { return ansi.Strip(r.m.View().Content) }

// expect fails unless the screen shows every one of want.
func (r *rig) expect(want ...string) {
	r.t.Helper()
	s := r.screen()
	flat := strings.Join(strings.Fields(s), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			r.t.Fatalf("screen lacks %q:\n%s", w, s)
		}
	}
}

func (r *rig) expectNot(unwanted ...string) {
	r.t.Helper()
	flat := strings.Join(strings.Fields(r.screen()), " ")
	for _, w := range unwanted {
		if strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			r.t.Fatalf("screen shows %q:\n%s", w, r.screen())
		}
	}
}

// card inserts simulated card i (1-based), presses OK and types pin.
func (r *rig) card(i int, pin string) {
	r.t.Helper()
	r.press(fmt.Sprintf("f%d", i), "enter")
	if pin != "" {
		r.press(pin, "enter")
	}
}

func (r *rig) apdus() string { return r.log.String() }

func t0ctx() context.Context { return context.Background() }
