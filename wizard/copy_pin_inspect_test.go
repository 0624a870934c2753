package wizard

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// choose opens the main-menu entry with the given title.
func (r *rig) choose(title string) {
	r.t.Helper()
	r.press(menuPath(r.t, title)...)
}

// menuPath is the keys that open the main-menu entry with the given title:
// its shortcut, then OK.
func menuPath(t *testing.T, title string) []string {
	t.Helper()
	items := menuItems()
	for i, it := range items {
		if i18n.For(i18n.English).T(it.title) == title {
			return []string{menuShortcut(i, len(items)), "enter"}
		}
	}
	t.Fatalf("no menu entry %q", title)
	return nil
}

// installSet installs a 2-of-3 set on cards 1–3 and reads it back from cards
// 1 and 2; it returns the HSM's KCV.
func (r *rig) installSet(label string) string { return r.installOn(label, 1, false) }

// installOn installs a 2-of-3 set on cards first..first+2 (replace: the HSM
// holds another key, which the new one replaces) and reads it back from the
// first two; it returns the HSM's KCV.
func (r *rig) installOn(label string, first int, replace bool) string {
	r.t.Helper()
	r.install(0, label)
	if replace {
		r.press("enter")
	}
	r.press("enter")
	for i := first; i < first+3; i++ {
		r.card(i, "123456")
	}
	r.press("enter")
	r.card(first, "123456")
	r.card(first+1, "123456")
	r.see("Key loaded")
	r.press("enter")
	return r.hsmKCV()
}

// verifyPIN tries pin on a slot of simulated card i, in a reader of its own.
func (r *rig) verifyPIN(i int, slot tcos.Slot, pin string) error {
	r.t.Helper()
	s, done := r.session(i)
	defer done()
	return s.VerifyPIN(t0ctx(), slot, []byte(pin))
}

// session opens simulated card i in a reader of its own and identifies it;
// done closes it.
func (r *rig) session(i int) (s *tcos.Session, done func()) {
	r.t.Helper()
	rd := cardio.NewSimReader([]cardio.SimulatedCard{r.cards[i-1]})
	if err := rd.Insert(1); err != nil {
		r.t.Fatal(err)
	}
	card, err := rd.Connect(t0ctx())
	if err != nil {
		r.t.Fatal(err)
	}
	s = tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(t0ctx()); err != nil {
		card.Close()
		r.t.Fatal(err)
	}
	return s, func() { card.Close() }
}

// see fails unless the activity's pad and side panel (read apart from each
// other, so a sentence is not cut by the drawn pad) show every one of want.
func (r *rig) see(want ...string) {
	r.t.Helper()
	p := r.m.act.view()
	flat := ansi.Strip(strings.Join(append(p.pad[:], p.side...), " "))
	flat = strings.Join(strings.Fields(flat), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			r.t.Fatalf("screen lacks %q:\n%s", w, r.screen())
		}
	}
}

// fits fails unless the screen fits an 80x24 console.
func (r *rig) fits(when string) {
	r.t.Helper()
	lines := strings.Split(r.screen(), "\n")
	if len(lines) > 24 {
		r.t.Errorf("%s: %d lines:\n%s", when, len(lines), r.screen())
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			r.t.Errorf("%s: line of %d cells: %q", when, w, l)
		}
	}
}

// pinVerifies counts VERIFY commands that carried a PIN (Lc present).
var pinVerify = regexp.MustCompile(`> 00 20 00 81 [0-9A-F]{2}`)

