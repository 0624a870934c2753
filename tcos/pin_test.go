package tcos_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// keypad is a PIN-pad reader as the card holder uses it: each PIN prompt
// takes the next entry the holder types (typed), the reader checks the new
// PIN against its confirmation itself (6402 when they differ), then splices
// what was typed into the APDU template and sends it to the card. The host
// sees none of the digits, only the card's answer.
type keypad struct {
	mu     sync.Mutex
	card   cardio.Card
	typed  []string
	sent   []string // the completed APDUs' headers, "00 20 00 81" and so on
	verifs int
	mods   int
}

func (k *keypad) next() (string, bool) {
	if len(k.typed) == 0 {
		return "", false
	}
	s := k.typed[0]
	k.typed = k.typed[1:]
	return s, true
}

func (k *keypad) send(ctx context.Context, hdr [4]byte, data string) ([]byte, error) {
	k.sent = append(k.sent, fmt.Sprintf("%02X %02X %02X %02X", hdr[0], hdr[1], hdr[2], hdr[3]))
	apdu := append(hdr[:], byte(len(data)))
	return k.card.Transmit(ctx, append(apdu, data...))
}

func (k *keypad) VerifyPIN(ctx context.Context, req cardio.PINVerify) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.verifs++
	pin, ok := k.next()
	if !ok {
		return nil, &cardio.PINPadError{SW: cardio.SWPadTimeout}
	}
	if len(pin) < req.MinLen || len(pin) > req.MaxLen {
		return nil, &cardio.PINPadError{SW: cardio.SWPadLength}
	}
	return k.send(ctx, req.APDU, pin)
}

func (k *keypad) ModifyPIN(ctx context.Context, req cardio.PINModify) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.mods++
	var old string
	if !req.NewOnly {
		var ok bool
		if old, ok = k.next(); !ok {
			return nil, &cardio.PINPadError{SW: cardio.SWPadTimeout}
		}
	}
	fresh, ok1 := k.next()
	again, ok2 := k.next()
	if !ok1 || !ok2 {
		return nil, &cardio.PINPadError{SW: cardio.SWPadTimeout}
	}
	if fresh != again {
		return nil, &cardio.PINPadError{SW: cardio.SWPadMismatch}
	}
	return k.send(ctx, req.APDU, old+fresh)
}

func (k *keypad) CanModify() bool { return true }

// pinRig is a card whose slot PIN is pin, on a reader with (pad) or without
// a PIN pad, and an APDU log.
type pinRig struct {
	t   *testing.T
	r   *cardio.SimReader
	log bytes.Buffer
}

func newPINRig(t *testing.T, card cardio.SimulatedCard, pin string) *pinRig {
	t.Helper()
	g := &pinRig{t: t, r: readerWith(t, card)}
	if pin != string(factoryPIN) {
		s := g.session(nil)
		p := []byte(pin)
		if err := s.ChangePIN(context.Background(), tcos.SlotBackupKey, factoryPIN, p, p); err != nil {
			t.Fatal(err)
		}
	}
	g.log.Reset()
	return g
}

// session starts a new step on the card (a fresh connection: nothing
// verified), through pad when it is not nil.
func (g *pinRig) session(pad *keypad) *tcos.Session {
	g.t.Helper()
	g.r.Remove()
	if err := g.r.Insert(1); err != nil {
		g.t.Fatal(err)
	}
	c, err := g.r.Connect(context.Background())
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { c.Close() })
	var card cardio.Card = c
	if pad != nil {
		pad.card = c
		card = padCard{c, pad}
	}
	return tcos.Open(card, tcos.Options{APDULog: &g.log, PINTimeout: 30 * time.Second})
}

// triesLeft asks the slot's tries without spending one, in a new step.
func (g *pinRig) triesLeft() int {
	g.t.Helper()
	st, err := g.session(nil).PINStatus(context.Background(), tcos.SlotBackupKey)
	if err != nil {
		g.t.Fatal(err)
	}
	return st.TriesLeft
}

