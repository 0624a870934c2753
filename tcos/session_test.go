package tcos_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

var testSerial = tcos.Serial{0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0x01}

var factoryPIN = []byte("123456")

// readerWith returns a simulated reader holding cards, card 1 inserted.
func readerWith(t testing.TB, cards ...cardio.SimulatedCard) *cardio.SimReader {
	t.Helper()
	r := cardio.NewSimReader(cards)
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	return r
}

// open connects to the card in r for one step.
func open(t testing.TB, r *cardio.SimReader, log io.Writer) (*tcos.Session, cardio.Card) {
	t.Helper()
	c, err := r.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return tcos.Open(c, tcos.Options{APDULog: log, PINTimeout: 30 * time.Second}), c
}

// writeCard is the wizard's write step: 7 APDUs.
func writeCard(ctx context.Context, s *tcos.Session, pin, rec []byte) error {
	if _, err := s.Identify(ctx); err != nil {
		return err
	}
	if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil {
		return err
	} else if st.Blocked {
		return tcos.ErrBlocked
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, pin); err != nil {
		return err
	}
	if _, err := s.ReadShareRecord(ctx); err != nil {
		return err
	}
	return s.WriteShareRecord(ctx, rec)
}

// readCard is the wizard's read step: 5 APDUs.
func readCard(ctx context.Context, s *tcos.Session, pin []byte) ([]byte, error) {
	if _, err := s.Identify(ctx); err != nil {
		return nil, err
	}
	if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil {
		return nil, err
	} else if st.Blocked {
		return nil, tcos.ErrBlocked
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, pin); err != nil {
		return nil, err
	}
	return s.ReadShareRecord(ctx)
}

// commandLines are the "> …" lines of an APDU log, without timestamps.
func commandLines(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		ts, rest, _ := strings.Cut(l, " ")
		if _, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			out = append(out, "bad timestamp: "+l)
			continue
		}
		if strings.HasPrefix(rest, ">") {
			out = append(out, rest)
		}
	}
	return out
}

func TestWriteAndReadSequences(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	rec := bytes.Repeat([]byte{0xA5}, 100)
	masked255 := strings.TrimSuffix(strings.Repeat("** ", 255), " ")

	var log bytes.Buffer
	s, _ := open(t, r, &log)
	if err := writeCard(ctx, s, factoryPIN, rec); err != nil {
		t.Fatal(err)
	}
	wantWrite := []string{
		"> 00 B0 82 00 0C",
		"> 00 A4 08 0C 04 4B 00 4B 01",
		"> 00 20 00 81",
		"> 00 20 00 81 06 ** ** ** ** ** **",
		"> 00 B0 00 00 FF",
		"> 00 D6 00 00 FF " + masked255,
		"> 00 B0 00 00 FF",
	}
	if got := commandLines(log.String()); strings.Join(got, "\n") != strings.Join(wantWrite, "\n") {
		t.Fatalf("write sequence:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantWrite, "\n"))
	}
	if s.APDUs() != len(wantWrite) {
		t.Errorf("APDUs() = %d, want %d", s.APDUs(), len(wantWrite))
	}
	for _, secret := range []string{"A5", "31 32 33"} {
		if strings.Contains(log.String(), secret) {
			t.Errorf("APDU log holds secret bytes %q:\n%s", secret, log.String())
		}
	}

}

// TestWriteReadBackAndErase: WriteShareRecordReadBack hands back the padded
// record in the same APDUs as WriteShareRecord; EraseShareRecord leaves an
// empty slot (255 zero bytes), with the PIN and its tries as they were.
func TestWriteReadBackAndErase(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	rec := bytes.Repeat([]byte{0xA5}, 100)
	masked255 := strings.TrimSuffix(strings.Repeat("** ", 255), " ")

	var log bytes.Buffer
	s, card := open(t, r, &log)
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		t.Fatal(err)
	}
	log.Reset()
	back, err := s.WriteShareRecordReadBack(ctx, rec)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, tcos.ShareEFSize)
	copy(want, rec)
	if !bytes.Equal(back, want) {
		t.Fatalf("read back % X", back)
	}
	wantCmds := []string{"> 00 D6 00 00 FF " + masked255, "> 00 B0 00 00 FF"}
	if got := commandLines(log.String()); strings.Join(got, "\n") != strings.Join(wantCmds, "\n") {
		t.Fatalf("write sequence:\n%s", strings.Join(got, "\n"))
	}
	if _, err := s.WriteShareRecordReadBack(ctx, make([]byte, tcos.ShareEFSize+1)); !errors.Is(err, tcos.ErrRecordTooLong) {
		t.Fatalf("a record too long: %v", err)
	}

	log.Reset()
	if err := s.EraseShareRecord(ctx); err != nil {
		t.Fatal(err)
	}
	if got := commandLines(log.String()); strings.Join(got, "\n") != strings.Join(wantCmds, "\n") {
		t.Fatalf("erase sequence:\n%s", strings.Join(got, "\n"))
	}
	if strings.Contains(log.String(), "A5") {
		t.Fatal("share bytes in the APDU log")
	}
	got, err := s.ReadShareRecord(ctx)
	if err != nil || !bytes.Equal(got, make([]byte, tcos.ShareEFSize)) {
		t.Fatalf("after the erase: % X, %v", got, err)
	}
	if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil || !st.Verified {
		t.Fatalf("PIN status after the erase: %+v, %v", st, err)
	}

	// Without the PIN nothing is erased.
	card.Close()
	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := tcos.Open(c, tcos.Options{}).EraseShareRecord(ctx); !errors.Is(err, tcos.ErrSecurityStatus) {
		t.Fatalf("erase without the PIN: %v", err)
	}
}

