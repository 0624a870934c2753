//go:build pcsc

package pcsc

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
)

func TestWrapMapsPCSCErrors(t *testing.T) {
	tests := []struct {
		code scard.Error
		want error
	}{
		{scard.ErrNoService, cardio.ErrNoService},
		{scard.ErrServiceStopped, cardio.ErrNoService},
		{scard.ErrNoReadersAvailable, cardio.ErrNoReader},
		{scard.ErrUnknownReader, cardio.ErrReaderGone},
		{scard.ErrReaderUnavailable, cardio.ErrReaderGone},
		{scard.ErrNoSmartcard, cardio.ErrNoCard},
		{scard.ErrRemovedCard, cardio.ErrCardRemoved},
		{scard.ErrResetCard, cardio.ErrCardReset},
		{scard.ErrSharingViolation, cardio.ErrSharing},
		{scard.ErrUnresponsiveCard, cardio.ErrCardMute},
		{scard.ErrUnpoweredCard, cardio.ErrCardMute},
	}
	for _, tt := range tests {
		err := wrap("op", fmt.Errorf("deeper: %w", tt.code))
		if !errors.Is(err, tt.want) {
			t.Errorf("wrap(%v) = %v, want %v", tt.code, err, tt.want)
		}
		if !errors.Is(err, tt.code) {
			t.Errorf("wrap(%v) lost the PC/SC code", tt.code)
		}
		if msg := err.Error(); msg != tt.want.Error() {
			t.Errorf("wrap(%v) says %q; the sentinel's words are enough: %q", tt.code, msg, tt.want)
		}
	}
	// Statuses without a meaning for the operator say what failed.
	err := wrap("transmit", scard.ErrInvalidParameter)
	if !errors.Is(err, scard.ErrInvalidParameter) || !strings.HasPrefix(err.Error(), "transmit: ") {
		t.Errorf("wrap of an unmapped status = %v", err)
	}
	if wrap("op", nil) != nil {
		t.Error("wrap(nil) != nil")
	}
}

// pcscd not running: a short error the header can show whole, and how to
// start pcscd as its hint.
func TestNoServiceHint(t *testing.T) {
	err := wrap("connect", scard.ErrNoService)
	if msg := err.Error(); msg != cardio.ErrNoService.Error() || len(msg) > 50 {
		t.Errorf("error %q, want the short %q", msg, cardio.ErrNoService)
	}
	if h := cardio.Hint(err); !strings.Contains(h, "systemctl start pcscd") {
		t.Errorf("hint %q does not say how to start pcscd", h)
	}
	if h := cardio.Hint(wrap("transmit", scard.ErrRemovedCard)); h != "" {
		t.Errorf("a pulled card has a machine hint %q; the wizard says what to do", h)
	}
}

func TestEmptyCommandIsRefused(t *testing.T) {
	// Guarded before scard, which would panic on it.
	c := &card{}
	if _, err := c.Transmit(t.Context(), nil); !errors.Is(err, errEmptyCommand) {
		t.Errorf("Transmit(nil) = %v, want errEmptyCommand", err)
	}
}
