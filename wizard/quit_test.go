package wizard

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
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

// The quit matrix: every screen of the wizard, reached in a real Bubble Tea
// program (reader watcher and ticker running), then left with ctrl+c — at
// once, confirmed with OK, declined with Esc (and quit after all), or with a
// second ctrl+c — also while a step runs and while a card stalls. Each case
// must end the program without an error (exit 0), with every secret the
// wizard held wiped, the card released and the audit trail closed with the
// activity's summary.

// live is the wizard running as a real program.
type live struct {
	t     *testing.T
	p     *tea.Program
	w     *watched
	sim   *cardio.SimReader
	cards []*simcard.Card
	hsm   hsm.HSM
	audit string
	done  chan struct{}
	err   error
	ended time.Time
}

// watched publishes the plain-text view after every Update of the program,
// and notes every holder of a secret the wizard has.
type watched struct {
	*Model
	mu     sync.Mutex
	screen string
	seen   *secretsSeen
}

func (w *watched) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := w.Model.Update(msg)
	v := ansi.Strip(w.Model.View().Content)
	w.seen.observe(w.Model)
	w.mu.Lock()
	w.screen = v
	w.mu.Unlock()
	return w, cmd
}

func (w *watched) view() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.screen
}

// liveOptions change how a live wizard is set up.
type liveOptions struct {
	hsm    hsm.HSM // default: a simulated HSM
	cfg    func(t *testing.T, c *Config)
	cards  int
	faults bool // the instructor's fault layer
}

