package main

import (
	"bytes"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/protocol"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/wizard"
)

// updating reports -update, the flag of golden files (the golden package,
// which teatest brings, defines it): it also records testdata/audit/ again,
// the example trail, its protocol and the README picture.
func updating() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// The example trail, recorded by the wizard itself, and what is made of it.
const (
	exampleTrail    = "testdata/audit/install-load.jsonl"
	exampleProtocol = "testdata/audit/install-load.md"
	// exampleProtocolDE is the same protocol in German.
	exampleProtocolDE = "testdata/audit/install-load.de.md"
	examplePicture    = "docs/protocol-page1.png"
)

// exampleHost is the host name the example trail records.
const exampleHost = "appliance-console"

// recordExample has the wizard record the example trail at path: session 1
// installs a 2-of-3 set on cards 1–3 of a training deck, where card 2 is
// pulled in the middle of its write and written again; session 2, on
// another appliance (a fresh simulated HSM), loads the key from cards 3
// and 1. It returns the deck's serials, card 1 first.
func recordExample(t *testing.T, path string) []string {
	t.Helper()
	dir := t.TempDir()
	tear := filepath.Join(dir, "tear.txt")
	os.WriteFile(tear, []byte("tear card=2 at=write\n"), 0o600)
	var serials []string
	for i, run := range []func(p *program){installWithTornWrite, loadElsewhere} {
		o := &options{reader: "sim", hsm: "sim", simDir: filepath.Join(dir, "sim"), simCards: 3,
			insertTimeout: flagDuration(time.Minute), pinTimeout: flagDuration(time.Minute)}
		if i == 0 {
			o.scenario = tear
		} else {
			// The second appliance has its own HSM; the deck is moved to it.
			os.Mkdir(filepath.Join(dir, "sim2"), 0o700)
			if err := os.Rename(filepath.Join(dir, "sim", "cards"), filepath.Join(dir, "sim2", "cards")); err != nil {
				t.Fatal(err)
			}
			o.simDir = filepath.Join(dir, "sim2")
		}
		s, err := prepareWizard(o)
		if err != nil {
			t.Fatal(err)
		}
		l, err := audit.OpenOptions(path, audit.Options{Version: programVersion(), Host: exampleHost})
		if err != nil {
			s.close()
			t.Fatal(err)
		}
		s.onClose(l.Close)
		s.cfg.Audit, s.cfg.Tick = l, 50*time.Millisecond
		if serials == nil {
			for j := 1; j <= s.cfg.Sim.Len(); j++ {
				serials = append(serials, s.cfg.Sim.(*cardio.SimReader).DeckCard(j).(*simcard.Card).Serial().String())
			}
		}
		p := startProgram(t, s.cfg)
		run(p)
		p.quit()
		s.close()
	}
	return serials
}

func installWithTornWrite(p *program) {
	p.waitFor("Main menu")
	p.keys("1", "enter")
	p.waitFor("Label")
	p.keys("enter", "dc-frankfurt", "enter")
	p.waitFor("Write New Key")
	p.keys("enter")
	p.card("f1")
	p.waitFor("Share 1 written")
	p.card("f2")
	p.waitFor("not written completely")
	p.card("f2")
	p.waitFor("damaged share record")
	p.keys("enter")
	p.waitFor("Share 2 written")
	p.card("f3")
	p.waitFor("Read New Key")
	p.keys("enter")
	p.card("f1")
	p.waitFor("share 1 of the 2 needed")
	p.card("f3")
	p.waitFor("Key loaded")
	p.waitFor("for the main menu")
	p.keys("enter")
	p.waitFor("Main menu")
}

func loadElsewhere(p *program) {
	p.waitFor("Main menu")
	p.keys("2", "enter")
	p.waitFor("Read Key")
	p.keys("enter")
	p.card("f3")
	p.waitFor("share 1 of the 2 needed")
	p.card("f1")
	p.waitFor("Key loaded")
	p.waitFor("for the main menu")
	p.keys("enter")
	p.waitFor("Main menu")
}

