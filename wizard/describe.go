package wizard

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// describe turns an error from a card step into plain words and what to do
// next. hint is the step's usual next action. Error strings never carry
// secrets (house rule), so they may be shown.
func describe(err error, hint string) notice {
	var wrong *tcos.WrongPINError
	var pad *cardio.PINPadError
	switch {
	case errors.As(err, &wrong) && wrong.TriesLeft == 0, errors.Is(err, tcos.ErrBlocked):
		return notice{lvError, "Three wrong PINs: this slot of the card is now blocked and cannot be used.", "Take this card out. " + hint}
	case errors.Is(err, tcos.ErrForeignCard):
		return notice{lvError, "This is not an appliance smart card: " + sentenceTail(err) + ". Nothing was written to it.", "Take it out. " + hint}
	case errors.Is(err, cardio.ErrNoCard):
		return notice{lvWarn, "There is no card in the reader.", hint}
	case errors.Is(err, cardio.ErrCardRemoved):
		return notice{lvError, "The card was taken out during the step.", hint}
	case errors.Is(err, cardio.ErrReaderGone), errors.Is(err, cardio.ErrNoReader):
		return notice{lvError, "The card reader is not connected (unplugged?).", "Plug the reader into a USB port of the appliance, then " + lowerFirst(hint)}
	case errors.Is(err, cardio.ErrNoService):
		return notice{lvError, sentence(err.Error()) + ".", "Start the smart card service, then " + lowerFirst(hint)}
	case errors.Is(err, cardio.ErrSharing):
		return notice{lvError, "Another program is using the card reader.", "Close the other program, then " + lowerFirst(hint)}
	case errors.Is(err, cardio.ErrCardReset):
		return notice{lvWarn, "The card was reset by another program during the step.", hint}
	case errors.Is(err, cardio.ErrCardMute), errors.Is(err, context.DeadlineExceeded):
		return notice{lvError, "The card does not answer.", "Take it out, check it is inserted chip first, and try again; or use another card."}
	case errors.As(err, &pad):
		return notice{lvWarn, sentence(pad.Error()) + ".", hint}
	}
	return notice{lvError, sentence(err.Error()) + ".", hint}
}

// sentenceTail is the last part of a wrapped error, e.g. why a card is foreign.
func sentenceTail(err error) string {
	s := err.Error()
	if i := strings.LastIndex(s, ": "); i >= 0 {
		return s[i+2:]
	}
	return s
}

// sentence makes a lowercase error message start a sentence.
func sentence(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToUpper(r)) + s[n:]
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToLower(r)) + s[n:]
}
