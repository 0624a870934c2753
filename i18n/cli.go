package i18n

// The command line's messages (package main): help, refusals, hints, the
// text of inspect, audit verify and vpcd.

// Help: headings, synopses and each command's words. A flag's words name
// its value in `backquotes` (FILE, DATEI), as the flag package does.
const (
	HelpFlagsHeading    ID = "HelpFlagsHeading"
	HelpCommandsHeading ID = "HelpCommandsHeading"
	HelpFlagsSynopsis   ID = "HelpFlagsSynopsis" // "[flags]" in a synopsis
	HelpMore            ID = "HelpMore"

	HelpWizardAbout           ID = "HelpWizardAbout"
	HelpFlagReader            ID = "HelpFlagReader"
	HelpFlagSimDir            ID = "HelpFlagSimDir"
	HelpFlagSimCards          ID = "HelpFlagSimCards"
	HelpFlagSimPace           ID = "HelpFlagSimPace"
	HelpFlagAPDULog           ID = "HelpFlagAPDULog"
	HelpFlagAudit             ID = "HelpFlagAudit"
	HelpFlagInsertTimeout     ID = "HelpFlagInsertTimeout"
	HelpFlagPINTimeout        ID = "HelpFlagPINTimeout"
	HelpFlagHSM               ID = "HelpFlagHSM"
	HelpFlagPKCS11Module      ID = "HelpFlagPKCS11Module"
	HelpFlagPKCS11Token       ID = "HelpFlagPKCS11Token"
	HelpFlagPKCS11UserToken   ID = "HelpFlagPKCS11UserToken"
	HelpFlagScenario          ID = "HelpFlagScenario"
	HelpFlagLang              ID = "HelpFlagLang"
	HelpHelpArgs              ID = "HelpHelpArgs"
	HelpHelpSummary           ID = "HelpHelpSummary"
	HelpHelpAbout             ID = "HelpHelpAbout"
	HelpVPCDArgs              ID = "HelpVPCDArgs"
	HelpVPCDSummary           ID = "HelpVPCDSummary"
	HelpVPCDAbout             ID = "HelpVPCDAbout"
	HelpFlagAllowRemote       ID = "HelpFlagAllowRemote"
	HelpInspectSummary        ID = "HelpInspectSummary"
	HelpInspectAbout          ID = "HelpInspectAbout"
	HelpInspectExits          ID = "HelpInspectExits"
	HelpFlagInspectReader     ID = "HelpFlagInspectReader"
	HelpFlagInspectCard       ID = "HelpFlagInspectCard"
	HelpFlagInspectAPDULog    ID = "HelpFlagInspectAPDULog"
	HelpFlagInspectJSON       ID = "HelpFlagInspectJSON"
	HelpReportArgs            ID = "HelpReportArgs"
	HelpReportFlagsSynopsis   ID = "HelpReportFlagsSynopsis"
	HelpReportSummary         ID = "HelpReportSummary"
	HelpReportAbout           ID = "HelpReportAbout"
	HelpFlagReportOutput      ID = "HelpFlagReportOutput"
	HelpVerifyArgs            ID = "HelpVerifyArgs"
	HelpVerifySummary         ID = "HelpVerifySummary"
	HelpVerifyAbout           ID = "HelpVerifyAbout"
	HelpVerifyExits           ID = "HelpVerifyExits"
	HintHelpWizard            ID = "HintHelpWizard"
	HintHelpList              ID = "HintHelpList"
	HintTrailHeld             ID = "HintTrailHeld"
	HintMakeDeck              ID = "HintMakeDeck"
	HintDeckHeld              ID = "HintDeckHeld"
	HintSimHSMHeld            ID = "HintSimHSMHeld"
	HintVPCDRemote            ID = "HintVPCDRemote"
	HintUnsafeSymlink         ID = "HintUnsafeSymlink"
	HintUnsafeNotRegular      ID = "HintUnsafeNotRegular"
	HintUnsafeNotDir          ID = "HintUnsafeNotDir"
	HintUnsafeParentNotDir    ID = "HintUnsafeParentNotDir"
	HintUnsafeParentOpen      ID = "HintUnsafeParentOpen"
	HintUnsafeOwner           ID = "HintUnsafeOwner"
	CLILangValue              ID = "CLILangValue"
	HintStartPCSCD            ID = "HintStartPCSCD"
	CLIAuditOneCommand        ID = "CLIAuditOneCommand"
	CLICardNeedsSim           ID = "CLICardNeedsSim"
	CLIReportWhichTrail       ID = "CLIReportWhichTrail"
	CLIVerifyWhichTrail       ID = "CLIVerifyWhichTrail"
	CLIVPCDWhichCard          ID = "CLIVPCDWhichCard"
	CLINeedsModule            ID = "CLINeedsModule"
	CLIScenarioNeedsSim       ID = "CLIScenarioNeedsSim"
	CLINotDuration            ID = "CLINotDuration"
	CLIPositive               ID = "CLIPositive"
	CLINotBool                ID = "CLINotBool"
	CLINoPCSCService          ID = "CLINoPCSCService"
	CLINoReader               ID = "CLINoReader"
	CLINoPCSCSupport          ID = "CLINoPCSCSupport"
	InspectLabelReader        ID = "InspectLabelReader"
	InspectLabelCard          ID = "InspectLabelCard"
	InspectLabelATR           ID = "InspectLabelATR"
	InspectLabelTCOS          ID = "InspectLabelTCOS"
	InspectLabelAppliance     ID = "InspectLabelAppliance"
	InspectLabelSerial        ID = "InspectLabelSerial"
	InspectLabelBackupKeyPIN  ID = "InspectLabelBackupKeyPIN"
	InspectLabelPKCS11UserPIN ID = "InspectLabelPKCS11UserPIN"
	InspectLabelShareRecord   ID = "InspectLabelShareRecord"
	InspectNoCard             ID = "InspectNoCard"
	InspectNoCardSimHint      ID = "InspectNoCardSimHint"
	InspectTCOSYes            ID = "InspectTCOSYes"
	InspectTCOSNo             ID = "InspectTCOSNo"
	InspectNotAppliance       ID = "InspectNotAppliance"
	InspectBlocked            ID = "InspectBlocked"
	InspectSlotMissing        ID = "InspectSlotMissing"
	InspectShareUnread        ID = "InspectShareUnread"
	InspectNoPINSpent         ID = "InspectNoPINSpent"
)