// story is a trail's events as operation/step:outcome@card, the card by its
// number in the deck (serials differ from one recording to the next), with
// the chain's session lines as "session".
func story(t *testing.T, tr *audit.Trail, serials []string) string {
	t.Helper()
	var parts []string
	for _, ln := range tr.Lines {
		if ln.Operation == audit.OpSession {
			parts = append(parts, "session/"+string(ln.Step))
			continue
		}
		s := string(ln.Operation) + "/" + string(ln.Step) + ":" + string(ln.Outcome)
		if ln.CardSerial != "" {
			n := -1
			for i, x := range serials {
				if x == ln.CardSerial {
					n = i + 1
				}
			}
			if n < 0 {
				t.Fatalf("line %d: card %s is not in the deck", ln.Seq, ln.CardSerial)
			}
			s += "@" + string(rune('0'+n))
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, " ")
}

// deckOf is the deck serials of the committed example, in the order the
// install wrote them (cards 1, 2, 3).
func deckOf(tr *audit.Trail) []string {
	for _, ln := range tr.Lines {
		if ln.Step == audit.StepSummary && len(ln.CardsWritten) > 0 {
			return ln.CardsWritten
		}
	}
	return nil
}

// TestExampleTrail records the example trail with the wizard again and
// checks that the committed one still verifies and tells the same story;
// with -update it replaces the committed trail, its protocol and the README
// picture.
func TestExampleTrail(t *testing.T) {
	if testing.Short() {
		t.Skip("records two wizard sessions")
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	serials := recordExample(t, path)
	fresh, err := audit.ReadFile(path)
	if err != nil {
		t.Fatalf("the trail the wizard just wrote: %v", err)
	}
	if updating() {
		data, _ := os.ReadFile(path)
		if err := os.WriteFile(exampleTrail, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	committed, err := audit.ReadFile(exampleTrail)
	if err != nil {
		t.Fatalf("the committed example does not verify: %v", err)
	}
	if got, want := story(t, fresh, serials), story(t, committed, deckOf(committed)); got != want {
		t.Errorf("the wizard records another story than the committed example (go test -run TestExampleTrail -update records it again)\n got %s\nwant %s", got, want)
	}
	// What the example is for: one recovered fault, an install and a load
	// in two sessions of one chain.
	p := protocol.Build(committed, filepath.Base(exampleTrail))
	if len(p.Sessions) != 2 || len(p.Sessions[0].Ceremonies) != 1 || len(p.Sessions[1].Ceremonies) != 1 {
		t.Fatalf("sessions %+v", p.Sessions)
	}
	install, load := p.Sessions[0].Ceremonies[0], p.Sessions[1].Ceremonies[0]
	if install.Operation != audit.OpInstall || load.Operation != audit.OpLoad || install.KCV == "" || install.KCV != load.KCV ||
		install.Label != "dc-frankfurt" || len(install.Problems) != 1 || install.Problems[0].Recovered.IsZero() {
		t.Errorf("install %+v\nload %+v", install, load)
	}
	if updating() {
		for path, lang := range map[string]i18n.Lang{exampleProtocol: i18n.English, exampleProtocolDE: i18n.German} {
			var md bytes.Buffer
			if err := p.WriteMarkdown(&md, i18n.For(lang)); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, md.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		writePicture(t, p)
	}
}

// writePicture renders the first page of the example protocol as the
// README's PNG (pdftoppm, from poppler-utils).
func writePicture(t *testing.T, p *protocol.Protocol) {
	t.Helper()
	dir := t.TempDir()
	pdf := filepath.Join(dir, "protocol.pdf")
	var b bytes.Buffer
	if err := p.WritePDF(&b, nil); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(pdf, b.Bytes(), 0o600)
	out := filepath.Join(dir, "page")
	if msg, err := exec.Command("pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", pdf, out).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, msg)
	}
	png, err := os.ReadFile(out + ".png")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(examplePicture, png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// program is the wizard running as a real Bubble Tea program (teatest),
// driven by keys, as an operator would.
type program struct {
	t   *testing.T
	tm  *teatest.TestModel
	obs *observed
}

func startProgram(t *testing.T, cfg wizard.Config) *program {
	obs := &observed{Model: wizard.New(cfg)}
	return &program{t: t, obs: obs, tm: teatest.NewTestModel(t, obs, teatest.WithInitialTermSize(80, 24))}
}

// waitFor waits until the screen shows want (words compared with the
// spacing and line breaks flattened).
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

// keys sends key presses: names (enter, f1, f12, ctrl+c) or text.
func (p *program) keys(ks ...string) {
	named := map[string]tea.KeyPressMsg{
		"enter": {Code: tea.KeyEnter}, "ctrl+c": {Code: 'c', Mod: tea.ModCtrl}, "f12": {Code: tea.KeyF12},
	}
	for _, k := range ks {
		switch m, ok := named[k]; {
		case ok:
			p.tm.Send(m)
		case len(k) == 2 && k[0] == 'f' && k[1] >= '1' && k[1] <= '9':
			p.tm.Send(tea.KeyPressMsg{Code: tea.KeyF1 + rune(k[1]-'1')})
		default:
			for _, c := range k {
				p.tm.Send(tea.KeyPressMsg{Code: c, Text: string(c)})
			}
		}
	}
}

// card inserts simulated card f ("f1"…), presses OK and types its PIN.
func (p *program) card(f string) {
	p.t.Helper()
	if !strings.Contains(p.obs.screen(), "Simulated reader · empty") {
		p.keys("f12")
		p.waitFor("Reader: Simulated reader · empty")
	}
	p.keys(f)
	p.waitFor("card " + f[1:] + " inserted")
	p.keys("enter")
	p.waitFor("Enter PIN")
	p.keys("123456", "enter")
}

// quit leaves the program with ctrl+c and waits for it to end.
func (p *program) quit() {
	p.keys("ctrl+c")
	p.tm.WaitFinished(p.t, teatest.WithFinalTimeout(5*time.Second))
}

// observed publishes the plain-text view after every Update.
type observed struct {
	*wizard.Model
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
