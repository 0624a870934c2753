package i18n

// The wizard's words for the card set's life (Verify, Re-issue, Erase;
// docs/lifecycle.md) and the HSM's card-set register. Each ID's value is
// its name; en.toml and de.toml hold the words.

// Pad prompts, screens and notes without placeholders.
const (
	MenuGroupCardSet           ID = "MenuGroupCardSet"
	MenuVerify                 ID = "MenuVerify"
	MenuVerifyHelp             ID = "MenuVerifyHelp"
	MenuReissue                ID = "MenuReissue"
	MenuReissueHelp            ID = "MenuReissueHelp"
	MenuErase                  ID = "MenuErase"
	MenuEraseHelp              ID = "MenuEraseHelp"
	CauseEmptySlot             ID = "CauseEmptySlot"
	CauseDamagedRecord         ID = "CauseDamagedRecord"
	CauseUnknownFormat         ID = "CauseUnknownFormat"
	CauseOtherSet              ID = "CauseOtherSet"
	CauseDuplicate             ID = "CauseDuplicate"
	CauseSameCard              ID = "CauseSameCard"
	CauseNoKeyInHSM            ID = "CauseNoKeyInHSM"
	CauseNoKeyInHSMAdvice      ID = "CauseNoKeyInHSMAdvice"
	CauseNotHSMKey             ID = "CauseNotHSMKey"
	CauseNotProven             ID = "CauseNotProven"
	WizRegisterRefusesCards    ID = "WizRegisterRefusesCards"
	CauseNoRegister            ID = "CauseNoRegister"
	CauseNoRegisterAdvice      ID = "CauseNoRegisterAdvice"
	CauseRegisterChanged       ID = "CauseRegisterChanged"
	CauseStartAgainAdvice      ID = "CauseStartAgainAdvice"
	CauseRegisterDamaged       ID = "CauseRegisterDamaged"
	CauseRegisterDamagedAdvice ID = "CauseRegisterDamagedAdvice"
	CauseCommitUnknown         ID = "CauseCommitUnknown"
	CauseCommitUnknownAdvice   ID = "CauseCommitUnknownAdvice"
	CauseQuorumCard            ID = "CauseQuorumCard"
	CauseReadBack              ID = "CauseReadBack"
	WizGenerationFormat1       ID = "WizGenerationFormat1"
	WizStandingCurrent         ID = "WizStandingCurrent"
	WizStandingUnknown         ID = "WizStandingUnknown"
	WorkErasing                ID = "WorkErasing"
	WizAskingCardSets          ID = "WizAskingCardSets"
	WizEraseHint               ID = "WizEraseHint"
	WizEraseIntro              ID = "WizEraseIntro"
	WizEraseKept               ID = "WizEraseKept"
	WizEraseNeedsPIN           ID = "WizEraseNeedsPIN"
	PadEraseCard               ID = "PadEraseCard"
	WizEraseDestroysRecord     ID = "WizEraseDestroysRecord"
	WizEraseNewer              ID = "WizEraseNewer"
	WizEraseMayNeed            ID = "WizEraseMayNeed"
	WizEraseReadAgain          ID = "WizEraseReadAgain"
	WizEraseHSMKey             ID = "WizEraseHSMKey"
	WizEraseConfirmNext        ID = "WizEraseConfirmNext"
	WizEraseRetryNext          ID = "WizEraseRetryNext"
	WizPINUnchanged            ID = "WizPINUnchanged"
	WizEraseIncomplete         ID = "WizEraseIncomplete"
	PadRecordFailed            ID = "PadRecordFailed"
	PadCardErased              ID = "PadCardErased"
	PadNotErased               ID = "PadNotErased"
	WizWordUnrecorded          ID = "WizWordUnrecorded"
	WizWordCurrent             ID = "WizWordCurrent"
	WizWordSuperseded          ID = "WizWordSuperseded"
	WizWordStale               ID = "WizWordStale"
	WizWordUncommitted         ID = "WizWordUncommitted"
	WizWordNewer               ID = "WizWordNewer"
	WizHoldBlank               ID = "WizHoldBlank"
	WizHoldDamaged             ID = "WizHoldDamaged"
	WizHoldUnknown             ID = "WizHoldUnknown"
	WizHoldShare               ID = "WizHoldShare"
	WizCardNotUsed             ID = "WizCardNotUsed"
	PadTakeNewerSet            ID = "PadTakeNewerSet"
	WizNewerSetOnlyIf          ID = "WizNewerSetOnlyIf"
	WizNewerSetNext            ID = "WizNewerSetNext"
	WizNotCurrentSet           ID = "WizNotCurrentSet"
	WizNothingLoaded           ID = "WizNothingLoaded"
	WizReadCurrentSet          ID = "WizReadCurrentSet"
	WizRecordingSet            ID = "WizRecordingSet"
	WizReStays                 ID = "WizReStays"
	WizReSourceAny             ID = "WizReSourceAny"
	WizReSourceOneMore         ID = "WizReSourceOneMore"
	WizReissueIntro            ID = "WizReissueIntro"
	WizNothingWritten          ID = "WizNothingWritten"
	WizNothingWrittenToCards   ID = "WizNothingWrittenToCards"
	WizReParamsNext            ID = "WizReParamsNext"
	WizRePlanFailed            ID = "WizRePlanFailed"
	WizRetryOrLeave            ID = "WizRetryOrLeave"
	WizReOverwriteDestroys     ID = "WizReOverwriteDestroys"
	WizReOldSetCard            ID = "WizReOldSetCard"
	WizReCollects              ID = "WizReCollects"
	WizReNewerMayNeed          ID = "WizReNewerMayNeed"
	WizReDestroysShare         ID = "WizReDestroysShare"
	WorkWritingNewShare        ID = "WorkWritingNewShare"
	WizReWriteIncomplete       ID = "WizReWriteIncomplete"
	WizReCommitFailed          ID = "WizReCommitFailed"
	WizReCommitRetryNext       ID = "WizReCommitRetryNext"
	WizReCommitUnknownNext     ID = "WizReCommitUnknownNext"
	WizLossReissue             ID = "WizLossReissue"
	PadNewCardSet              ID = "PadNewCardSet"
	PadSetReissued             ID = "PadSetReissued"
	PadNotReissued             ID = "PadNotReissued"
	WizVerifyFirstHint         ID = "WizVerifyFirstHint"
	WizVerifyIntro             ID = "WizVerifyIntro"
	WizVerifyBlockedUnreadable ID = "WizVerifyBlockedUnreadable"
	WizVerifyNotChecked        ID = "WizVerifyNotChecked"
	WizVerifyCannotCheck       ID = "WizVerifyCannotCheck"
	WizVerifyNoSet             ID = "WizVerifyNoSet"
	WizVerifyTwoKeys           ID = "WizVerifyTwoKeys"
	WizVerifyHSMSame           ID = "WizVerifyHSMSame"
	WizVerifyHSMOther          ID = "WizVerifyHSMOther"
	WizVerifyHSMNone           ID = "WizVerifyHSMNone"
	WizVerdictRead             ID = "WizVerdictRead"
	WizVerdictGood             ID = "WizVerdictGood"
	WizVerdictBadRecord        ID = "WizVerdictBadRecord"
	WizVerdictBadShare         ID = "WizVerdictBadShare"
	WizVerdictCannotTell       ID = "WizVerdictCannotTell"
	WizVerdictBlocked          ID = "WizVerdictBlocked"
	WizVerdictNotRead          ID = "WizVerdictNotRead"
	WizVerdictNoShare          ID = "WizVerdictNoShare"
	WizVerdictDamaged          ID = "WizVerdictDamaged"
	WizVerdictUnknown          ID = "WizVerdictUnknown"
	WizVerdictOtherSet         ID = "WizVerdictOtherSet"
	WizColCard                 ID = "WizColCard"
	WizColLabel                ID = "WizColLabel"
	WizColTries                ID = "WizColTries"
	WizColVerdict              ID = "WizColVerdict"
	PadSetVerified             ID = "PadSetVerified"
	PadVerifyFailed            ID = "PadVerifyFailed"
	PadBadCardFound            ID = "PadBadCardFound"
)

