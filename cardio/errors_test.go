package cardio

import (
	"errors"
	"fmt"
	"testing"

	"github.com/hsmcards/hsmcards/cardio/part10"
)

// Every reader status part10 names has words of its own, and counts as the
// reader's.
func TestPINPadErrorWords(t *testing.T) {
	generic := (&PINPadError{SW: 0x64FF}).Error()
	for _, sw := range []uint16{
		part10.SWTimeout, part10.SWCancelled, part10.SWMismatch, part10.SWLength,
		part10.SWNoCard, part10.SWCardInactive, part10.SWBadParams,
	} {
		if !IsPINPadStatus(sw) {
			t.Errorf("%04X is not a PIN-pad status", sw)
		}
		if msg := (&PINPadError{SW: sw}).Error(); msg == generic {
			t.Errorf("PINPadError %04X has only the generic message", sw)
		}
	}
	for _, sw := range []uint16{0x9000, 0x63C2, 0x6983, 0x6B00} {
		if IsPINPadStatus(sw) {
			t.Errorf("the card's %04X taken for the reader's", sw)
		}
	}
}

type tipped struct{ error }

func (tipped) Hint() string { return "do this" }

func TestHint(t *testing.T) {
	err := fmt.Errorf("step: %w", tipped{errors.New("broke")})
	if got := Hint(err); got != "do this" {
		t.Errorf("Hint through a wrap = %q", got)
	}
	if got := Hint(ErrCardMute); got != "" {
		t.Errorf("Hint of an error without one = %q", got)
	}
}
