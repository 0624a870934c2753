package wizard

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// What a new user tripped over, one test each.

// After the operator keeps the HSM's key, the pad does not say it loaded.
func TestLoadKeepingTheHSMKeySaysNotLoaded(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("first")
	r.installOn("second", 4, true) // the HSM holds "second" now
	r.choose("Load Backup Key")
	r.press("enter")
	r.card(1, "123456")
	r.card(2, "123456")
	r.expect("Replace HSM key?")
	r.press("esc")
	r.expect("Key not loaded", "Nothing was loaded: the HSM keeps its Backup Key")
	r.expectNot("Key loaded")
}

// A deck with fewer cards than the quorum writes is said before the install
// starts.
func TestSetupWarnsOfASmallDeck(t *testing.T) {
	r := newRig(t, 3)
	r.press("1", "enter")
	r.expectNot("fewer than the")
	r.press("down")
	r.expect("the simulated deck has 3 cards, fewer than the 5 this quorum writes", "--sim-cards 5")
	r.fits("setup: small deck")
}

// F3 then OK at once: OK waits for card 3 to be in the reader, so card 3 is
// the one read, not the card that was in before.
func TestFKeyThenOKAtOnce(t *testing.T) {
	l := startLive(t, liveOptions{})
	l.menu("Inspect a card")
	l.see("Insert card")
	l.keys("f2")
	l.see("card 2 inserted")
	l.keys("f3", "enter")
	l.see("Card " + l.cards[2].Serial().String())
	l.see("simulated card 3 inserted")
	l.keys("ctrl+c")
	l.exited(5 * time.Second)
}

// F1–F9 say why nothing happens while the reader is unplugged.
func TestFKeysWhileUnplugged(t *testing.T) {
	r := newRig(t, 3)
	r.train()
	r.instructor("u")
	r.press("f2")
	r.expect("F2: card 2 stays out while the reader is unplugged (ctrl+f, u plugs it in).")
	r.instructor("u")
	r.press("f2")
	r.expectNot("stays out")
	r.expect("simulated card 2 inserted")
}

// A mute card: a countdown says how long the wizard waits for its answer,
// and Cancel stops waiting at once.
func TestMuteCardCountdownAndCancel(t *testing.T) {
	l := startLive(t, liveOptions{faults: true})
	l.menu("Inspect a card")
	l.see("Insert card")
	l.sim.FaultLayer().Arm(cardio.Rule{Kind: cardio.FaultMute, Match: func(c []byte) bool { return len(c) > 1 && c[1] == tcos.INSReadBinary }})
	l.insert(1)
	l.see("Please wait...")
	l.see("The card has 0:")
	l.see("Cancel (Esc) stops waiting")
	l.keys("esc")
	l.see("Stopped waiting for the card")
	l.see("Insert card")
	l.keys("f12")
	l.see("Reader: Simulated reader · empty")
	l.insert(1)
	l.see("Show share?")
	l.keys("ctrl+c")
	l.exited(5 * time.Second)
}

