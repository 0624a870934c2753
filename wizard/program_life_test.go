package wizard

import (
	"fmt"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
)

// TestCardSetLifeInRealProgram is the card set's life through a real Bubble
// Tea program (teatest) with the reader watcher and the ticker running as in
// production (docs/lifecycle.md): install 2-of-3 on cards 1–3; re-issue
// 2-of-3 from cards 1 and 2 onto cards 3, 4 and 5; Load refuses card 1 as
// superseded and loads the same key from cards 3 and 4; Verify passes on
// 3, 4 and 5, and names card 4 once its share is altered (its record
// re-checksummed).
func TestCardSetLifeInRealProgram(t *testing.T) {
	setup := newRig(t, 5)
	sc := make([]cardio.SimulatedCard, len(setup.cards))
	for i, c := range setup.cards {
		sc[i] = c
	}
	p := startProgram(t, sc, setup.hsm)
	waitFor, keys, insert, menu := p.waitFor, p.keys, p.insert, p.menu
	card := func(f string) {
		t.Helper()
		insert(f)
		waitFor("Enter PIN")
		keys("123456", "enter")
	}

	waitFor("SIMULATION")
	menu("Install Backup Key")
	waitFor("Label")
	keys("enter", "life", "enter")
	waitFor("Write New Key")
	keys("enter")
	card("f1")
	waitFor("Share 1 written")
	card("f2")
	waitFor("Share 2 written")
	card("f3")
	waitFor("Read New Key")
	keys("enter")
	card("f1")
	waitFor("share 1 of the 2 needed")
	card("f2")
	waitFor("loaded into the simulated HSM")
	keys("enter")
	waitFor(`Card set: "life", generation 1, 2 of 3, 3 cards known.`)
	kcv := setup.hsmKCV()

	menu(menuReissue)
	waitFor("Insert card 1 of the 2 needed")
	card("f1")
	waitFor("1 of the 2 needed.")
	card("f2")
	waitFor("New card set")
	keys("enter")
	waitFor("New card 1 of 3")
	card("f3")
	waitFor("Overwrite card?")
	waitFor("It is a card of the set being re-issued")
	keys("enter")
	waitFor("Share 1 of the new set written")
	card("f4")
	waitFor("Share 2 of the new set written")
	card("f5")
	waitFor("Set re-issued")
	waitFor("Generation 2")
	waitFor("Collect and erase the cards of generation 1")
	keys("enter")
	waitFor(`Card set: "life", generation 2, 2 of 3, 3 cards known. 2 superseded cards to collect and erase.`)

	menu("Load Backup Key")
	waitFor("Read Key")
	keys("enter")
	waitFor("Insert 1. card")
	card("f1")
	waitFor("by generation 2: collect and erase this card.")
	card("f3")
	waitFor("share 1 of the 2 needed")
	card("f4")
	waitFor("already holds this Backup Key")
	waitFor(kcv)
	keys("enter")
	waitFor("Main menu")

	verify := func() {
		t.Helper()
		menu(menuVerify)
		waitFor("Insert 1. card")
		for _, f := range []string{"f3", "f4", "f5"} {
			card(f)
			waitFor(fmt.Sprintf("Card %s read", setup.cards[f[1]-'1'].Serial()))
		}
		keys("esc")
	}
	verify()
	waitFor("All 3 cards of the set are good")
	keys("enter")
	waitFor("Main menu")

	keys("f12")
	waitFor("Reader: Simulated reader · empty")
	setup.alter(4)
	verify()
	waitFor(fmt.Sprintf("Card %s is BAD", setup.cards[3].Serial()))
	keys("enter")
	waitFor("Main menu")
	p.quit()

	if got := setup.hsmKCV(); got != kcv {
		t.Fatalf("the HSM's key changed: %s, was %s", got, kcv)
	}
	if reg := setup.register(); reg.Current == nil || reg.Current.Generation != 2 {
		t.Fatalf("the register: %+v", reg.Current)
	}
}