// works reports whether pin verifies, in a new step. A wrong one spends a
// try, so check the PIN that should work last.
func (g *pinRig) works(pin string) bool {
	g.t.Helper()
	err := g.session(nil).VerifyPIN(context.Background(), tcos.SlotBackupKey, []byte(pin))
	var wp *tcos.WrongPINError
	if err != nil && !errors.As(err, &wp) {
		g.t.Fatalf("VerifyPIN: %v", err)
	}
	return err == nil
}

func (g *pinRig) changesSent() int { return strings.Count(g.log.String(), "> 00 24") }

// mistypes are current PINs typed wrong in a way CHANGE REFERENCE DATA's
// old||new split cannot see: the card takes its stored PIN's length from the
// front, so a current PIN one digit too long (or short) still matches there,
// and the rest becomes a new PIN nobody chose.
var mistypes = []struct {
	name, stored, typed, fresh, wouldBe string
}{
	{"one digit too many", "123456", "1234567", "888888", "7888888"},
	{"one digit too few", "1234567", "123456", "7888888", "888888"},
}

// TestChangePINMistypedCurrentOnHost: on the on-screen path a mistyped current
// PIN is refused, spends one try at most, changes nothing, and the old PIN
// still works.
func TestChangePINMistypedCurrentOnHost(t *testing.T) {
	ctx := context.Background()
	for _, m := range mistypes {
		t.Run(m.name, func(t *testing.T) {
			g := newPINRig(t, simcard.New(testSerial), m.stored)
			fresh := []byte(m.fresh)
			err := g.session(nil).ChangePIN(ctx, tcos.SlotBackupKey, []byte(m.typed), fresh, bytes.Clone(fresh))
			var wp *tcos.WrongPINError
			if !errors.As(err, &wp) || wp.TriesLeft != tcos.MaxTries-1 {
				t.Fatalf("ChangePIN with current PIN %s = %v, want a wrong PIN with %d tries left", m.name, err, tcos.MaxTries-1)
			}
			if n := g.changesSent(); n != 0 {
				t.Errorf("%d CHANGE REFERENCE DATA sent after a wrong current PIN:\n%s", n, g.log.String())
			}
			if n := g.triesLeft(); n != tcos.MaxTries-1 {
				t.Errorf("%d tries left, want %d: more than one try spent", n, tcos.MaxTries-1)
			}
			if g.works(m.wouldBe) {
				t.Fatalf("the PIN is now %s, which nobody chose", m.wouldBe)
			}
			if !g.works(m.stored) {
				t.Fatal("the old PIN no longer works")
			}
		})
	}
}

// TestChangePINMistypedCurrentOnPad: the same on a PIN-pad reader, where the
// host never sees the digits.
func TestChangePINMistypedCurrentOnPad(t *testing.T) {
	ctx := context.Background()
	for _, m := range mistypes {
		t.Run(m.name, func(t *testing.T) {
			g := newPINRig(t, simcard.New(testSerial), m.stored)
			pad := &keypad{typed: []string{m.typed, m.fresh, m.fresh}}
			err := g.session(pad).ChangePINOnPad(ctx, tcos.SlotBackupKey)
			var wp *tcos.WrongPINError
			if !errors.As(err, &wp) || wp.TriesLeft != tcos.MaxTries-1 {
				t.Fatalf("ChangePINOnPad with current PIN %s = %v, want a wrong PIN with %d tries left", m.name, err, tcos.MaxTries-1)
			}
			for _, h := range pad.sent {
				if strings.HasPrefix(h, "00 24") {
					t.Errorf("the pad sent CHANGE REFERENCE DATA (%s) after a wrong current PIN", h)
				}
			}
			if n := g.triesLeft(); n != tcos.MaxTries-1 {
				t.Errorf("%d tries left, want %d: more than one try spent", n, tcos.MaxTries-1)
			}
			if g.works(m.wouldBe) {
				t.Fatalf("the PIN is now %s, which nobody chose", m.wouldBe)
			}
			if !g.works(m.stored) {
				t.Fatal("the old PIN no longer works")
			}
		})
	}
}

