package cardio

import "errors"

// Errors a Reader or Card returns. They are sentinel values so callers can
// match them with errors.Is whatever the backend wraps around them.
var (
	// ErrNoService means the PC/SC daemon is not running.
	ErrNoService = errors.New("the smart card service (pcscd) is not running")
	// ErrNoReader means no reader is connected.
	ErrNoReader = errors.New("no smart card reader is connected")
	// ErrReaderGone means the reader was unplugged during a step.
	ErrReaderGone = errors.New("the smart card reader was unplugged")
	// ErrNoCard means there is no card in the reader.
	ErrNoCard = errors.New("there is no card in the reader")
	// ErrCardRemoved means the card was pulled during a step.
	ErrCardRemoved = errors.New("the card was removed from the reader")
	// ErrCardReset means another program reset the card during a step.
	ErrCardReset = errors.New("the card was reset by another program")
	// ErrSharing means another program holds the card or reader exclusively.
	ErrSharing = errors.New("another program is using the card reader")
	// ErrCardMute means the card does not answer.
	ErrCardMute = errors.New("the card does not answer")
)

// PINPadError is a status the reader itself returns for a PIN-pad operation
// (PC/SC part 10; DESIGN.md "PC/SC and the PIN-pad reader").
type PINPadError struct {
	SW uint16
}

// PIN-pad statuses (DESIGN.md facts).
const (
	SWPadTimeout   = 0x6400 // the card holder did not finish in time
	SWPadCancelled = 0x6401 // Cancel was pressed on the reader
	SWPadMismatch  = 0x6402 // new PIN and confirmation differ
	SWPadLength    = 0x6403 // PIN too short or too long
	SWPadBadParams = 0x6B80 // the reader rejected our parameter block
)

func (e *PINPadError) Error() string {
	switch e.SW {
	case SWPadTimeout:
		return "the PIN was not entered on the reader in time"
	case SWPadCancelled:
		return "PIN entry was cancelled on the reader"
	case SWPadMismatch:
		return "the new PIN and its confirmation differ"
	case SWPadLength:
		return "the PIN entered has the wrong length"
	case SWPadBadParams:
		return "the reader rejected the PIN entry parameters"
	}
	return "the reader's PIN pad failed"
}