// HelpUsage is a help's first line; Synopsis is "hsmcards report [-o FILE]
// TRAIL".
type HelpUsage struct{ Synopsis string }

// HelpDefault is a flag's words and its default value.
type HelpDefault struct{ Usage, Default string }

// HintHelpCommand points at one command's help.
type HintHelpCommand struct{ Command string }

// HintChain says what to do with a trail that does not verify.
type HintChain struct{ Path string }

// HintWhichReader lists the readers to choose from (each quoted).
type HintWhichReader struct{ Names string }

// HintVerifyFirst: a report was refused for a trail that does not verify.
type HintVerifyFirst struct{ Path string }

// HintChmod is how to make a file or directory private.
type HintChmod struct{ Mode, Path string }

// CLIHint is the line after an error that says what to do.
type CLIHint struct{ Hint string }

// CLIWarning is a warning on the way (the program goes on).
type CLIWarning struct{ Warning string }

// CLINoCommand: "help NAME" for a command that does not exist.
type CLINoCommand struct{ Name string }

// CLICommandFirst: a command's name after the wizard's flags.
type CLICommandFirst struct{ Arg, Command string }

// CLIUnexpectedArgWizard is an argument the wizard does not take.
type CLIUnexpectedArgWizard struct{ Arg string }

// CLIUnexpectedArg is an argument a command does not take.
type CLIUnexpectedArg struct{ Arg string }

// CLICoreDumps: the process could not keep its memory out of core dumps.
type CLICoreDumps struct{ Cause string }

// CLIPreemption: the process could not turn signal-based preemption off.
type CLIPreemption struct{ Cause string }

// CLIUnknownReader is a --reader value that names no reader kind.
type CLIUnknownReader struct{ Reader string }

// CLIUnknownHSM is a --hsm value that names no HSM kind.
type CLIUnknownHSM struct{ HSM string }

// CLINotAFlag is an argument that looks like a flag and is none.
type CLINotAFlag struct{ Arg string }

// CLIUnknownFlag is a flag the command does not have.
type CLIUnknownFlag struct{ Name string }

