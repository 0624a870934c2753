package wizard

import (
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos"
)

// TestToolsInRealProgram copies a share card, changes the copy's PKCS#11
// PIN and inspects it, through a real Bubble Tea program (teatest) with the
// reader watcher and the ticker running as in production.
func TestToolsInRealProgram(t *testing.T) {
	setup := newRig(t, 4)
	kcv := setup.installSet("flow")
	sc := make([]cardio.SimulatedCard, len(setup.cards))
	for i, c := range setup.cards {
		sc[i] = c
	}
	sim := cardio.NewSimReader(sc)
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := New(Config{Reader: sim, Sim: sim, HSM: h, Tick: 50 * time.Millisecond, Watch: true})
	obs := &observed{Model: m}
	tm := teatest.NewTestModel(t, obs, teatest.WithInitialTermSize(80, 24))

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
	insert := func(f string) {
		if !strings.Contains(obs.screen(), "Simulated reader · empty") {
			// Out with the card first: simulated inserts run concurrently.
			keys("f12")
			waitFor("Reader: Simulated reader · empty")
		}
		keys(f)
		waitFor("card " + f[1:] + " inserted")
		keys("enter")
	}
	menu := func(title string) {
		for i, it := range menuItems() {
			if it.title == title {
				keys("1")
				for ; i > 0; i-- {
					keys("down")
				}
				keys("enter")
				return
			}
		}
		t.Fatalf("no menu entry %q", title)
	}

	waitFor("SIMULATION")
	menu("Copy a Backup Key share card")
	waitFor("Insert source")
	insert("f1")
	waitFor("Enter PIN")
	keys("123456", "enter")
	waitFor("Insert target")
	insert("f4")
	waitFor("Enter PIN")
	keys("123456", "enter")
	waitFor("Write copy?")
	keys("enter")
	waitFor("Card copied")
	keys("enter")
	waitFor("Main menu")

	menu("Change the PKCS#11 slot user PIN")
	waitFor("Insert card")
	insert("f4")
	waitFor("Current PIN")
	keys("123456", "enter")
	waitFor("New PIN")
	keys("55667788", "enter")
	waitFor("New PIN again")
	keys("55667788", "enter")
	waitFor("PIN changed")
	keys("enter")
	waitFor("Main menu")

	menu("Inspect a card")
	waitFor("Insert card")
	insert("f4")
	waitFor("Show share?")
	keys("enter")
	waitFor("Enter PIN")
	keys("123456", "enter")
	waitFor("KCV " + kcv)
	keys("enter")
	waitFor("Main menu")
	keys("ctrl+c")
	tm.WaitFinished(t, teatest.WithFinalTimeout(5*time.Second))

	if err := setup.verifyPIN(4, tcos.SlotPKCS11, "55667788"); err != nil {
		t.Fatal(err)
	}
	if got, want := setup.cardRecord(4).Share, setup.cardRecord(1).Share; string(got) != string(want) {
		t.Fatal("card 4 is not a copy of card 1")
	}
}
