package wizard

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/tcos"
)

// pinSpy records every user PIN the slot is given, so the test can look for
// it where it must not be.
type pinSpy struct {
	hsm.UserSlot
	mu   sync.Mutex
	pins [][]byte
}

func (s *pinSpy) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	s.mu.Lock()
	s.pins = append(s.pins, bytes.Clone(pin))
	s.mu.Unlock()
	return s.UserSlot.Change(ctx, pin, change)
}

// slotRig is a rig whose HSM has a simulated slot for user cards; screens
// collects every screen shown after a key.
type slotRig struct {
	*rig
	slot    *pinSpy
	hsmDir  string
	screens strings.Builder
}

func newSlotRig(t *testing.T, n int) *slotRig {
	t.Helper()
	r := newRig(t, n)
	dir := t.TempDir()
	sim, err := hsm.OpenSimUserSlot(dir)
	if err != nil {
		t.Fatal(err)
	}
	s := &slotRig{rig: r, slot: &pinSpy{UserSlot: sim}, hsmDir: dir}
	cfg := r.m.cfg
	cfg.HSM = hsm.WithUserSlot(r.hsm, s.slot)
	r.m.env.trail.close()
	r.m = New(cfg)
	r.seen = newSecretsSeen()
	r.run(r.m.Init())
	return s
}

// do presses keys and keeps the screen.
func (s *slotRig) do(keys ...string) {
	s.t.Helper()
	for _, k := range keys {
		s.press(k)
		s.screens.WriteString(s.screen())
	}
}

// menuTo moves the menu cursor to the entry titled title and opens it.
func (s *slotRig) menuTo(title string) {
	s.t.Helper()
	items := menuItems()
	for range items {
		if i18n.For(i18n.English).T(items[s.m.menu.cursor].title) == title {
			s.do("enter")
			return
		}
		s.press("down")
	}
	s.t.Fatalf("no menu entry %q", title)
}

// useCard inserts card i, presses OK and types pin.
func (s *slotRig) useCard(i int, pin string) {
	s.t.Helper()
	s.do("f"+string(rune('0'+i)), "enter")
	if pin != "" {
		s.do(pin, "enter")
	}
}

func (s *slotRig) serial(i int) string { return s.cards[i-1].Serial().String() }

const (
	menuEnroll   = "Enroll a PKCS#11 slot user card"
	menuActivate = "Activate the PKCS#11 slot"
	menuList     = "PKCS#11 slot user cards"
)

