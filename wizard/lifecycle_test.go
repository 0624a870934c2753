package wizard

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// The card set's life in the wizard (docs/lifecycle.md): Verify, Re-issue,
// Erase, and the hooks in Load, Install and Copy, driven at the Update
// level.

const (
	menuVerify  = "Verify the card set"
	menuReissue = "Re-issue the card set"
	menuErase   = "Erase a card"
)

// reissue re-issues the HSM's card set from the cards sources onto the
// cards targets (same quorum and label), answering OK to every overwrite
// question; it stops at the result.
func (r *rig) reissue(sources, targets []int) {
	r.t.Helper()
	r.choose(menuReissue)
	for _, i := range sources {
		r.card(i, "123456")
	}
	r.see("New card set")
	r.press("enter")
	for j, i := range targets {
		// The progress line marks the share the next card gets.
		r.see(fmt.Sprintf("%d:now", j+1))
		r.card(i, "123456")
		if r.m.act.view().pad[0] == "Overwrite card?" {
			r.press("enter")
		}
	}
	r.see("Set re-issued")
}

// verify presents the cards to Verify the card set and finishes.
func (r *rig) verify(cards ...int) {
	r.t.Helper()
	r.choose(menuVerify)
	for _, i := range cards {
		r.card(i, "123456")
	}
	r.press("esc")
}