// CauseSuperseded: a card of a set superseded On by generation By.
type CauseSuperseded struct {
	Generation, By int
	On             string
}

// CauseStale: a card of an older generation than the register's current By.
type CauseStale struct{ Generation, By int }

// CauseUncommitted: a card of a re-issue begun On that never counted.
type CauseUncommitted struct {
	Generation int
	On         string
}

// CauseNewer: a card of a newer generation than the register's current By.
type CauseNewer struct{ Generation, By int }

// CauseTooManyCards: one check takes Max cards at most.
type CauseTooManyCards struct{ Max int }

// CauseAlreadyWritten: the card holds new share Share already.
type CauseAlreadyWritten struct{ Share int }

// WizKeySetGen: a key set of a format 2 record, with its Generation.
type WizKeySetGen struct {
	Label, Created, KCV string
	Generation, K, N    int
}

// WizRegisterUnreadable: the HSM's card-set register cannot be read.
type WizRegisterUnreadable struct{ Cause string }

// WizGeneration: a set's generation.
type WizGeneration struct{ Generation int }

// WizStandingSuperseded: a set superseded On by generation By.
type WizStandingSuperseded struct {
	On string
	By int
}

// WizStandingStale: a set older than the current generation By.
type WizStandingStale struct{ By int }

// WizStandingUncommitted: a set of a re-issue begun On that never counted.
type WizStandingUncommitted struct{ On string }