func TestSlotUserEnrollActivateRevoke(t *testing.T) {
	s := newSlotRig(t, 3)
	for i := 1; i <= 2; i++ {
		s.menuTo(menuEnroll)
		s.expect("Card label", "Enrolled user cards: "+string(rune('0'+i-1))+" of 5", "Label:")
		s.do("holder "+string(rune('0'+i)), "enter")
		s.expect("Enroll User Card", "Insert card")
		s.useCard(i, "123456")
		// Nothing is stored before the security officer has seen the cards.
		s.expect("Enroll card?", "Enroll card "+s.serial(i)+"?", []string{"", "goes to this one card", "goes to these 2 cards"}[i],
			"+ "+s.serial(i)+" holder "+string(rune('0'+i)))
		if cards, _ := s.slot.Records(context.Background()); len(cards.Cards) != i-1 {
			t.Fatalf("%d cards stored before the confirmation", len(cards.Cards))
		}
		s.do("enter")
		s.expect("Card enrolled", "Card "+s.serial(i)+" is enrolled", "nobody saw it", "Enrolled user cards: "+string(rune('0'+i))+" of 5")
		s.do("enter")
		s.expect("Main menu")
	}

	// Card 1 activates; an unenrolled card is refused before its PIN.
	s.menuTo(menuActivate)
	s.expect("Activate Slot", "Any one of the 2 enrolled cards")
	before := strings.Count(s.apdus(), "00 20 00 81 06")
	s.useCard(3, "")
	s.expect("no usable record for card "+s.serial(3), "not enrolled, or its record was deleted", "No PIN was sent")
	if strings.Count(s.apdus(), "00 20 00 81 06") != before {
		t.Fatal("a PIN was sent to an unenrolled card")
	}
	s.useCard(1, "654321") // wrong PIN first
	s.expect("Wrong PIN", "2 PIN tries left")
	s.do("123456", "enter")
	s.expect("Slot active", "is ACTIVE", "activated by card "+s.serial(1))
	if !s.slot.Active() {
		t.Fatal("the slot is not logged in")
	}
	s.do("enter")

	// List, then revoke card 1.
	s.menuTo(menuList)
	s.expect("2 of at most 5 user cards", "> "+s.serial(1)+" holder 1", "2026-11-28", s.serial(2)+" holder 2")
	s.do("enter")
	s.expect("Revoke card?", "Revoke card "+s.serial(1)+"?", "new user PIN goes to this one card", "  "+s.serial(2)+" holder 2")
	s.expectNot("+ " + s.serial(1))
	s.do("enter")
	s.expect("Card "+s.serial(1)+" is revoked", "1 of at most 5 user cards")
	s.expectNot(s.serial(1) + " holder 1")
	s.do("esc")

	s.menuTo(menuActivate)
	s.useCard(1, "")
	s.expect("no usable record for card " + s.serial(1))
	s.useCard(2, "123456")
	s.expect("is ACTIVE", "activated by card "+s.serial(2))
	s.do("enter")

	// Re-enrolling an enrolled card is refused at insertion.
	s.menuTo(menuEnroll)
	s.do("enter")
	s.useCard(2, "")
	s.expect("already enrolled for this slot", "revoke it first")
	s.do("esc")

	// The slot's user PIN appears nowhere.
	if len(s.slot.pins) != 3 {
		t.Fatalf("%d user PINs set, want 3 (two enrollments, one revocation)", len(s.slot.pins))
	}
	events := s.auditEvents()
	audit, err := os.ReadFile(s.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	hsmFiles := ""
	entries, _ := os.ReadDir(s.hsmDir)
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join(s.hsmDir, e.Name()))
		hsmFiles += string(b)
	}
	for _, pin := range s.slot.pins {
		spaced := strings.ToUpper(strings.Join(strings.SplitAfterN(hex.EncodeToString(pin), "", -1), ""))
		for where, text := range map[string]string{"screen": s.screens.String(), "APDU log": s.apdus(), "audit trail": string(audit), "slot state": hsmFiles} {
			for _, form := range []string{string(pin), hex.EncodeToString(pin), spaced, spacedHex(pin)} {
				if strings.Contains(text, form) {
					t.Errorf("the slot's user PIN appears in the %s", where)
				}
			}
		}
	}
	var enrolled, activated, revoked int
	for _, e := range events {
		if e.Step == "summary" && e.Outcome == "ok" {
			switch e.Operation {
			case "enroll":
				enrolled++
			case "activate":
				activated++
			case opRevoke:
				revoked++
			}
		}
	}
	if enrolled != 2 || activated != 2 || revoked != 1 {
		t.Errorf("audit: %d enrolled, %d activated, %d revoked; want 2, 2, 1", enrolled, activated, revoked)
	}
}

func spacedHex(b []byte) string {
	var parts []string
	for _, x := range b {
		parts = append(parts, strings.ToUpper(hex.EncodeToString([]byte{x})))
	}
	return strings.Join(parts, " ")
}

func TestSlotUserPulledCardAndTimeout(t *testing.T) {
	s := newSlotRig(t, 2)
	s.menuTo(menuEnroll)
	s.do("enter")
	s.useCard(1, "")
	s.expect("Enter PIN", "3 PIN tries left")
	s.do("f12")
	s.expect("taken out before its step was done")
	s.useCard(1, "12")
	s.advance(s.m.cfg.PINTimeout + 1)
	s.expect("Timeout", "no PIN try was spent")
	s.do("enter")
	s.useCard(1, "123456")
	s.expect("Enroll card?")
	s.do("enter")
	s.expect("Card enrolled")
	if recs, _ := s.slot.Records(context.Background()); len(recs.Cards) != 1 || tcos.Serial(recs.Cards[0].Serial) != s.cards[0].Serial() {
		t.Fatalf("slot holds %v", recs)
	}
}