// register is the simulated HSM's card-set register.
func (r *rig) register() hsm.CardSets {
	r.t.Helper()
	c, err := r.hsm.CardSets(t0ctx())
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

func TestReissueThenLoadAndVerify(t *testing.T) {
	r := newRig(t, 6)
	kcv := r.installSet("life")
	reg := r.register()
	if reg.Current == nil || reg.Current.Generation != 1 || len(reg.Current.Serials) != 3 {
		t.Fatalf("the install did not record generation 1 with its 3 cards: %+v", reg.Current)
	}
	r.reissue([]int{1, 2}, []int{3, 4, 5})
	r.see("Generation 2", "is now the current card set", "Generation 1 is superseded",
		"Collect and erase the cards of generation 1", r.cards[0].Serial().String(), r.cards[1].Serial().String())
	r.fits("re-issued")
	r.press("enter")
	reg = r.register()
	if reg.Current.Generation != 2 || len(reg.Superseded) != 1 || len(reg.Superseded[0].Serials) != 2 {
		t.Fatalf("register after the re-issue: %+v", reg)
	}
	if got := r.hsmKCV(); got != kcv {
		t.Fatalf("the HSM's key changed: %s, was %s", got, kcv)
	}
	r.expect("Card set: \"life\", generation 2, 2 of 3, 3 cards known. 2 superseded cards to collect and erase.")

	// Load: card 1 is refused as superseded; 3 and 4 load the same key.
	r.choose("Load Backup Key")
	r.press("enter")
	r.card(1, "123456")
	r.see("This card holds generation 1, superseded on", "by generation 2: collect and erase this card.")
	if n := r.m.act.(*loadOp).f.note.text; !strings.Contains(n, "superseded on 2026-11-28 by generation 2") {
		t.Fatalf("the refusal does not name the day: %s", n)
	}
	r.card(3, "123456")
	r.card(4, "123456")
	r.see("Key loaded", "already holds this Backup Key", kcv)
	r.press("enter")

	// Verify 3, 4, 5: all good.
	r.verify(3, 4, 5)
	r.see("Set verified", "All 3 cards of the set are good", "It is the Backup Key the HSM holds")
	r.fits("verified")
	r.press("enter")
	// Verify with card 1 among them: refused, not checked.
	r.verify(1, 3, 4)
	r.see("superseded gen 1", "1 card of a card set that is not current was not checked")
	r.press("enter")

	// Erase card 1: superseded, no question; the register lists it no more.
	r.choose(menuErase)
	r.see("Generation 1 (superseded on 2026-11-28): 2 cards to collect and erase")
	r.card(1, "123456")
	r.see("Card erased", "superseded on 2026-11-28 by generation 2")
	r.press("enter")
	if reg := r.register(); len(reg.Superseded[0].Serials) != 1 {
		t.Fatalf("card 1 is still to collect: %+v", reg.Superseded)
	}
	// Erase card 5: current, asks, says k of n.
	r.choose(menuErase)
	r.card(5, "123456")
	r.see("Erase card?", "the CURRENT card set", "The HSM knows 3 cards of this set (this one included); 2 of 3 are needed")
	r.fits("erase question")
	r.press("esc")
	r.see("Not erased")
	r.press("enter")
	r.seen.check(t, r.m)
	ev := r.auditEvents()
	var story []string
	xs := map[int]bool{}
	for _, e := range ev {
		if e.Operation == audit.OpReissue || e.Operation == audit.OpErase {
			story = append(story, fmt.Sprintf("%s/%s:%s", e.Operation, e.Step, e.Outcome))
		}
		// The protocol's table shows each new card's share x.
		if e.Operation == audit.OpReissue && e.Step == audit.StepWriteCard && e.Outcome == audit.OutcomeOK {
			if e.ShareX == 0 || xs[e.ShareX] {
				t.Errorf("a new card's write event carries share x %d (%v seen)", e.ShareX, xs)
			}
			xs[e.ShareX] = true
		}
	}
	if len(xs) != 3 {
		t.Errorf("%d new cards' writes recorded with their share x, want 3", len(xs))
	}
	t.Log(strings.Join(story, " "))
}

// A card whose share was altered and its record re-checksummed is named by
// Verify once k+1 cards are presented.
func TestVerifyNamesAnAlteredCard(t *testing.T) {
	r := newRig(t, 4)
	r.installSet("alter")
	r.alter(2)
	r.verify(1, 2, 3)
	r.see("Bad card found", fmt.Sprintf("Card %s is BAD", r.cards[1].Serial()), "BAD: wrong share")
	r.press("enter")
	r.seen.check(t, r.m)
}

// alter changes card i's share and re-checksums its record: a record that
// parses, whose share is wrong.
func (r *rig) alter(i int) {
	r.t.Helper()
	rec := r.cardRecord(i)
	rec.Share[5] ^= 0x5A
	b, err := rec.Marshal()
	if err != nil {
		r.t.Fatal(err)
	}
	s, done := r.session(i)
	defer done()
	if err := s.VerifyPIN(t0ctx(), tcos.SlotBackupKey, []byte("123456")); err != nil {
		r.t.Fatal(err)
	}
	if err := s.WriteShareRecord(t0ctx(), b); err != nil {
		r.t.Fatal(err)
	}
	if _, err := quorum.Parse(b); err != nil {
		r.t.Fatalf("the altered record does not parse: %v", err)
	}
}

// rawCard is card i's share EF as ReadShareRecord returns it.
func (r *rig) rawCard(i int) []byte {
	r.t.Helper()
	s, done := r.session(i)
	defer done()
	if err := s.VerifyPIN(t0ctx(), tcos.SlotBackupKey, []byte("123456")); err != nil {
		r.t.Fatal(err)
	}
	raw, err := s.ReadShareRecord(t0ctx())
	if err != nil {
		r.t.Fatal(err)
	}
	return raw
}

// notingHSM is the simulated HSM with a backend's notes beside its
// register, as a PKCS#11 token gives them (hsm.CardSetsNoter).
type notingHSM struct {
	*hsm.Sim
	notes []hsm.CardSetsNote
}

func (h notingHSM) CardSetsWithNotes(ctx context.Context) (hsm.CardSets, []hsm.CardSetsNote, error) {
	c, err := h.Sim.CardSets(ctx)
	return c, h.notes, err
}

// The register's notes are on the menu, fitting 80x24, and in the audit
// trail when an operation of the card set's life starts.
func TestRegisterNotesShownAndRecorded(t *testing.T) {
	r := newRig(t, 4)
	r.installSet("notes")
	cfg := r.m.cfg
	cfg.HSM = notingHSM{Sim: r.hsm, notes: []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 2}}}
	r.m.env.trail.close()
	r.m = New(cfg)
	r.run(r.m.Init())
	r.expect("Card set: \"notes\", generation 1", "holds 2 public objects under the name of the card-set register, which anyone can write; they are ignored")
	r.fits("menu with a note")
	r.choose(menuVerify)
	r.press("esc")
	r.run(hsmInfoCmd(cfg.HSM))
	var found bool
	for _, e := range r.auditEvents() {
		if e.Operation == audit.OpVerify && e.Step == audit.StepRegister && strings.Contains(e.Detail, "2 public objects") {
			found = true
		}
	}
	if !found {
		t.Fatal("the note is not in the audit trail")
	}
}

