// Package audit writes the audit trail that --audit FILE asks for, and reads
// it back for `hsmcards audit verify` and `hsmcards report`: one JSON object
// per line, appended, flushed and synced to disk as each event happens, so
// that `jq` can tell the story of a ceremony even if the machine dies in the
// middle of it.
//
// The lines form a hash chain (docs/audit.md): the first line anchors the
// trail (a random trail ID, the start time, the program's version, the host)
// and every later line carries the SHA-256 of the line before. Changing,
// removing or reordering a line breaks the chain at the next line, and the
// last line's hash (Head), printed on the signed ceremony protocol, seals
// everything before it: a chain alone cannot show that its tail was cut or
// that someone rewrote it whole, the printed hash can.
//
// An Event has typed fields only, no free-form map, so that a PIN, a share or
// a key cannot slip into the trail by accident. Callers must still never put
// a secret in any field, above all not in Detail: Record refuses details that
// look like a PIN and hex fields long enough to hold a key or a share, but
// those checks are a safety net, not a licence. Text from outside (reader
// names, token messages, labels) is cleaned of control characters and escape
// sequences before it is written (internal/safetext).
package audit

import (
	"errors"
	"strings"
	"time"

	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/tcos"
)

// Operation is what the operator set out to do.
type Operation string

// The wizard's operations.
const (
	OpInstall   Operation = "install"    // generate a Backup Key and write share cards
	OpLoad      Operation = "load"       // read a quorum of share cards into the HSM
	OpCopy      Operation = "copy"       // copy a share card onto a blank card
	OpChangePIN Operation = "change_pin" // change a slot PIN
	OpInspect   Operation = "inspect"    // look at a card without changing it
	OpEnroll    Operation = "enroll"     // make a PKCS#11 slot user card
	OpActivate  Operation = "activate"   // activate a PKCS#11 slot with its user card
	OpSession   Operation = "session"    // the program itself: start and end
	// OpRevoke is revoking a PKCS#11 slot user card.
	OpRevoke Operation = "revoke"
	// The card set's life (docs/lifecycle.md).
	OpVerify  Operation = "verify"  // check every card of a card set presented, writing nothing
	OpReissue Operation = "reissue" // split the same Backup Key anew onto a new card set
	OpErase   Operation = "erase"   // clear a card's Backup Key share slot
)

// Step is one step of an operation.
type Step string

// Steps the wizard records.
const (
	StepStart     Step = "start"      // the operation began
	StepGenerate  Step = "generate"   // a Backup Key was generated
	StepIdentify  Step = "identify"   // a card was inserted and recognised
	StepVerifyPIN Step = "verify_pin" // the card holder entered a PIN
	StepChangePIN Step = "change_pin" // the card holder changed a PIN
	StepWriteCard Step = "write_card" // a share record was written
	StepReadCard  Step = "read_card"  // a share record was read
	StepLoadHSM   Step = "load_hsm"   // the Backup Key went into the HSM
	StepSummary   Step = "summary"    // the closing event of an operation
	StepEnd       Step = "end"        // the operation ended without a summary
	// StepAnchor is the trail's first line (OpSession), which starts the chain.
	StepAnchor Step = "anchor"
	// The card set's life (docs/lifecycle.md).
	StepVerdict  Step = "verdict"    // a verify's finding about one card (Detail: the verdict)
	StepRebuild  Step = "rebuild"    // a re-issue rebuilt the key from its quorum
	StepPlan     Step = "plan"       // a re-issue's new card set was recorded as uncommitted
	StepCommit   Step = "commit"     // a re-issue's new card set became current
	StepErase    Step = "erase_card" // a card's Backup Key share slot was cleared
	StepRegister Step = "register"   // the HSM's card-set register was updated
)

// Slot names a card slot (docs/tcos.md, the card profile: DF 4B00 and
// DF 4C00).
type Slot string

// The card slots.
const (
	SlotBackupKey  Slot = "backup_key"  // DF 4B00, the Backup Key share slot
	SlotPKCS11User Slot = "pkcs11_user" // DF 4C00, the PKCS#11 slot user slot
)

// Outcome is how a step or operation ended.
type Outcome string

// Outcomes.
const (
	OutcomeOK        Outcome = "ok"
	OutcomeWrongPIN  Outcome = "wrong_pin"
	OutcomeBlocked   Outcome = "blocked"
	OutcomeRefused   Outcome = "refused" // we declined, e.g. a card of another key set
	OutcomeTimeout   Outcome = "timeout"
	OutcomeRemoved   Outcome = "removed"   // the card was pulled
	OutcomeNoReader  Outcome = "no_reader" // the reader went away
	OutcomeCancelled Outcome = "cancelled"
	OutcomeError     Outcome = "error"
)