func TestReadBack(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	rec := []byte("a share record, whatever quorum puts in it")

	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := writeCard(ctx, tcos.Open(c, tcos.Options{}), factoryPIN, rec); err != nil {
		t.Fatal(err)
	}
	c.Close()

	var log bytes.Buffer
	s, _ := open(t, r, &log)
	got, err := readCard(ctx, s, factoryPIN)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]byte, tcos.ShareEFSize)
	copy(want, rec)
	if !bytes.Equal(got, want) {
		t.Fatalf("read back % X", got)
	}
	wantRead := []string{
		"> 00 B0 82 00 0C",
		"> 00 A4 08 0C 04 4B 00 4B 01",
		"> 00 20 00 81",
		"> 00 20 00 81 06 ** ** ** ** ** **",
		"> 00 B0 00 00 FF",
	}
	if got := commandLines(log.String()); strings.Join(got, "\n") != strings.Join(wantRead, "\n") {
		t.Fatalf("read sequence:\n%s", strings.Join(got, "\n"))
	}
	if strings.Contains(log.String(), "61 20 73 68") { // "a sh"
		t.Fatal("share bytes in the APDU log")
	}
}

func TestIdentify(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, readerWith(t, simcard.New(testSerial)), nil)
	sn, err := s.Identify(ctx)
	if err != nil || sn != testSerial {
		t.Fatalf("Identify = %v, %v", sn, err)
	}
}

// filterCard wraps a simulated card and answers some commands itself.
type filterCard struct {
	*simcard.Card
	answer func(cmd []byte) []byte // nil: pass on
}

func (f filterCard) Process(cmd []byte) []byte {
	if out := f.answer(cmd); out != nil {
		return out
	}
	return f.Card.Process(cmd)
}

func TestIdentifyFallbackSelect(t *testing.T) {
	ctx := context.Background()
	noSFI := filterCard{simcard.New(testSerial), func(cmd []byte) []byte {
		if len(cmd) > 2 && cmd[1] == 0xB0 && cmd[2]&0x80 != 0 {
			return []byte{0x6A, 0x82}
		}
		return nil
	}}
	var log bytes.Buffer
	s, _ := open(t, readerWith(t, noSFI), &log)
	sn, err := s.Identify(ctx)
	if err != nil || sn != testSerial {
		t.Fatalf("Identify = %v, %v", sn, err)
	}
	want := "> 00 B0 82 00 0C\n> 00 A4 08 0C 02 2F 02\n> 00 B0 00 00 0C"
	if got := strings.Join(commandLines(log.String()), "\n"); got != want {
		t.Fatalf("sequence:\n%s", got)
	}
}

