package i18n

// Messages more than one part of the program says. Each ID's value is its
// name; en.toml and de.toml hold the words.

// Date and time layouts (Go's reference time, Mon Jan 2 15:04:05 2006):
// a language's catalog says how it writes a day and a time. Printer.Date,
// Clock and DateTime use them.
const (
	FormatDate     ID = "FormatDate"
	FormatClock    ID = "FormatClock"
	FormatDateTime ID = "FormatDateTime"
	// To the minute, for what people read at a glance (the wizard's
	// screens): Printer.ClockMinutes and DateTimeMinutes.
	FormatClockMinutes    ID = "FormatClockMinutes"
	FormatDateTimeMinutes ID = "FormatDateTimeMinutes"
)

// The operations, named as the wizard's main menu names them (the report
// heads its ceremonies with them too).
const (
	OpInstall       ID = "OpInstall"
	OpLoad          ID = "OpLoad"
	OpCopy          ID = "OpCopy"
	OpChangePIN     ID = "OpChangePIN"
	OpInspect       ID = "OpInspect"
	OpEnroll        ID = "OpEnroll"
	OpActivate      ID = "OpActivate"
	OpRevoke        ID = "OpRevoke"
	OpVerify        ID = "OpVerify"
	OpReissue       ID = "OpReissue"
	OpErase         ID = "OpErase"
	OpUnnamed       ID = "OpUnnamed"
	ListSeparator   ID = "ListSeparator"   // between the items of a list: ", "
	NotRecorded     ID = "NotRecorded"     // a value the trail does not say
	NothingComplete ID = "NothingComplete" // nothing was done with a card
)

// How something ended (audit.Outcome), in words.
const (
	OutcomeOK        ID = "OutcomeOK"
	OutcomeWrongPIN  ID = "OutcomeWrongPIN"
	OutcomeBlocked   ID = "OutcomeBlocked"
	OutcomeRefused   ID = "OutcomeRefused"
	OutcomeTimeout   ID = "OutcomeTimeout"
	OutcomeRemoved   ID = "OutcomeRemoved"
	OutcomeNoReader  ID = "OutcomeNoReader"
	OutcomeCancelled ID = "OutcomeCancelled"
	OutcomeError     ID = "OutcomeError"
	OutcomeNone      ID = "OutcomeNone" // no summary was recorded
)

// What a step did (audit.Step), in words; the Done words are what a step
// that went well did with a card.
const (
	StepStart     ID = "StepStart"
	StepGenerate  ID = "StepGenerate"
	StepIdentify  ID = "StepIdentify"
	StepVerifyPIN ID = "StepVerifyPIN"
	StepChangePIN ID = "StepChangePIN"
	StepWriteCard ID = "StepWriteCard"
	StepReadCard  ID = "StepReadCard"
	StepLoadHSM   ID = "StepLoadHSM"
	StepSummary   ID = "StepSummary"
	StepEnd       ID = "StepEnd"
	StepVerdict   ID = "StepVerdict"
	StepRebuild   ID = "StepRebuild"
	StepPlan      ID = "StepPlan"
	StepCommit    ID = "StepCommit"
	StepErase     ID = "StepErase"
	StepRegister  ID = "StepRegister"
	DoneInspected ID = "DoneInspected"
	DoneEnrolled  ID = "DoneEnrolled"
	DoneActivated ID = "DoneActivated"
	DoneRevoked   ID = "DoneRevoked"
)

// Verbatim is text that is not the catalog's: a name, a path, an error of a
// lower layer that no classification knows, shown as it is.
type Verbatim struct{ Text string }

// TimeSpan is a stretch of time within one day: Day, then From to To.
type TimeSpan struct{ Day, From, To string }

// TimeSpanDays is a stretch of time over two days.
type TimeSpanDays struct{ FromDay, From, ToDay, To string }

func (Verbatim) message()     {}
func (TimeSpan) message()     {}
func (TimeSpanDays) message() {}
