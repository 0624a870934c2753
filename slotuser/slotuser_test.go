package slotuser_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

var factoryPIN = []byte("123456")

// spySlot records every user PIN handed to the slot, so the test can search
// for it everywhere it must not be.
type spySlot struct {
	hsm.UserSlot
	mu   sync.Mutex
	pins [][]byte
}

func (s *spySlot) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	s.mu.Lock()
	s.pins = append(s.pins, bytes.Clone(pin))
	s.mu.Unlock()
	return s.UserSlot.Change(ctx, pin, change)
}

// world is a deck of simulated cards in a reader, with an APDU log.
type world struct {
	t      *testing.T
	deck   *simcard.Deck
	reader *cardio.SimReader
	log    bytes.Buffer
}

func newWorld(t *testing.T, n int) *world {
	t.Helper()
	d, err := simcard.OpenDeck(filepath.Join(t.TempDir(), "cards"), n)
	if err != nil {
		t.Fatal(err)
	}
	return &world{t: t, deck: d, reader: cardio.NewSimReader(d.SimulatedCards())}
}

// session inserts card i (1-based), verifies its PKCS#11 slot PIN and
// returns the session; the card is closed when the test ends.
func (w *world) session(i int) (*tcos.Session, tcos.Serial) {
	w.t.Helper()
	ctx := context.Background()
	if err := w.reader.Insert(i); err != nil {
		w.t.Fatal(err)
	}
	c, err := w.reader.Connect(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { c.Close() })
	s := tcos.Open(c, tcos.Options{APDULog: &w.log})
	sn, err := s.Identify(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := s.VerifyPIN(ctx, tcos.SlotPKCS11, factoryPIN); err != nil {
		w.t.Fatal(err)
	}
	return s, sn
}

// enroll enrolls card i as a security officer who confirms the plan shown.
func (w *world) enroll(slot hsm.UserSlot, i int) tcos.Serial {
	w.t.Helper()
	sn, err := w.tryEnroll(slot, i)
	if err != nil {
		w.t.Fatalf("enroll card %d: %v", i, err)
	}
	return sn
}

func (w *world) tryEnroll(slot hsm.UserSlot, i int) (tcos.Serial, error) {
	w.t.Helper()
	s, sn := w.session(i)
	plan, err := slotuser.PrepareEnroll(context.Background(), slot, sn, s, fmt.Sprintf("holder %d", i), time.Now())
	if err != nil {
		return sn, err
	}
	_, err = slotuser.Apply(context.Background(), slot, plan)
	return sn, err
}

// revoke revokes the card with serial sn, as planned from the records.
func revoke(slot hsm.UserSlot, sn tcos.Serial) (hsm.ChangeResult, error) {
	recs, err := slotuser.List(context.Background(), slot)
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	plan, err := slotuser.PlanRevoke(recs, sn)
	if err != nil {
		return hsm.ChangeResult{}, err
	}
	return slotuser.Apply(context.Background(), slot, plan)
}

func (w *world) activate(slot hsm.UserSlot, i int) error {
	w.t.Helper()
	s, sn := w.session(i)
	_, err := slotuser.Activate(context.Background(), slot, sn, s)
	return err
}

// checkNowhere fails if any PIN appears in the files under dirs or in texts,
// raw or as the APDU log's spaced hex.
func checkNowhere(t *testing.T, pins [][]byte, dirs []string, texts map[string]string) {
	t.Helper()
	if len(pins) == 0 {
		t.Fatal("no PIN was recorded")
	}
	for _, dir := range dirs {
		filepath.Walk(dir, func(path string, info os.FileInfo, err error) error {
			if err != nil || info.IsDir() {
				return err
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			texts[path] = string(b)
			return nil
		})
	}
	for _, pin := range pins {
		forms := []string{string(pin), strings.ToUpper(spacedHex(pin)), hex.EncodeToString(pin), strings.ToUpper(hex.EncodeToString(pin))}
		for where, text := range texts {
			for _, f := range forms {
				if strings.Contains(text, f) {
					t.Errorf("the slot's user PIN appears in %s", where)
				}
			}
		}
	}
}

func spacedHex(b []byte) string {
	var parts []string
	for _, x := range b {
		parts = append(parts, hex.EncodeToString([]byte{x}))
	}
	return strings.Join(parts, " ")
}

// exercise runs the scenario on slot: enroll two cards, activate with
// each, revoke one and see it fail, the other still works.
func exercise(t *testing.T, w *world, slot hsm.UserSlot) {
	ctx := context.Background()
	sn1 := w.enroll(slot, 1)
	sn2 := w.enroll(slot, 2)

	recs, err := slotuser.List(ctx, slot)
	list := recs.Cards
	if err != nil || len(list) != 2 || list[0].Serial != sn1 || list[1].Serial != sn2 || len(recs.Refused) != 0 {
		t.Fatalf("List = %+v, %v; want cards %s, %s", recs, err, sn1, sn2)
	}
	if list[0].Label != "holder 1" {
		t.Errorf("card 1's label %q", list[0].Label)
	}
	for i := 1; i <= 2; i++ {
		if err := w.activate(slot, i); err != nil {
			t.Fatalf("activate with card %d: %v", i, err)
		}
		if !slot.Active() {
			t.Fatalf("slot not active after card %d", i)
		}
	}
	if err := w.activate(slot, 3); !errors.Is(err, slotuser.ErrNotEnrolled) {
		t.Fatalf("activate with an unenrolled card: %v", err)
	}
	if _, err := w.tryEnroll(slot, 2); !errors.Is(err, slotuser.ErrAlreadyEnrolled) {
		t.Fatalf("enrolling card 2 again: %v, want ErrAlreadyEnrolled", err)
	}

	// Keep card 1's wrap, as someone who copied the slot's records might.
	oldWrap := list[0].WrappedPIN
	if _, err := revoke(slot, sn1); err != nil {
		t.Fatal(err)
	}
	if slot.Active() {
		t.Error("slot still active after a revocation changed its PIN")
	}
	if err := w.activate(slot, 1); !errors.Is(err, slotuser.ErrNotEnrolled) {
		t.Fatalf("activate with the revoked card: %v, want ErrNotEnrolled", err)
	}
	s1, _ := w.session(1)
	pin, err := s1.Decipher(ctx, oldWrap)
	if err != nil {
		t.Fatal(err)
	}
	if err := slot.Login(ctx, pin); !errors.Is(err, hsm.ErrWrongPIN) {
		t.Fatalf("login with the revoked card's old PIN: %v, want ErrWrongPIN", err)
	}
	clear(pin)
	if err := w.activate(slot, 2); err != nil || !slot.Active() {
		t.Fatalf("activate with card 2 after revoking card 1: %v", err)
	}
	if _, err := revoke(slot, sn1); !errors.Is(err, slotuser.ErrNotEnrolled) {
		t.Fatalf("revoking twice: %v", err)
	}
}

func TestSimSlot(t *testing.T) {
	w := newWorld(t, 3)
	dir := filepath.Join(t.TempDir(), "hsm")
	sim, err := hsm.OpenSimUserSlot(dir)
	if err != nil {
		t.Fatal(err)
	}
	spy := &spySlot{UserSlot: sim}
	exercise(t, w, spy)
	checkNowhere(t, spy.pins, []string{w.deck.Dir(), dir}, map[string]string{"the APDU log": w.log.String()})

	// The state survives a restart.
	again, err := hsm.OpenSimUserSlot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.activate(again, 2); err != nil {
		t.Fatalf("activate after reopening: %v", err)
	}
}

func TestLimitAndKeyReuse(t *testing.T) {
	w := newWorld(t, slotuser.MaxCards+1)
	ctx := context.Background()
	a, _ := hsm.OpenSimUserSlot(filepath.Join(t.TempDir(), "a"))
	b, _ := hsm.OpenSimUserSlot(filepath.Join(t.TempDir(), "b"))
	for i := 1; i <= slotuser.MaxCards; i++ {
		w.enroll(a, i)
	}
	if _, err := w.tryEnroll(a, slotuser.MaxCards+1); !errors.Is(err, slotuser.ErrFull) {
		t.Fatalf("enrolling a 6th card: %v, want ErrFull", err)
	}
	// Card 1 joins slot b with the same key pair, and stays usable for a.
	w.enroll(b, 1)
	la, _ := slotuser.List(ctx, a)
	lb, _ := slotuser.List(ctx, b)
	if !bytes.Equal(la.Cards[0].PublicKey, lb.Cards[0].PublicKey) {
		t.Error("enrolling at a second slot generated a new key pair")
	}
	for _, slot := range []hsm.UserSlot{a, b} {
		if err := w.activate(slot, 1); err != nil {
			t.Fatalf("%s: %v", slot.SlotName(), err)
		}
	}
	// A card whose key pair was generated again cannot activate.
	s1, _ := w.session(1)
	if err := s1.GenerateKeyPair(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.activate(a, 1); !errors.Is(err, slotuser.ErrKeyChanged) {
		t.Fatalf("activate after a new key pair: %v, want ErrKeyChanged", err)
	}
	if err := w.activate(a, 2); err != nil {
		t.Fatal(err)
	}
}

// fakeCard deciphers wrongly: enrollment must refuse it before storing.
type fakeCard struct{ slotuser.Card }

func (f fakeCard) Decipher(ctx context.Context, ct []byte) ([]byte, error) {
	pt, err := f.Card.Decipher(ctx, ct)
	if err == nil {
		pt[0] ^= 1
	}
	return pt, err
}

func TestEnrollProvesTheCard(t *testing.T) {
	w := newWorld(t, 1)
	slot, _ := hsm.OpenSimUserSlot(t.TempDir())
	s, sn := w.session(1)
	if _, err := slotuser.PrepareEnroll(context.Background(), slot, sn, fakeCard{s}, "", time.Now()); !errors.Is(err, slotuser.ErrCardCannotUnwrap) {
		t.Fatalf("PrepareEnroll with a bad card: %v", err)
	}
	if l, _ := slotuser.List(context.Background(), slot); len(l.Cards) != 0 {
		t.Fatalf("a bad card was stored: %v", l)
	}
}

// loginSpy counts the logins the slot is asked for.
type loginSpy struct {
	hsm.UserSlot
	logins int
}

func (s *loginSpy) Login(ctx context.Context, pin []byte) error {
	s.logins++
	return s.UserSlot.Login(ctx, pin)
}

// garbler spoils the card's answer on its way, as a bad contact would.
type garbler struct{ slotuser.Card }

func (g garbler) Decipher(ctx context.Context, ct []byte) ([]byte, error) {
	pt, err := g.Card.Decipher(ctx, ct)
	if err == nil {
		pt[3] = 0xFF
	}
	return pt, err
}

// A spoilt answer never reaches C_Login, where it would count as a wrong
// user PIN; the card still activates the slot on the next try.
func TestActivateRefusesADamagedAnswer(t *testing.T) {
	w := newWorld(t, 1)
	inner, err := hsm.OpenSimUserSlot(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	slot := &loginSpy{UserSlot: inner}
	w.enroll(slot, 1)
	s, sn := w.session(1)
	if _, err := slotuser.Activate(context.Background(), slot, sn, garbler{s}); !errors.Is(err, slotuser.ErrDamagedAnswer) {
		t.Fatalf("Activate with a spoilt answer: %v", err)
	}
	if slot.logins != 0 {
		t.Fatalf("%d logins with a spoilt PIN", slot.logins)
	}
	if err := w.activate(slot, 1); err != nil || slot.logins != 1 {
		t.Fatalf("activate again: %v, %d logins", err, slot.logins)
	}
}
