package tcos_test

import (
	"context"
	"crypto/rand"
	"errors"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// blankCard answers 9000 to every command and keeps nothing of what it is
// sent: whatever copy of a PIN is left after a step is the host's.
type blankCard struct{}

func (blankCard) ATR() []byte { return tcos.ReferenceATR() }
func (blankCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	return []byte{0x90, 0x00}, nil
}
func (blankCard) PINPad() cardio.PINPad { return nil }
func (blankCard) Close() error          { return nil }

// TestPINsLeaveNoCopy: after a verify and a change typed on the host, with
// an APDU log, the PINs wiped and the garbage collected, no copy of a PIN is
// left in memory (docs/security.md, "Secrets in memory").
func TestPINsLeaveNoCopy(t *testing.T) {
	buf, err := secmem.NewBuffer(3 * tcos.MaxPINLen)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Destroy()
	mem := buf.Bytes()
	// Two PINs of 15 random digits, the second typed twice.
	current, fresh, again := mem[:15], mem[15:30], mem[30:45]
	digits := make([]byte, 30)
	if _, err := rand.Read(digits); err != nil {
		t.Fatal(err)
	}
	for i := range 15 {
		current[i] = '0' + digits[i]%10
		fresh[i] = '0' + digits[15+i]%10
	}
	secmem.Wipe(digits)
	copy(again, fresh)
	needles := []memscan.Needle{memscan.New("current PIN", current), memscan.New("new PIN", fresh)}

	done := make(chan error)
	go func() {
		var log discard
		s := tcos.Open(blankCard{}, tcos.Options{APDULog: &log})
		ctx := context.Background()
		if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, current); err != nil {
			done <- err
			return
		}
		done <- s.ChangePIN(ctx, tcos.SlotBackupKey, current, fresh, again)
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	buf.Wipe()
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("%d copies of PINs left:\n%s", len(hits), memscan.Report(hits))
	}
}

// discard is an APDU log that throws its lines away.
type discard struct{}

func (*discard) Write(p []byte) (int, error) { return len(p), nil }