// TestChangePINNewPINTypedTwice: the new PIN is what was typed twice, and
// two that differ change nothing and send nothing.
func TestChangePINNewPINTypedTwice(t *testing.T) {
	ctx := context.Background()
	g := newPINRig(t, simcard.New(testSerial), "123456")
	s := g.session(nil)
	if err := s.ChangePIN(ctx, tcos.SlotBackupKey, factoryPIN, []byte("246813"), []byte("246831")); !errors.Is(err, tcos.ErrNewPINMismatch) {
		t.Fatalf("two different new PINs = %v, want ErrNewPINMismatch", err)
	}
	if s.APDUs() != 0 {
		t.Fatalf("%d APDUs sent for two different new PINs", s.APDUs())
	}
	if strings.Contains(tcos.ErrNewPINMismatch.Error(), "246") {
		t.Fatal("the error shows a PIN")
	}
	if err := s.ChangePIN(ctx, tcos.SlotBackupKey, factoryPIN, []byte("24681357"), []byte("24681357")); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"> 00 A4 08 0C 04 4B 00 4B 01",
		"> 00 20 00 81 06 ** ** ** ** ** **",
		"> 00 24 00 81 0E" + strings.Repeat(" **", 14),
	}
	if got := commandLines(g.log.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("sequence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if g.works("123456") || !g.works("24681357") {
		t.Fatal("the new PIN is not the one typed twice")
	}

	// On the pad: the reader compares the two itself.
	pad := &keypad{typed: []string{"24681357", "111111", "222222"}}
	err := g.session(pad).ChangePINOnPad(ctx, tcos.SlotBackupKey)
	var pe *cardio.PINPadError
	if !errors.As(err, &pe) || pe.SW != cardio.SWPadMismatch {
		t.Fatalf("two different new PINs on the pad = %v", err)
	}
	pad = &keypad{typed: []string{"24681357", "97531864", "97531864"}}
	g.log.Reset()
	if err := g.session(pad).ChangePINOnPad(ctx, tcos.SlotBackupKey); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(pad.sent, ", "), "00 20 00 81, 00 24 01 81"; got != want {
		t.Fatalf("the pad sent %s, want %s", got, want)
	}
	if got := commandLines(g.log.String()); strings.Join(got, "\n") != "> 00 A4 08 0C 04 4B 00 4B 01\n> 00 20 00 81 # verify on the reader's PIN pad\n> 00 24 01 81 # change on the reader's PIN pad" {
		t.Fatalf("APDU log:\n%s", strings.Join(got, "\n"))
	}
	if g.works("111111") || g.works("24681357") || !g.works("97531864") {
		t.Fatal("the new PIN is not the one typed twice on the pad")
	}
}

// TestChangePINOnPadCardRefusesNewOnly: a card that verifies the current PIN
// but takes no new PIN on its own (6A86 to P1 01) changes nothing, and says
// so with ErrPadChangeUnsupported.
func TestChangePINOnPadCardRefusesNewOnly(t *testing.T) {
	ctx := context.Background()
	for _, sw := range []uint16{tcos.SWWrongP1P2, tcos.SWSecurityStatus, tcos.SWFunctionUnsupported} {
		card := filterCard{simcard.New(testSerial), func(cmd []byte) []byte {
			if len(cmd) > 3 && cmd[1] == 0x24 && cmd[2] == 0x01 {
				return []byte{byte(sw >> 8), byte(sw)}
			}
			return nil
		}}
		g := newPINRig(t, card, "123456")
		pad := &keypad{typed: []string{"123456", "97531864", "97531864"}}
		err := g.session(pad).ChangePINOnPad(ctx, tcos.SlotBackupKey)
		if !errors.Is(err, tcos.ErrPadChangeUnsupported) {
			t.Fatalf("%04X to P1 01: %v, want ErrPadChangeUnsupported", sw, err)
		}
		if g.triesLeft() != tcos.MaxTries || !g.works("123456") {
			t.Fatalf("%04X to P1 01: the PIN changed or a try was spent", sw)
		}
	}
}
