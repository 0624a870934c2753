package i18n

// The wizard's messages (package wizard): its screens, the drawn PIN pad's
// prompts (Pad... IDs: 2 lines of 16 characters at most), the error
// classifier's words, the keys' help. Each ID's value is its name; en.toml
// and de.toml hold the words.

// The keys' names and what they do, for the help lines made from the key bindings.
const (
	KeyNameEnter            ID = "KeyNameEnter"
	KeyNameEsc              ID = "KeyNameEsc"
	KeyNameBackspace        ID = "KeyNameBackspace"
	KeyNameQuit             ID = "KeyNameQuit"
	KeyNameInstructor       ID = "KeyNameInstructor"
	KeyNameInstructorClose  ID = "KeyNameInstructorClose"
	KeyNameTypePIN          ID = "KeyNameTypePIN"
	KeyNameTypeLabel        ID = "KeyNameTypeLabel"
	KeyHelpOK               ID = "KeyHelpOK"
	KeyHelpBack             ID = "KeyHelpBack"
	KeyHelpClear            ID = "KeyHelpClear"
	KeyHelpChoose           ID = "KeyHelpChoose"
	KeyHelpQuit             ID = "KeyHelpQuit"
	KeyHelpPick             ID = "KeyHelpPick"
	KeyHelpChooseQuorum     ID = "KeyHelpChooseQuorum"
	KeyHelpRevoke           ID = "KeyHelpRevoke"
	KeyHelpOtherField       ID = "KeyHelpOtherField"
	KeyHelpInsert           ID = "KeyHelpInsert"
	KeyHelpRemove           ID = "KeyHelpRemove"
	KeyHelpInstructor       ID = "KeyHelpInstructor"
	KeyHelpTypePIN          ID = "KeyHelpTypePIN"
	KeyHelpTypeLabel        ID = "KeyHelpTypeLabel"
	KeyHelpDelete           ID = "KeyHelpDelete"
	KeyHelpInstructorInsert ID = "KeyHelpInstructorInsert"
	KeyHelpInstructorClose  ID = "KeyHelpInstructorClose"
	WizPadKeyLabels         ID = "WizPadKeyLabels"
)

// The main menu: its title, groups and entries, each with its one line of help.
const (
	MenuTitle              ID = "MenuTitle"
	MenuGroupBackupKey     ID = "MenuGroupBackupKey"
	MenuGroupCard          ID = "MenuGroupCard"
	MenuGroupPKCS11        ID = "MenuGroupPKCS11"
	MenuInstall            ID = "MenuInstall"
	MenuInstallHelp        ID = "MenuInstallHelp"
	MenuLoad               ID = "MenuLoad"
	MenuLoadHelp           ID = "MenuLoadHelp"
	MenuCopy               ID = "MenuCopy"
	MenuCopyHelp           ID = "MenuCopyHelp"
	MenuChangeSharePIN     ID = "MenuChangeSharePIN"
	MenuChangeSharePINHelp ID = "MenuChangeSharePINHelp"
	MenuInspect            ID = "MenuInspect"
	MenuInspectHelp        ID = "MenuInspectHelp"
	MenuEnroll             ID = "MenuEnroll"
	MenuEnrollHelp         ID = "MenuEnrollHelp"
	MenuActivate           ID = "MenuActivate"
	MenuActivateHelp       ID = "MenuActivateHelp"
	MenuSlotCards          ID = "MenuSlotCards"
	MenuSlotCardsHelp      ID = "MenuSlotCardsHelp"
	MenuChangeSlotPIN      ID = "MenuChangeSlotPIN"
	MenuChangeSlotPINHelp  ID = "MenuChangeSlotPINHelp"
	MenuCopySlotCard       ID = "MenuCopySlotCard"
	MenuCopySlotCardHelp   ID = "MenuCopySlotCardHelp"
	MenuQuit               ID = "MenuQuit"
	MenuQuitHelp           ID = "MenuQuitHelp"
)

// The screen's header lines, the quit question, the notices' tags and the install's setup screen.
const (
	WizBannerSim        ID = "WizBannerSim"
	WizBannerTitle      ID = "WizBannerTitle"
	WizHSMNotLoggedIn   ID = "WizHSMNotLoggedIn"
	WizHSMAsking        ID = "WizHSMAsking"
	WizHSMCannotSay     ID = "WizHSMCannotSay"
	WizHSMNoKey         ID = "WizHSMNoKey"
	WizHSMNotOpen       ID = "WizHSMNotOpen"
	WizSimReaderName    ID = "WizSimReaderName"
	WizReaderNotChosen  ID = "WizReaderNotChosen"
	WizQuitting         ID = "WizQuitting"
	WizQuitWaitSecrets  ID = "WizQuitWaitSecrets"
	WizQuitWaitKey      ID = "WizQuitWaitKey"
	WizQuitWaitShare    ID = "WizQuitWaitShare"
	WizQuitAgain        ID = "WizQuitAgain"
	WizQuitAsk          ID = "WizQuitAsk"
	WizQuitKeyNext      ID = "WizQuitKeyNext"
	WizQuitShareNext    ID = "WizQuitShareNext"
	WizSetupIntro       ID = "WizSetupIntro"
	WizSetupLabel       ID = "WizSetupLabel"
	WizSetupGenerating  ID = "WizSetupGenerating"
	WizSetupReplaceNext ID = "WizSetupReplaceNext"
	WizSetupNoLabel     ID = "WizSetupNoLabel"
)

// WizHeaderHSM is the header line of the HSM: its name and what it holds.
type WizHeaderHSM struct{ Name, State string }

// WizHSMHolds is the Backup Key the HSM holds.
type WizHSMHolds struct{ Label, KCV string }

// WizReaderProblem is the header line of a reader that has a problem.
type WizReaderProblem struct{ Name, Problem string }

// WizReaderSimCard is the header line of the simulated reader with card Card in it.
type WizReaderSimCard struct {
	Name string
	Card int
}

// WizReaderCard is the header line of a reader with a card in it.
type WizReaderCard struct{ Name string }

