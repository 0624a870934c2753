package wizard

import (
	"context"
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// The one error classifier of the wizard. Every error a card, the reader,
// the HSM or the slot user records hand back goes through classify once;
// the audit outcome, the words on screen and what the operator can do next
// all come from the classification. No lower layer's error string is turned
// into screen text: an error that is not known here is shown in the
// wizard's own words, its text only as a "Details:" line (cleaned, as it
// may come from a token or a file).

// cause is what went wrong, once classified.
type cause int

const (
	causeNone cause = iota
	// the card
	causeWrongPIN      // a wrong PIN, with tries left
	causeBlocked       // the slot PIN is blocked (or just got blocked)
	causePINFormat     // a PIN typed on the host is not 6–15 digits
	causeForeign       // not an appliance card
	causeNoCard        // the reader is empty
	causeRemoved       // the card was taken out during the step
	causeReset         // another program reset the card
	causeMute          // the card does not answer
	causeShareMismatch // the card did not store the record correctly
	causeStorage       // the simulated card's file could not be saved
	// the reader
	causeUnplugged // the reader is not connected
	causeNoService // pcscd is not running
	causeSharing   // another program holds the reader
	// the reader's PIN pad
	causePadTimeout
	causePadCancelled
	causePadMismatch
	causePadLength
	causePadParams
	causePadNoChange // the card takes no new PIN from the pad
	// the HSM token
	causeTokenWrongPIN
	causeTokenLocked
	causeModule
	causeTokenNotFound
	causeTemplate
	causeSOPINNeeded
	causeHSMKCV     // the HSM's key does not match the cards' check value
	causeHSMTimeout // the HSM did not answer in time
	causeHSMFailed  // the HSM failed in a way the wizard has no words for
	// slot user cards
	causeSlotFull
	causeAlreadyEnrolled
	causeNotEnrolled
	causeKeyChanged
	causeDuplicateRecords
	causeWrapRefused
	causeStaleRecord
	causeRecordRefused
	causeCannotUnwrap
	causeDamagedAnswer
	causeNoUserPIN
	causeUserRecord
	// the quorum
	causeRebuild // the shares do not rebuild the key
	// a card's share record (quorum's errors, as a card step meets them)
	causeEmptySlot     // the card holds no share
	causeDamagedRecord // the record does not parse, or disagrees with the others read
	causeUnknownFormat // an intact record of a format this program does not know
	causeOtherSet      // a share of another card set than the cards read before
	causeDuplicate     // a share read already (a copy of a card read before)
	// the card set's life (package cardset, docs/lifecycle.md)
	causeSuperseded      // a card of a superseded generation
	causeStale           // a card of an older generation the register does not list
	causeUncommitted     // a card of a re-issue that never committed
	causeNewer           // a card of a newer generation, made elsewhere
	causeSameCard        // a card presented twice in one check
	causeTooManyCards    // more cards than one check takes
	causeNoKeyInHSM      // a re-issue needs the key in the HSM
	causeNotHSMKey       // the cards hold another key than the HSM's
	causeNoRegister      // the HSM keeps no card-set register
	causeRegisterChanged // the register changed meanwhile
	causeRegisterDamaged // the stored register does not parse
	causeCommitUnknown   // whether the new set counts cannot be told
	causeQuorumCard      // a card of the re-issue's quorum offered as a new card
	causeAlreadyWritten  // a card already holding a share of the new set
	causeReadBack        // the card did not read back the record written
	// the operator stopped the step
	causeStopped
	// anything else
	causeUnknown
)

// retry is what the operator can do after a problem.
type retry int

const (
	retryNone  retry = iota
	retryPIN         // the card stays open: type the PIN again
	retryCard        // the card was released: insert it (or another) again
	retryOther       // do not use this card again: insert another
)

// problem is an error, classified.
type problem struct {
	cause cause
	tries int    // tries left (causeWrongPIN)
	path  string // the file the simulated card could not save (causeStorage)
	// set is the card set that is not current (causeSuperseded, causeStale,
	// causeUncommitted, causeNewer); share the new share a card already
	// holds (causeAlreadyWritten, 0-based).
	set   *cardset.NotCurrentError
	share int
	err   error
}

// classify sorts err into a cause. It is the only place that looks into the
// errors of the lower layers.
func classify(err error) problem {
	p := problem{err: err}
	var wrong *tcos.WrongPINError
	var pad *cardio.PINPadError
	var storage *cardio.StorageError
	var notCurrent *cardset.NotCurrentError
	var written *cardset.AlreadyWrittenError
	switch {
	case err == nil:
		p.cause = causeNone
	case errors.As(err, &notCurrent):
		p.set = notCurrent
		p.cause = map[cardset.Standing]cause{cardset.Superseded: causeSuperseded, cardset.Stale: causeStale,
			cardset.Uncommitted: causeUncommitted, cardset.Newer: causeNewer}[notCurrent.Standing]
		if p.cause == causeNone {
			p.cause = causeUnknown
		}
	case errors.As(err, &written):
		p.cause, p.share = causeAlreadyWritten, written.Share
	case errors.As(err, &wrong) && wrong.TriesLeft > 0:
		p.cause, p.tries = causeWrongPIN, wrong.TriesLeft
	case errors.As(err, &wrong), errors.Is(err, tcos.ErrBlocked):
		p.cause = causeBlocked
	case errors.Is(err, tcos.ErrPINFormat):
		p.cause = causePINFormat
	case errors.As(err, &storage):
		p.cause, p.path = causeStorage, safetext.Clean(storage.Path)
	case errors.Is(err, tcos.ErrForeignCard):
		p.cause = causeForeign
	case errors.Is(err, cardio.ErrNoCard):
		p.cause = causeNoCard
	case errors.Is(err, cardio.ErrCardRemoved):
		p.cause = causeRemoved
	case errors.Is(err, cardio.ErrReaderGone), errors.Is(err, cardio.ErrNoReader):
		p.cause = causeUnplugged
	case errors.Is(err, cardio.ErrNoService):
		p.cause = causeNoService
	case errors.Is(err, cardio.ErrSharing):
		p.cause = causeSharing
	case errors.Is(err, cardio.ErrCardReset):
		p.cause = causeReset
	case errors.Is(err, cardio.ErrCardMute), errors.Is(err, context.DeadlineExceeded):
		p.cause = causeMute
	case errors.Is(err, context.Canceled):
		p.cause = causeStopped
	case errors.Is(err, tcos.ErrShareMismatch):
		p.cause = causeShareMismatch
	case errors.Is(err, tcos.ErrPadChangeUnsupported):
		p.cause = causePadNoChange
	case errors.As(err, &pad):
		p.cause = map[uint16]cause{
			cardio.SWPadTimeout: causePadTimeout, cardio.SWPadCancelled: causePadCancelled,
			cardio.SWPadMismatch: causePadMismatch, cardio.SWPadLength: causePadLength,
		}[pad.SW]
		if p.cause == causeNone {
			p.cause = causePadParams
		}
	case errors.Is(err, hsm.ErrPINLocked): // before ErrWrongPIN: a lock may wrap both
		p.cause = causeTokenLocked
	case errors.Is(err, hsm.ErrWrongPIN):
		p.cause = causeTokenWrongPIN
	case errors.Is(err, hsm.ErrModule):
		p.cause = causeModule
	case errors.Is(err, hsm.ErrTokenNotFound):
		p.cause = causeTokenNotFound
	case errors.Is(err, hsm.ErrTemplateRefused):
		p.cause = causeTemplate
	case errors.Is(err, hsm.ErrSOPINNeeded):
		p.cause = causeSOPINNeeded
	case errors.Is(err, hsm.ErrKCVMismatch):
		p.cause = causeHSMKCV
	case errors.Is(err, slotuser.ErrFull):
		p.cause = causeSlotFull
	case errors.Is(err, slotuser.ErrAlreadyEnrolled):
		p.cause = causeAlreadyEnrolled
	case errors.Is(err, slotuser.ErrNotEnrolled):
		p.cause = causeNotEnrolled
	case errors.Is(err, slotuser.ErrKeyChanged):
		p.cause = causeKeyChanged
	case errors.Is(err, slotuser.ErrDuplicateRecords):
		p.cause = causeDuplicateRecords
	case errors.Is(err, slotuser.ErrWrapRefused):
		p.cause = causeWrapRefused
	case errors.Is(err, slotuser.ErrStaleRecord):
		p.cause = causeStaleRecord
	case errors.As(err, new(*slotuser.RefusedError)):
		p.cause = causeRecordRefused
	case errors.Is(err, slotuser.ErrCardCannotUnwrap):
		p.cause = causeCannotUnwrap
	case errors.Is(err, slotuser.ErrDamagedAnswer):
		p.cause = causeDamagedAnswer
	case errors.Is(err, hsm.ErrNoUserPIN):
		p.cause = causeNoUserPIN
	case errors.Is(err, hsm.ErrUserCardRecord):
		p.cause = causeUserRecord
	case errors.Is(err, cardset.ErrSameCard):
		p.cause = causeSameCard
	case errors.Is(err, cardset.ErrTooManyCards):
		p.cause = causeTooManyCards
	case errors.Is(err, cardset.ErrNoKeyInHSM):
		p.cause = causeNoKeyInHSM
	case errors.Is(err, cardset.ErrNotHSMKey):
		p.cause = causeNotHSMKey
	case errors.Is(err, cardset.ErrNoRegister):
		p.cause = causeNoRegister
	case errors.Is(err, cardset.ErrCommitUnknown): // before the register's own errors, which it may join
		p.cause = causeCommitUnknown
	case errors.Is(err, cardset.ErrRegisterChanged), errors.Is(err, hsm.ErrCardSetsChanged):
		p.cause = causeRegisterChanged
	case errors.Is(err, hsm.ErrCardSetsDamaged):
		p.cause = causeRegisterDamaged
	case errors.Is(err, cardset.ErrQuorumCard):
		p.cause = causeQuorumCard
	case errors.Is(err, cardset.ErrReadBack):
		p.cause = causeReadBack
	case errors.Is(err, quorum.ErrEmpty):
		p.cause = causeEmptySlot
	case errors.Is(err, quorum.ErrUnknownVersion):
		p.cause = causeUnknownFormat
	case errors.Is(err, quorum.ErrOtherKeySet):
		p.cause = causeOtherSet
	case errors.Is(err, quorum.ErrDuplicateShare):
		p.cause = causeDuplicate
	case errors.Is(err, quorum.ErrCorrupt):
		p.cause = causeDamagedRecord
	case errors.Is(err, quorum.ErrTooFew), errors.Is(err, quorum.ErrKCV):
		p.cause = causeRebuild
	default:
		p.cause = causeUnknown
	}
	return p
}

// classifyHSM is classify for the error of an HSM command: a timeout is
// the HSM's, not a card's.
func classifyHSM(err error) problem {
	p := classify(err)
	switch p.cause {
	case causeMute:
		p.cause = causeHSMTimeout
	case causeUnknown:
		p.cause = causeHSMFailed
	}
	return p
}

// recordsAdvice is what to do about a slot user card's record that does not
// work: the records are public token objects anyone can spoil, and the next
// change of the slot's cards writes them from the slot's own list again.
const recordsAdvice = "Try again; if it happens again, the security officer's next enrollment (which shows the slot's own list first) writes every card's record anew."

// words are a cause's sentences: what happened and what to do. The cause is
// the message's ID: a catalog in another language keys its sentences the
// same way. %s in says is the slot's name (causeBlocked) or the file
// (causeStorage).
type words struct{ says, advice string }

var causeWords = map[cause]words{
	causeWrongPIN:         {"Wrong PIN.", ""},
	causeBlocked:          {"Three wrong PINs: the %s PIN of this card is now blocked and cannot be used.", "Take this card out."},
	causePINFormat:        {"A PIN has 6 to 15 digits.", "Type the PIN again."},
	causeForeign:          {"This is not an appliance smart card. Nothing was written to it.", "Take it out."},
	causeNoCard:           {"There is no card in the reader.", ""},
	causeRemoved:          {"The card was taken out during the step.", ""},
	causeReset:            {"Another program reset the card during the step.", ""},
	causeMute:             {"The card does not answer.", "Take it out, check that it is inserted chip first, and try again, or use another card."},
	causeShareMismatch:    {"The card did not store the share record correctly.", ""},
	causeStorage:          {"The computer could not save the simulated card: the file system refused to write %s.", "Make the training deck's directory writable (or free some space), then try again."},
	causeUnplugged:        {"The card reader is not connected (unplugged?).", "Plug the reader into a USB port of the appliance."},
	causeNoService:        {"pcscd, the smart card service, is not running.", "Start the smart card service."},
	causeSharing:          {"Another program is using the card reader.", "Close the other program."},
	causePadTimeout:       {"The PIN was not entered on the reader in time. No PIN try was spent.", ""},
	causePadCancelled:     {"Cancel was pressed on the reader's keypad. No PIN try was spent.", ""},
	causePadMismatch:      {"The new PIN and its confirmation differ. Nothing was changed.", ""},
	causePadLength:        {"The PIN typed on the reader has the wrong length (6 to 15 digits). No PIN try was spent.", ""},
	causePadParams:        {"The reader refused the PIN entry parameters.", "Use the reader with PIN pad that came with the appliance."},
	causePadNoChange:      {"This card cannot take a new PIN from the reader's keypad. Nothing was changed.", ""},
	causeTokenWrongPIN:    {"Wrong PIN: the token did not accept it.", "Type it again."},
	causeTokenLocked:      {"The token's user PIN is locked.", "Its security officer must unlock it (with the token's own tools); press Esc to quit."},
	causeModule:           {"The PKCS#11 module cannot be used.", "Check the path given with --pkcs11-module and that the token's software is installed; press Esc to quit."},
	causeTokenNotFound:    {"The token was not found in the PKCS#11 module.", "Check --pkcs11-token; press Esc to quit."},
	causeTemplate:         {"The token refused to store the key as the appliance needs it.", "The token may not support the Backup Key's attributes: see Details."},
	causeSOPINNeeded:      {"The token needs its security officer's PIN for this. Nothing was changed.", "Restart hsmcards with the SO PIN in $" + hsm.PKCS11SOPINEnv + " (or type it when asked)."},
	causeHSMKCV:           {"The key in the HSM does not match the cards' check value.", ""},
	causeHSMTimeout:       {"The HSM did not answer in time.", "Try again."},
	causeHSMFailed:        {"The HSM could not do it.", "See Details."},
	causeSlotFull:         {fmt.Sprintf("The slot already has %d user cards, the most it can have.", slotuser.MaxCards), "Revoke a card first."},
	causeAlreadyEnrolled:  {"This card is already enrolled for the slot.", "To enroll it anew, revoke it first."},
	causeNotEnrolled:      {"The slot holds no record for this card: it is not enrolled, or its record was deleted from the token.", recordsAdvice},
	causeKeyChanged:       {"This card's key pair is not the one its record in the slot names: the card made a new key pair since it was enrolled, or another program changed the record.", recordsAdvice},
	causeDuplicateRecords: {"The slot holds several records for this card; hsmcards writes one, so the others were planted or left by a change that did not finish.", recordsAdvice},
	causeWrapRefused:      {"The card cannot unwrap the PIN in its record: the record was changed by another program, or the card made a new key pair.", recordsAdvice},
	causeStaleRecord:      {"The slot refused the PIN in this card's record: the record is older than the slot's PIN or was written by another program.", recordsAdvice},
	causeRecordRefused:    {"The slot's record for this card is one hsmcards does not use.", recordsAdvice},
	causeCannotUnwrap:     {"The card could not unwrap the PIN wrapped to its own key.", "Try again; if it keeps failing, use another card."},
	causeDamagedAnswer:    {"What the card unwrapped is not a slot PIN: its answer was damaged on its way, or its record was forged. Nothing was sent to the slot.", recordsAdvice},
	causeNoUserPIN:        {"The slot has no user PIN yet.", "Enroll a user card first."},
	causeUserRecord:       {"The slot's record of its user cards is damaged.", "See Details; the token's security officer can restore it."},
	causeRebuild:          {"The cards do not rebuild the Backup Key.", ""},
	causeEmptySlot:        {"This card holds no Backup Key share.", "Take this card out."},
	causeDamagedRecord:    {"This card's share record is damaged, or describes its card set otherwise than the cards read before: it cannot be used.", "Take this card out."},
	causeUnknownFormat:    {"This card holds a share in a format this hsmcards does not know (made by a newer version?); it cannot be used here.", "Take this card out."},
	causeOtherSet:         {"This card holds a share of another card set than the cards read before.", "Take this card out."},
	causeDuplicate:        {"This card holds a share that was already read (it is a copy of a card read before); each share counts once.", "Take this card out."},
	causeSuperseded:       {"This card holds generation %d, superseded on %s by generation %d: collect and erase this card.", "Take this card out."},
	causeStale:            {"This card holds generation %d of this Backup Key, but the HSM's current card set is generation %d: collect and erase this card.", "Take this card out."},
	causeUncommitted:      {"This card holds generation %d from a re-issue begun on %s that never counted: erase this card.", "Take this card out."},
	causeNewer:            {"This card holds generation %d of this Backup Key, newer than the HSM's current generation %d: made by a re-issue elsewhere.", "Take this card out."},
	causeSameCard:         {"This card was already presented here; each card counts once.", "Take this card out."},
	causeTooManyCards:     {fmt.Sprintf("No more cards fit in one check: it takes %d at most.", cardset.MaxCards), ""},
	causeNoKeyInHSM:       {"The HSM holds no Backup Key. A re-issue splits the key the HSM holds anew, so it needs the key loaded first.", "Load the Backup Key (Load Backup Key), then re-issue its card set."},
	causeNotHSMKey:        {"This card holds a share of another Backup Key than the one the HSM holds.", "Take this card out."},
	causeNoRegister:       {"This HSM keeps no record of which card set of its Backup Key is current, so a re-issued set could never be told from the old one, nor the old cards refused. Nothing was read or written.", "Verify the card set and Erase a card work without that record; a re-issue needs an HSM that keeps it (docs/lifecycle.md)."},
	causeRegisterChanged:  {"The HSM's record of the card sets changed meanwhile (another hsmcards?); nothing was written to it.", "Start again."},
	causeRegisterDamaged:  {"The HSM's record of the card sets is damaged.", "See Details; until it is repaired, hsmcards cannot tell a current card from a superseded one."},
	causeCommitUnknown:    {"Whether the new card set counts cannot be told: the HSM's record of the card sets could not be read back.", "Check the HSM, then try again: trying again tells."},
	causeQuorumCard:       {"This card is one of the quorum read for this re-issue: it stays as it is until the new card set counts, so that the current set stays loadable whatever happens.", "Take this card out."},
	causeAlreadyWritten:   {"This card already holds share %d of the new card set: it was written and read back a moment ago.", "Take this card out."},
	causeReadBack:         {"The card did not read back the share record written to it.", ""},
	causeStopped:          {"The step was stopped.", ""},
	causeUnknown:          {"Something unexpected went wrong.", "See Details."},
}

// says is what happened, one or two sentences; slot names the card slot
// for a blocked PIN.
func (p problem) says(slot tcos.Slot) string {
	w := causeWords[p.cause]
	switch p.cause {
	case causeBlocked:
		return fmt.Sprintf(w.says, slotName(slot))
	case causeStorage:
		return fmt.Sprintf(w.says, p.path)
	case causeSuperseded, causeUncommitted:
		if p.cause == causeUncommitted {
			return fmt.Sprintf(w.says, p.set.Generation, dayString(p.set.On))
		}
		return fmt.Sprintf(w.says, p.set.Generation, dayString(p.set.On), p.set.By)
	case causeStale, causeNewer:
		return fmt.Sprintf(w.says, p.set.Generation, p.set.By)
	case causeAlreadyWritten:
		return fmt.Sprintf(w.says, p.share+1)
	}
	return w.says
}

// advice is what to do about it, or "".
func (p problem) advice() string { return causeWords[p.cause].advice }

// details is the lower layer's own text, for a cause the wizard has no
// words of its own for: shown apart, as it is, never as a sentence of ours.
func (p problem) details() string {
	if p.err == nil {
		return ""
	}
	switch p.cause {
	case causeUnknown, causeHSMFailed, causeTemplate, causeUserRecord, causeModule, causeStorage, causeRecordRefused,
		causeRegisterDamaged, causeCommitUnknown:
		return safetext.Clean(p.err.Error())
	}
	return ""
}

// outcome is the audit trail's word for the problem.
func (p problem) outcome() audit.Outcome {
	switch p.cause {
	case causeNone:
		return audit.OutcomeOK
	case causeWrongPIN, causeTokenWrongPIN:
		return audit.OutcomeWrongPIN
	case causeBlocked, causeTokenLocked:
		return audit.OutcomeBlocked
	case causeRemoved, causeNoCard:
		return audit.OutcomeRemoved
	case causeUnplugged, causeNoService:
		return audit.OutcomeNoReader
	case causeForeign, causePINFormat, causePadMismatch, causePadLength, causePadNoChange,
		causeAlreadyEnrolled, causeNotEnrolled, causeSlotFull, causeSOPINNeeded, causeRecordRefused, causeDuplicateRecords,
		causeEmptySlot, causeDamagedRecord, causeUnknownFormat, causeOtherSet, causeDuplicate,
		causeSuperseded, causeStale, causeUncommitted, causeNewer, causeSameCard, causeTooManyCards,
		causeNoKeyInHSM, causeNotHSMKey, causeNoRegister, causeQuorumCard, causeAlreadyWritten:
		return audit.OutcomeRefused
	case causePadTimeout, causeMute:
		return audit.OutcomeTimeout
	case causePadCancelled, causeStopped:
		return audit.OutcomeCancelled
	}
	return audit.OutcomeError
}

// retry says what the operator can do next.
func (p problem) retry() retry {
	switch p.cause {
	case causeNone:
		return retryNone
	case causeWrongPIN, causePINFormat:
		return retryPIN
	case causeBlocked, causeForeign, causeEmptySlot, causeDamagedRecord, causeUnknownFormat, causeOtherSet,
		causeDuplicate, causeSuperseded, causeStale, causeUncommitted, causeNewer, causeSameCard,
		causeNotHSMKey, causeQuorumCard, causeAlreadyWritten:
		return retryOther
	}
	return retryCard
}

// answerLost reports a problem after which a command may have reached the
// card with its answer lost: pulled, reset, unplugged, mute, stopped.
func (p problem) answerLost() bool {
	switch p.cause {
	case causeRemoved, causeReset, causeUnplugged, causeMute, causeStopped:
		return true
	}
	return false
}
