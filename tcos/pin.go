package tcos

// The slot PINs: their bounds, asking their state, verifying them and
// changing them, typed on the host or on the reader's PIN pad (docs/tcos.md,
// "PINs"; why a change verifies first: docs/security.md, "Changing a PIN").

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/secmem"
)

// The PIN bounds of every slot (docs/tcos.md, "PINs"). Everything that takes
// or checks a slot PIN uses these.
const (
	// MinPINLen is the shortest slot PIN, in ASCII digits.
	MinPINLen = 6
	// MaxPINLen is the longest slot PIN, in ASCII digits. It is also the most
	// the recommended PIN-pad reader accepts.
	MaxPINLen = 15
	// MaxTries is the retry counter of a slot PIN: this many wrong PINs in a
	// row block the slot.
	MaxTries = 3
)

// APDU values of the PIN commands (ISO 7816-4 VERIFY and CHANGE REFERENCE
// DATA; docs/tcos.md).
const (
	pinRef       = 0x81 // local PIN 1 of the slot DF
	insVerify    = 0x20
	insChangeRef = 0x24
	// p1OldNew: the data field is the current PIN followed by the new one;
	// the card splits them at the stored PIN's length.
	p1OldNew = 0x00
	// p1NewOnly: the data field is the new PIN alone, allowed once the
	// current PIN is verified in the slot's DF.
	p1NewOnly = 0x01
)

// PIN errors, for errors.Is. A wrong PIN is a *WrongPINError.
var (
	// ErrPINFormat: a PIN typed on the host is not 6–15 ASCII digits. Checked
	// before anything is sent, so no try is spent.
	ErrPINFormat = errors.New("a PIN has 6 to 15 digits")
	// ErrNewPINMismatch: the new PIN typed twice differs. Checked before
	// anything is sent, so nothing changes and no try is spent.
	ErrNewPINMismatch = errors.New("the two new PINs differ")
	// ErrNoPINPad: the reader has no secure PIN pad (or none that can change
	// PINs); type the PIN on the host instead.
	ErrNoPINPad = errors.New("the reader has no PIN pad")
	// ErrPadChangeUnsupported: the card verified the current PIN from the PIN
	// pad but refused a new PIN on its own (CHANGE REFERENCE DATA P1 01).
	// Nothing changed; the PIN can be changed typed on the host instead.
	ErrPadChangeUnsupported = errors.New("this card cannot take a new PIN from the PIN pad")
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

// PINStatus is what the card says about a slot PIN without spending a try.
type PINStatus struct {
	TriesLeft int  // 0..MaxTries; 0 with Blocked
	Blocked   bool // 6983
	Verified  bool // 9000 on the status query
}

// CheckPIN validates a PIN typed on the host: MinPINLen to MaxPINLen ASCII
// digits. The error never holds the PIN.
func CheckPIN(pin []byte) error {
	if len(pin) < MinPINLen || len(pin) > MaxPINLen {
		return ErrPINFormat
	}
	for _, c := range pin {
		if c < '0' || c > '9' {
			return ErrPINFormat
		}
	}
	return nil
}

// PINStatus selects the slot and asks its PIN state without spending a try.
func (s *Session) PINStatus(ctx context.Context, slot Slot) (PINStatus, error) {
	if err := s.enterSlot(ctx, slot); err != nil {
		return PINStatus{}, err
	}
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insVerify, P1: 0x00, P2: pinRef})
	if err != nil {
		return PINStatus{}, err
	}
	switch {
	case resp.SW == SWOK:
		// Verified: a right PIN resets the retry counter.
		return PINStatus{TriesLeft: MaxTries, Verified: true}, nil
	case resp.SW&0xFFF0 == SWWrongPIN:
		n := int(resp.SW & 0x0F)
		return PINStatus{TriesLeft: n, Blocked: n == 0}, nil
	case resp.SW == SWBlocked:
		return PINStatus{Blocked: true}, nil
	case resp.SW == SWRefNotFound:
		return PINStatus{}, fmt.Errorf("%w: the %s slot has no PIN", ErrForeignCard, slot)
	}
	return PINStatus{}, resp.Err()
}