// WizReaderSimEmpty is the header line of the empty simulated reader: Keys insert its Cards cards.
type WizReaderSimEmpty struct {
	Name, Keys string
	Cards      int
}

// WizReaderEmpty is the header line of an empty reader.
type WizReaderEmpty struct{ Name string }

// WizSimStaysOutUnplugged: the F-key Key could not insert card Card: the instructor unplugged the reader.
type WizSimStaysOutUnplugged struct{ Key, Card int }

// WizSimStaysOut: the F-key Key could not insert card Card (the problem follows).
type WizSimStaysOut struct{ Key, Card int }

// WizTrailNotWritten: the audit trail's last write failed.
type WizTrailNotWritten struct{ Details string }

// WizTagDone heads a notice of something done.
type WizTagDone struct{ Text string }

// WizTagAttention heads a warning.
type WizTagAttention struct{ Text string }

// WizTagProblem heads a problem.
type WizTagProblem struct{ Text string }

// WizDetails is a lower layer's own words for a problem, shown apart.
type WizDetails struct{ Text string }

// WizSetupScheme is a quorum to choose: K out of N cards.
type WizSetupScheme struct{ K, N int }

// WizSetupFewCards: the simulated deck has fewer cards than the quorum needs.
type WizSetupFewCards struct{ Cards, Need int }

// WizSetupReplace: the HSM holds a Backup Key that a new one replaces.
type WizSetupReplace struct{ Label, KCV string }

// WizSetupLabelRule says what a label may be.
type WizSetupLabelRule struct{ Max int }

func (WizHeaderHSM) message()            {}
func (WizHSMHolds) message()             {}
func (WizReaderProblem) message()        {}
func (WizReaderSimCard) message()        {}
func (WizReaderCard) message()           {}
func (WizReaderSimEmpty) message()       {}
func (WizReaderEmpty) message()          {}
func (WizSimStaysOutUnplugged) message() {}
func (WizSimStaysOut) message()          {}
func (WizTrailNotWritten) message()      {}
func (WizTagDone) message()              {}
func (WizTagAttention) message()         {}
func (WizTagProblem) message()           {}
func (WizDetails) message()              {}
func (WizSetupScheme) message()          {}
func (WizSetupFewCards) message()        {}
func (WizSetupReplace) message()         {}
func (WizSetupLabelRule) message()       {}

// What every operation shows: the pad's common lines, the countdowns, the leave question, a step's end, the card step's words, the audit trail's seal.
const (
	PadOKCancel         ID = "PadOKCancel"
	PadOK               ID = "PadOK"
	PadLeave            ID = "PadLeave"
	PadEnterPIN         ID = "PadEnterPIN"
	PadOnReader         ID = "PadOnReader"
	PadWait             ID = "PadWait"
	PadCannotCopy       ID = "PadCannotCopy"
	PadNoSlot           ID = "PadNoSlot"
	WizLeaveCeremony    ID = "WizLeaveCeremony"
	WizLeaveTool        ID = "WizLeaveTool"
	WizLeaveNext        ID = "WizLeaveNext"
	WizTimeoutNext      ID = "WizTimeoutNext"
	WizTimeoutKeyHeld   ID = "WizTimeoutKeyHeld"
	WizTimeoutShareHeld ID = "WizTimeoutShareHeld"
	WizCardPulled       ID = "WizCardPulled"
	WizPINCancelled     ID = "WizPINCancelled"
	WizStoppedWaiting   ID = "WizStoppedWaiting"
	WizTakeCardOut      ID = "WizTakeCardOut"
	WizTakeThisCardOut  ID = "WizTakeThisCardOut"
	WizTakeItOut        ID = "WizTakeItOut"
	WizBackToMenu       ID = "WizBackToMenu"
	WizEscToMenu        ID = "WizEscToMenu"
	WizWaitCard         ID = "WizWaitCard"
	WizWaitPIN          ID = "WizWaitPIN"
	WizWaitPadPIN       ID = "WizWaitPadPIN"
	WizWaitAnswer       ID = "WizWaitAnswer"
	WizWaitInsert       ID = "WizWaitInsert"
	WorkReadingCard     ID = "WorkReadingCard"
	WizTypePINBackupKey ID = "WizTypePINBackupKey"
	WizTypePINCurrent   ID = "WizTypePINCurrent"
	WizTypePINPKCS11    ID = "WizTypePINPKCS11"
	WizPadPINBackupKey  ID = "WizPadPINBackupKey"
	WizPadPINCurrent    ID = "WizPadPINCurrent"
	WizPadPINPKCS11     ID = "WizPadPINPKCS11"
	WizSlotBackupKey    ID = "WizSlotBackupKey"
	WizSlotPKCS11       ID = "WizSlotPKCS11"
	WizTypePINAgain     ID = "WizTypePINAgain"
	WizProgressNow      ID = "WizProgressNow"
	WizPKCS11NoCopy     ID = "WizPKCS11NoCopy"
	WizPKCS11NoCopyNext ID = "WizPKCS11NoCopyNext"
	WizNoSlot           ID = "WizNoSlot"
	WizNoSlotNext       ID = "WizNoSlotNext"
	WorkReadingShare    ID = "WorkReadingShare"
	WorkWaitingPadPIN   ID = "WorkWaitingPadPIN"
)

// WizWorking says what runs on the card (What, a Work... message).
type WizWorking struct{ What string }

// WizWorkingSlot says what runs on the slot (no card needed).
type WizWorkingSlot struct{ What string }

// WizMinutes is a time limit of whole minutes.
type WizMinutes struct{ Count int }

// WizSeconds is a time limit in seconds.
type WizSeconds struct{ Count int }

// WizTimeoutInsert: no card came within Length.
type WizTimeoutInsert struct{ Length string }

// WizTimeoutPIN: no PIN came within Length.
type WizTimeoutPIN struct{ Length string }

// WizTimeoutAnswer: the operator did not answer within Length.
type WizTimeoutAnswer struct{ Length string }