func TestForeignCards(t *testing.T) {
	ctx := context.Background()
	noSlot := func(df byte) cardio.SimulatedCard {
		return filterCard{simcard.New(testSerial), func(cmd []byte) []byte {
			if len(cmd) > 5 && cmd[1] == 0xA4 && cmd[5] == df {
				return []byte{0x6A, 0x82}
			}
			return nil
		}}
	}
	badGDO := filterCard{simcard.New(testSerial), func(cmd []byte) []byte {
		if len(cmd) > 2 && cmd[1] == 0xB0 && cmd[2] == 0x82 {
			return []byte{0x5A, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0x62, 0x82}
		}
		return nil
	}}
	for _, tc := range []struct {
		name string
		card cardio.SimulatedCard
		step func(s *tcos.Session) error
	}{
		{"not TCOS", simcard.Foreign{}, func(s *tcos.Session) error { _, err := s.Identify(ctx); return err }},
		{"no EF.GDO", filterCard{simcard.New(testSerial), func(cmd []byte) []byte {
			if cmd[1] == 0xB0 || cmd[1] == 0xA4 {
				return []byte{0x6A, 0x82}
			}
			return nil
		}}, func(s *tcos.Session) error { _, err := s.Identify(ctx); return err }},
		{"short EF.GDO", badGDO, func(s *tcos.Session) error { _, err := s.Identify(ctx); return err }},
		{"no Backup Key slot", noSlot(0x4B), func(s *tcos.Session) error { _, err := s.PINStatus(ctx, tcos.SlotBackupKey); return err }},
		{"no PKCS#11 slot", noSlot(0x4C), func(s *tcos.Session) error { _, err := s.PINStatus(ctx, tcos.SlotPKCS11); return err }},
		{"no slot on verify", noSlot(0x4B), func(s *tcos.Session) error { return s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := open(t, readerWith(t, tc.card), nil)
			err := tc.step(s)
			if !errors.Is(err, tcos.ErrForeignCard) {
				t.Fatalf("err = %v, want ErrForeignCard", err)
			}
			if !strings.HasPrefix(err.Error(), tcos.ErrForeignCard.Error()+": ") {
				t.Errorf("message %q does not say why", err)
			}
		})
	}
}

func TestWrongPINsBlock(t *testing.T) {
	ctx := context.Background()
	card := simcard.New(testSerial)
	r := readerWith(t, card)
	s, _ := open(t, r, nil)
	wrong := []byte("654321")
	for want := 2; want >= 0; want-- {
		err := s.VerifyPIN(ctx, tcos.SlotBackupKey, wrong)
		var wp *tcos.WrongPINError
		if !errors.As(err, &wp) || wp.TriesLeft != want {
			t.Fatalf("VerifyPIN = %v, want %d tries left", err, want)
		}
		if strings.Contains(err.Error(), "654321") {
			t.Fatal("the PIN is in the error")
		}
		st, err := s.PINStatus(ctx, tcos.SlotBackupKey)
		if err != nil || st.TriesLeft != want || st.Blocked != (want == 0) || st.Verified {
			t.Fatalf("PINStatus = %+v, %v", st, err)
		}
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); !errors.Is(err, tcos.ErrBlocked) {
		t.Fatalf("right PIN on a blocked slot = %v", err)
	}
	// The other slot has its own PIN.
	if err := s.VerifyPIN(ctx, tcos.SlotPKCS11, factoryPIN); err != nil {
		t.Fatalf("PKCS#11 slot: %v", err)
	}
	// Blocked survives a new step.
	s2, c2 := reconnect(t, r, s)
	defer c2.Close()
	if st, err := s2.PINStatus(ctx, tcos.SlotBackupKey); err != nil || !st.Blocked {
		t.Fatalf("after reconnect PINStatus = %+v, %v", st, err)
	}
}

// reconnect ends the current step (closing every connection of r opened by
// open) and starts a new one.
func reconnect(t *testing.T, r *cardio.SimReader, _ *tcos.Session) (*tcos.Session, cardio.Card) {
	t.Helper()
	r.Remove()
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	c, err := r.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return tcos.Open(c, tcos.Options{}), c
}

func TestRightPINResetsCounter(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, readerWith(t, simcard.New(testSerial)), nil)
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte("000000")); err == nil {
		t.Fatal("wrong PIN accepted")
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		t.Fatal(err)
	}
	st, err := s.PINStatus(ctx, tcos.SlotBackupKey)
	if err != nil || !st.Verified || st.TriesLeft != tcos.MaxTries {
		t.Fatalf("PINStatus = %+v, %v", st, err)
	}
}