func TestCopyDoneWhenScenario(t *testing.T) {
	r := newRig(t, 4)
	kcv := r.installSet("prod")

	r.choose("Copy a Backup Key share card")
	r.see("Insert source", "Timeout in 1:00", "PKCS#11 slot user credentials cannot be copied")
	r.fits("copy: insert source")
	r.card(1, "")
	r.see("Enter PIN", "3 PIN tries left")
	r.press("123456", "enter")
	r.see("Share read from card 54455354434152443031", `"prod"`, "2 of 3", "KCV "+kcv, "held in memory", "Insert target")
	r.fits("copy: insert target")
	r.card(4, "123456")
	r.see("Write copy?", "Target card 54455354434152443034 is empty")
	r.fits("copy: confirm")
	if r.m.act.status().holds != holdsShare {
		t.Fatal("share not held between source and target")
	}
	src := r.m.act.(*copyOp).src.Share
	r.press("enter")
	r.see("Card copied", "Copy written to card 54455354434152443034 and read back", "same share as card 54455354434152443031", "count once")
	r.fits("copy: done")
	if r.m.act.status().holds != holdsNothing || !bytes.Equal(src, make([]byte, len(src))) {
		t.Fatal("share not wiped after the copy")
	}
	one, four := r.cardRecord(1), r.cardRecord(4)
	if one.KeySetID != four.KeySetID || !bytes.Equal(one.Share, four.Share) || one.Label != four.Label {
		t.Fatal("card 4 is not a one-to-one copy of card 1")
	}
	r.press("enter")
	r.expect("Main menu")

	// The recovery site: a fresh HSM, original card 1 set aside; the copy
	// and card 3 bring the key back.
	sc := make([]cardio.SimulatedCard, len(r.cards))
	for i, c := range r.cards {
		sc[i] = c
	}
	dr := newRigWith(t, r.cards, sc, t.TempDir())
	dr.choose("Load Backup Key")
	dr.press("enter")
	dr.card(4, "123456")
	dr.card(3, "123456")
	dr.see("loaded into the simulated HSM", "KCV "+kcv)
	if got := dr.hsmKCV(); got != kcv {
		t.Fatalf("recovery HSM KCV %s, want %s", got, kcv)
	}
	dr.press("enter")

	// Original and copy together: the second is refused, never counted twice.
	dr.choose("Load Backup Key")
	dr.press("enter")
	dr.card(1, "123456")
	dr.card(4, "123456")
	dr.see("holds a share that was already read", "each share counts once", "Insert 2. card")
	if c := dr.m.act.(*loadOp); c.reading.coll.Have() != 1 {
		t.Fatalf("collector has %d shares after original and copy", c.reading.coll.Have())
	}
}

func TestCopyTwoOutOfTwo(t *testing.T) {
	r := newRig(t, 3)
	kcv := r.installSet("lab")
	three := r.cardRecord(3)

	r.choose("Copy a Backup Key share card")
	r.card(2, "123456")
	r.card(3, "123456")
	r.see("Overwrite card?", "ANOTHER share of this same Backup Key (2 of 3)", "destroys that share for good",
		"2 different shares instead of 3", "counts once", "card 54455354434152443032 or 54455354434152443033, plus the set's remaining card")
	r.fits("copy: 2 out of 2 warning")
	r.press("esc")
	r.see("The target card was not written", "Insert target")
	if got := r.cardRecord(3); !bytes.Equal(got.Share, three.Share) {
		t.Fatal("card 3 overwritten without confirmation")
	}
	r.card(3, "123456")
	r.press("enter")
	r.see("Its former share is gone", "2 different shares")
	r.press("enter")

	// Cards 2 and 3 now count once; card 1 with either rebuilds the key.
	r.choose("Load Backup Key")
	r.press("enter")
	r.card(2, "123456")
	r.card(3, "123456")
	r.see("already read")
	r.card(1, "123456")
	r.see("already holds this Backup Key", "KCV "+kcv)
}

