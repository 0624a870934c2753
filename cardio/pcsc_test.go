//go:build pcsc

package cardio

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ebfe/scard"
)

func TestWrapMapsPCSCErrors(t *testing.T) {
	tests := []struct {
		code scard.Error
		want error
	}{
		{scard.ErrNoService, ErrNoService},
		{scard.ErrServiceStopped, ErrNoService},
		{scard.ErrNoReadersAvailable, ErrNoReader},
		{scard.ErrUnknownReader, ErrReaderGone},
		{scard.ErrReaderUnavailable, ErrReaderGone},
		{scard.ErrNoSmartcard, ErrNoCard},
		{scard.ErrRemovedCard, ErrCardRemoved},
		{scard.ErrResetCard, ErrCardReset},
		{scard.ErrSharingViolation, ErrSharing},
		{scard.ErrUnresponsiveCard, ErrCardMute},
		{scard.ErrUnpoweredCard, ErrCardMute},
	}
	for _, tt := range tests {
		err := wrap("op", fmt.Errorf("deeper: %w", tt.code))
		if !errors.Is(err, tt.want) {
			t.Errorf("wrap(%v) = %v, want %v", tt.code, err, tt.want)
		}
		if !errors.Is(err, tt.code) {
			t.Errorf("wrap(%v) lost the PC/SC code", tt.code)
		}
		if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
			t.Errorf("message %q should start lowercase and not end with a period", msg)
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

func TestNoServiceSaysHowToStartPCSCD(t *testing.T) {
	msg := wrap("connect", scard.ErrNoService).Error()
	if !strings.Contains(msg, "systemctl start pcscd") {
		t.Errorf("%q does not say how to start pcscd", msg)
	}
}

func TestEmptyCommandIsRefused(t *testing.T) {
	// Guarded before scard, which would panic on it.
	c := &pcscCard{}
	if _, err := c.Transmit(t.Context(), nil); !errors.Is(err, errEmptyCommand) {
		t.Errorf("Transmit(nil) = %v, want errEmptyCommand", err)
	}
}