func startLive(t *testing.T, o liveOptions) *live {
	t.Helper()
	if o.cards == 0 {
		o.cards = 3
	}
	l := &live{t: t, done: make(chan struct{})}
	sc := make([]cardio.SimulatedCard, o.cards)
	for i := range sc {
		var s tcos.Serial
		copy(s[:], fmt.Sprintf("QUITCARD%02d", i+1))
		l.cards = append(l.cards, simcard.New(s))
		sc[i] = l.cards[i]
	}
	l.sim = cardio.NewSimReader(sc)
	var in Instructor
	if o.faults {
		in = scenario.NewInstructor(l.sim, nil)
	}
	l.hsm = o.hsm
	if l.hsm == nil {
		h, err := hsm.OpenSim(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		l.hsm = h
	}
	l.audit = filepath.Join(t.TempDir(), "audit.jsonl")
	al, err := audit.Open(l.audit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	cfg := Config{Reader: l.sim, Sim: l.sim, Instructor: in, HSM: l.hsm, Audit: al, Tick: 50 * time.Millisecond, Watch: true}
	if o.cfg != nil {
		o.cfg(t, &cfg)
	}
	l.w = &watched{Model: New(cfg), seen: newSecretsSeen()}
	l.p = tea.NewProgram(l.w, tea.WithInput(nil), tea.WithOutput(io.Discard), tea.WithWindowSize(80, 24), tea.WithoutSignals())
	go func() {
		defer close(l.done)
		_, l.err = l.p.Run()
		l.ended = time.Now()
	}()
	t.Cleanup(func() {
		l.p.Kill()
		<-l.done
	})
	return l
}

// keys sends keys to the program, as keyMsgs spells them.
func (l *live) keys(ks ...string) {
	for _, k := range ks {
		for _, msg := range keyMsgs(k) {
			l.p.Send(msg)
		}
	}
}

// see waits until the screen shows want.
func (l *live) see(want string) {
	l.t.Helper()
	want = strings.Join(strings.Fields(want), " ")
	deadline := time.Now().Add(5 * time.Second)
	for {
		flat := strings.Join(strings.Fields(l.w.view()), " ")
		if strings.Contains(flat, want) {
			return
		}
		select {
		case <-l.done:
			l.t.Fatalf("the program ended (%v) before the screen showed %q:\n%s", l.err, want, l.w.view())
		default:
		}
		if time.Now().After(deadline) {
			l.t.Fatalf("screen never showed %q:\n%s", want, l.w.view())
		}
		time.Sleep(2 * time.Millisecond) // polling the program's state, not timing it
	}
}

// insert puts simulated card i in the reader and presses OK.
func (l *live) insert(i int) {
	l.t.Helper()
	if !strings.Contains(l.w.view(), "Simulated reader · empty") {
		l.keys("f12")
		l.see("Reader: Simulated reader · empty")
	}
	l.keys(fmt.Sprintf("f%d", i))
	l.see(fmt.Sprintf("card %d inserted", i))
	l.keys("enter")
}

// card inserts card i and types pin once the PIN is asked.
func (l *live) card(i int, pin string) {
	l.t.Helper()
	l.insert(i)
	l.see("Enter PIN")
	l.keys(pin, "enter")
}

func (l *live) menu(title string) { l.t.Helper(); l.keys(menuPath(l.t, title)...) }

// exited waits for the program to end and fails unless it ended cleanly.
func (l *live) exited(within time.Duration) {
	l.t.Helper()
	select {
	case <-l.done:
	case <-time.After(within):
		l.t.Fatalf("the program did not end within %s:\n%s", within, l.w.view())
	}
	if l.err != nil {
		l.t.Fatalf("the program ended with %v", l.err)
	}
}

// running reports whether the program still runs.
func (l *live) running() bool {
	select {
	case <-l.done:
		return false
	default:
		return true
	}
}

// checkEnd asserts what every quit leaves behind: summary, if set, is the
// operation whose summary must close the audit trail, cancelled by the quit.
func (l *live) checkEnd(summary audit.Operation) {
	l.t.Helper()
	l.checkEndWith(summary, audit.OutcomeCancelled)
}

func (l *live) checkEndWith(summary audit.Operation, outcome audit.Outcome) {
	l.t.Helper()
	// Every secret is wiped (a PIN field a stalled command still holds
	// was wiped when sent, but is not back in the pool).
	l.w.seen.checkWiped(l.t, l.w.Model)
	// The final frame draws without the activity.
	if v := ansi.Strip(l.w.Model.View().Content); !strings.Contains(v, "Quitting") {
		l.t.Errorf("the last frame does not say the wizard quits:\n%s", v)
	}
	// The card was released: a new connection to it is possible.
	if l.sim.Inserted() != 0 {
		c, err := l.sim.Connect(context.Background())
		if errors.Is(err, cardio.ErrSharing) {
			l.t.Errorf("the card is still held open after the quit")
		}
		if err == nil {
			c.Close()
		}
	}
	if summary == "" {
		return
	}
	tr, err := audit.ReadFile(l.audit)
	if err != nil {
		l.t.Fatal(err)
	}
	for _, e := range tr.Events() {
		if e.Operation == summary && e.Step == audit.StepSummary && e.Outcome == outcome {
			return
		}
	}
	l.t.Errorf("the audit trail lacks the %s summary (%s) of the quit: %+v", summary, outcome, tr.Events())
}

// quitScreen is one screen of the wizard, reached from the start.
type quitScreen struct {
	name  string
	opts  liveOptions
	reach func(l *live)
	// holds: the screen holds a secret, so ctrl+c asks first; share: the
	// secret is a share (the question says so).
	holds, share bool
	// summary is the audit operation whose summary a quit must write.
	summary audit.Operation
	// back is what the screen shows, to see it again after a declined quit.
	back string
}

func quitScreens() []quitScreen {
	install := func(l *live) {
		l.menu("Install Backup Key")
		l.see("Label")
		l.keys("enter", "quit-test", "enter")
		l.see("Write New Key")
	}
	installed := func(l *live) { // a 2-of-3 set on cards 1–3, in the HSM
		install(l)
		l.keys("enter")
		for i := 1; i <= 3; i++ {
			l.card(i, "123456")
			l.see(writtenText(i))
		}
		l.keys("enter")
		l.card(1, "123456")
		l.see("share 1 of the 2")
		l.card(2, "123456")
		l.see("loaded into the simulated HSM")
		l.keys("enter")
		l.see("Main menu")
	}
	open := func(title, see string) func(l *live) {
		return func(l *live) { l.menu(title); l.see(see) }
	}
	withSlot := liveOptions{cfg: func(t *testing.T, c *Config) {
		slot, err := hsm.OpenSimUserSlot(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		c.HSM = hsm.WithUserSlot(c.HSM, slot)
	}}
	return []quitScreen{
		{name: "menu", reach: func(l *live) { l.see("Main menu") }, back: "Main menu"},
		{name: "instructor-menu", opts: liveOptions{faults: true}, reach: func(l *live) {
			l.keys("ctrl+f")
			l.see("Instructor: make something go wrong")
		}, back: "Instructor: make something go wrong"},
		{name: "setup-quorum", reach: func(l *live) { l.menu("Install Backup Key"); l.see("Label") }, back: "Label"},
		{name: "setup-label", reach: func(l *live) {
			l.menu("Install Backup Key")
			l.see("Label")
			l.keys("enter", "typed")
			l.see("typed")
		}, back: "typed"},
		{name: "setup-replace", reach: func(l *live) {
			installed(l)
			l.menu("Install Backup Key")
			l.see("Label")
			l.keys("enter", "second", "enter")
			l.see("already holds Backup Key")
		}, back: "already holds Backup Key"},
		{name: "install-write-new-key", reach: install, holds: true, summary: audit.OpInstall, back: "Write New Key"},
		{name: "install-insert", reach: func(l *live) { install(l); l.keys("enter"); l.see("Insert 1. card") },
			holds: true, summary: audit.OpInstall, back: "Insert 1. card"},
		{name: "install-pin", reach: func(l *live) {
			install(l)
			l.keys("enter")
			l.insert(1)
			l.see("Enter PIN")
			l.keys("123")
			l.see("***")
		}, holds: true, summary: audit.OpInstall, back: "Enter PIN"},
		{name: "install-leave-question", reach: func(l *live) {
			install(l)
			l.keys("enter")
			l.card(1, "123456")
			l.see("Share 1 written")
			l.keys("esc")
			l.see("Leave this ceremony?")
		}, holds: true, summary: audit.OpInstall, back: "Leave this ceremony?"},
		{name: "install-timed-out", reach: func(l *live) {
			install(l)
			l.keys("enter")
			l.see("Insert 1. card")
		}, opts: liveOptions{cfg: func(_ *testing.T, c *Config) { c.InsertTimeout = 200 * time.Millisecond }},
			holds: true, summary: audit.OpInstall, back: "Timeout"},
		{name: "install-overwrite", reach: func(l *live) {
			installed(l)
			l.menu("Install Backup Key")
			l.see("Label")
			l.keys("enter", "second", "enter")
			l.see("already holds Backup Key")
			l.keys("enter")
			l.see("Write New Key")
			l.keys("enter")
			l.card(1, "123456")
			l.see("Overwrite card?")
		}, holds: true, summary: audit.OpInstall, back: "Overwrite card?"},
		{name: "install-read-new-key", reach: func(l *live) {
			install(l)
			l.keys("enter")
			for i := 1; i <= 3; i++ {
				l.card(i, "123456")
				l.see(writtenText(i))
			}
			l.see("Read New Key")
		}, holds: true, summary: audit.OpInstall, back: "Read New Key"},
		{name: "load-read-key", reach: func(l *live) { installed(l); l.menu("Load Backup Key"); l.see("Read Key") },
			summary: audit.OpLoad, back: "Read Key"},
		{name: "load-one-card-read", reach: func(l *live) {
			installed(l)
			l.menu("Load Backup Key")
			l.see("Read Key")
			l.keys("enter")
			l.card(3, "123456")
			l.see("share 1 of the 2")
		}, summary: audit.OpLoad, back: "share 1 of the 2"},
		{name: "copy-insert-source", reach: open("Copy a Backup Key share card", "Insert source"), back: "Insert source"},
		{name: "copy-insert-target", reach: func(l *live) {
			installed(l)
			l.menu("Copy a Backup Key share card")
			l.card(1, "123456")
			l.see("Insert target")
		}, holds: true, share: true, back: "Insert target"},
		{name: "copy-confirm", reach: func(l *live) {
			installed(l)
			l.menu("Copy a Backup Key share card")
			l.card(1, "123456")
			l.see("Insert target")
			l.card(2, "123456")
			l.see("Overwrite card?")
		}, holds: true, share: true, back: "Overwrite card?"},
		{name: "pin-insert", reach: open("Change the Backup Key share PIN", "Insert card"), back: "Insert card"},
		{name: "pin-new", reach: func(l *live) {
			l.menu("Change the Backup Key share PIN")
			l.insert(1)
			l.see("Current PIN")
			l.keys("123456", "enter")
			l.see("New PIN")
			l.keys("65")
			l.see("**")
		}, back: "New PIN"},
		{name: "pin-factory", reach: func(l *live) {
			l.menu("Change the PKCS#11 slot user PIN")
			l.insert(1)
			l.see("Current PIN")
			l.keys("123456", "enter")
			l.see("New PIN")
			l.keys("123456", "enter", "123456", "enter")
			l.see("Factory PIN?")
		}, back: "Factory PIN?"},
		{name: "inspect-show-share", reach: func(l *live) {
			l.menu("Inspect a card")
			l.insert(1)
			l.see("Show share?")
		}, back: "Show share?"},
		{name: "enroll-label", opts: withSlot, reach: func(l *live) {
			l.menu("Enroll a PKCS#11 slot user card")
			l.see("Card label")
			l.keys("holder")
			l.see("holder")
		}, back: "Card label"},
		{name: "enroll-pin", opts: withSlot, reach: func(l *live) {
			l.menu("Enroll a PKCS#11 slot user card")
			l.see("Card label")
			l.keys("enter")
			l.see("Enroll User Card")
			l.insert(1)
			l.see("Enter PIN")
		}, back: "Enter PIN"},
		{name: "enroll-confirm", opts: withSlot, reach: func(l *live) {
			l.menu("Enroll a PKCS#11 slot user card")
			l.see("Card label")
			l.keys("enter")
			l.see("Enroll User Card")
			l.card(1, "123456")
			l.see("Enroll card?")
		}, back: "Enroll card?"},
		{name: "verify-insert", reach: func(l *live) { installed(l); l.menu(menuVerify); l.see("Insert 1. card") },
			summary: audit.OpVerify, back: "Insert 1. card"},
		{name: "verify-one-card-read", reach: func(l *live) {
			installed(l)
			l.menu(menuVerify)
			l.see("Insert 1. card")
			l.card(1, "123456")
			l.see("1 card presented")
		}, summary: audit.OpVerify, back: "1 card presented"},
		{name: "reissue-insert-source", reach: func(l *live) { installed(l); l.menu(menuReissue); l.see("Insert card 1 of the 2 needed") },
			summary: audit.OpReissue, back: "Insert card 1 of the 2 needed"},
		{name: "reissue-new-set", reach: func(l *live) {
			installed(l)
			l.menu(menuReissue)
			l.see("Insert card 1 of the 2 needed")
			l.card(1, "123456")
			l.see("1 of the 2 needed.")
			l.card(2, "123456")
			l.see("New card set")
		}, holds: true, summary: audit.OpReissue, back: "New card set"},
		{name: "reissue-overwrite", opts: liveOptions{cards: 4}, reach: func(l *live) {
			installed(l)
			l.menu(menuReissue)
			l.see("Insert card 1 of the 2 needed")
			l.card(1, "123456")
			l.see("1 of the 2 needed.")
			l.card(2, "123456")
			l.see("New card set")
			l.keys("enter")
			l.see("New card 1 of 3")
			l.card(3, "123456")
			l.see("Overwrite card?")
		}, holds: true, summary: audit.OpReissue, back: "Overwrite card?"},
		{name: "erase-insert", reach: func(l *live) { installed(l); l.menu(menuErase); l.see("Insert the card to erase") },
			summary: audit.OpErase, back: "Insert the card to erase"},
		{name: "erase-question", reach: func(l *live) {
			installed(l)
			l.menu(menuErase)
			l.see("Insert the card to erase")
			l.card(1, "123456")
			l.see("Erase card?")
		}, summary: audit.OpErase, back: "Erase card?"},
		{name: "activate-none", opts: withSlot, reach: open("Activate the PKCS#11 slot", "No user card is enrolled"), back: "No user card"},
		{name: "slot-list", opts: withSlot, reach: open("PKCS#11 slot user cards", "No user card is enrolled"), back: "No user card"},
		{name: "no-slot", reach: open("Enroll a PKCS#11 slot user card", "No slot"), back: "No slot"},
		{name: "copy-user-card", reach: open("Copy a PKCS#11 slot user card", "Cannot copy"), back: "Cannot copy"},
	}
}

// quitActions are the ways of leaving: each returns after the program ended.
var quitActions = []struct {
	name string
	do   func(l *live, s quitScreen)
}{
	{"ctrl+c", func(l *live, s quitScreen) {
		l.keys("ctrl+c")
		if s.holds {
			l.askedToQuit(s)
			if !l.running() {
				l.t.Fatal("ctrl+c with a secret in memory quit without asking")
			}
			l.keys("enter")
		}
		l.exited(5 * time.Second)
	}},
	{"ctrl+c-confirm", func(l *live, s quitScreen) {
		l.keys("ctrl+c")
		if s.holds {
			l.askedToQuit(s)
		}
		l.keys("enter")
		l.exited(5 * time.Second)
	}},
	{"ctrl+c-decline", func(l *live, s quitScreen) {
		if !s.holds {
			l.keys("ctrl+c")
			l.exited(5 * time.Second)
			return
		}
		l.keys("ctrl+c")
		l.askedToQuit(s)
		l.keys("esc")
		l.see(s.back)
		if !l.running() {
			l.t.Fatal("declining the quit quit")
		}
		l.keys("ctrl+c")
		l.askedToQuit(s)
		l.keys("ctrl+c") // a second ctrl+c at the question quits
		l.exited(5 * time.Second)
	}},
	{"ctrl+c-twice", func(l *live, s quitScreen) {
		l.keys("ctrl+c", "ctrl+c")
		l.exited(5 * time.Second)
	}},
}

// askedToQuit waits for the quit question and checks it names what is lost
// and fits an 80-column console.
func (l *live) askedToQuit(s quitScreen) {
	l.t.Helper()
	l.see("Quit now?")
	what := "wipe the key"
	if s.share {
		what = "wipe the share"
	}
	l.see(what)
	for _, line := range strings.Split(l.w.view(), "\n") {
		if w := ansi.StringWidth(line); w > 80 {
			l.t.Errorf("quit question line of %d cells: %q", w, line)
		}
	}
}

func TestQuitMatrix(t *testing.T) {
	for _, s := range quitScreens() {
		for _, a := range quitActions {
			t.Run(s.name+"/"+a.name, func(t *testing.T) {
				l := startLive(t, s.opts)
				s.reach(l)
				if s.name == "install-timed-out" {
					l.see("Timeout")
				}
				a.do(l, s)
				l.checkEnd(s.summary)
			})
		}
	}
}

// gateHSM is an HSM whose LoadBackupKey waits until the gate opens, to
// quit while it runs.
type gateHSM struct {
	hsm.HSM
	entered chan struct{}
	gate    chan struct{}
}

func (g *gateHSM) LoadBackupKey(ctx context.Context, key []byte, info hsm.KeyInfo, replace bool) (bool, error) {
	g.entered <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	return g.HSM.LoadBackupKey(ctx, key, info, replace)
}

// writtenText is what the screen says once share i of 3 is written.
func writtenText(i int) string {
	if i == 3 {
		return "All 3 shares are written"
	}
	return fmt.Sprintf("Share %d written", i)
}

// installToLoad runs an install up to the moment its key goes to the HSM.
func installToLoad(l *live) {
	l.menu("Install Backup Key")
	l.see("Label")
	l.keys("enter", "quit-test", "enter")
	l.see("Write New Key")
	l.keys("enter")
	for i := 1; i <= 3; i++ {
		l.card(i, "123456")
		l.see(writtenText(i))
	}
	l.keys("enter")
	l.card(1, "123456")
	l.see("share 1 of the 2")
	l.card(2, "123456")
}

// A quit asked for while the HSM takes the key waits for its answer; a
// second ctrl+c does not wait.
func TestQuitWhileAStepRuns(t *testing.T) {
	for _, twice := range []bool{false, true} {
		t.Run(map[bool]string{false: "waits", true: "second-ctrl+c"}[twice], func(t *testing.T) {
			base, err := hsm.OpenSim(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			g := &gateHSM{HSM: base, entered: make(chan struct{}, 1), gate: make(chan struct{})}
			l := startLive(t, liveOptions{hsm: g})
			t.Cleanup(func() {
				select {
				case <-g.gate:
				default:
					close(g.gate)
				}
			})
			installToLoad(l)
			<-g.entered
			l.see("Please wait...")
			l.keys("ctrl+c")
			l.askedToQuit(quitScreen{})
			l.keys("enter")
			l.see("Quitting as soon as the running step ends")
			if !l.running() {
				t.Fatal("quit while the HSM command ran")
			}
			if twice {
				l.keys("ctrl+c")
				l.exited(releaseWait + 3*time.Second)
			} else {
				close(g.gate)
				l.exited(5 * time.Second)
				if _, ok, _ := base.BackupKey(context.Background()); !ok {
					t.Error("the load the quit waited for did not land")
				}
				l.checkEndWith(audit.OpInstall, audit.OutcomeOK)
				return
			}
			l.checkEnd(audit.OpInstall)
		})
	}
}

// A card that stops answering while its share is written: the first ctrl+c
// waits for it, the second quits at once, with the key wiped.
func TestQuitWhileACardStalls(t *testing.T) {
	for _, held := range []bool{true, false} {
		t.Run(map[bool]string{true: "install", false: "pin-change"}[held], func(t *testing.T) {
			l := startLive(t, liveOptions{faults: true})
			f := l.sim.FaultLayer()
			if held {
				l.menu("Install Backup Key")
				l.see("Label")
				l.keys("enter", "quit-test", "enter")
				l.see("Write New Key")
				l.keys("enter")
				f.Arm(cardio.Rule{Kind: cardio.FaultMute, Match: func(c []byte) bool { return len(c) > 1 && c[1] == tcos.INSUpdateBinary }})
				l.card(1, "123456")
			} else {
				l.menu("Change the Backup Key share PIN")
				f.Arm(cardio.Rule{Kind: cardio.FaultMute, Match: func(c []byte) bool { return len(c) > 1 && c[1] == tcos.INSChangeRef }})
				l.insert(1)
				l.see("Current PIN")
				l.keys("123456", "enter")
				l.see("New PIN")
				l.keys("654321", "enter", "654321", "enter")
			}
			l.see("Please wait...")
			l.keys("ctrl+c")
			if held {
				l.askedToQuit(quitScreen{})
				l.keys("enter")
			}
			l.see("Quitting as soon as the running step ends")
			l.see("ctrl+c again quits at once")
			if !l.running() {
				t.Fatal("quit while the card command ran")
			}
			start := time.Now()
			l.keys("ctrl+c")
			l.exited(releaseWait + 3*time.Second)
			if d := l.ended.Sub(start); d > releaseWait+time.Second {
				t.Errorf("the second ctrl+c took %s to quit", d)
			}
			l.checkEnd(map[bool]audit.Operation{true: audit.OpInstall}[held])
		})
	}
}