func TestCopyRefusals(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("key-a")
	r.installOn("key-b", 4, true) // the HSM holds key-b afterwards

	r.choose("Copy a Backup Key share card")
	r.card(1, "123456")
	r.see("Insert target")
	before := len(pinVerify.FindAllString(r.apdus(), -1))
	r.card(1, "")
	r.see("This is the source card 54455354434152443031 itself", "Insert target")
	if got := len(pinVerify.FindAllString(r.apdus(), -1)); got != before {
		t.Fatal("a PIN was sent to the source card offered as target")
	}
	r.card(4, "123456")
	r.see("Overwrite card?", `DIFFERENT Backup Key: "key-b"`, "LOADED IN THE HSM NOW", "destroys that share for good")
	r.press("esc")

	// A blocked target is refused from the status query alone.
	r.card(6, "111111")
	r.press("222222", "enter", "333333", "enter")
	r.see("Backup Key share slot PIN of this card is now blocked", "Insert target")
	before = len(pinVerify.FindAllString(r.apdus(), -1))
	r.card(6, "")
	r.see("Backup Key share slot PIN of card 54455354434152443036 is blocked", "No PIN was sent")
	if got := len(pinVerify.FindAllString(r.apdus(), -1)); got != before {
		t.Fatal("a PIN was sent to a blocked slot")
	}
	r.fits("copy: blocked target")
	if r.m.act.status().holds != holdsShare {
		t.Fatal("source share lost by refusals")
	}

	// Leaving with the share in memory asks first, and wipes it.
	src := r.m.act.(*copyOp).src.Share
	r.press("esc")
	r.see("Leave this tool?", "held in memory and was not copied yet")
	r.fits("copy: leave question")
	r.press("esc")
	r.see("Insert target")
	r.press("ctrl+c")
	r.expect("Quit now?", "was not copied yet")
	r.press("esc", "esc", "enter")
	r.expect("Main menu")
	if !bytes.Equal(src, make([]byte, len(src))) {
		t.Fatal("share not wiped on leaving")
	}
}

func TestCopyEmptySourceTimeoutsAndPulledCard(t *testing.T) {
	r := newRig(t, 3)
	r.installSet("lab")
	fresh := newRig(t, 2) // cards with no share
	fresh.choose("Copy a Backup Key share card")
	fresh.card(1, "123456")
	fresh.see("holds no Backup Key share: there is nothing to copy", "Insert source")

	r.choose("Copy a Backup Key share card")
	r.card(1, "123456")
	r.advance(61 * time.Second)
	r.see("Timeout: No card was presented within 1 minute", "The share is still in memory")
	if p := r.m.act.view(); strings.TrimSpace(p.pad[0]+p.pad[1]) != "" || len(p.side) == 0 {
		t.Fatalf("pad shows %q after a timeout; the real one turns blank", p.pad)
	}
	r.press("enter")
	r.see("Insert target", "Timeout in 1:00")
	r.card(2, "")
	r.press("12", "f12")
	r.see("taken out before its step was done", "Insert target")
	if st := r.m.act.(*copyOp).step; len(st.fields) != 0 || st.state != stepInsert {
		t.Fatal("PIN digits kept after the card left")
	}
	r.card(3, "123456")
	r.see("Overwrite card?")
	r.advance(61 * time.Second)
	r.see("No answer within 1 minute", "nothing was written")
	r.press("enter")
	r.card(2, "")
	r.advance(31 * time.Second)
	r.see("The PIN was not entered within 30 seconds", "no PIN try was spent")
	r.press("enter")
	r.card(2, "123456")
	r.press("enter")
	r.see("Copy written")
}

