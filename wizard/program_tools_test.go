package wizard

import (
	"testing"

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
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := startProgram(t, sc, h)
	waitFor, keys, insert, menu := p.waitFor, p.keys, p.insert, p.menu

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
	p.quit()

	if err := setup.verifyPIN(4, tcos.SlotPKCS11, "55667788"); err != nil {
		t.Fatal(err)
	}
	if got, want := setup.cardRecord(4).Share, setup.cardRecord(1).Share; string(got) != string(want) {
		t.Fatal("card 4 is not a copy of card 1")
	}
}