// CLIFlagNeedsValue is a flag at the end without its value.
type CLIFlagNeedsValue struct{ Name string }

// CLIFlagBadValue is a flag's value that was refused, and why.
type CLIFlagBadValue struct{ Name, Value, Problem string }

// CLIDeckSize: --sim-cards is 1 to Max.
type CLIDeckSize struct{ Max int }

// CLIPace: --sim-pace is 0 to Max.
type CLIPace struct{ Max int }

// CLICardNumber: a simulated card is numbered 1 to Max.
type CLICardNumber struct{ Max int }

// CLIDeckRange: the deck has Count cards, and Card is not one of them.
type CLIDeckRange struct{ Count, Card int }

// CLIFlagPath is a path a flag named that was refused, and why.
type CLIFlagPath struct{ Flag, Cause string }

// CLIEnvVar is an environment variable that could not be used, and why.
type CLIEnvVar struct{ Name, Cause string }

// CLIAuditTrail is a problem with the audit trail.
type CLIAuditTrail struct{ Cause string }

// CLIOpenSimHSM: the simulated HSM could not be opened.
type CLIOpenSimHSM struct{ Cause string }

// CLIReadScenario: the scenario file could not be read.
type CLIReadScenario struct{ Cause string }

// CLIScenarioApply: the scenario does not fit the deck.
type CLIScenarioApply struct{ Path, Cause string }

// CLINoDeck: --sim-dir holds no deck.
type CLINoDeck struct{ Dir string }

// CLISimDeck is a problem with the simulated deck.
type CLISimDeck struct{ Cause string }

// CLIOpenDeck: the simulated deck could not be opened.
type CLIOpenDeck struct{ Cause string }

// CLISimHSM is a problem with the simulated HSM's state.
type CLISimHSM struct{ Cause string }

// CLIHeld: another process holds Path.
type CLIHeld struct{ Path string }

// CLIHeldBy: process PID holds Path.
type CLIHeldBy struct {
	Path string
	PID  int
}

// CLINotFound: Path does not exist.
type CLINotFound struct{ Path string }

// CLIPermission: Path may not be read or written.
type CLIPermission struct{ Path string }

// The refusals of a path someone else could reach through
// (internal/safefile): a link, not the kind of file asked for, open to
// others (Mode in octal), in a directory others may write, someone else's.
type (
	CLIUnsafeSymlink      struct{ Path string }
	CLIUnsafeNotRegular   struct{ Path string }
	CLIUnsafeNotDir       struct{ Path string }
	CLIUnsafeTooOpen      struct{ Path, Mode string }
	CLIUnsafeParentNotDir struct{ Path string }
	CLIUnsafeParentOpen   struct{ Path, Mode, Name string }
	CLIUnsafeOwner        struct {
		Path      string
		Owner, Me int
	}
)

// CLIChainError is the first line of a trail that does not fit its chain;
// Reason is the audit package's, in English.
type CLIChainError struct {
	Line   int
	Reason string
}

// CLITrailNotVerified: a trail that does not verify gets no protocol.
type CLITrailNotVerified struct{ Path, Cause string }

// CLIMultipleReaders: several PC/SC readers, none chosen.
type CLIMultipleReaders struct {
	Count int
	Names string
}

// CLIReportFormat: -o names neither .pdf nor .md.
type CLIReportFormat struct{ Path string }

// CLIReportWrote: the protocol was written.
type CLIReportWrote struct{ Trail, Out, Hash string }

// CLIVerifyNotIntact: the trail does not verify.
type CLIVerifyNotIntact struct{ Path, Cause string }

// CLIVerifyLine shows the line that does not fit.
type CLIVerifyLine struct {
	Line int
	Text string
}

// CLIVerifyIntact: the trail verifies; Count lines from From to To (UTC).
type CLIVerifyIntact struct {
	Path     string
	Count    int
	ID       string
	From, To string
}

// CLIVerifyFinalHash is the trail's head in full.
type CLIVerifyFinalHash struct {
	Line int
	Hash string
}

// CLIVerifyShortForm is the head's short form.
type CLIVerifyShortForm struct{ Hash string }

// CLIVPCDCardNumber: the CARD argument is not a card number.
type CLIVPCDCardNumber struct{ Arg string }