func TestChangePINEachSlotLeavesTheOther(t *testing.T) {
	r := newRig(t, 3)
	r.installSet("lab")
	verifies := len(pinVerify.FindAllString(r.apdus(), -1))

	r.choose("Change the Backup Key share PIN")
	r.see("Insert card", "the card's other slot keeps its PIN")
	r.card(1, "")
	r.see("Current PIN", "Backup Key share slot: 3 PIN tries left", "Card 54455354434152443031: 3 PIN tries left")
	r.fits("change: current PIN")
	if strings.Contains(r.apdus(), "> 00 24") || len(pinVerify.FindAllString(r.apdus(), -1)) != verifies {
		t.Fatal("a PIN was sent before the operator typed one")
	}
	r.press("123456", "enter")
	r.see("New PIN", "Type the NEW PIN")
	r.press("24681357")
	r.see("********")
	r.expectNot("24681357")
	r.press("enter", "24681357", "enter")
	r.see("PIN changed", "The PIN of the Backup Key share slot of card 54455354434152443031 was changed",
		"The PKCS#11 slot user keeps its PIN")
	r.fits("change: done")
	r.press("enter")

	r.choose("Change the PKCS#11 slot user PIN")
	r.card(1, "123456")
	r.press("97531864", "enter", "97531864", "enter")
	r.see("The PIN of the PKCS#11 slot user of card 54455354434152443031 was changed", "The Backup Key share slot keeps its PIN")
	r.press("enter")

	for _, c := range []struct {
		slot tcos.Slot
		pin  string
	}{{tcos.SlotBackupKey, "24681357"}, {tcos.SlotPKCS11, "97531864"}} {
		if err := r.verifyPIN(1, c.slot, c.pin); err != nil {
			t.Errorf("%s slot with its new PIN: %v", c.slot, err)
		}
	}
	// The Backup Key PIN in use: the card still serves in a Load.
	r.choose("Load Backup Key")
	r.press("enter")
	r.card(1, "24681357")
	r.card(3, "123456")
	r.see("already holds this Backup Key")
	if strings.Contains(r.apdus(), "32 34 36 38") || strings.Contains(r.apdus(), "39 37 35 33") {
		t.Fatal("a PIN reached the APDU log")
	}
}

