package i18n

// The key ceremony protocol's messages (package protocol, `hsmcards
// report`): its headings, field labels, table headers and sentences.
const (
	ReportTitle           ID = "ReportTitle"
	ReportNoCeremony      ID = "ReportNoCeremony"
	ReportNoEnd           ID = "ReportNoEnd"
	ReportFieldHost       ID = "ReportFieldHost"
	ReportFieldProgram    ID = "ReportFieldProgram"
	ReportFieldTrailLines ID = "ReportFieldTrailLines"
	ReportFieldEnded      ID = "ReportFieldEnded"
	ReportFieldTime       ID = "ReportFieldTime"
	ReportFieldLabel      ID = "ReportFieldLabel"
	ReportFieldKeySetID   ID = "ReportFieldKeySetID"
	ReportFieldGeneration ID = "ReportFieldGeneration"
	ReportFieldQuorum     ID = "ReportFieldQuorum"
	ReportFieldKCV        ID = "ReportFieldKCV"
	ReportFieldHSM        ID = "ReportFieldHSM"
	ReportFieldReader     ID = "ReportFieldReader"
	ReportFieldOutcome    ID = "ReportFieldOutcome"
	ReportFailuresNone    ID = "ReportFailuresNone"
	ReportFailuresHeading ID = "ReportFailuresHeading"
	ReportColTime         ID = "ReportColTime"
	ReportColCard         ID = "ReportColCard"
	ReportColWhat         ID = "ReportColWhat"
	ReportColRecovered    ID = "ReportColRecovered"
	ReportNotRecovered    ID = "ReportNotRecovered"
	ReportNoCard          ID = "ReportNoCard"
	ReportColRole         ID = "ReportColRole"
	ReportColName         ID = "ReportColName"
	ReportColSignature    ID = "ReportColSignature"
	ReportRoleHolder      ID = "ReportRoleHolder"
	ReportRoleOperator    ID = "ReportRoleOperator"
	ReportRoleWitness     ID = "ReportRoleWitness"
	ReportSignaturesText  ID = "ReportSignaturesText"
	ReportColSerial       ID = "ReportColSerial"
	ReportColShareX       ID = "ReportColShareX"
	ReportColTriesLeft    ID = "ReportColTriesLeft"
	ReportColDone         ID = "ReportColDone"
	ReportSeal            ID = "ReportSeal"
	ReportFieldTrail      ID = "ReportFieldTrail"
	ReportFieldTrailID    ID = "ReportFieldTrailID"
	ReportFieldLines      ID = "ReportFieldLines"
	ReportFieldFinalHash  ID = "ReportFieldFinalHash"
	ReportFieldShortForm  ID = "ReportFieldShortForm"
	ReportFieldPlaceDate  ID = "ReportFieldPlaceDate"
)

// ReportIntro opens the protocol: the trail's file name and ID, and the
// time it spans.
type ReportIntro struct{ Trail, TrailID, Period string }

// ReportSession heads session Number, over Period.
type ReportSession struct {
	Number int
	Period string
}

// ReportEndedError: the session ended at Clock on an error the trail does
// not name; ReportEndedFailed with the trail's words for it.
type (
	ReportEndedError  struct{ Clock string }
	ReportEndedFailed struct{ Clock, Detail string }
)

// ReportLineRange is a range of trail lines.
type ReportLineRange struct{ From, To int }

// ReportCeremony heads ceremony Number ("1.2"): its Title and Outcome.
type ReportCeremony struct{ Number, Title, Outcome string }

// ReportQuorum is a quorum: K of N cards.
type ReportQuorum struct{ K, N int }

// ReportOutcomeDetail is an outcome with the trail's words for it.
type ReportOutcomeDetail struct{ Outcome, Detail string }

// ReportWhat is what happened in a failure: the step and its outcome, and
// ReportWhatDetail with the trail's words for it.
type (
	ReportWhat       struct{ Step, Outcome string }
	ReportWhatDetail struct{ Step, Outcome, Detail string }
)

// ReportRecovered is when and by what a failure was recovered.
type ReportRecovered struct{ Clock, By string }

// How a failure was recovered: the same step tried again on the same card,
// done with another card, or done (no card).
type (
	ReportByRetry     struct{ Step string }
	ReportByOtherCard struct{ Step, Card string }
)

// ReportPeople heads the people present at session Number.
type ReportPeople struct{ Number int }

// ReportSealText explains the final hash of line Line of trail Trail.
type ReportSealText struct {
	Line  int
	Trail string
}

// ReportPDFTitle is the PDF's title (its metadata).
type ReportPDFTitle struct{ TrailID string }

// ReportFooter is the foot of every PDF page; Pages is the PDF's own
// placeholder for the number of pages.
type ReportFooter struct {
	TrailID, Hash string
	Page          int
	Pages         string
}

func (ReportIntro) message()         {}
func (ReportSession) message()       {}
func (ReportEndedError) message()    {}
func (ReportEndedFailed) message()   {}
func (ReportLineRange) message()     {}
func (ReportCeremony) message()      {}
func (ReportOutcomeDetail) message() {}
func (ReportQuorum) message()        {}
func (ReportWhat) message()          {}
func (ReportWhatDetail) message()    {}
func (ReportRecovered) message()     {}
func (ReportByRetry) message()       {}
func (ReportByOtherCard) message()   {}
func (ReportPeople) message()        {}
func (ReportSealText) message()      {}
func (ReportPDFTitle) message()      {}
func (ReportFooter) message()        {}