func TestSlotUserWithoutSlot(t *testing.T) {
	r := newRig(t, 1)
	s := &slotRig{rig: r}
	for _, title := range []string{menuEnroll, menuActivate, menuList} {
		s.menuTo(title)
		s.expect("has no PKCS#11 slot for user cards", "--pkcs11-user-token")
		s.do("enter")
		s.expect("Main menu")
	}
}

func TestSlotUserActivateWithNoCards(t *testing.T) {
	s := newSlotRig(t, 1)
	s.menuTo(menuActivate)
	s.expect("No user card is enrolled")
	s.do("enter")
	s.menuTo(menuList)
	s.expect("No user card is enrolled")
	s.do("esc")
	s.expect("Main menu")
}

// doctoredSlot is a slot whose records someone without the slot's PINs has
// spoilt, the way the PKCS#11 slot reports it: a planted card among the
// records, a record that does not parse, and the slot's own list that
// vouches for neither.
type doctoredSlot struct {
	hsm.UserSlot
	planted hsm.UserCard
	junk    hsm.RefusedRecord
}

func (s *doctoredSlot) Records(ctx context.Context) (hsm.Records, error) {
	recs, err := s.UserSlot.Records(ctx)
	recs.Cards = append(recs.Cards, s.planted)
	recs.Refused = append(recs.Refused, s.junk)
	return recs, err
}

func (s *doctoredSlot) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	res, err := s.UserSlot.Change(ctx, pin, change)
	var re *hsm.RecordsError
	if errors.As(err, &re) {
		re.Refused = append(re.Refused, hsm.RefusedRecord{Serial: s.planted.Serial, Label: s.planted.Label, Reason: hsm.RefusedUnlisted})
	}
	res.Removed = append(res.Removed, s.junk)
	return res, err
}

func (s *doctoredSlot) Audit(ctx context.Context) (hsm.Discrepancies, error) {
	return hsm.Discrepancies{Refused: []hsm.RefusedRecord{{Serial: s.planted.Serial, Label: s.planted.Label, Reason: hsm.RefusedUnlisted}, s.junk}}, nil
}

// Records the slot's own list does not vouch for are named on every screen
// that shows the slot's cards, and a change confirmed from them is not made.
func TestSlotUserRefusedRecordsAreNamed(t *testing.T) {
	s := newSlotRig(t, 3)
	s.menuTo(menuEnroll)
	s.do("enter")
	s.useCard(1, "123456")
	s.do("enter")
	s.expect("Card " + s.serial(1) + " is enrolled")
	s.do("enter")

	planted := hsm.UserCard{Serial: [10]byte{0xEE, 1}, Label: "holder 9", Enrolled: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
	junk := hsm.RefusedRecord{Reason: hsm.RefusedMalformed}
	s.slot.UserSlot = &doctoredSlot{UserSlot: s.slot.UserSlot, planted: planted, junk: junk}
	plantedSerial := tcos.Serial(planted.Serial).String()

	// The list names the record it cannot use; the planted card looks like
	// any other until the slot's own list is read.
	s.menuTo(menuList)
	s.expect("2 of at most 5 user cards", plantedSerial+" holder 9", "Records hsmcards will not use:", "a record: not a record hsmcards writes")
	s.do("esc")

	// A careless security officer confirms the cards shown.
	s.menuTo(menuEnroll)
	s.expect("Records hsmcards will not use:", "not a record hsmcards writes")
	s.do("holder 2", "enter")
	s.useCard(2, "123456")
	s.expect("Enroll card "+s.serial(2)+"?", "new user PIN goes to these 3 cards", plantedSerial+" holder 9",
		"Records hsmcards did not write, removed by this change:", "not a record hsmcards writes")
	s.do("enter")
	s.expect("Nothing was changed: card "+s.serial(2), "not enrolled", "did not match the slot's own list",
		"card "+plantedSerial+` "holder 9": not a card of this slot`, "renewed for its own cards only", s.serial(1))

	// Activating works, and says what the slot's own list disowns.
	s.do("enter")
	s.menuTo(menuActivate)
	s.useCard(1, "123456")
	s.expect("is ACTIVE", "activated by card "+s.serial(1), "does not vouch for every record", plantedSerial)
}