// WizSeal is the audit trail's latest line and the short form of its hash when an operation ends: written on the signed protocol, it seals the trail up to there.
type WizSeal struct {
	Line int
	Hash string
}

// WizWaitInsertNth is what an insert countdown waits for: card Card.
type WizWaitInsertNth struct{ Card int }

// WizCountdownCard is the countdown of a card that must answer.
type WizCountdownCard struct{ Clock string }

// WizCountdown is the countdown of what the operator must do (What, a Wait... message).
type WizCountdown struct{ Clock, What string }

// WizTriesLeft is a slot's PIN tries left.
type WizTriesLeft struct{ Count int }

// WizLastTry: the card's slot has one PIN try left.
type WizLastTry struct{ Serial, Slot string }

// WizCardTries is a card's slot and its tries left (a WizTriesLeft).
type WizCardTries struct{ Serial, Slot, Tries string }

// WizSlotBlocked: the slot of the card is blocked; nothing was sent to it.
type WizSlotBlocked struct{ Slot, Serial string }

// WizPINLength says how long a PIN is.
type WizPINLength struct{ Min, Max int }

// WizKeySet names a key set the way its cards are known: label, creation time, quorum and KCV.
type WizKeySet struct {
	Label, Created string
	K, N           int
	KCV            string
}

// WizQuorum is a quorum: K of N cards.
type WizQuorum struct{ K, N int }

func (WizWorking) message()       {}
func (WizWorkingSlot) message()   {}
func (WizMinutes) message()       {}
func (WizSeconds) message()       {}
func (WizTimeoutInsert) message() {}
func (WizTimeoutPIN) message()    {}
func (WizTimeoutAnswer) message() {}
func (WizSeal) message()          {}
func (WizWaitInsertNth) message() {}
func (WizCountdownCard) message() {}
func (WizCountdown) message()     {}
func (WizTriesLeft) message()     {}
func (WizLastTry) message()       {}
func (WizCardTries) message()     {}
func (WizSlotBlocked) message()   {}
func (WizPINLength) message()     {}
func (WizKeySet) message()        {}
func (WizQuorum) message()        {}

// Install Backup Key, Load Backup Key and the Key Reading both compose.
const (
	PadWriteNewKey            ID = "PadWriteNewKey"
	PadOverwrite              ID = "PadOverwrite"
	PadReadNewKey             ID = "PadReadNewKey"
	PadReadKey                ID = "PadReadKey"
	PadReplaceKey             ID = "PadReplaceKey"
	PadLoadFailed             ID = "PadLoadFailed"
	PadKeyLoaded              ID = "PadKeyLoaded"
	PadKeyNotLoaded           ID = "PadKeyNotLoaded"
	WizKeyNotLocked           ID = "WizKeyNotLocked"
	WizInstallStartNext       ID = "WizInstallStartNext"
	WizOverwriteUnknownFormat ID = "WizOverwriteUnknownFormat"
	WizOverwriteDamaged       ID = "WizOverwriteDamaged"
	WizOverwriteSameKey       ID = "WizOverwriteSameKey"
	WizShareOfLoadedKey       ID = "WizShareOfLoadedKey"
	WizOverwriteLost          ID = "WizOverwriteLost"
	WizOverwriteNext          ID = "WizOverwriteNext"
	WizNotWritten             ID = "WizNotWritten"
	WizInsertAnother          ID = "WizInsertAnother"
	WorkWritingShare          ID = "WorkWritingShare"
	WizShareNotWritten        ID = "WizShareNotWritten"
	WizWriteAgain             ID = "WizWriteAgain"
	WizInstallDoneNext        ID = "WizInstallDoneNext"
	WizInstallNotLoadedNext   ID = "WizInstallNotLoadedNext"
	WizLossInstallNone        ID = "WizLossInstallNone"
	WizLossInstallAll         ID = "WizLossInstallAll"
	WizProgressFromFirst      ID = "WizProgressFromFirst"
	WizReadHintAny            ID = "WizReadHintAny"
	WizRebuildFailed          ID = "WizRebuildFailed"
	WizReadAgain              ID = "WizReadAgain"
	WizReplaceNext            ID = "WizReplaceNext"
	WizHSMRefusedKey          ID = "WizHSMRefusedKey"
	WizFixHSMNext             ID = "WizFixHSMNext"
	WizLoadIntro              ID = "WizLoadIntro"
	WizLoadStartNext          ID = "WizLoadStartNext"
	WizLossLoad               ID = "WizLossLoad"
)

// PadInsertNth asks for the Card-th card on the pad.
type PadInsertNth struct{ Card int }

// WizTitleInstall heads an install: its quorum (a WizQuorum) and label.
type WizTitleInstall struct{ Quorum, Label string }

// WizTitleLoad heads a load once the key set is known.
type WizTitleLoad struct{ Quorum, Label string }

// WizInstallInMemory: the new key is in memory.
type WizInstallInMemory struct {
	Label string
	K, N  int
}

// WizInstallHint asks for the card the next share goes to.
type WizInstallHint struct{ Card, N int }

// WizAlreadyWritten: the card got a share of this install already.
type WizAlreadyWritten struct {
	Serial string
	Share  int
}

// WizOverwriteShare: the card holds a share of the key set Set (a WizKeySet).
type WizOverwriteShare struct{ Set string }

// WizShareWritten: a share is on its card.
type WizShareWritten struct {
	Share  int
	Serial string
}

// WizAllWritten: every share is on its card.
type WizAllWritten struct{ N int }

// WizReadBackNext says how the new key is read back.
type WizReadBackNext struct{ K, N int }

// WizLossInstallSome: leaving an install after Written of N cards.
type WizLossInstallSome struct{ Written, N int }

// WizProgressWrite is the progress of the cards written.
type WizProgressWrite struct{ Items string }

// WizProgressRead is the progress of the cards read.
type WizProgressRead struct{ Items string }

// WizProgressLoad is the progress of the load into the HSM.
type WizProgressLoad struct{ State string }

// WizLoadDone: the key is in the HSM.
type WizLoadDone struct{ KCV string }