// failingRegisterHSM is the simulated HSM whose register cannot be read.
type failingRegisterHSM struct{ *hsm.Sim }

var errRegisterUnreadable = errors.New("pkcs11: C_FindObjects: CKR_DEVICE_ERROR 0x30")

func (h failingRegisterHSM) CardSetsWithNotes(context.Context) (hsm.CardSets, []hsm.CardSetsNote, error) {
	return hsm.CardSets{}, nil, errRegisterUnreadable
}

// When the HSM cannot say what it holds, Verify, Re-issue and Erase end at
// once in the classifier's words (not the lower layer's), with the failure
// in the audit trail, and OK goes back to the menu.
func TestCardSetOperationsWhenTheHSMFails(t *testing.T) {
	for _, op := range []struct {
		entry string
		op    audit.Operation
	}{{menuVerify, audit.OpVerify}, {menuReissue, audit.OpReissue}, {menuErase, audit.OpErase}} {
		t.Run(string(op.op), func(t *testing.T) {
			r := newRig(t, 3)
			cfg := r.m.cfg
			cfg.HSM = failingRegisterHSM{Sim: r.hsm}
			r.m.env.trail.close()
			r.m = New(cfg)
			r.run(r.m.Init())
			r.choose(op.entry)
			r.see("Problem: The HSM could not do it.", "Press OK for the main menu")
			// A failure the classifier does not know is shown as what it
			// is, on its own Details line, never as the cause.
			for _, line := range strings.Split(r.screen(), "\n") {
				if strings.Contains(line, "CKR_") && !strings.Contains(line, "Details: pkcs11: C_FindObjects") {
					t.Fatalf("the lower layer's words outside Details:\n%s", r.screen())
				}
			}
			r.fits("hsm failed")
			r.press("enter")
			r.expect("Main menu")
			var found bool
			for _, e := range r.auditEvents() {
				if e.Operation == op.op && e.Step == audit.StepStart && e.Outcome != audit.OutcomeOK {
					found = true
				}
			}
			if !found {
				t.Fatal("the failure is not in the audit trail")
			}
		})
	}
}

// A card of the current set whose record read comes back spoilt (noise on
// the READ BINARY answer: one bad contact) reads as a damaged record; Erase
// asks first, says the HSM lists it in the current set and to read it
// again, and Cancel keeps it, share and all.
func TestEraseAsksForASpoiltReadOfACurrentCard(t *testing.T) {
	r := newRig(t, 4)
	r.installSet("life")
	before := r.rawCard(1)
	r.sim.Faults().Arm(cardio.Rule{Kind: cardio.FaultNoise, Card: 1, Match: func(cmd []byte) bool {
		return len(cmd) == 5 && cmd[1] == 0xB0 && cmd[2] == 0 && cmd[4] == 0xFF
	}})
	r.choose(menuErase)
	r.card(1, "123456")
	r.see("Erase card?", "damaged record", "read it again before you erase it", "the HSM lists this card in the CURRENT card set", "it knows 3 cards of it")
	r.fits("erase a spoilt read")
	r.press("esc")
	r.see("Not erased")
	if got := r.rawCard(1); !bytes.Equal(got, before) {
		t.Fatal("the card's share record changed")
	}
	if reg := r.register(); len(reg.Current.Serials) != 3 {
		t.Fatalf("the register lost the card: %d cards known", len(reg.Current.Serials))
	}
}