func TestChangePINEntryChecks(t *testing.T) {
	r := newRig(t, 1)
	r.choose("Change the Backup Key share PIN")
	r.card(1, "123456")
	r.press("12345", "enter")
	r.see("A PIN has 6 to 15 digits", "New PIN")
	r.press("1234567890123456789")
	if n := r.m.act.(*pinOp).step.fields[1].Len(); n != 15 {
		t.Fatalf("new PIN holds %d digits, want at most 15", n)
	}
	r.press("backspace", "111111", "enter", "222222", "enter")
	r.see("The two new PINs differ; nothing was changed", "New PIN")
	r.fits("change: mismatch")
	r.press("123456", "enter", "123456", "enter")
	r.see("Factory PIN?", "the factory PIN 123456", "Press OK to use it anyway")
	r.fits("change: factory warning")
	r.press("esc")
	r.see("Choose another new PIN")
	r.press("654321", "enter", "654321", "enter")
	r.see("PIN changed")
	if err := r.verifyPIN(1, tcos.SlotBackupKey, "654321"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(r.apdus(), "36 35 34 33 32 31") {
		t.Fatal("the new PIN reached the APDU log")
	}
	if st := r.m.act.(*pinOp).step; len(st.fields) != 0 {
		t.Fatal("PINs kept after the change")
	}
	r.press("enter")
	r.seen.check(t, r.m)
}

func TestChangePINThreeWrongBlocksOnlyThatSlot(t *testing.T) {
	r := newRig(t, 1)
	r.choose("Change the PKCS#11 slot user PIN")
	r.card(1, "111111")
	r.press("222222", "enter", "222222", "enter")
	r.see("Wrong PIN", "2 PIN tries left", "Current PIN")
	r.press("111111", "enter", "222222", "enter", "222222", "enter")
	r.see("LAST TRY")
	r.press("111111", "enter", "222222", "enter", "222222", "enter")
	r.see("Three wrong PINs: the PKCS#11 slot user PIN of this card is now blocked", "Insert card")
	changes := strings.Count(r.apdus(), "> 00 24")
	r.card(1, "")
	r.see("The PKCS#11 slot user PIN of card 54455354434152443031 is blocked", "No PIN was sent")
	if got := strings.Count(r.apdus(), "> 00 24"); got != changes {
		t.Fatal("CHANGE REFERENCE DATA sent to a blocked slot")
	}
	r.press("esc")

	// The other slot is untouched.
	r.choose("Inspect a card")
	r.card(1, "")
	r.see("Backup Key share slot: 3 PIN tries left", "PKCS#11 slot user: BLOCKED")
	if err := r.verifyPIN(1, tcos.SlotBackupKey, "123456"); err != nil {
		t.Fatal(err)
	}
}

func TestInspectSpendsNoTry(t *testing.T) {
	r := newRig(t, 3)
	kcv := r.installSet("prod")
	rec := r.cardRecord(2)
	mark := r.log.Len()

	r.choose("Inspect a card")
	r.card(2, "")
	r.see("Card 54455354434152443032", "TCOS 3.0 card with the appliance profile",
		"Backup Key share slot: 3 PIN tries left", "PKCS#11 slot user: 3 PIN tries left",
		"status query only: no PIN try spent", "Show share?")
	r.fits("inspect: status")
	r.press("esc")
	r.see("Card inspected", "not read")
	log := r.log.String()[mark:]
	if n := strings.Count(log, "> 00 20 00 81\n"); n != 2 {
		t.Fatalf("%d status queries, want 2 (one a slot):\n%s", n, log)
	}
	if pinVerify.MatchString(log) || strings.Contains(log, "> 00 24") {
		t.Fatalf("inspect without a PIN sent a PIN:\n%s", log)
	}
	r.press("enter")

	r.choose("Inspect a card")
	r.card(2, "")
	r.press("enter", "123456", "enter")
	r.see(`Share: "prod"`, "2 of 3, created 2026-11-28", fmt.Sprintf("key set %X", rec.KeySetID[:]), "KCV "+kcv,
		"the share itself never is")
	r.fits("inspect: share")
	screen := strings.ToUpper(strings.Join(strings.Fields(r.screen()), ""))
	if strings.Contains(screen, fmt.Sprintf("%X", rec.Share[:8])) {
		t.Fatal("share bytes on screen")
	}
	if strings.Contains(r.log.String(), fmt.Sprintf("% X", rec.Share[:8])) {
		t.Fatal("share bytes in the APDU log")
	}
}

func TestInspectForeignAndWrongPIN(t *testing.T) {
	var s tcos.Serial
	copy(s[:], "TESTCARD01")
	c := simcard.New(s)
	r := newRigWith(t, []*simcard.Card{c}, []cardio.SimulatedCard{c, simcard.Foreign{}}, t.TempDir())
	r.choose("Inspect a card")
	r.card(2, "")
	r.see("Not an appliance card.", "ATR 3B 8F 80 01", "Nothing was written")
	r.fits("inspect: foreign")
	r.press("enter")

	r.choose("Inspect a card")
	r.card(1, "")
	r.press("enter", "111111", "enter")
	r.see("Wrong PIN", "2 PIN tries left", "Backup Key share slot: 2 PIN tries left")
	r.press("123456", "enter")
	r.see("Share: none: the slot is empty")
}

func TestPKCS11CopyIsRefused(t *testing.T) {
	r := newRig(t, 1)
	r.choose("Copy a PKCS#11 slot user card")
	r.see("Cannot copy", "cannot be copied", "generated on the card itself", "private key never leaves the card",
		"enroll another card")
	r.fits("pkcs11 copy refusal")
	r.press("enter")
	r.expect("Main menu")
	if r.log.Len() != 0 {
		t.Fatal("the refusal touched a card")
	}
}

// padReader is the simulated reader with a PIN pad: the "operator" types
// the PINs the test gives it, on the reader, never through the wizard.
type padReader struct {
	*cardio.SimReader
	pad *fakePad
}

func (p *padReader) Connect(ctx context.Context) (cardio.Card, error) {
	c, err := p.SimReader.Connect(ctx)
	if err != nil {
		return nil, err
	}
	p.pad.mu.Lock()
	p.pad.card = c
	p.pad.mu.Unlock()
	return &padCard{Card: c, pad: p.pad}, nil
}

type padCard struct {
	cardio.Card
	pad *fakePad
}

func (c *padCard) PINPad() cardio.PINPad { return c.pad }

type fakePad struct {
	mu       sync.Mutex
	card     cardio.Card
	modify   bool
	pin      string // typed for VERIFY, and as the old PIN for MODIFY
	newPIN   string
	verifies int
	modifies int
	langIDs  []uint16 // the wLangId of every PIN entry asked
}

func (f *fakePad) VerifyPIN(ctx context.Context, req cardio.PINVerify) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.verifies++
	f.langIDs = append(f.langIDs, req.LangID)
	apdu := append(req.APDU[:], byte(len(f.pin)))
	return f.card.Transmit(ctx, append(apdu, f.pin...))
}