// WizStandingNewer: a set newer than the current generation By.
type WizStandingNewer struct{ By int }

// WizHoldsBlank: the card is empty.
type WizHoldsBlank struct{ Serial string }

// WizHoldsDamaged: the card holds a damaged record.
type WizHoldsDamaged struct{ Serial string }

// WizHoldsUnknown: the card holds a record of an unknown format.
type WizHoldsUnknown struct{ Serial string }

// WizHoldsShare: the card holds share X of Set, which is Standing (a WizStanding... message).
type WizHoldsShare struct {
	Serial, Set, Standing string
	X                     int
}

// WizOutstanding: generation Generation, superseded On, has Count cards to collect.
type WizOutstanding struct {
	Generation, Count int
	On                string
}

// WizCardSetLine: the menu's line about the HSM's current card set.
type WizCardSetLine struct {
	Label                   string
	Generation, K, N, Cards int
}

// WizCardsToCollect: Count superseded cards are still to collect.
type WizCardsToCollect struct{ Count int }

// WizNotePublic: the token holds Count public objects named as the register.
type WizNotePublic struct{ Count int }

// WizNoteLeftover: an interrupted update left Count older revisions.
type WizNoteLeftover struct{ Count int }

// WizNoteOtherKey: the register is about another key than the HSM holds.
type WizNoteOtherKey struct{ KCV, HSMKCV string }

// WizNoteOther: a note of a kind this program does not know.
type WizNoteOther struct{ Kind int }

// WizEraseAgainHint: the erase of card Serial did not complete.
type WizEraseAgainHint struct{ Serial string }

// WizEraseStillListed: the erased card stays in the register.
type WizEraseStillListed struct{ Serial string }

// WizEraseOtherCard: a card other than the one whose erase did not complete.
type WizEraseOtherCard struct{ Serial, Planned string }

// WizEraseKnown: the HSM knows Known cards of the current set.
type WizEraseKnown struct{ Known, K, N int }

// WizEraseListedCurrent: the register lists the card in the current set
// (Known cards, K of N needed), though it did not read as a share of it.
type WizEraseListedCurrent struct{ Known, K, N int }

// WizEraseLeavesTooFew: erasing leaves fewer known cards than K.
type WizEraseLeavesTooFew struct{ Left, K int }

// WizEraseNotRecorded: the register could not take the erased card off.
type WizEraseNotRecorded struct{ Serial string }

// WizErasedShare: card Serial, erased, held share X of Set (Standing).
type WizErasedShare struct {
	Serial, Set, Standing string
	X                     int
}

// WizErasedBlank: card Serial, erased, held no share.
type WizErasedBlank struct{ Serial string }

// WizErasedUnreadable: card Serial, erased, held an unreadable record.
type WizErasedUnreadable struct{ Serial string }

// WizSideCard: the card of the operation.
type WizSideCard struct{ Serial string }

// WizSideHoldsShare: the card holds share X of a set of Generation, Standing (a WizWord...).
type WizSideHoldsShare struct {
	Generation, Standing string
	X                    int
}

// WizSideHeldShare: the card held share X of a set of Generation, Standing.
type WizSideHeldShare struct {
	Generation, Standing string
	X                    int
}

// WizSideHolds: the card holds What (a WizHold... word).
type WizSideHolds struct{ What string }

// WizSideHeld: the card held What.
type WizSideHeld struct{ What string }

// WizRegisterNoNewCard: the register could not learn the copied card (Cause).
type WizRegisterNoNewCard struct{ Cause string }

// WizRegisterNotUpdated: the register could not be updated (Cause).
type WizRegisterNotUpdated struct{ Cause string }

// WizSetRecorded: the register records the set as current.
type WizSetRecorded struct{ Generation, Cards int }

// WizReStaysGen: the current set, generation Generation, is untouched.
type WizReStaysGen struct{ Generation int }

