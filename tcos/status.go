package tcos

import (
	"errors"
	"fmt"
)

// Status words (docs/tcos.md, "Status words"; 6282, 6581, 6981, 6986, 6A81
// and 6A87 from ISO 7816-4 §5.6, which TCOS follows).
const (
	SWOK                  uint16 = 0x9000
	SWEndOfFile           uint16 = 0x6282 // fewer bytes than Ne before the end of the EF
	SWMemoryFailure       uint16 = 0x6581
	SWWrongLength         uint16 = 0x6700
	SWFileIncompatible    uint16 = 0x6981 // command incompatible with file structure
	SWSecurityStatus      uint16 = 0x6982
	SWBlocked             uint16 = 0x6983
	SWConditions          uint16 = 0x6985
	SWNoCurrentEF         uint16 = 0x6986
	SWWrongData           uint16 = 0x6A80
	SWFunctionUnsupported uint16 = 0x6A81
	SWFileNotFound        uint16 = 0x6A82
	SWWrongP1P2           uint16 = 0x6A86
	SWLcInconsistent      uint16 = 0x6A87
	SWRefNotFound         uint16 = 0x6A88
	SWWrongOffset         uint16 = 0x6B00
	SWINSNotSupported     uint16 = 0x6D00
	SWCLANotSupported     uint16 = 0x6E00

	// SWBytesAvailable (61xx): xx more bytes wait for GET RESPONSE.
	SWBytesAvailable uint16 = 0x6100
	// SWWrongLe (6Cxx): resend with Le = xx.
	SWWrongLe uint16 = 0x6C00
	// SWWrongPIN (63Cx): wrong PIN, x tries left.
	SWWrongPIN uint16 = 0x63C0
)

// Status word errors the profile code matches with errors.Is; a *StatusError
// with the corresponding SW matches them. ErrBlocked (6983) is declared in
// pin.go.
var (
	ErrSecurityStatus = errors.New("security status not satisfied")
	ErrFileNotFound   = errors.New("file not found")
	ErrRefNotFound    = errors.New("reference data not found")
	ErrConditions     = errors.New("conditions of use not satisfied")
	ErrWrongParams    = errors.New("wrong parameters")
	ErrWrongData      = errors.New("wrong data")
	ErrWrongLength    = errors.New("wrong length")
	ErrINSUnsupported = errors.New("instruction not supported")
	ErrCLAUnsupported = errors.New("class not supported")
)

// sentinels maps status words to the sentinel errors a *StatusError matches.
var sentinels = map[uint16]error{
	SWSecurityStatus:  ErrSecurityStatus,
	SWBlocked:         ErrBlocked,
	SWConditions:      ErrConditions,
	SWFileNotFound:    ErrFileNotFound,
	SWRefNotFound:     ErrRefNotFound,
	SWWrongP1P2:       ErrWrongParams,
	SWWrongOffset:     ErrWrongParams,
	SWWrongData:       ErrWrongData,
	SWWrongLength:     ErrWrongLength,
	SWINSNotSupported: ErrINSUnsupported,
	SWCLANotSupported: ErrCLAUnsupported,
}

// messages are the plain words for status words without a sentinel.
var messages = map[uint16]string{
	SWEndOfFile:           "end of file reached before the expected length",
	SWMemoryFailure:       "memory failure",
	SWFileIncompatible:    "command incompatible with file structure",
	SWNoCurrentEF:         "command not allowed, no current file",
	SWLcInconsistent:      "data length inconsistent with parameters",
	SWFunctionUnsupported: "function not supported",
}

// StatusError is a status word other than 9000 (and other than 63Cx, which
// is a *WrongPINError). errors.Is matches it against the sentinel of its SW,
// e.g. errors.Is(err, ErrFileNotFound) for 6A82.
type StatusError struct {
	SW uint16
}

// Error names the status word and says what it means in plain words.
func (e *StatusError) Error() string {
	if s, ok := sentinels[e.SW]; ok {
		return fmt.Sprintf("card status %04X: %s", e.SW, s.Error())
	}
	if m, ok := messages[e.SW]; ok {
		return fmt.Sprintf("card status %04X: %s", e.SW, m)
	}
	return fmt.Sprintf("card status %04X", e.SW)
}

// Is matches the sentinel error of the status word.
func (e *StatusError) Is(target error) bool {
	s, ok := sentinels[e.SW]
	return ok && s == target
}

// Is makes a wrong PIN with no try left (63C0) match ErrBlocked: the next
// VERIFY answers 6983.
func (e *WrongPINError) Is(target error) bool {
	return target == ErrBlocked && e.TriesLeft == 0
}

// swError turns a status word into nil (9000), a *WrongPINError (63Cx) or a
// *StatusError.
func swError(sw uint16) error {
	switch {
	case sw == SWOK:
		return nil
	case sw&0xFFF0 == SWWrongPIN:
		return &WrongPINError{TriesLeft: int(sw & 0x0F)}
	}
	return &StatusError{SW: sw}
}