func (f *fakePad) ModifyPIN(ctx context.Context, req cardio.PINModify) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.modifies++
	f.langIDs = append(f.langIDs, req.LangID)
	data := f.pin + f.newPIN
	if req.NewOnly { // the current PIN was verified first
		data = f.newPIN
	}
	apdu := append(req.APDU[:], byte(len(data)))
	return f.card.Transmit(ctx, append(apdu, data...))
}

func (f *fakePad) CanModify() bool { return f.modify }

func newPadRig(t *testing.T, pad *fakePad) *rig { return newPadRigIn(t, pad, nil) }

// newPadRigIn is newPadRig with the wizard speaking p's language.
func newPadRigIn(t *testing.T, pad *fakePad, p *i18n.Printer) *rig {
	r := newRig(t, 2)
	pr := &padReader{SimReader: r.sim, pad: pad}
	r.m = New(Config{Reader: pr, Sim: r.sim, HSM: r.hsm, APDULog: r.log, Now: func() time.Time { return r.clock }, Printer: p})
	r.seen = newSecretsSeen()
	r.run(r.m.Init())
	return r
}

func TestChangePINOnReaderPad(t *testing.T) {
	pad := &fakePad{modify: true, pin: "123456", newPIN: "11223344"}
	r := newPadRig(t, pad)
	r.choose("Change the PKCS#11 slot user PIN")
	r.press("f1", "enter")
	// The whole exchange ran on the pad: the fake answers at once.
	if pad.modifies != 1 {
		t.Fatalf("%d MODIFY_PIN_DIRECT calls, want 1", pad.modifies)
	}
	r.see("PIN changed", "PKCS#11 slot user of card 54455354434152443031 was changed")
	if !strings.Contains(r.apdus(), "> 00 20 00 81 # verify on the reader's PIN pad") ||
		!strings.Contains(r.apdus(), "> 00 24 01 81 # change on the reader's PIN pad") {
		t.Fatalf("no pad change in the APDU log:\n%s", r.apdus())
	}
	if strings.Contains(r.apdus(), "31 31 32 32") {
		t.Fatal("the new PIN reached the APDU log")
	}
	if err := r.verifyPIN(1, tcos.SlotPKCS11, "11223344"); err != nil {
		t.Fatal(err)
	}
	if err := r.verifyPIN(1, tcos.SlotBackupKey, "123456"); err != nil {
		t.Fatal(err)
	}

	// A wrong current PIN on the pad: tries left shown, the pad asked again;
	// the pad's VERIFY refuses it before any change is asked.
	pad.pin = "999999"
	r.press("enter")
	r.choose("Change the PKCS#11 slot user PIN")
	r.press("f2", "enter")
	if pad.verifies < 4 || pad.modifies != 1 {
		t.Fatalf("%d pad verifies and %d changes after wrong PINs, want ≥ 4 and 1", pad.verifies, pad.modifies)
	}
	r.see("Three wrong PINs", "now blocked")
}