// CLIVPCDServing: the card is being served.
type CLIVPCDServing struct {
	Card   int
	Serial string
	Addr   string
}

// CLIVPCDLost: the bridge lost vpcd (pcscd stopped, say) and tries again.
type CLIVPCDLost struct {
	Cause string
	Wait  string
}

// CLINotHostPort, CLINotPort: a vpcd address that cannot be one.
type (
	CLINotHostPort struct{ Addr string }
	CLINotPort     struct{ Port string }
)

// CLIVPCDRemote: the vpcd address is on another machine.
type CLIVPCDRemote struct{ Addr string }

// HSMTokenSlot, HSMTokenLabel and HSMTokenOnly name a PKCS#11 token before
// it is open.
type (
	HSMTokenSlot  struct{ Slot uint }
	HSMTokenLabel struct{ Label string }
)

// HSMTokenOnly names the module's only token; HSMSimulated the simulated
// HSM, for the wizard's screens.
const (
	HSMTokenOnly ID = "HSMTokenOnly"
	HSMSimulated ID = "HSMSimulated"
)

// InspectSimCard: the simulated card in the reader.
type InspectSimCard struct{ Card int }

// InspectTriesLeft: a slot PIN's tries left of Max.
type InspectTriesLeft struct{ Left, Max int }

func (HelpUsage) message()              {}
func (HelpDefault) message()            {}
func (HintHelpCommand) message()        {}
func (HintChain) message()              {}
func (HintWhichReader) message()        {}
func (HintVerifyFirst) message()        {}
func (HintChmod) message()              {}
func (CLIHint) message()                {}
func (CLIWarning) message()             {}
func (CLINoCommand) message()           {}
func (CLICommandFirst) message()        {}
func (CLIUnexpectedArgWizard) message() {}
func (CLIUnexpectedArg) message()       {}
func (CLICoreDumps) message()           {}
func (CLIPreemption) message()          {}
func (CLIUnknownReader) message()       {}
func (CLIUnknownHSM) message()          {}
func (CLINotAFlag) message()            {}
func (CLIUnknownFlag) message()         {}
func (CLIFlagNeedsValue) message()      {}
func (CLIFlagBadValue) message()        {}
func (CLIDeckSize) message()            {}
func (CLIPace) message()                {}
func (CLICardNumber) message()          {}
func (CLIDeckRange) message()           {}
func (CLIFlagPath) message()            {}
func (CLIEnvVar) message()              {}
func (CLIAuditTrail) message()          {}
func (CLIOpenSimHSM) message()          {}
func (CLIReadScenario) message()        {}
func (CLIScenarioApply) message()       {}
func (CLINoDeck) message()              {}
func (CLISimDeck) message()             {}
func (CLIOpenDeck) message()            {}
func (CLISimHSM) message()              {}
func (CLIHeld) message()                {}
func (CLIHeldBy) message()              {}
func (CLINotFound) message()            {}
func (CLIPermission) message()          {}
func (CLIUnsafeSymlink) message()       {}
func (CLIUnsafeNotRegular) message()    {}
func (CLIUnsafeNotDir) message()        {}
func (CLIUnsafeTooOpen) message()       {}
func (CLIUnsafeParentNotDir) message()  {}
func (CLIUnsafeParentOpen) message()    {}
func (CLIUnsafeOwner) message()         {}
func (CLIChainError) message()          {}
func (CLITrailNotVerified) message()    {}
func (CLIMultipleReaders) message()     {}
func (CLIReportFormat) message()        {}
func (CLIReportWrote) message()         {}
func (CLIVerifyNotIntact) message()     {}
func (CLIVerifyLine) message()          {}
func (CLIVerifyIntact) message()        {}
func (CLIVerifyFinalHash) message()     {}
func (CLIVerifyShortForm) message()     {}
func (CLIVPCDCardNumber) message()      {}
func (CLIVPCDServing) message()         {}
func (CLIVPCDLost) message()            {}
func (CLINotHostPort) message()         {}
func (CLINotPort) message()             {}
func (CLIVPCDRemote) message()          {}
func (HSMTokenSlot) message()           {}
func (HSMTokenLabel) message()          {}
func (InspectSimCard) message()         {}
func (InspectTriesLeft) message()       {}