// Event is one line of the audit trail. Hex fields (CardSerial, KeySetID,
// KCV) are written in uppercase, as the wizard shows them.
//
// Never put a PIN, share or key in any field. Detail is for plain words such
// as an error message that is known to hold no secret.
type Event struct {
	// Time is when it happened; Record sets it to now if zero and always
	// writes it in UTC.
	Time      time.Time `json:"time"`
	Operation Operation `json:"operation"`
	Step      Step      `json:"step,omitempty"`
	// CardSerial is the card's ICCSN in hex (tcos.Serial.String()).
	CardSerial string  `json:"card_serial,omitempty"`
	Slot       Slot    `json:"slot,omitempty"`
	Outcome    Outcome `json:"outcome,omitempty"`
	// Detail is plain words. Record refuses it if it holds 6 or more digits
	// in a row.
	Detail string `json:"detail,omitempty"`
	// KeySetID is the Backup Key's key-set ID in hex.
	KeySetID string `json:"key_set_id,omitempty"`
	// KCV is the Backup Key's check value in hex.
	KCV string `json:"kcv,omitempty"`
	// TriesLeft is the PIN tries left on the card, when the card said.
	TriesLeft *int `json:"tries_left,omitempty"`
	// Scheme is the quorum, e.g. "2 of 3".
	Scheme string `json:"scheme,omitempty"`
	// CardsWritten and CardsRead are card serials in hex, in the order
	// they were handled; summary events carry them.
	CardsWritten []string `json:"cards_written,omitempty"`
	CardsRead    []string `json:"cards_read,omitempty"`
	// Label is the appliance label of the Backup Key (the share record's
	// label), or a slot user card's label.
	Label string `json:"label,omitempty"`
	// ShareX is the share's x coordinate (1–255), when the card's record was
	// read or written. It is no secret: a share's x says nothing of the key.
	ShareX int `json:"share_x,omitempty"`
	// Generation is the PKCS#11 slot user PIN's generation (enroll,
	// revoke), or the generation of the card set an event of the card
	// set's life is about (verify, reissue, erase; docs/lifecycle.md).
	Generation uint64 `json:"generation,omitempty"`
	// Reader is the card reader's name.
	Reader string `json:"reader,omitempty"`
	// HSM names the HSM or PKCS#11 token the key went to.
	HSM string `json:"hsm,omitempty"`
}

// Tries returns a pointer to n, for Event.TriesLeft.
func Tries(n int) *int { return &n }

// Summary is the closing event of an install or a load: which cards were
// written or read, how it ended and which key it was about.
type Summary struct {
	Operation    Operation
	Outcome      Outcome
	KeySetID     string
	KCV          string
	Scheme       string
	CardsWritten []string
	CardsRead    []string
	Detail       string
}

// Event turns s into the event Record writes, with Step "summary".
func (s Summary) Event() Event {
	return Event{
		Operation:    s.Operation,
		Step:         StepSummary,
		Outcome:      s.Outcome,
		KeySetID:     s.KeySetID,
		KCV:          s.KCV,
		Scheme:       s.Scheme,
		CardsWritten: s.CardsWritten,
		CardsRead:    s.CardsRead,
		Detail:       s.Detail,
	}
}

// Errors Record returns for events it refuses, for errors.Is. Their text
// never repeats the refused value: it may be the very secret we keep out.
var (
	// ErrDigitsInDetail means Detail holds a run of 6 or more digits.
	ErrDigitsInDetail = errors.New("audit event refused: its detail holds a run of digits that could be a PIN")
	// ErrBadHex means a hex field is not hex or too long to be a serial,
	// key-set ID or KCV.
	ErrBadHex = errors.New("audit event refused: a hex field is not a card serial, key-set ID or KCV")
	// ErrBadShareX means ShareX is not a share's x coordinate.
	ErrBadShareX = errors.New("audit event refused: a share's x is 1 to 255")
	// ErrClosed means the Log was closed.
	ErrClosed = errors.New("audit log is closed")
)

// minPINDigits is the shortest PIN a TCOS slot accepts: a run of that many
// digits in a detail could be a PIN.
const minPINDigits = tcos.MinPINLen

// maxHexBytes is the longest value a hex field may hold: the 16-byte
// key-set ID (quorum.KeySetID). The Backup Key (32 bytes) and a share (33
// bytes) are longer, so neither fits in a hex field even by mistake.
const maxHexBytes = 16

// clean makes the text fields safe for a terminal: what a reader, a token or
// a share record said reaches the trail without control characters or escape
// sequences, which `jq` or `cat` would hand on to the terminal.
func clean(e *Event) {
	for _, s := range []*string{&e.Detail, &e.Scheme, &e.Label, &e.Reader, &e.HSM} {
		*s = safetext.Clean(*s)
	}
}

// check refuses events that may carry a secret.
func check(e *Event) error {
	if e.ShareX < 0 || e.ShareX > 255 {
		return ErrBadShareX
	}
	// PINs are 6 to 15 digits and error messages, counts and tries left
	// never need that many digits in a row, so such a run in free text is
	// far more likely a PIN that leaked into an error string than anything
	// an operator needs to read. Card serials go in card_serial, not here.
	if hasDigitRun(e.Detail, minPINDigits) {
		return ErrDigitsInDetail
	}
	for _, h := range []*string{&e.CardSerial, &e.KeySetID, &e.KCV} {
		if !isHex(*h) {
			return ErrBadHex
		}
		*h = strings.ToUpper(*h)
	}
	for _, list := range [][]string{e.CardsWritten, e.CardsRead} {
		for _, s := range list {
			if s == "" || !isHex(s) {
				return ErrBadHex
			}
		}
	}
	return nil
}

// hasDigitRun reports whether s holds n or more consecutive ASCII digits.
func hasDigitRun(s string, n int) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			run++
			if run >= n {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

// isHex reports whether s is empty or an even number of hex digits holding
// at most maxHexBytes bytes.
func isHex(s string) bool {
	if len(s)%2 != 0 || len(s) > 2*maxHexBytes {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func upperAll(ss []string) []string {
	if ss == nil {
		return nil
	}
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = strings.ToUpper(s)
	}
	return out
}
