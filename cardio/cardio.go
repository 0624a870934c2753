// Package cardio is the wizard's view of card readers: wait for a card to come
// or go, connect to it, exchange raw APDUs, and, where the reader has a PIN pad,
// let the reader take the PIN itself (PC/SC part 10). It knows nothing of TCOS;
// the simulated reader hosts any SimulatedCard, and cardio/pcsc is the PC/SC
// reader (pcsc-lite, build tag pcsc; docs/pcsc.md).
package cardio

import (
	"context"
	"time"
)

// Reader is one card reader slot. Its methods block until done or until ctx
// ends; a ctx deadline is how the wizard bounds a step (card insertion, PIN
// entry) so it can show the countdown on screen.
type Reader interface {
	// Name is the reader's name as the operator knows it (PC/SC reader name),
	// safe to print: a backend cleans a name it did not choose itself with
	// internal/safetext.
	Name() string
	// Present reports whether a card is in the reader now.
	Present(ctx context.Context) (bool, error)
	// WaitForCard returns when a card is in the reader (at once if one is
	// already there), or with ctx.Err() when ctx ends.
	WaitForCard(ctx context.Context) error
	// WaitForRemoval returns when the reader is empty (at once if it is).
	WaitForRemoval(ctx context.Context) error
	// Connect opens the card in the reader for one step of a ceremony, in an
	// exclusive transaction (no other program's command reaches the card until
	// Close). No PIN verified by an earlier step or an earlier process of this
	// tool is still verified: every Close resets the card. Close the Card at
	// the end of the step; the next step connects again, so the operator can
	// swap cards between steps.
	Connect(ctx context.Context) (Card, error)
	// Close releases the reader.
	Close() error
}

// Card is a connected card, for one step.
type Card interface {
	// ATR is the card's answer to reset.
	ATR() []byte
	// Transmit sends one command APDU and returns the raw response APDU
	// (data || SW1 SW2). It does not handle 61xx/6Cxx: that is the caller's
	// transport. Transmit never logs; the caller knows what is secret.
	Transmit(ctx context.Context, cmd []byte) ([]byte, error)
	// PINPad returns the reader's secure PIN entry, or nil when the PIN has to
	// be typed on the host (on the wizard's on-screen pad).
	PINPad() PINPad
	// Close resets the card and ends the transaction, in that order, so no PIN
	// verified in the step outlives it and no other program gets the card
	// while one still is.
	Close() error
}

// PINPad is a reader keypad on which the card holder types the PIN, so that it
// never crosses the host (PC/SC part 10 VERIFY_PIN_DIRECT/MODIFY_PIN_DIRECT).
// Both calls return the card's raw response (usually just SW1 SW2), or the
// reader's own 64xx/6B80 status as a *PINPadError.
type PINPad interface {
	// VerifyPIN asks the reader to collect a PIN and send the VERIFY template.
	VerifyPIN(ctx context.Context, req PINVerify) ([]byte, error)
	// ModifyPIN asks the reader to collect old, new and confirmation PINs and
	// send the CHANGE REFERENCE DATA template. ModifyPIN is nil-able: CanModify
	// says whether the reader offers it.
	ModifyPIN(ctx context.Context, req PINModify) ([]byte, error)
	// CanModify reports whether the reader announced MODIFY_PIN_DIRECT.
	CanModify() bool
}

// PINVerify describes a PIN the reader collects for a VERIFY command.
type PINVerify struct {
	// Timeout is how long the reader waits for the PIN (bTimerOut); the wizard
	// shows the same countdown.
	Timeout time.Duration
	// MinLen and MaxLen bound the PIN length in digits (the card profile's
	// bounds; a cyberJack takes at most 15, docs/pcsc.md).
	MinLen, MaxLen int
	// APDU is the command template without the PIN (CLA INS P1 P2).
	APDU [4]byte
	// LangID is the language of the prompts a reader shows on its own display
	// (wLangId, a Windows LANGID: part10.LangEnglishUS, part10.LangGerman); 0
	// is English.
	LangID uint16
}

// PINModify describes old and new PINs the reader collects for CHANGE
// REFERENCE DATA (old || new, both ASCII, bConfirmPIN 03), or with NewOnly
// only the new PIN, twice (bConfirmPIN 01).
type PINModify struct {
	// Timeout, MinLen, MaxLen, APDU and LangID are as in PINVerify.
	Timeout        time.Duration
	MinLen, MaxLen int
	APDU           [4]byte
	LangID         uint16
	// NewOnly: the reader asks for the new PIN and its confirmation but not
	// for the current PIN, and sends the new PIN alone: for a CHANGE
	// REFERENCE DATA with P1 01 after the current PIN was verified.
	NewOnly bool
}

// SimulatedCard is a card the simulated reader (or the vpcd bridge) can host:
// an APDU processor with an ATR. tcos/simcard provides the TCOS one.
type SimulatedCard interface {
	// ATR is the answer to reset.
	ATR() []byte
	// Reset is a warm or cold reset: it drops every verification state.
	Reset()
	// Process handles one command APDU and returns the response APDU. It
	// never fails: errors are status words.
	Process(cmd []byte) []byte
}