// A damaged record of the slot's user cards is said once: not as "no card
// is enrolled" beside it.
func TestCorruptSlotRecordSaysSoOnce(t *testing.T) {
	s := newSlotRig(t, 1)
	if err := os.WriteFile(filepath.Join(s.hsmDir, hsm.SimUserSlotFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.menuTo(menuList)
	s.expect("The slot cannot say which cards are enrolled")
	s.expectNot("No user card is enrolled", "0 enrolled")
	s.do("esc")
	s.menuTo(menuEnroll)
	s.expect("The slot cannot say which cards are enrolled")
	s.expectNot("Enrolled user cards: 0", "No user card is enrolled")
}

// The reader failing at the insert prompt shows at once in the body, in the
// wizard's words, and the header line is not cut on a wide console.
func TestReaderProblemShowsAtOnce(t *testing.T) {
	r := newRig(t, 3)
	r.update(tea.WindowSizeMsg{Width: 200, Height: 50})
	r.install(0, "pcscd")
	r.press("enter")
	r.expect("Insert 1. card")
	r.run(r.update(presenceMsg{err: fmt.Errorf("list readers: %w", cardio.ErrNoService)}))
	r.see("pcscd, the smart card service, is not running.", "Start the smart card service.")
	for _, l := range strings.Split(r.screen(), "\n") {
		if strings.HasPrefix(l, "Reader:") && strings.Contains(l, "…") {
			t.Fatalf("reader line cut at 200 columns: %q", l)
		}
	}
	r.run(r.update(presenceMsg{present: false}))
	r.expectNot("pcscd, the smart card service")
	r.expect("Insert 1. card")
}

// Audit events carry the time they happened, not the last tick's.
func TestAuditEventTimesAreWhenTheyHappen(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "timed")
	r.press("enter")
	r.advance(time.Second) // a tick at T
	r.clock = r.clock.Add(700 * time.Millisecond)
	at := r.clock
	r.card(1, "")
	var got time.Time
	for _, e := range r.auditEvents() {
		if e.Step == audit.StepIdentify {
			got = e.Time
		}
	}
	if !got.Equal(at) {
		t.Fatalf("identify recorded at %s, it happened at %s", got, at)
	}
}

// Words that were wrong: plurals, spelling, claims about an empty slot, a
// sentence said twice, the appliance manual called by another name.
func TestTextFixes(t *testing.T) {
	r := newRig(t, 3)
	r.installSet("words")
	r.expectNot("seed")

	r.choose("Inspect a card")
	r.card(1, "")
	if n := strings.Count(strings.Join(strings.Fields(r.screen()), " "), "no PIN try"); n != 1 {
		t.Errorf("inspect says no PIN try was spent %d times", n)
	}
	r.press("esc", "enter")

	fresh := newRig(t, 1)
	fresh.choose("Inspect a card")
	fresh.card(1, "")
	fresh.press("enter", "123456", "enter")
	fresh.expect("The share slot is empty")
	fresh.expectNot("The share's details are shown")

	s := newSlotRig(t, 1)
	s.menuTo(menuEnroll)
	s.do("enter") // no label
	s.useCard(1, "123456")
	s.expect("Enroll card?")
	s.do("enter")
	s.expect("Card enrolled")
	s.do("enter")
	s.menuTo(menuList)
	s.do("enter")
	s.see("The slot's new user PIN goes to no card: no card can activate the slot afterwards.")
	s.expectNot("the 0 other")
	if regexp.MustCompile(`\benrol\b`).MatchString(s.screens.String()) {
		t.Error("a screen says \"enrol\"")
	}
}

// A training deck whose directory is gone (as if read-only): the screen
// says the file system refused, and which file, never a status word.
func TestStorageErrorNamesTheFile(t *testing.T) {
	dir := t.TempDir()
	d, err := simcard.OpenDeck(filepath.Join(dir, "cards"), 3)
	if err != nil {
		t.Fatal(err)
	}
	r := newRigWith(t, d.Cards(), d.SimulatedCards(), t.TempDir())
	r.train() // the fault layer on, as in training
	r.install(0, "ro")
	r.press("enter")
	if err := os.Rename(filepath.Join(dir, "cards"), filepath.Join(dir, "gone")); err != nil {
		t.Fatal(err)
	}
	r.card(1, "123456")
	n := r.m.act.(*installOp).f.note
	if want := "the file system refused to write " + filepath.Join(dir, "cards", "card-01.json"); !strings.Contains(n.text, want) {
		t.Fatalf("notice %q lacks %q", n.text, want)
	}
	r.expectNot("6581", "memory failure")
}

// A reader's name comes from its driver: escape sequences in it never reach
// the terminal.
func TestReaderNameIsCleaned(t *testing.T) {
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	evil := "Evil\x1b[2J\x1b]0;owned\a Reader 00 00"
	r := &rig{t: t, seen: newSecretsSeen()}
	r.m = New(Config{HSM: h, ReaderChoices: []string{evil, "REINER SCT cyberJack ecom_a 00 00"},
		OpenReader: func(context.Context, string) (cardio.Reader, error) { return nil, cardio.ErrNoReader }})
	r.run(r.m.Init())
	v := r.m.View().Content
	if strings.Contains(ansi.Strip(v), "\x1b") || strings.Contains(v, "\x1b]0;") || strings.Contains(v, "\x1b[2J") {
		t.Fatalf("the reader's escape sequences reach the screen: %q", v)
	}
	r.expect("Evil", "Reader 00 00")
}