// WizReTargetHint: the card for new share Share of N; Quorum lists the quorum's cards.
type WizReTargetHint struct {
	Share, N int
	Quorum   string
}

// WizReSourceNth: card Card of the Need the quorum needs.
type WizReSourceNth struct{ Card, Need int }

// PadNewCardOf: new card Card of N.
type PadNewCardOf struct{ Card, N int }

// WizWaitNewCard: what an insert countdown waits for: new card Card.
type WizWaitNewCard struct{ Card int }

// WizReAlreadyRead: card Serial was read already.
type WizReAlreadyRead struct{ Serial string }

// WizTitleReissue: the re-issue's title once its set is known.
type WizTitleReissue struct{ Quorum, Label string }

// WizReSourceRead: card Serial of the quorum read.
type WizReSourceRead struct {
	Serial, Set   string
	X, Have, Need int
}

// WizReNotRebuilt: the Count cards do not rebuild the key.
type WizReNotRebuilt struct{ Cards int }

// WizReRebuilt: the key is rebuilt from Count cards.
type WizReRebuilt struct {
	Cards int
	KCV   string
}

// WizRePlanned: the new set is recorded, not yet current.
type WizRePlanned struct {
	Generation, N int
	Quorum        string
}

// WizReOverwriteNext: OK writes new share Share over the card.
type WizReOverwriteNext struct{ Share int }

// WizReShareWritten: new share Share is on card Serial.
type WizReShareWritten struct {
	Share, Done, N int
	Serial         string
}

// WizReCommitted: the new set is current; Old is superseded.
type WizReCommitted struct {
	Generation, N, K, Old int
	Quorum, Label, KCV    string
}

// WizReCollectNext: the cards of generation Old are to collect.
type WizReCollectNext struct{ Old int }

// WizLossReissueWritten: the new set is on Done of N cards.
type WizLossReissueWritten struct{ Done, N int }

// WizReCurrentLine: the set re-issued, in the side panel.
type WizReCurrentLine struct{ Generation, Quorum, KCV string }

// WizReQuorumLine: the quorum's cards read.
type WizReQuorumLine struct{ Items string }

// WizReNewSetGen: the new set to choose.
type WizReNewSetGen struct{ Generation int }

// WizReLabel: the new set's label field.
type WizReLabel struct{ Label string }

// WizReFewCards: the simulated deck is too small.
type WizReFewCards struct{ Cards, Need, Quorum int }

// WizReNewLine: the new set, in the side panel.
type WizReNewLine struct {
	Generation    int
	Quorum, Label string
}

// WizVerifyNextHint: Count cards were presented so far.
type WizVerifyNextHint struct{ Count int }

// WizVerifyAlreadyPresented: card Serial was presented already.
type WizVerifyAlreadyPresented struct{ Serial string }

// WizVerifyCardRead: card Serial read: share X of Set.
type WizVerifyCardRead struct {
	Serial, Set string
	X           int
}

// WizCardsPresented: Count cards were presented.
type WizCardsPresented struct{ Count int }

// WizVerifyUnreadable: card Serial could not be read (Cause).
type WizVerifyUnreadable struct{ Serial, Cause string }

// WizVerifyEmpty: card Serial holds no share.
type WizVerifyEmpty struct{ Serial string }

// WizVerifyDamaged: card Serial's record is damaged.
type WizVerifyDamaged struct{ Serial string }

// WizVerifyUnknownFormat: card Serial's record is of an unknown format.
type WizVerifyUnknownFormat struct{ Serial string }

// WizVerifyUnusable: card Serial's share cannot be used.
type WizVerifyUnusable struct{ Serial string }

// WizVerifyAllGood: all Count cards of the set are good.
type WizVerifyAllGood struct{ Cards, K int }

// WizVerifySomeGood: the Count cards presented are good; Others were not presented.
type WizVerifySomeGood struct{ Cards, K, Others int }

// WizVerifyBadRecord: card Serial's record disagrees with the set's.
type WizVerifyBadRecord struct{ Serial string }

// WizVerifyBadShare: card Serial's share does not rebuild the key.
type WizVerifyBadShare struct{ Serial string }

// WizVerifyOthersGood: the other cards are good.
type WizVerifyOthersGood struct{ K int }

// WizVerifyCannotTellK: K cards do not rebuild the key, and cannot tell which is bad.
type WizVerifyCannotTellK struct{ K int }

// WizVerifyCannotTell: no K of the Count cards rebuild the key.
type WizVerifyCannotTell struct{ K, Cards, Bad int }