// A PIN-pad reader shows its own prompts in the wizard's language: every
// PIN_VERIFY and PIN_MODIFY carries its USB language ID as wLangId (PC/SC
// part 10; docs/i18n.md, "The PIN pad's language").
func TestPINPadSpeaksTheWizardsLanguage(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    *i18n.Printer
		want uint16
	}{
		{"no printer", nil, 0x0409},
		{"English", i18n.For(i18n.English), 0x0409},
		{"German", i18n.For(i18n.German), 0x0407},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pad := &fakePad{modify: true, pin: "123456", newPIN: "11223344"}
			r := newPadRigIn(t, pad, tc.p)
			r.press("8", "enter") // Inspect a card: the Backup Key PIN on the pad
			r.press("f1", "enter", "enter")
			r.press("enter")
			r.press("4", "enter") // Change the Backup Key share PIN: all on the pad
			r.press("f1", "enter")
			if pad.verifies == 0 || pad.modifies == 0 {
				t.Fatalf("%d verifies and %d changes on the pad", pad.verifies, pad.modifies)
			}
			for i, id := range pad.langIDs {
				if id != tc.want {
					t.Errorf("PIN entry %d: wLangId %#04x, want %#04x", i+1, id, tc.want)
				}
			}
		})
	}
}

func TestChangePINPadWithoutModify(t *testing.T) {
	pad := &fakePad{modify: false, pin: "123456"}
	r := newPadRig(t, pad)
	r.choose("Change the Backup Key share PIN")
	r.press("f1", "enter")
	r.see("cannot change PINs on its keypad: type them here", "Current PIN")
	r.press("123456", "enter", "13572468", "enter", "13572468", "enter")
	r.see("PIN changed")
	if pad.modifies != 0 {
		t.Fatal("MODIFY_PIN_DIRECT used on a reader that does not offer it")
	}

	// Copy and inspect take the Backup Key PIN on the reader's keypad.
	r.press("enter")
	pad.pin = "13572468"
	r.choose("Inspect a card")
	r.press("f1", "enter", "enter")
	if pad.verifies != 1 {
		t.Fatalf("%d pad verifies, want 1", pad.verifies)
	}
	r.see("Share: none: the slot is empty")
}

// Golden views of the tools' busiest screens, plain text after ansi.Strip.
// Regenerate with: go test ./wizard -run TestGoldenTool -update
// stable masks what differs between runs: a new key's KCV and key-set ID,
// and the audit trail's hash (its anchor line has a random trail ID).
func stable(s string) string {
	s = regexp.MustCompile(`KCV [0-9A-F]{6}`).ReplaceAllString(s, "KCV xxxxxx")
	s = regexp.MustCompile(`(Hash|hash) [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4} [0-9a-f]{4}`).ReplaceAllString(s, "$1 xxxx xxxx xxxx xxxx")
	return regexp.MustCompile(`(key set|Schlüsselsatz) [0-9A-F]{32}`).ReplaceAllString(s, "$1 "+strings.Repeat("x", 32))
}

func TestGoldenToolCopyTwoOutOfTwo(t *testing.T) {
	r := newRig(t, 3)
	r.installSet("prod-cluster")
	r.choose("Copy a Backup Key share card")
	r.card(2, "123456")
	r.card(3, "123456")
	r.advance(5 * time.Second)
	golden.RequireEqual(t, []byte(stable(r.screen())))
}

func TestGoldenToolInspect(t *testing.T) {
	r := newRig(t, 3)
	r.installSet("prod-cluster")
	r.choose("Inspect a card")
	r.card(1, "")
	r.press("enter", "123456", "enter")
	golden.RequireEqual(t, []byte(stable(r.screen())))
}

func TestGoldenToolChangePINLastTry(t *testing.T) {
	r := newRig(t, 1)
	r.choose("Change the Backup Key share PIN")
	r.card(1, "111111")
	r.press("111111", "enter", "111111", "enter")
	r.press("111111", "enter", "111111", "enter", "111111", "enter", "1234")
	golden.RequireEqual(t, []byte(stable(r.screen())))
}