// WizLoadDoneAlready: the HSM held the key already.
type WizLoadDoneAlready struct{ KCV string }

// WizReadHint asks for the next card of a Key Reading.
type WizReadHint struct{ Card, Need int }

// WizKeptHSMKey: the operator kept the HSM's key.
type WizKeptHSMKey struct{ KCV string }

// WizAlreadyRead: the card was read before.
type WizAlreadyRead struct{ Serial string }

// WizNoShare: the card holds no share.
type WizNoShare struct{ Serial string }

// WizUnknownFormatRead: the share is in a format this program does not know.
type WizUnknownFormatRead struct{ Serial string }

// WizDamagedRead: the share record is damaged.
type WizDamagedRead struct{ Serial string }

// WizOtherKeySet: the card belongs to another key set than the one being read.
type WizOtherKeySet struct{ Serial, Label, KCV, WantLabel, WantKCV string }

// WizStartOverWithout: the first card read may have been the odd one out.
type WizStartOverWithout struct{ Label, Other string }

// WizDuplicateShare: the card is a copy of one read before.
type WizDuplicateShare struct{ Serial string }

// WizShareDoesNotFit: the record does not fit the others read.
type WizShareDoesNotFit struct{ Serial string }

// WizCardRead: a share of the quorum is read.
type WizCardRead struct {
	Serial     string
	Have, Need int
}

// WizHSMDifferentKey: the HSM holds another key than the cards.
type WizHSMDifferentKey struct{ KCV, Label, CardsKCV string }

// WizKeyLoaded: the key is in the HSM.
type WizKeyLoaded struct{ Label, HSM, KCV string }

// WizKeyAlreadyLoaded: the HSM held the key already.
type WizKeyAlreadyLoaded struct{ HSM, Label, KCV string }

func (PadInsertNth) message()         {}
func (WizTitleInstall) message()      {}
func (WizTitleLoad) message()         {}
func (WizInstallInMemory) message()   {}
func (WizInstallHint) message()       {}
func (WizAlreadyWritten) message()    {}
func (WizOverwriteShare) message()    {}
func (WizShareWritten) message()      {}
func (WizAllWritten) message()        {}
func (WizReadBackNext) message()      {}
func (WizLossInstallSome) message()   {}
func (WizProgressWrite) message()     {}
func (WizProgressRead) message()      {}
func (WizProgressLoad) message()      {}
func (WizLoadDone) message()          {}
func (WizLoadDoneAlready) message()   {}
func (WizReadHint) message()          {}
func (WizKeptHSMKey) message()        {}
func (WizAlreadyRead) message()       {}
func (WizNoShare) message()           {}
func (WizUnknownFormatRead) message() {}
func (WizDamagedRead) message()       {}
func (WizOtherKeySet) message()       {}
func (WizStartOverWithout) message()  {}
func (WizDuplicateShare) message()    {}
func (WizShareDoesNotFit) message()   {}
func (WizCardRead) message()          {}
func (WizHSMDifferentKey) message()   {}
func (WizKeyLoaded) message()         {}
func (WizKeyAlreadyLoaded) message()  {}

// The card tools: copying a share card, changing a slot PIN, inspecting a card.
const (
	PadInsertSource         ID = "PadInsertSource"
	PadInsertTarget         ID = "PadInsertTarget"
	PadWriteCopy            ID = "PadWriteCopy"
	PadCardCopied           ID = "PadCardCopied"
	PadInsertCard           ID = "PadInsertCard"
	PadCurrentPIN           ID = "PadCurrentPIN"
	PadNewPIN               ID = "PadNewPIN"
	PadNewPINAgain          ID = "PadNewPINAgain"
	PadFactoryPIN           ID = "PadFactoryPIN"
	PadPINChanged           ID = "PadPINChanged"
	PadShowShare            ID = "PadShowShare"
	PadCardInspected        ID = "PadCardInspected"
	WizCopyIntro            ID = "WizCopyIntro"
	WizCopySourceHint       ID = "WizCopySourceHint"
	WizWaitSource           ID = "WizWaitSource"
	WizWaitTarget           ID = "WizWaitTarget"
	WizCopyOverwriteNext    ID = "WizCopyOverwriteNext"
	WizCopyTargetEmptyNext  ID = "WizCopyTargetEmptyNext"
	WizCopyTargetSameNext   ID = "WizCopyTargetSameNext"
	WizCopyOthersRemaining  ID = "WizCopyOthersRemaining"
	WizCopyDestroys         ID = "WizCopyDestroys"
	WizCopyTargetNotWritten ID = "WizCopyTargetNotWritten"
	WorkWritingCopy         ID = "WorkWritingCopy"
	WizCopyDoneNext         ID = "WizCopyDoneNext"
	WizCopyWriteAgain       ID = "WizCopyWriteAgain"
	WizCopyNotWritten       ID = "WizCopyNotWritten"
	WizShareStillHeld       ID = "WizShareStillHeld"
	WizCopySourceNow        ID = "WizCopySourceNow"
	WizCopyTargetNone       ID = "WizCopyTargetNone"
	WizCopyTargetNow        ID = "WizCopyTargetNow"
	WizWaitCurrentPIN       ID = "WizWaitCurrentPIN"
	WizWaitNewPIN           ID = "WizWaitNewPIN"
	WizWaitNewPINAgain      ID = "WizWaitNewPINAgain"
	WizPINHint              ID = "WizPINHint"
	WizPINMayBeChanged      ID = "WizPINMayBeChanged"
	WizPINOnPad             ID = "WizPINOnPad"
	WizPINOnScreen          ID = "WizPINOnScreen"
	WizPINPadNoChange       ID = "WizPINPadNoChange"
	WizPINNotFactory        ID = "WizPINNotFactory"
	WizPINTypeNewAgain      ID = "WizPINTypeNewAgain"
	WizPINClearCancel       ID = "WizPINClearCancel"
	WizPINChooseAnother     ID = "WizPINChooseAnother"
	WizPINsDiffer           ID = "WizPINsDiffer"
	WizPINIsFactory         ID = "WizPINIsFactory"
	WizPINFactoryNext       ID = "WizPINFactoryNext"
	WorkChangingPIN         ID = "WorkChangingPIN"
	WorkWaitingPadPINs      ID = "WorkWaitingPadPINs"
	WizPINChangedNext       ID = "WizPINChangedNext"
	WizInspectIntro         ID = "WizInspectIntro"
	WizInspectHint          ID = "WizInspectHint"
	WizInspectNotRead       ID = "WizInspectNotRead"
	WizInspectForeign       ID = "WizInspectForeign"
	WizInspectNoSlot        ID = "WizInspectNoSlot"
	WizInspectBlocked       ID = "WizInspectBlocked"
	WizInspectAskNext       ID = "WizInspectAskNext"
	WizInspectEmptyRec      ID = "WizInspectEmptyRec"
	WizInspectEmpty         ID = "WizInspectEmpty"
	WizInspectUnknownRec    ID = "WizInspectUnknownRec"
	WizInspectUnknown       ID = "WizInspectUnknown"
	WizInspectDamagedRec    ID = "WizInspectDamagedRec"
	WizInspectDamaged       ID = "WizInspectDamaged"
	WizInspectShown         ID = "WizInspectShown"
	WizInspectDoneNext      ID = "WizInspectDoneNext"
	WizInspectNotAppliance  ID = "WizInspectNotAppliance"
	WizInspectNotProfile    ID = "WizInspectNotProfile"
	WizInspectProfile       ID = "WizInspectProfile"
	WizInspectMissing       ID = "WizInspectMissing"
	WizInspectBlockedState  ID = "WizInspectBlockedState"
	WizInspectStatusOnly    ID = "WizInspectStatusOnly"
)

