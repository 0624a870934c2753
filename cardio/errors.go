package cardio

import (
	"errors"

	"github.com/hsmcards/hsmcards/cardio/part10"
)

// Errors a Reader or Card returns. They are sentinel values so callers can
// match them with errors.Is whatever the backend wraps around them. Their
// messages are short, to fit a screen's header; what the operator can do
// about one is its Hint, where the backend has one.
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

// Hint returns what the operator can do about err: the hint of the first
// error in its chain that has a Hint method (as age's errors do), or "" when
// none has. The backends give hints where the fix depends on the machine
// (how to start pcscd, how to choose a reader); what to do about a card is
// the wizard's to say.
func Hint(err error) string {
	var h interface{ Hint() string }
	if errors.As(err, &h) {
		return h.Hint()
	}
	return ""
}

// PINPadError is a status the reader itself returns for a PIN-pad operation
// instead of the card's answer (PC/SC part 10; docs/pcsc.md "Reader
// statuses"). SW is one that part10.IsReaderStatus gives to the reader.
type PINPadError struct {
	SW uint16
}

// The PIN-pad statuses by the names the wizard matches; their values live in
// part10, the spec's package.
const (
	SWPadTimeout   = part10.SWTimeout   // the card holder did not finish in time
	SWPadCancelled = part10.SWCancelled // Cancel was pressed on the reader
	SWPadMismatch  = part10.SWMismatch  // new PIN and confirmation differ
	SWPadLength    = part10.SWLength    // PIN too short or too long
	SWPadBadParams = part10.SWBadParams // the reader rejected our parameter block
)

// IsPINPadStatus reports whether sw, the answer to a PIN-pad operation, is the
// reader's own status rather than the card's (see part10.IsReaderStatus).
func IsPINPadStatus(sw uint16) bool { return part10.IsReaderStatus(sw) }

func (e *PINPadError) Error() string {
	switch e.SW {
	case part10.SWTimeout:
		return "the PIN was not entered on the reader in time"
	case part10.SWCancelled:
		return "PIN entry was cancelled on the reader"
	case part10.SWMismatch:
		return "the new PIN and its confirmation differ"
	case part10.SWLength:
		return "the PIN entered has the wrong length"
	case part10.SWNoCard:
		return "the reader found no card for the PIN entry"
	case part10.SWCardInactive:
		return "the reader could not activate the card for the PIN entry"
	case part10.SWBadParams:
		return "the reader rejected the PIN entry parameters"
	}
	return "the reader's PIN pad failed"
}