// VerifyPIN verifies the slot PIN typed on the host. A wrong PIN yields a
// *WrongPINError with the tries left; a blocked slot ErrBlocked.
func (s *Session) VerifyPIN(ctx context.Context, slot Slot, pin []byte) error {
	if err := CheckPIN(pin); err != nil {
		return err
	}
	if err := s.enterSlot(ctx, slot); err != nil {
		return err
	}
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insVerify, P1: 0x00, P2: pinRef, Data: pin, SecretData: true})
	if err != nil {
		return err
	}
	return resp.Err()
}

// VerifyPINOnPad has the reader's PIN pad collect and verify the slot PIN.
func (s *Session) VerifyPINOnPad(ctx context.Context, slot Slot) error {
	pad := s.card.PINPad()
	if pad == nil {
		return ErrNoPINPad
	}
	if err := s.enterSlot(ctx, slot); err != nil {
		return err
	}
	tmpl := [4]byte{0x00, insVerify, 0x00, pinRef}
	s.t.logPad(tmpl, "verify")
	out, err := pad.VerifyPIN(ctx, cardio.PINVerify{
		Timeout: s.opts.PINTimeout, MinLen: MinPINLen, MaxLen: MaxPINLen, APDU: tmpl,
		LangID: s.opts.PadLangID,
	})
	return s.t.padResult(out, err)
}

// ChangePIN changes a slot PIN typed on the host: current is the current
// PIN, newPIN and again the new PIN as typed twice.
//
// CHANGE REFERENCE DATA carries current||new and the card splits it at the
// length of the PIN it stores, so a current PIN typed one digit too long
// would set a new PIN nobody chose. ChangePIN therefore refuses two new PINs
// that differ (ErrNewPINMismatch, nothing sent), then VERIFYs the current
// PIN alone: a wrong one spends that one try and changes nothing (a
// *WrongPINError). Only a current PIN the card accepted, and so exactly as
// long as the stored one, goes into the change.
func (s *Session) ChangePIN(ctx context.Context, slot Slot, current, newPIN, again []byte) error {
	for _, p := range [][]byte{current, newPIN, again} {
		if err := CheckPIN(p); err != nil {
			return err
		}
	}
	if subtle.ConstantTimeCompare(newPIN, again) != 1 {
		return ErrNewPINMismatch
	}
	if err := s.VerifyPIN(ctx, slot, current); err != nil {
		return err
	}
	// VerifyPIN left the slot's DF current and verified.
	data := make([]byte, len(current)+len(newPIN)) // sized once: no stray copy
	defer secmem.Wipe(data)
	copy(data, current)
	copy(data[len(current):], newPIN)
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insChangeRef, P1: p1OldNew, P2: pinRef, Data: data, SecretData: true})
	if err != nil {
		return err
	}
	return resp.Err()
}

// ChangePINOnPad changes a slot PIN with every digit typed on the reader's
// PIN pad, so that no PIN crosses the host.
//
// The host cannot see what was typed, so it cannot check the current PIN's
// length as ChangePIN does. Instead the pad first VERIFYs the current PIN
// alone (a wrong one spends that one try and changes nothing), then collects
// only the new PIN, twice (the reader compares the two: 6402 when they
// differ), and sends it alone as CHANGE REFERENCE DATA with P1 01, which the
// card accepts only while the slot is verified. The new PIN is thus exactly
// what was typed twice. A card that refuses P1 01 yields an error matching
// ErrPadChangeUnsupported; nothing was changed then.
func (s *Session) ChangePINOnPad(ctx context.Context, slot Slot) error {
	pad := s.card.PINPad()
	if pad == nil {
		return ErrNoPINPad
	}
	if !pad.CanModify() {
		return fmt.Errorf("%w that can change PINs", ErrNoPINPad)
	}
	if err := s.VerifyPINOnPad(ctx, slot); err != nil {
		return err
	}
	tmpl := [4]byte{0x00, insChangeRef, p1NewOnly, pinRef}
	s.t.logPad(tmpl, "change")
	out, err := pad.ModifyPIN(ctx, cardio.PINModify{
		Timeout: s.opts.PINTimeout, MinLen: MinPINLen, MaxLen: MaxPINLen, APDU: tmpl, NewOnly: true,
		LangID: s.opts.PadLangID,
	})
	err = s.t.padResult(out, err)
	var se *StatusError
	if errors.As(err, &se) {
		switch se.SW {
		case SWWrongP1P2, SWSecurityStatus, SWConditions, SWFunctionUnsupported, SWINSNotSupported:
			return fmt.Errorf("%w (%w)", ErrPadChangeUnsupported, err)
		}
	}
	return err
}