// WizCopyTargetHint asks for the copy target, another card than the source Serial.
type WizCopyTargetHint struct{ Serial string }

// WizCopySourceItself: the target is the source.
type WizCopySourceItself struct{ Serial string }

// WizCopyNoShare: the source is empty.
type WizCopyNoShare struct{ Serial string }

// WizCopyUnknownFormat: the source is in an unknown format.
type WizCopyUnknownFormat struct{ Serial string }

// WizCopyDamaged: the source is damaged.
type WizCopyDamaged struct{ Serial string }

// WizCopySourceRead: the source share (of key set Set, a WizKeySet) is in memory.
type WizCopySourceRead struct{ Serial, Set string }

// WizCopyTargetEmpty: the target holds nothing.
type WizCopyTargetEmpty struct{ Serial string }

// WizCopyTargetSame: the target is a copy of the source already.
type WizCopyTargetSame struct{ Serial, Source string }

// WizCopyOthersAll: every other card of the set is needed.
type WizCopyOthersAll struct{ Count int }

// WizCopyOthersSome: K of the set's Others other cards are needed.
type WizCopyOthersSome struct{ K, Others int }

// WizCopyTargetSibling: the target holds another share of the same key set (Others: who else is needed, a WizCopyOthers... message).
type WizCopyTargetSibling struct {
	Serial         string
	K, N, Left     int
	Source, Others string
}

// WizCopyTargetOther: the target belongs to another key set.
type WizCopyTargetOther struct{ Serial, Set string }

// WizCopyTargetUnknown: the target holds a record of an unknown format.
type WizCopyTargetUnknown struct{ Serial string }

// WizCopyTargetDamaged: the target holds a damaged record.
type WizCopyTargetDamaged struct{ Serial string }

// WizCopyWritten: the copy is on the target.
type WizCopyWritten struct{ Serial, Source, Set string }

// WizCopyFormerGone: the target's former share of the same set is gone.
type WizCopyFormerGone struct{ Count int }

// WizLossCopy: leaving a copy with the source share in memory.
type WizLossCopy struct{ Serial string }

// WizCopySourceDone: the source card is read.
type WizCopySourceDone struct{ Serial string }

// WizCopyTargetDone: the target is written.
type WizCopyTargetDone struct{ Serial string }

// WizTitleChangePIN heads a PIN change of Slot.
type WizTitleChangePIN struct{ Slot string }

// WizPINIntro says what a PIN change does.
type WizPINIntro struct {
	Slot     string
	Min, Max int
}

// WizPINTypeNew asks the new PIN.
type WizPINTypeNew struct{ Min, Max int }

// WizPINChanged: the PIN of Slot changed; the Other slot keeps its own.
type WizPINChanged struct{ Slot, Serial, Other string }

// WizCardPINChanged: the card whose PIN changed.
type WizCardPINChanged struct{ Serial string }

// WizCardTriesLeft is a card and its slot's tries left (a WizTriesLeft).
type WizCardTriesLeft struct{ Serial, Tries string }

// WizInspectLabelRec is the label of the share read.
type WizInspectLabelRec struct{ Label string }

// WizInspectATR is a card's answer to reset, in hex.
type WizInspectATR struct{ ATR string }

// WizInspectCard heads the report of a card.
type WizInspectCard struct{ Serial string }

// WizInspectSlotLabel labels a slot's line.
type WizInspectSlotLabel struct{ Slot string }

// WizInspectShare says what the share slot holds.
type WizInspectShare struct{ Rec string }

// WizInspectScheme is the share's quorum and creation time.
type WizInspectScheme struct {
	K, N    int
	Created string
}

// WizInspectKeySet is the share's key set ID.
type WizInspectKeySet struct{ ID string }

// WizInspectKCV is the share's key check value.
type WizInspectKCV struct{ KCV string }

