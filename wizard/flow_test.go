package wizard

import (
	"fmt"
	"os"
	"sync"

	tea "charm.land/bubbletea/v2"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// TestCeremonyInRealProgram runs a whole 2-of-3 install and read-back through
// a real Bubble Tea program (teatest), with the reader watcher and the ticker
// running as in production.
func TestCeremonyInRealProgram(t *testing.T) {
	sc := make([]cardio.SimulatedCard, 3)
	for i := range sc {
		var s tcos.Serial
		copy(s[:], fmt.Sprintf("FLOWCARD%02d", i+1))
		sc[i] = simcard.New(s)
	}
	sim := cardio.NewSimReader(sc)
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Reader: sim, Sim: sim, HSM: h, Tick: 50 * time.Millisecond, Watch: true})
	obs := &observed{Model: m}
	tm := teatest.NewTestModel(t, obs, teatest.WithInitialTermSize(80, 24))

	// Wait on what the model would show. (The renderer sends only the cells
	// that changed, so the raw output is no place to look for a sentence.)
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		flat := func() string { return strings.Join(strings.Fields(obs.screen()), " ") }
		for !strings.Contains(flat(), want) {
			if time.Now().After(deadline) {
				t.Fatalf("screen never showed %q:\n%s", want, obs.screen())
			}
			time.Sleep(5 * time.Millisecond) // polling the program's state, not timing it
		}
	}
	keys := func(ks ...string) {
		for _, k := range ks {
			for _, msg := range keyMsgs(k) {
				tm.Send(msg)
			}
		}
	}
	card := func(f string) {
		keys(f)
		waitFor("card " + f[1:] + " inserted")
		keys("enter")
		waitFor("Enter PIN")
		keys("123456", "enter")
	}

	waitFor("SIMULATION")
	keys("enter")
	waitFor("Label")
	keys("enter", "flow-test", "enter")
	waitFor("Write New Key")
	keys("enter")
	card("f1")
	waitFor("Share 1 written")
	card("f2")
	waitFor("Share 2 written")
	card("f3")
	waitFor("Read New Key")
	keys("enter")
	card("f2")
	waitFor("share 1 of the 2 needed")
	card("f3")
	waitFor("loaded into the simulated HSM")
	waitFor(`Backup Key "flow-test", KCV`) // the header asks the HSM again
	keys("enter")
	waitFor("Main menu")
	keys("ctrl+c")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	info, ok, err := h.BackupKey(t0ctx())
	if err != nil || !ok || info.Label != "flow-test" {
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
	if os.Getenv("FLOWDEBUG") != "" {
		fmt.Fprintf(os.Stderr, "%T %v\n", msg, msg)
	}
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