func TestPINFormat(t *testing.T) {
	ctx := context.Background()
	s, _ := open(t, readerWith(t, simcard.New(testSerial)), nil)
	for _, pin := range []string{"", "12345", "1234567890123456", "12345a", "123 456"} {
		err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte(pin))
		if !errors.Is(err, tcos.ErrPINFormat) {
			t.Errorf("VerifyPIN(%q) = %v", pin, err)
		}
		if pin != "" && strings.Contains(err.Error(), pin) {
			t.Errorf("error %q shows the PIN", err)
		}
		if err := s.ChangePIN(ctx, tcos.SlotBackupKey, factoryPIN, []byte(pin), []byte(pin)); !errors.Is(err, tcos.ErrPINFormat) {
			t.Errorf("ChangePIN to %q = %v", pin, err)
		}
		if err := s.ChangePIN(ctx, tcos.SlotBackupKey, []byte(pin), factoryPIN, factoryPIN); !errors.Is(err, tcos.ErrPINFormat) {
			t.Errorf("ChangePIN from %q = %v", pin, err)
		}
	}
	if s.APDUs() != 0 {
		t.Fatalf("%d APDUs sent for malformed PINs", s.APDUs())
	}
}

func TestVerificationIsPerDF(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	s, _ := open(t, r, nil)
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReadShareRecord(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PINStatus(ctx, tcos.SlotPKCS11); err != nil { // selects DF 4C00
		t.Fatal(err)
	}
	if _, err := s.ReadShareRecord(ctx); !errors.Is(err, tcos.ErrSecurityStatus) {
		t.Fatalf("read after leaving the DF = %v, want security status", err)
	}
	if err := s.WriteShareRecord(ctx, []byte{1}); !errors.Is(err, tcos.ErrSecurityStatus) {
		t.Fatalf("write without PIN = %v", err)
	}
	if err := s.WriteShareRecord(ctx, make([]byte, 256)); !errors.Is(err, tcos.ErrRecordTooLong) {
		t.Fatalf("oversized record = %v", err)
	}
}

func TestChangePIN(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	s, _ := open(t, r, nil)
	newPIN := []byte("24681357")
	var wp *tcos.WrongPINError
	if err := s.ChangePIN(ctx, tcos.SlotBackupKey, []byte("111111"), newPIN, newPIN); !errors.As(err, &wp) || wp.TriesLeft != 2 {
		t.Fatalf("ChangePIN with wrong old PIN = %v", err)
	}
	if err := s.ChangePIN(ctx, tcos.SlotBackupKey, factoryPIN, newPIN, newPIN); err != nil {
		t.Fatal(err)
	}
	s2, c2 := reconnect(t, r, s)
	defer c2.Close()
	if err := s2.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); !errors.As(err, &wp) {
		t.Fatalf("old PIN after change = %v", err)
	}
	if err := s2.VerifyPIN(ctx, tcos.SlotBackupKey, newPIN); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
	if err := s2.VerifyPIN(ctx, tcos.SlotPKCS11, factoryPIN); err != nil {
		t.Fatalf("the other slot's PIN changed too: %v", err)
	}
}

func TestCardPulled(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	s, _ := open(t, r, nil)
	if _, err := s.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	r.Remove()
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); !errors.Is(err, cardio.ErrCardRemoved) {
		t.Fatalf("VerifyPIN after pull = %v", err)
	}
}

// padCard gives a simulated connection a PIN pad.
type padCard struct {
	cardio.Card
	pad cardio.PINPad
}

func (p padCard) PINPad() cardio.PINPad { return p.pad }

// fakePad "collects" fixed PINs and sends the completed template through the
// card, as a reader would; or answers with a scripted reply.
type fakePad struct {
	card       cardio.Card
	pin, newPN string
	reply      []byte
	err        error
	canModify  bool
	verifyReq  cardio.PINVerify
	modifyReq  cardio.PINModify
}

func (p *fakePad) VerifyPIN(ctx context.Context, req cardio.PINVerify) ([]byte, error) {
	p.verifyReq = req
	if p.err != nil || p.reply != nil {
		return p.reply, p.err
	}
	cmd := append(req.APDU[:], byte(len(p.pin)))
	return p.card.Transmit(ctx, append(cmd, p.pin...))
}

func (p *fakePad) ModifyPIN(ctx context.Context, req cardio.PINModify) ([]byte, error) {
	p.modifyReq = req
	if p.err != nil || p.reply != nil {
		return p.reply, p.err
	}
	data := p.pin + p.newPN
	if req.NewOnly {
		data = p.newPN
	}
	cmd := append(req.APDU[:], byte(len(data)))
	return p.card.Transmit(ctx, append(cmd, data...))
}