func (WizCopyTargetHint) message()    {}
func (WizCopySourceItself) message()  {}
func (WizCopyNoShare) message()       {}
func (WizCopyUnknownFormat) message() {}
func (WizCopyDamaged) message()       {}
func (WizCopySourceRead) message()    {}
func (WizCopyTargetEmpty) message()   {}
func (WizCopyTargetSame) message()    {}
func (WizCopyOthersAll) message()     {}
func (WizCopyOthersSome) message()    {}
func (WizCopyTargetSibling) message() {}
func (WizCopyTargetOther) message()   {}
func (WizCopyTargetUnknown) message() {}
func (WizCopyTargetDamaged) message() {}
func (WizCopyWritten) message()       {}
func (WizCopyFormerGone) message()    {}
func (WizLossCopy) message()          {}
func (WizCopySourceDone) message()    {}
func (WizCopyTargetDone) message()    {}
func (WizTitleChangePIN) message()    {}
func (WizPINIntro) message()          {}
func (WizPINTypeNew) message()        {}
func (WizPINChanged) message()        {}
func (WizCardPINChanged) message()    {}
func (WizCardTriesLeft) message()     {}
func (WizInspectLabelRec) message()   {}
func (WizInspectATR) message()        {}
func (WizInspectCard) message()       {}
func (WizInspectSlotLabel) message()  {}
func (WizInspectShare) message()      {}
func (WizInspectScheme) message()     {}
func (WizInspectKeySet) message()     {}
func (WizInspectKCV) message()        {}

// The PKCS#11 slot user cards: enrolling, activating, the list and revoking.
const (
	PadEnrollCard        ID = "PadEnrollCard"
	PadActivateSlot      ID = "PadActivateSlot"
	PadCardLabel         ID = "PadCardLabel"
	PadEnrollConfirm     ID = "PadEnrollConfirm"
	PadCardEnrolled      ID = "PadCardEnrolled"
	PadSlotActive        ID = "PadSlotActive"
	PadUserCards         ID = "PadUserCards"
	PadUnknown           ID = "PadUnknown"
	PadRevokeConfirm     ID = "PadRevokeConfirm"
	WizNoLabel           ID = "WizNoLabel"
	WizPlanNone          ID = "WizPlanNone"
	WizPlanRemoved       ID = "WizPlanRemoved"
	WizRecordsNotUsed    ID = "WizRecordsNotUsed"
	WizSlotUserHint      ID = "WizSlotUserHint"
	WizSlotCannotList    ID = "WizSlotCannotList"
	WizSlotNoCardsNext   ID = "WizSlotNoCardsNext"
	WizSlotFullNext      ID = "WizSlotFullNext"
	WizTypeLabelAgain    ID = "WizTypeLabelAgain"
	WizEnrollConfirmNext ID = "WizEnrollConfirmNext"
	WizSlotActiveNext    ID = "WizSlotActiveNext"
	WizSlotUnchecked     ID = "WizSlotUnchecked"
	WizCardEnrolledNext  ID = "WizCardEnrolledNext"
	WizInsertOrLeave     ID = "WizInsertOrLeave"
	WorkListingSlot      ID = "WorkListingSlot"
	WorkActivating       ID = "WorkActivating"
	WorkEnrolling        ID = "WorkEnrolling"
	WizRevokeHint        ID = "WizRevokeHint"
	WizNothingRevoked    ID = "WizNothingRevoked"
	WizRevokeConfirmNext ID = "WizRevokeConfirmNext"
	WizNoUserCard        ID = "WizNoUserCard"
)

// PadEnrolledCount is how many cards are enrolled, on the pad.
type PadEnrolledCount struct{ Count int }

// WizAndMore counts the records a list leaves out.
type WizAndMore struct{ Count int }

// WizAndMoreInline counts the records a sentence leaves out.
type WizAndMoreInline struct{ Count int }

// WizPlanCards heads the cards the slot's new user PIN is wrapped to.
type WizPlanCards struct{ Count int }

// WizRecordDeleted: the record of card Card had been deleted from the token.
type WizRecordDeleted struct{ Card string }

// WizRecordWasDeleted: the record of card Card was deleted from the token.
type WizRecordWasDeleted struct{ Card string }

// WizNotEnrolledNothing: an enrollment changed nothing.
type WizNotEnrolledNothing struct{ Serial string }

// WizNotRevokedNothing: a revocation changed nothing.
type WizNotRevokedNothing struct{ Serial string }

// WizRecordsMismatch: the slot's records did not match its own list (Why names them, or is empty).
type WizRecordsMismatch struct{ Why string }

// WizRecordsNoList: the slot has no list of its own cards (Why names the records, or is empty).
type WizRecordsNoList struct{ Why string }

// WizRecordsKept: the slot renewed its user PIN for the cards it vouches for (Kept, or none).
type WizRecordsKept struct{ Kept string }

// WizRemovedRecords names the records a change removed.
type WizRemovedRecords struct{ List string }

// WizDiscrepancyRemove: records the slot's list does not vouch for.
type WizDiscrepancyRemove struct{ List string }

// WizDiscrepancyRestore: records of the slot's list were deleted.
type WizDiscrepancyRestore struct{ List string }

// WizDiscrepancyBoth: records the slot's list does not vouch for, and deleted ones.
type WizDiscrepancyBoth struct{ List string }

// WizSlotNoCards: the slot has no enrolled card to activate it.
type WizSlotNoCards struct{ Slot string }

// WizSlotFull: the slot has as many cards as it can.
type WizSlotFull struct {
	Slot string
	Max  int
}

// WizSlotHas: how many cards the slot has.
type WizSlotHas struct {
	Slot       string
	Cards, Max int
}

// WizSlotLabelNext asks the label of a card to enroll.
type WizSlotLabelNext struct{ Max int }

// WizCardLabelRule says what a card label may be.
type WizCardLabelRule struct{ Max int }

// WizEnrollIntro says what an enrollment does.
type WizEnrollIntro struct {
	Slot       string
	Cards, Max int
}

// WizActivateIntro says which cards activate the slot.
type WizActivateIntro struct {
	Count int
	Slot  string
}

// WizAlreadyEnrolled: the card is enrolled already.
type WizAlreadyEnrolled struct{ Serial string }

// WizNotUsableRecord: the card has no record in the slot.
type WizNotUsableRecord struct{ Serial string }

// WizRefusedRecord: the card's record is refused, for Reason (the slot user records' own words).
type WizRefusedRecord struct{ Serial, Reason string }

// WizEnrollConfirm asks the security officer to confirm.
type WizEnrollConfirm struct{ Serial string }

