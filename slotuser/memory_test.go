//go:build cgo && unix

package slotuser_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/slotuser"
)

// needleSpy keeps, of every user PIN the slot is given, only needles to
// look for it with: they hold the PIN masked, so they are no copy.
type needleSpy struct {
	hsm.UserSlot
	mu      sync.Mutex
	needles []memscan.Needle
}

func (s *needleSpy) Change(ctx context.Context, pin []byte, change hsm.CardChange) (hsm.ChangeResult, error) {
	s.mu.Lock()
	s.needles = append(s.needles, memscan.Windows("user PIN", pin, 8)...)
	s.mu.Unlock()
	return s.UserSlot.Change(ctx, pin, change)
}

// TestChangeLeavesNoPIN: once an enrollment confirmed on a SoftHSM2 slot is
// made, no copy of the slot's new user PIN is left in the process: not from
// making it, not from wrapping it to the cards (RSA-OAEP), not from handing
// it to C_InitPIN and C_Login (docs/security.md, "Secrets in memory").
func TestChangeLeavesNoPIN(t *testing.T) {
	module, _ := softHSM(t, "apps")
	slot := &needleSpy{UserSlot: openSlot(t, module, "apps", []byte(testSOPIN))}
	w := newWorld(t, 2)
	w.enroll(slot, 1)
	s, sn := w.session(2)
	plan, err := slotuser.PrepareEnroll(context.Background(), slot, sn, s, "holder 2", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := slotuser.Apply(context.Background(), slot, plan)
		done <- err
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(slot.needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("%d copies of the slot's user PINs left:\n%s", len(hits), memscan.Report(hits))
	}
}