func (p *fakePad) CanModify() bool { return p.canModify }

// The PIN pad's own prompts are in the session's language (wLangId).
func TestPINPadLanguage(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	pad := &fakePad{card: c, pin: "123456", newPN: "654321", canModify: true}
	s := tcos.Open(padCard{c, pad}, tcos.Options{PINTimeout: 30 * time.Second, PadLangID: 0x0407})
	if err := s.ChangePINOnPad(ctx, tcos.SlotBackupKey); err != nil {
		t.Fatal(err)
	}
	if pad.verifyReq.LangID != 0x0407 || pad.modifyReq.LangID != 0x0407 {
		t.Errorf("wLangId verify %#04x, modify %#04x; want 0x0407 (German) for both", pad.verifyReq.LangID, pad.modifyReq.LangID)
	}
}

func TestPINPad(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))

	s, raw := open(t, r, nil)
	if err := s.VerifyPINOnPad(ctx, tcos.SlotBackupKey); !errors.Is(err, tcos.ErrNoPINPad) {
		t.Fatalf("VerifyPINOnPad without pad = %v", err)
	}
	if err := s.ChangePINOnPad(ctx, tcos.SlotBackupKey); !errors.Is(err, tcos.ErrNoPINPad) {
		t.Fatalf("ChangePINOnPad without pad = %v", err)
	}
	raw.Close()

	for _, tc := range []struct {
		name  string
		pad   fakePad
		check func(error) bool
	}{
		{"right PIN", fakePad{pin: "123456"}, func(err error) bool { return err == nil }},
		{"wrong PIN", fakePad{pin: "999999"}, func(err error) bool {
			var wp *tcos.WrongPINError
			return errors.As(err, &wp) && wp.TriesLeft == 2
		}},
		{"timeout error", fakePad{err: &cardio.PINPadError{SW: cardio.SWPadTimeout}}, func(err error) bool {
			var pe *cardio.PINPadError
			return errors.As(err, &pe) && pe.SW == cardio.SWPadTimeout
		}},
		{"cancel status", fakePad{reply: []byte{0x64, 0x01}}, func(err error) bool {
			var pe *cardio.PINPadError
			return errors.As(err, &pe) && pe.SW == cardio.SWPadCancelled
		}},
		{"blocked", fakePad{reply: []byte{0x69, 0x83}}, func(err error) bool { return errors.Is(err, tcos.ErrBlocked) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := r.Connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			pad := tc.pad
			pad.card = c
			s := tcos.Open(padCard{c, &pad}, tcos.Options{PINTimeout: 7 * time.Second})
			if err := s.VerifyPINOnPad(ctx, tcos.SlotBackupKey); !tc.check(err) {
				t.Fatalf("VerifyPINOnPad = %v", err)
			}
			want := cardio.PINVerify{Timeout: 7 * time.Second, MinLen: 6, MaxLen: 15, APDU: [4]byte{0x00, 0x20, 0x00, 0x81}}
			if pad.verifyReq != want {
				t.Fatalf("request %+v", pad.verifyReq)
			}
		})
	}
}

func TestChangePINOnPad(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pad := &fakePad{card: c, pin: "123456", newPN: "7654321"}
	s := tcos.Open(padCard{c, pad}, tcos.Options{PINTimeout: time.Second})
	if err := s.ChangePINOnPad(ctx, tcos.SlotPKCS11); !errors.Is(err, tcos.ErrNoPINPad) {
		t.Fatalf("pad without modify = %v", err)
	}
	pad.canModify = true
	if err := s.ChangePINOnPad(ctx, tcos.SlotPKCS11); err != nil {
		t.Fatal(err)
	}
	if pad.modifyReq.APDU != [4]byte{0x00, 0x24, 0x01, 0x81} || !pad.modifyReq.NewOnly || pad.modifyReq.MinLen != 6 || pad.modifyReq.MaxLen != 15 {
		t.Fatalf("request %+v", pad.modifyReq)
	}
	c.Close()
	s2, c2 := reconnect(t, r, s)
	defer c2.Close()
	if err := s2.VerifyPIN(ctx, tcos.SlotPKCS11, []byte("7654321")); err != nil {
		t.Fatalf("new PIN: %v", err)
	}
}
