// Package audit writes the audit trail that --audit FILE asks for: one JSON
// object per line, appended, flushed and synced to disk as each event happens,
// so that `jq` can tell the story of a ceremony even if the machine dies in
// the middle of it.
//
// An Event has typed fields only, no free-form map, so that a PIN, a share or
// a key cannot slip into the trail by accident. Callers must still never put
// a secret in any field, above all not in Detail: Record refuses details that
// look like a PIN and hex fields long enough to hold a key or a share, but
// those checks are a safety net, not a licence.
package audit

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
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
)

// Slot names a card slot (DESIGN "Card profile": DF 4B00 and DF 4C00).
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
	// ErrClosed means the Log was closed.
	ErrClosed = errors.New("audit log is closed")
)

// minPINDigits is the shortest PIN a TCOS slot accepts (DESIGN "Card
// profile": 6–15 ASCII digits).
const minPINDigits = 6

// maxHexBytes is the longest value a hex field may hold: the 16-byte
// key-set ID (quorum.KeySetID). The Backup Key (32 bytes) and a share (33
// bytes) are longer, so neither fits in a hex field even by mistake.
const maxHexBytes = 16

// check refuses events that may carry a secret.
func check(e *Event) error {
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

// Log is an open audit trail. A nil *Log is valid: it checks events like
// any other and writes nothing, so callers need no ifs when --audit is not
// given. A Log is safe for concurrent use.
type Log struct {
	mu sync.Mutex
	f  *os.File
}

// Open opens path for appending, creating it with mode 0600 if it does not
// exist. An existing file keeps its mode.
func Open(path string) (*Log, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	// Make a newly created file's directory entry durable too. Some file
	// systems cannot sync a directory; the events themselves are still
	// synced one by one, so this stays best effort.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return &Log{f: f}, nil
}

// Record appends e as one line of JSON with a single write, then syncs the
// file. It sets e.Time to now if it is zero. It refuses, writing nothing, an
// event whose Detail or hex fields could hold a secret (ErrDigitsInDetail,
// ErrBadHex).
func (l *Log) Record(e Event) error {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = e.Time.UTC()
	// Copy the lists so that check's normalising does not touch the caller's.
	e.CardsWritten = upperAll(e.CardsWritten)
	e.CardsRead = upperAll(e.CardsRead)
	if err := check(&e); err != nil {
		return err
	}
	if l == nil {
		return nil
	}
	line, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	line = append(line, '\n')

	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	// One write of the whole line: with O_APPEND the kernel places it at the
	// end in one piece, even if another process appends to the same file.
	if _, err := l.f.Write(line); err != nil {
		return fmt.Errorf("write audit log: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync audit log: %w", err)
	}
	return nil
}

// RecordSummary records s.Event().
func (l *Log) RecordSummary(s Summary) error { return l.Record(s.Event()) }

// Close closes the file. Closing a nil or closed Log does nothing.
func (l *Log) Close() error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("close audit log: %w", err)
	}
	return nil
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
