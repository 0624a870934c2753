package wizard

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// program is the wizard running as a real Bubble Tea program (teatest), with
// the reader watcher and the ticker as in production, driven by keys.
type program struct {
	t   *testing.T
	tm  *teatest.TestModel
	obs *observed
}

func startProgram(t *testing.T, cards []cardio.SimulatedCard, h hsm.HSM) *program {
	return startProgramIn(t, cards, h, nil)
}

// startProgramIn is startProgram with the wizard speaking p's language.
func startProgramIn(t *testing.T, cards []cardio.SimulatedCard, h hsm.HSM, p *i18n.Printer) *program {
	sim := cardio.NewSimReader(cards)
	m := New(Config{Reader: sim, Sim: sim, HSM: h, Tick: 50 * time.Millisecond, Watch: true, Printer: p, HSMName: p.T(i18n.HSMSimulated)})
	obs := &observed{Model: m}
	return &program{t: t, obs: obs, tm: teatest.NewTestModel(t, obs, teatest.WithInitialTermSize(80, 24))}
}

// waitFor waits until the screen shows want. It looks at what the model
// shows: the renderer sends only the cells that changed, so the raw output is
// no place to look for a sentence.
func (p *program) waitFor(want string) {
	p.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	flat := func() string { return strings.Join(strings.Fields(p.obs.screen()), " ") }
	for !strings.Contains(flat(), want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("screen never showed %q:\n%s", want, p.obs.screen())
		}
		time.Sleep(5 * time.Millisecond) // polling the program's state, not timing it
	}
}

func (p *program) keys(ks ...string) {
	for _, k := range ks {
		for _, msg := range keyMsgs(k) {
			p.tm.Send(msg)
		}
	}
}

// insert puts simulated card f ("f1"…) in the reader and presses OK.
func (p *program) insert(f string) {
	p.t.Helper()
	empty, in := p.readerWords(f[1:])
	if !strings.Contains(p.obs.screen(), empty) {
		// Out with the card first: simulated inserts run concurrently.
		p.keys("f12")
		p.waitFor(empty)
	}
	p.keys(f)
	p.waitFor(in)
	p.keys("enter")
}

// readerWords are the reader's header line empty, and the start of its
// words for simulated card n inserted, in the program's language.
func (p *program) readerWords(n string) (empty, in string) {
	if p.obs.cfg.Printer.Lang() == i18n.German {
		return "Kartenleser: Simulierter Leser · leer", "Karte " + n + " gesteckt"
	}
	return "Reader: Simulated reader · empty", "card " + n + " inserted"
}

// menu opens the main-menu entry with the given title.
func (p *program) menu(title string) {
	p.t.Helper()
	p.keys(menuPath(p.t, title)...)
}

// quit leaves the program with ctrl+c and waits for it to end.
func (p *program) quit() {
	p.keys("ctrl+c")
	p.tm.WaitFinished(p.t, teatest.WithFinalTimeout(5*time.Second))
}

// TestCeremonyInRealProgram runs a whole 2-of-3 install and read-back through
// the real program.
func TestCeremonyInRealProgram(t *testing.T) {
	sc := make([]cardio.SimulatedCard, 3)
	for i := range sc {
		var s tcos.Serial
		copy(s[:], fmt.Sprintf("FLOWCARD%02d", i+1))
		sc[i] = simcard.New(s)
	}
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := startProgram(t, sc, h)
	card := func(f string) {
		p.insert(f)
		p.waitFor("Enter PIN")
		p.keys("123456", "enter")
	}

	p.waitFor("SIMULATION")
	p.menu("Install Backup Key")
	p.waitFor("Label")
	p.keys("enter", "flow-test", "enter")
	p.waitFor("Write New Key")
	p.keys("enter")
	card("f1")
	p.waitFor("Share 1 written")
	card("f2")
	p.waitFor("Share 2 written")
	card("f3")
	p.waitFor("Read New Key")
	p.keys("enter")
	card("f2")
	p.waitFor("share 1 of the 2 needed")
	card("f3")
	p.waitFor("loaded into the simulated HSM")
	p.waitFor(`Backup Key "flow-test", KCV`) // the header asks the HSM again
	p.keys("enter")
	p.waitFor("Main menu")
	p.quit()

	info, ok, err := h.BackupKey(t0ctx())
	if err != nil || !ok || info.Label != "flow-test" {
		t.Fatalf("HSM: %+v ok=%v err=%v", info, ok, err)
	}
}

// The whole ceremony in German through the real program: install 2 of 3,
// read back, then Load on another node, as an operator with a German
// locale sees it.
func TestCeremonyInRealProgramGerman(t *testing.T) {
	sc := make([]cardio.SimulatedCard, 3)
	for i := range sc {
		var s tcos.Serial
		copy(s[:], fmt.Sprintf("FLOWCARD%02d", i+1))
		sc[i] = simcard.New(s)
	}
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	de := i18n.For(i18n.German)
	p := startProgramIn(t, sc, h, de)
	card := func(f string) {
		p.insert(f)
		p.waitFor("PIN eingeben")
		p.keys("123456", "enter")
	}
	p.waitFor("Hauptmenü")
	p.waitFor("kein Backup Key geladen")
	p.menu("Install Backup Key")
	p.waitFor("Bezeichnung (Appliance/Cluster)")
	p.keys("ablauf", "enter")
	p.waitFor("Key schreiben")
	p.keys("enter")
	p.waitFor("1. Karte stecken")
	card("f1")
	p.waitFor("Anteil 1 auf Karte")
	card("f2")
	p.waitFor("Anteil 2 auf Karte")
	card("f3")
	p.waitFor("Neuen Key lesen")
	p.keys("enter")
	card("f3")
	p.waitFor("2. Karte stecken")
	card("f1")
	p.waitFor("Key geladen")
	p.waitFor("HSM: simuliertes HSM · Backup Key „ablauf“, KCV")
	p.keys("enter")
	p.waitFor("Hauptmenü")
	p.quit()

	// Another node reads the same cards.
	h2, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p = startProgramIn(t, sc, h2, de)
	p.waitFor("Hauptmenü")
	p.menu("Load Backup Key")
	p.waitFor("Key lesen")
	p.keys("enter")
	card("f2")
	p.waitFor("2. Karte stecken")
	card("f1")
	p.waitFor("Key geladen")
	p.keys("enter")
	p.waitFor("Hauptmenü")
	p.quit()
	info, ok, err := h2.BackupKey(t0ctx())
	if err != nil || !ok || info.Label != "ablauf" {
		t.Fatalf("HSM: %+v ok=%v err=%v", info, ok, err)
	}
}

// observed publishes the plain-text view after every Update of the program.
type observed struct {
	*Model
	mu   sync.Mutex
	last string
}

func (o *observed) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	_, cmd := o.Model.Update(msg)
	v := ansi.Strip(o.Model.View().Content)
	o.mu.Lock()
	o.last = v
	o.mu.Unlock()
	return o, cmd
}

func (o *observed) screen() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.last
}