// WizSlotActive: the slot is active.
type WizSlotActive struct{ Slot, Serial, Clock string }

// WizCardNotEnrolled: the enrollment failed.
type WizCardNotEnrolled struct{ Serial string }

// WizCardNotActivated: the activation failed.
type WizCardNotActivated struct{ Serial string }

// WizCardEnrolled: the enrollment is done.
type WizCardEnrolled struct {
	Serial, Slot string
	Cards, Max   int
}

// WorkRenewing: the slot's user PIN is renewed for the cards.
type WorkRenewing struct{ Count int }

// WorkRevoking: a card is revoked, the slot's user PIN renewed for the others.
type WorkRevoking struct{ Count int }

// WizSlotName names the slot.
type WizSlotName struct{ Slot string }

// WizEnrolledOf: how many cards are enrolled.
type WizEnrolledOf struct{ Cards, Max int }

// WizLabelField is the label being typed.
type WizLabelField struct{ Field string }

// WizNotRevoked: the revocation failed.
type WizNotRevoked struct{ Serial string }

// WizRevoked: the card is revoked.
type WizRevoked struct{ Serial, Slot string }

// WizCannotRevoke: the revocation cannot be planned.
type WizCannotRevoke struct{ Serial string }

// WizRevokeConfirm asks the security officer to confirm a revocation.
type WizRevokeConfirm struct{ Serial, Slot string }

// WizUserCardsOf heads the list of enrolled cards.
type WizUserCardsOf struct{ Cards, Max int }

func (PadEnrolledCount) message()      {}
func (WizAndMore) message()            {}
func (WizAndMoreInline) message()      {}
func (WizPlanCards) message()          {}
func (WizRecordDeleted) message()      {}
func (WizRecordWasDeleted) message()   {}
func (WizNotEnrolledNothing) message() {}
func (WizNotRevokedNothing) message()  {}
func (WizRecordsMismatch) message()    {}
func (WizRecordsNoList) message()      {}
func (WizRecordsKept) message()        {}
func (WizRemovedRecords) message()     {}
func (WizDiscrepancyRemove) message()  {}
func (WizDiscrepancyRestore) message() {}
func (WizDiscrepancyBoth) message()    {}
func (WizSlotNoCards) message()        {}
func (WizSlotFull) message()           {}
func (WizSlotHas) message()            {}
func (WizSlotLabelNext) message()      {}
func (WizCardLabelRule) message()      {}
func (WizEnrollIntro) message()        {}
func (WizActivateIntro) message()      {}
func (WizAlreadyEnrolled) message()    {}
func (WizNotUsableRecord) message()    {}
func (WizRefusedRecord) message()      {}
func (WizEnrollConfirm) message()      {}
func (WizSlotActive) message()         {}
func (WizCardNotEnrolled) message()    {}
func (WizCardNotActivated) message()   {}
func (WizCardEnrolled) message()       {}
func (WorkRenewing) message()          {}
func (WorkRevoking) message()          {}
func (WizSlotName) message()           {}
func (WizEnrolledOf) message()         {}
func (WizLabelField) message()         {}
func (WizNotRevoked) message()         {}
func (WizRevoked) message()            {}
func (WizCannotRevoke) message()       {}
func (WizRevokeConfirm) message()      {}
func (WizUserCardsOf) message()        {}

// Logging in to the HSM, choosing among several readers, the instructor's menu.
const (
	WizLoginNoMemory     ID = "WizLoginNoMemory"
	WizLoginPINFirst     ID = "WizLoginPINFirst"
	WizLoginFailed       ID = "WizLoginFailed"
	WizLoginTitle        ID = "WizLoginTitle"
	WizLoginTokenPIN     ID = "WizLoginTokenPIN"
	WizLoginSOPIN        ID = "WizLoginSOPIN"
	WizLoginQuitting     ID = "WizLoginQuitting"
	WizLoggingIn         ID = "WizLoggingIn"
	WizChooseReader      ID = "WizChooseReader"
	WizChooseReaderIntro ID = "WizChooseReaderIntro"
	WizChooseReaderAgain ID = "WizChooseReaderAgain"
	WizInstructorBanner  ID = "WizInstructorBanner"
)

// WizLoginIntro asks the token user PIN of the HSM.
type WizLoginIntro struct{ HSM string }

// WizLoginSOIntro asks the SO PIN of the user card token.
type WizLoginSOIntro struct{ Token string }

// WizInstructorSaid is what the instructor's last action did.
type WizInstructorSaid struct{ Text string }

// WizTrainingFaults is what the trainer has set up.
type WizTrainingFaults struct{ List string }

func (WizLoginIntro) message()     {}
func (WizLoginSOIntro) message()   {}
func (WizInstructorSaid) message() {}
func (WizTrainingFaults) message() {}

