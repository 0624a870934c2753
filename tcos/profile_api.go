package tcos

// This file fixes the profile API the wizard codes against (DESIGN.md "Card
// profile on TCOS 3.0"). Implementations replace the panics.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
)

// Slot is one of the card's PIN-protected functions.
type Slot int

const (
	// SlotBackupKey is the Backup Key share slot, DF 4B00.
	SlotBackupKey Slot = iota
	// SlotPKCS11 is the PKCS#11 slot user slot, DF 4C00.
	SlotPKCS11
)

// Serial is a card's ICCSN from EF.GDO (10 bytes, DESIGN profile).
type Serial [10]byte

// String prints the serial as uppercase hex, the way it is shown to operators.
func (s Serial) String() string { panic("unimplemented") }

// PINStatus is what the card says about a slot PIN without spending a try.
type PINStatus struct {
	TriesLeft int  // 0..3; 0 with Blocked
	Blocked   bool // 6983
	Verified  bool // 9000 on the status query
}

// Session is one connected card speaking our profile for one step. It owns the
// transport (61xx/6Cxx handling, APDU log with secrets masked).
type Session struct{}

// Options configure a Session.
type Options struct {
	// APDULog, when not nil, receives every command and response with a
	// timestamp; PIN bytes and key material are replaced by "**".
	APDULog io.Writer
	// PINTimeout bounds a PIN typed on the reader's PIN pad.
	PINTimeout time.Duration
}

// Open starts a session on a connected card. It checks nothing yet.
func Open(card cardio.Card, opts Options) *Session { panic("unimplemented") }

// Identify checks the ATR is TCOS 3.0 and reads the serial from EF.GDO. A card
// that is not ours yields an error matching ErrForeignCard.
func (s *Session) Identify(ctx context.Context) (Serial, error) { panic("unimplemented") }

// PINStatus selects the slot and asks its PIN state without spending a try.
func (s *Session) PINStatus(ctx context.Context, slot Slot) (PINStatus, error) {
	panic("unimplemented")
}

// VerifyPIN verifies the slot PIN typed on the host. A wrong PIN yields a
// *WrongPINError with the tries left; a blocked slot ErrBlocked.
func (s *Session) VerifyPIN(ctx context.Context, slot Slot, pin []byte) error {
	panic("unimplemented")
}

// VerifyPINOnPad has the reader's PIN pad collect and verify the slot PIN.
func (s *Session) VerifyPINOnPad(ctx context.Context, slot Slot) error { panic("unimplemented") }

// ChangePIN changes a slot PIN typed on the host (CHANGE REFERENCE DATA).
func (s *Session) ChangePIN(ctx context.Context, slot Slot, oldPIN, newPIN []byte) error {
	panic("unimplemented")
}

// ChangePINOnPad has the reader's PIN pad collect old and new PIN.
func (s *Session) ChangePINOnPad(ctx context.Context, slot Slot) error { panic("unimplemented") }

// ReadShareRecord reads the raw contents of EF 4B01 (needs the slot PIN). The
// caller (quorum) parses it; an empty slot reads as all zero bytes.
func (s *Session) ReadShareRecord(ctx context.Context) ([]byte, error) { panic("unimplemented") }

// WriteShareRecord writes rec to EF 4B01 and reads it back to check it landed.
func (s *Session) WriteShareRecord(ctx context.Context, rec []byte) error {
	panic("unimplemented")
}

// APDUs counts the command APDUs this session has sent (for benchmarks).
func (s *Session) APDUs() int { panic("unimplemented") }

// Profile errors the wizard matches with errors.Is / errors.As. Status words
// in general are *StatusError values (see apdu.go); these are the ones with a
// meaning the operator must see.
var (
	// ErrForeignCard: not TCOS 3.0, or without our profile (DESIGN profile).
	ErrForeignCard = errors.New("this is not an appliance smart card")
	// ErrBlocked: the slot PIN is blocked after three wrong PINs (6983).
	ErrBlocked = errors.New("the PIN of this card slot is blocked")
)

// WrongPINError is a wrong PIN (63Cx) with the tries left.
type WrongPINError struct{ TriesLeft int }

func (e *WrongPINError) Error() string {
	if e.TriesLeft == 1 {
		return "wrong PIN, 1 try left"
	}
	return fmt.Sprintf("wrong PIN, %d tries left", e.TriesLeft)
}
