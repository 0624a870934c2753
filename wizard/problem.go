package wizard

import (
	"context"
	"errors"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
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
	causeNotProven       // the HSM did not confirm the rebuilt key as its own
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
	case errors.Is(err, cardset.ErrNotProven):
		p.cause = causeNotProven
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

// words are a cause's messages: what happened and what to do (nil: nothing
// to add). The cause is the messages' ID: each catalog words them in its
// language (i18n/wizard.go, Cause...). Causes whose sentence names a slot
// or a file are said by says.
type words struct{ says, advice i18n.Message }

// recordsAdvice is what to do about a slot user card's record that does not
// work: the records are public token objects anyone can spoil, and the next
// change of the slot's cards writes them from the slot's own list again.
const recordsAdvice = i18n.CauseRecordsAdvice

var causeWords = map[cause]words{
	causeWrongPIN:         {i18n.CauseWrongPIN, nil},
	causeBlocked:          {nil, i18n.CauseBlockedAdvice},
	causePINFormat:        {i18n.CausePINFormat{Min: tcos.MinPINLen, Max: tcos.MaxPINLen}, i18n.CausePINFormatAdvice},
	causeForeign:          {i18n.CauseForeign, i18n.CauseForeignAdvice},
	causeNoCard:           {i18n.CauseNoCard, nil},
	causeRemoved:          {i18n.CauseRemoved, nil},
	causeReset:            {i18n.CauseReset, nil},
	causeMute:             {i18n.CauseMute, i18n.CauseMuteAdvice},
	causeShareMismatch:    {i18n.CauseShareMismatch, nil},
	causeStorage:          {nil, i18n.CauseStorageAdvice},
	causeUnplugged:        {i18n.CauseUnplugged, i18n.CauseUnpluggedAdvice},
	causeNoService:        {i18n.CauseNoService, i18n.CauseNoServiceAdvice},
	causeSharing:          {i18n.CauseSharing, i18n.CauseSharingAdvice},
	causePadTimeout:       {i18n.CausePadTimeout, nil},
	causePadCancelled:     {i18n.CausePadCancelled, nil},
	causePadMismatch:      {i18n.CausePadMismatch, nil},
	causePadLength:        {i18n.CausePadLength, nil},
	causePadParams:        {i18n.CausePadParams, i18n.CausePadParamsAdvice},
	causePadNoChange:      {i18n.CausePadNoChange, nil},
	causeTokenWrongPIN:    {i18n.CauseTokenWrongPIN, i18n.CauseTokenWrongPINAdvice},
	causeTokenLocked:      {i18n.CauseTokenLocked, i18n.CauseTokenLockedAdvice},
	causeModule:           {i18n.CauseModule, i18n.CauseModuleAdvice},
	causeTokenNotFound:    {i18n.CauseTokenNotFound, i18n.CauseTokenNotFoundAdvice},
	causeTemplate:         {i18n.CauseTemplate, i18n.CauseTemplateAdvice},
	causeSOPINNeeded:      {i18n.CauseSOPINNeeded, i18n.CauseSOPINNeededAdvice{Env: hsm.PKCS11SOPINEnv}},
	causeHSMKCV:           {i18n.CauseHSMKCV, nil},
	causeHSMTimeout:       {i18n.CauseHSMTimeout, i18n.CauseHSMTimeoutAdvice},
	causeHSMFailed:        {i18n.CauseHSMFailed, i18n.CauseHSMFailedAdvice},
	causeSlotFull:         {i18n.CauseSlotFull{Max: slotuser.MaxCards}, i18n.CauseSlotFullAdvice},
	causeAlreadyEnrolled:  {i18n.CauseAlreadyEnrolled, i18n.CauseAlreadyEnrolledAdvice},
	causeNotEnrolled:      {i18n.CauseNotEnrolled, recordsAdvice},
	causeKeyChanged:       {i18n.CauseKeyChanged, recordsAdvice},
	causeDuplicateRecords: {i18n.CauseDuplicateRecords, recordsAdvice},
	causeWrapRefused:      {i18n.CauseWrapRefused, recordsAdvice},
	causeStaleRecord:      {i18n.CauseStaleRecord, recordsAdvice},
	causeRecordRefused:    {i18n.CauseRecordRefused, recordsAdvice},
	causeCannotUnwrap:     {i18n.CauseCannotUnwrap, i18n.CauseCannotUnwrapAdvice},
	causeDamagedAnswer:    {i18n.CauseDamagedAnswer, recordsAdvice},
	causeNoUserPIN:        {i18n.CauseNoUserPIN, i18n.CauseNoUserPINAdvice},
	causeUserRecord:       {i18n.CauseUserRecord, i18n.CauseUserRecordAdvice},
	causeRebuild:          {i18n.CauseRebuild, nil},
	causeEmptySlot:        {i18n.CauseEmptySlot, i18n.WizTakeThisCardOut},
	causeDamagedRecord:    {i18n.CauseDamagedRecord, i18n.WizTakeThisCardOut},
	causeUnknownFormat:    {i18n.CauseUnknownFormat, i18n.WizTakeThisCardOut},
	causeOtherSet:         {i18n.CauseOtherSet, i18n.WizTakeThisCardOut},
	causeDuplicate:        {i18n.CauseDuplicate, i18n.WizTakeThisCardOut},
	causeSuperseded:       {nil, i18n.WizTakeThisCardOut},
	causeStale:            {nil, i18n.WizTakeThisCardOut},
	causeUncommitted:      {nil, i18n.WizTakeThisCardOut},
	causeNewer:            {nil, i18n.WizTakeThisCardOut},
	causeSameCard:         {i18n.CauseSameCard, i18n.WizTakeThisCardOut},
	causeTooManyCards:     {i18n.CauseTooManyCards{Max: cardset.MaxCards}, nil},
	causeNoKeyInHSM:       {i18n.CauseNoKeyInHSM, i18n.CauseNoKeyInHSMAdvice},
	causeNotHSMKey:        {i18n.CauseNotHSMKey, i18n.WizTakeThisCardOut},
	causeNotProven:        {i18n.CauseNotProven, nil},
	causeNoRegister:       {i18n.CauseNoRegister, i18n.CauseNoRegisterAdvice},
	causeRegisterChanged:  {i18n.CauseRegisterChanged, i18n.CauseStartAgainAdvice},
	causeRegisterDamaged:  {i18n.CauseRegisterDamaged, i18n.CauseRegisterDamagedAdvice},
	causeCommitUnknown:    {i18n.CauseCommitUnknown, i18n.CauseCommitUnknownAdvice},
	causeQuorumCard:       {i18n.CauseQuorumCard, i18n.WizTakeThisCardOut},
	causeAlreadyWritten:   {nil, i18n.WizTakeThisCardOut},
	causeReadBack:         {i18n.CauseReadBack, nil},
	causeStopped:          {i18n.CauseStopped, nil},
	causeUnknown:          {i18n.CauseUnknown, i18n.CauseUnknownAdvice},
}

// says is what happened, one or two sentences in pr's language; slot
// names the card slot for a blocked PIN.
func (p problem) says(pr *i18n.Printer, slot tcos.Slot) string {
	switch p.cause {
	case causeBlocked:
		return pr.T(i18n.CauseBlocked{Slot: slotName(pr, slot)})
	case causeStorage:
		return pr.T(i18n.CauseStorage{Path: p.path})
	case causeSuperseded:
		return pr.T(i18n.CauseSuperseded{Generation: int(p.set.Generation), On: dayString(pr, p.set.On), By: int(p.set.By)})
	case causeUncommitted:
		return pr.T(i18n.CauseUncommitted{Generation: int(p.set.Generation), On: dayString(pr, p.set.On)})
	case causeStale:
		return pr.T(i18n.CauseStale{Generation: int(p.set.Generation), By: int(p.set.By)})
	case causeNewer:
		return pr.T(i18n.CauseNewer{Generation: int(p.set.Generation), By: int(p.set.By)})
	case causeAlreadyWritten:
		return pr.T(i18n.CauseAlreadyWritten{Share: p.share + 1})
	}
	if w := causeWords[p.cause].says; w != nil {
		return pr.T(w)
	}
	return ""
}

// advice is what to do about it, or "".
func (p problem) advice(pr *i18n.Printer) string {
	if a := causeWords[p.cause].advice; a != nil {
		return pr.T(a)
	}
	return ""
}

// details is the lower layer's own text, for a cause the wizard has no
// words of its own for: shown apart, as it is, never as a sentence of ours.
func (p problem) details() string {
	if p.err == nil {
		return ""
	}
	switch p.cause {
	case causeUnknown, causeHSMFailed, causeTemplate, causeUserRecord, causeModule, causeStorage, causeRecordRefused,
		causeRegisterDamaged, causeCommitUnknown:
		return safeDetail(p.err)
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

// sayProblem is what happened, on screen in the operator's language and in
// the audit trail in English.
func (e *env) sayProblem(p problem, slot tcos.Slot) said {
	return said{screen: p.says(e.p, slot), trail: p.says(nil, slot)}
}