// A register that cannot be read admits no card: Load and Copy refuse
// every card and say why, rather than taking a superseded one (only the
// register tells which set counts).
func TestDamagedRegisterAdmitsNoCard(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("life")
	r.reissue([]int{1, 2}, []int{3, 4, 5})
	r.press("enter")
	if err := os.WriteFile(r.hsm.CardSetsPath(), []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := r.m.cfg
	r.m.env.trail.close()
	r.m = New(cfg)
	r.run(r.m.Init())
	r.expect("the HSM's record of the card sets cannot be read")
	r.fits("menu, damaged register")
	for _, entry := range []string{"Load Backup Key", "Copy a Backup Key share card"} {
		r.choose(entry)
		r.press("enter")
		for _, i := range []int{1, 3} { // superseded, current: neither can be told
			r.card(i, "123456")
			r.see("The HSM's record of the card sets is damaged.", "cannot tell a current card from a superseded one", "So Load and Copy refuse every card until then")
			if strings.Contains(r.screen(), "Insert any card") {
				t.Fatalf("the refusal asks for another card, which would be refused too:\n%s", r.screen())
			}
			r.fits("refused, damaged register")
			r.press("f12")
		}
		r.press("esc")
		if r.m.act != nil {
			r.press("enter")
		}
		r.expect("Main menu")
	}
}

// commitLostHSM lands the commit's register update but answers it with an
// error, and the read that follows fails once: whether the new set counts
// cannot be told (cardset.ErrCommitUnknown).
type commitLostHSM struct {
	*hsm.Sim
	armed, failRead *bool
}

func (h commitLostHSM) UpdateCardSets(ctx context.Context, prev uint64, next hsm.CardSets) error {
	if !*h.armed {
		return h.Sim.UpdateCardSets(ctx, prev, next)
	}
	*h.armed = false
	if err := h.Sim.UpdateCardSets(ctx, prev, next); err != nil {
		return err
	}
	*h.failRead = true
	return errors.New("pkcs11: C_CreateObject: CKR_DEVICE_ERROR")
}

func (h commitLostHSM) CardSets(ctx context.Context) (hsm.CardSets, error) {
	if *h.failRead {
		*h.failRead = false
		return hsm.CardSets{}, errors.New("pkcs11: C_FindObjects: CKR_DEVICE_ERROR")
	}
	return h.Sim.CardSets(ctx)
}

// When the commit's outcome is unknown the screen does not say the old set
// stays current (it may not); OK reads the register again and finds the
// new set current.
func TestReissueCommitUnknownSaysSo(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("life")
	armed, failRead := false, false
	cfg := r.m.cfg
	cfg.HSM = commitLostHSM{Sim: r.hsm, armed: &armed, failRead: &failRead}
	r.m.env.trail.close()
	r.m = New(cfg)
	r.run(r.m.Init())
	r.choose(menuReissue)
	r.card(1, "123456")
	r.card(2, "123456")
	r.see("New card set")
	r.press("enter")
	armed = true
	for _, i := range []int{3, 4, 5} {
		r.card(i, "123456")
		if r.m.act.view().pad[0] == "Overwrite card?" {
			r.press("enter")
		}
	}
	if reg := r.register(); reg.Current.Generation != 2 {
		t.Fatalf("the rig's commit did not land: generation %d", reg.Current.Generation)
	}
	r.see("Whether the new card set counts cannot be told", "it tells whether the new card set counts")
	if s := strings.Join(strings.Fields(r.screen()), " "); strings.Contains(s, "stays current") || strings.Contains(s, "never count") {
		t.Fatalf("the screen says the old set stays current:\n%s", r.screen())
	}
	r.fits("commit unknown")
	r.press("enter")
	r.see("Set re-issued", "is now the current card set")
}