// The error classifier's words (wizard/problem.go): for each cause what happened (Cause...) and what to do (Cause...Advice).
const (
	CauseWrongPIN              ID = "CauseWrongPIN"
	CausePINFormatAdvice       ID = "CausePINFormatAdvice"
	CauseForeign               ID = "CauseForeign"
	CauseForeignAdvice         ID = "CauseForeignAdvice"
	CauseNoCard                ID = "CauseNoCard"
	CauseRemoved               ID = "CauseRemoved"
	CauseReset                 ID = "CauseReset"
	CauseMute                  ID = "CauseMute"
	CauseMuteAdvice            ID = "CauseMuteAdvice"
	CauseShareMismatch         ID = "CauseShareMismatch"
	CauseUnplugged             ID = "CauseUnplugged"
	CauseUnpluggedAdvice       ID = "CauseUnpluggedAdvice"
	CauseNoService             ID = "CauseNoService"
	CauseNoServiceAdvice       ID = "CauseNoServiceAdvice"
	CauseSharing               ID = "CauseSharing"
	CauseSharingAdvice         ID = "CauseSharingAdvice"
	CausePadTimeout            ID = "CausePadTimeout"
	CausePadCancelled          ID = "CausePadCancelled"
	CausePadMismatch           ID = "CausePadMismatch"
	CausePadLength             ID = "CausePadLength"
	CausePadParams             ID = "CausePadParams"
	CausePadParamsAdvice       ID = "CausePadParamsAdvice"
	CausePadNoChange           ID = "CausePadNoChange"
	CauseTokenWrongPIN         ID = "CauseTokenWrongPIN"
	CauseTokenWrongPINAdvice   ID = "CauseTokenWrongPINAdvice"
	CauseTokenLocked           ID = "CauseTokenLocked"
	CauseTokenLockedAdvice     ID = "CauseTokenLockedAdvice"
	CauseModule                ID = "CauseModule"
	CauseModuleAdvice          ID = "CauseModuleAdvice"
	CauseTokenNotFound         ID = "CauseTokenNotFound"
	CauseTokenNotFoundAdvice   ID = "CauseTokenNotFoundAdvice"
	CauseTemplate              ID = "CauseTemplate"
	CauseTemplateAdvice        ID = "CauseTemplateAdvice"
	CauseSOPINNeeded           ID = "CauseSOPINNeeded"
	CauseHSMKCV                ID = "CauseHSMKCV"
	CauseHSMTimeout            ID = "CauseHSMTimeout"
	CauseHSMTimeoutAdvice      ID = "CauseHSMTimeoutAdvice"
	CauseHSMFailed             ID = "CauseHSMFailed"
	CauseHSMFailedAdvice       ID = "CauseHSMFailedAdvice"
	CauseSlotFullAdvice        ID = "CauseSlotFullAdvice"
	CauseAlreadyEnrolled       ID = "CauseAlreadyEnrolled"
	CauseAlreadyEnrolledAdvice ID = "CauseAlreadyEnrolledAdvice"
	CauseNotEnrolled           ID = "CauseNotEnrolled"
	CauseKeyChanged            ID = "CauseKeyChanged"
	CauseDuplicateRecords      ID = "CauseDuplicateRecords"
	CauseWrapRefused           ID = "CauseWrapRefused"
	CauseStaleRecord           ID = "CauseStaleRecord"
	CauseRecordRefused         ID = "CauseRecordRefused"
	CauseCannotUnwrap          ID = "CauseCannotUnwrap"
	CauseCannotUnwrapAdvice    ID = "CauseCannotUnwrapAdvice"
	CauseDamagedAnswer         ID = "CauseDamagedAnswer"
	CauseNoUserPIN             ID = "CauseNoUserPIN"
	CauseNoUserPINAdvice       ID = "CauseNoUserPINAdvice"
	CauseUserRecord            ID = "CauseUserRecord"
	CauseUserRecordAdvice      ID = "CauseUserRecordAdvice"
	CauseRebuild               ID = "CauseRebuild"
	CauseStopped               ID = "CauseStopped"
	CauseUnknown               ID = "CauseUnknown"
	CauseUnknownAdvice         ID = "CauseUnknownAdvice"
	CauseRecordsAdvice         ID = "CauseRecordsAdvice"
	CauseBlockedAdvice         ID = "CauseBlockedAdvice"
	CauseStorageAdvice         ID = "CauseStorageAdvice"
)

// CauseBlocked: the slot PIN is blocked.
type CauseBlocked struct{ Slot string }

// CausePINFormat: a PIN typed on the host is not Min to Max digits.
type CausePINFormat struct{ Min, Max int }

// CauseStorage: the simulated card's file could not be saved.
type CauseStorage struct{ Path string }

// CauseSlotFull: the slot has as many user cards as it can.
type CauseSlotFull struct{ Max int }

// CauseSOPINNeededAdvice says where the SO PIN goes.
type CauseSOPINNeededAdvice struct{ Env string }

func (CauseBlocked) message()           {}
func (CausePINFormat) message()         {}
func (CauseStorage) message()           {}
func (CauseSlotFull) message()          {}
func (CauseSOPINNeededAdvice) message() {}

// The instructor's menu on the simulated reader (package scenario): what each key does, what it did, what is set up.
const (
	InstrPull         ID = "InstrPull"
	InstrPullArmed    ID = "InstrPullArmed"
	InstrTear         ID = "InstrTear"
	InstrTearArmed    ID = "InstrTearArmed"
	InstrUnplug       ID = "InstrUnplug"
	InstrReplugged    ID = "InstrReplugged"
	InstrMute         ID = "InstrMute"
	InstrMuteArmed    ID = "InstrMuteArmed"
	InstrGarble       ID = "InstrGarble"
	InstrGarbleArmed  ID = "InstrGarbleArmed"
	InstrNoise        ID = "InstrNoise"
	InstrNoiseArmed   ID = "InstrNoiseArmed"
	InstrForeign      ID = "InstrForeign"
	InstrForeignProp  ID = "InstrForeignProp"
	InstrBlocked      ID = "InstrBlocked"
	InstrBlockedProp  ID = "InstrBlockedProp"
	InstrOtherSet     ID = "InstrOtherSet"
	InstrOtherSetProp ID = "InstrOtherSetProp"
	InstrClear        ID = "InstrClear"
	InstrCleared      ID = "InstrCleared"
	InstrInsertFirst  ID = "InstrInsertFirst"
	InstrProp         ID = "InstrProp"
	InstrUnplugged    ID = "InstrUnplugged"
)

// InstrMuted: the card in the reader stopped answering.
type InstrMuted struct{ Card int }

// InstrArmed: a fault (its scenario name) is armed.
type InstrArmed struct{ Fault string }

// InstrSwapped: deck card Card is swapped for a prop (What, an Instr...Prop).
type InstrSwapped struct {
	Card int
	What string
}

// InstrNoCard: the deck has no card Card.
type InstrNoCard struct{ Card int }

// InstrAlreadyProp: deck card Card is swapped already.
type InstrAlreadyProp struct{ Card int }

func (InstrMuted) message()       {}
func (InstrArmed) message()       {}
func (InstrSwapped) message()     {}
func (InstrNoCard) message()      {}
func (InstrAlreadyProp) message() {}