// WizVerifyTooFew: Count cards were presented, K are needed.
type WizVerifyTooFew struct{ Count, K int }

// WizVerifyNotCurrent: Count cards of a set that is not current were not checked.
type WizVerifyNotCurrent struct{ Count int }

// WizVerdictGoodCopy: good, a copy of card Of.
type WizVerdictGoodCopy struct{ Of string }

// WizVerdictNotCurrent: a card of a set not current: its Standing (a WizWord...) and Generation.
type WizVerdictNotCurrent struct {
	Standing   string
	Generation int
}

// WizVerifySetLine: the set verified, in the side panel.
type WizVerifySetLine struct{ Label, Generation, Quorum, KCV string }

func (CauseSuperseded) message()           {}
func (CauseStale) message()                {}
func (CauseUncommitted) message()          {}
func (CauseNewer) message()                {}
func (CauseTooManyCards) message()         {}
func (CauseAlreadyWritten) message()       {}
func (WizKeySetGen) message()              {}
func (WizRegisterUnreadable) message()     {}
func (WizGeneration) message()             {}
func (WizStandingSuperseded) message()     {}
func (WizStandingStale) message()          {}
func (WizStandingUncommitted) message()    {}
func (WizStandingNewer) message()          {}
func (WizHoldsBlank) message()             {}
func (WizHoldsDamaged) message()           {}
func (WizHoldsUnknown) message()           {}
func (WizHoldsShare) message()             {}
func (WizOutstanding) message()            {}
func (WizCardSetLine) message()            {}
func (WizCardsToCollect) message()         {}
func (WizNotePublic) message()             {}
func (WizNoteLeftover) message()           {}
func (WizNoteOtherKey) message()           {}
func (WizNoteOther) message()              {}
func (WizEraseAgainHint) message()         {}
func (WizEraseStillListed) message()       {}
func (WizEraseOtherCard) message()         {}
func (WizEraseKnown) message()             {}
func (WizEraseListedCurrent) message()     {}
func (WizEraseLeavesTooFew) message()      {}
func (WizEraseNotRecorded) message()       {}
func (WizErasedShare) message()            {}
func (WizErasedBlank) message()            {}
func (WizErasedUnreadable) message()       {}
func (WizSideCard) message()               {}
func (WizSideHoldsShare) message()         {}
func (WizSideHeldShare) message()          {}
func (WizSideHolds) message()              {}
func (WizSideHeld) message()               {}
func (WizRegisterNoNewCard) message()      {}
func (WizRegisterNotUpdated) message()     {}
func (WizSetRecorded) message()            {}
func (WizReStaysGen) message()             {}
func (WizReTargetHint) message()           {}
func (WizReSourceNth) message()            {}
func (PadNewCardOf) message()              {}
func (WizWaitNewCard) message()            {}
func (WizReAlreadyRead) message()          {}
func (WizTitleReissue) message()           {}
func (WizReSourceRead) message()           {}
func (WizReNotRebuilt) message()           {}
func (WizReRebuilt) message()              {}
func (WizRePlanned) message()              {}
func (WizReOverwriteNext) message()        {}
func (WizReShareWritten) message()         {}
func (WizReCommitted) message()            {}
func (WizReCollectNext) message()          {}
func (WizLossReissueWritten) message()     {}
func (WizReCurrentLine) message()          {}
func (WizReQuorumLine) message()           {}
func (WizReNewSetGen) message()            {}
func (WizReLabel) message()                {}
func (WizReFewCards) message()             {}
func (WizReNewLine) message()              {}
func (WizVerifyNextHint) message()         {}
func (WizVerifyAlreadyPresented) message() {}
func (WizVerifyCardRead) message()         {}
func (WizCardsPresented) message()         {}
func (WizVerifyUnreadable) message()       {}
func (WizVerifyEmpty) message()            {}
func (WizVerifyDamaged) message()          {}
func (WizVerifyUnknownFormat) message()    {}
func (WizVerifyUnusable) message()         {}
func (WizVerifyAllGood) message()          {}
func (WizVerifySomeGood) message()         {}
func (WizVerifyBadRecord) message()        {}
func (WizVerifyBadShare) message()         {}
func (WizVerifyOthersGood) message()       {}
func (WizVerifyCannotTellK) message()      {}
func (WizVerifyCannotTell) message()       {}
func (WizVerifyTooFew) message()           {}
func (WizVerifyNotCurrent) message()       {}
func (WizVerdictGoodCopy) message()        {}
func (WizVerdictNotCurrent) message()      {}
func (WizVerifySetLine) message()          {}
