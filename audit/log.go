package audit

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

// Program is the program name the anchor and session lines carry.
const Program = "hsmcards"

// trailIDBytes is the length of a trail ID: 128 random bits, so that two
// trails never share one.
const trailIDBytes = 16

// maxTrailSize bounds what Open and ReadFile read back, far above any real
// trail (a ceremony writes a few dozen lines of a few hundred bytes).
const maxTrailSize = 256 << 20

// Options say who writes a trail.
type Options struct {
	// Version is the program's version, for the anchor and session lines.
	Version string
	// Host is the machine's name; os.Hostname when empty.
	Host string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand is the source of the trail ID; crypto/rand when nil.
	Rand io.Reader
}

// Log is an open audit trail. A nil *Log is valid: it checks events like
// any other and writes nothing, so callers need no ifs when --audit is not
// given. A Log is safe for concurrent use; the file itself is locked for the
// Log's life, so a second process cannot fork the chain.
type Log struct {
	mu     sync.Mutex
	f      *os.File
	head   Head
	now    func() time.Time
	broken error // a write that may have left half a line: nothing more is written
}

// Open opens the trail at path with default Options (see OpenOptions).
func Open(path string) (*Log, error) { return OpenOptions(path, Options{}) }

// OpenOptions opens the trail at path for appending, creating it with mode
// 0600: a new trail starts with its anchor line; an existing one must verify
// (else a *ChainError says which line does not fit and nothing is written),
// and its chain goes on with a session line saying which program and host
// appended to it. The path must be a file of this user's that nobody else
// can read or write and not a symbolic link (internal/safefile); another
// process holding the trail open is named (*pidlock.HeldError).
func OpenOptions(path string, o Options) (*Log, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	if o.Host == "" {
		o.Host, _ = os.Hostname()
	}
	f, err := safefile.OpenAppend(path)
	if err != nil {
		return nil, fmt.Errorf("open audit trail: %w", err)
	}
	l := &Log{f: f, now: o.Now}
	if err := l.start(path, o); err != nil {
		f.Close()
		return nil, err
	}
	// Make a newly created file's directory entry durable too. Some file
	// systems cannot sync a directory; the lines themselves are still synced
	// one by one, so this stays best effort.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return l, nil
}

// start locks the file, reads the chain so far and writes the anchor or a
// session line.
func (l *Log) start(path string, o Options) error {
	if err := pidlock.Hold(l.f); err != nil {
		var held *pidlock.HeldError
		if errors.As(err, &held) {
			held.Path = path
			return fmt.Errorf("audit trail: %w", held)
		}
		return fmt.Errorf("audit trail: %w", err)
	}
	data, err := io.ReadAll(io.LimitReader(l.f, maxTrailSize+1))
	if err != nil {
		return fmt.Errorf("read audit trail: %w", err)
	}
	if len(data) > maxTrailSize {
		return fmt.Errorf("audit trail %s is larger than %d MiB: start a new one", path, maxTrailSize>>20)
	}
	who := Line{Program: Program, Version: safetext.Clean(o.Version), Host: safetext.Clean(o.Host)}
	who.Time = o.Now()
	who.Operation = OpSession
	if len(data) == 0 {
		id := make([]byte, trailIDBytes)
		if _, err := io.ReadFull(o.Rand, id); err != nil {
			return fmt.Errorf("audit trail ID: %w", err)
		}
		who.Step, who.TrailID = StepAnchor, hex.EncodeToString(id)
		return l.write(who)
	}
	t, err := Parse(data)
	if err != nil {
		return fmt.Errorf("audit trail %s does not verify: %w", path, err)
	}
	l.head = t.Head
	who.Step, who.Outcome = StepStart, OutcomeOK
	return l.write(who)
}

// Record appends e as one line of the chain with a single write, then syncs
// the file. It sets e.Time to now if it is zero. It refuses, writing
// nothing, an event whose Detail or hex fields could hold a secret
// (ErrDigitsInDetail, ErrBadHex). Text fields are cleaned of control
// characters and escape sequences first.
func (l *Log) Record(e Event) error {
	if e.Time.IsZero() {
		if l != nil && l.now != nil {
			e.Time = l.now()
		} else {
			e.Time = time.Now()
		}
	}
	// Copy the lists so that check's normalising does not touch the caller's.
	e.CardsWritten = upperAll(e.CardsWritten)
	e.CardsRead = upperAll(e.CardsRead)
	clean(&e)
	if err := check(&e); err != nil {
		return err
	}
	if l == nil {
		return nil
	}
	return l.write(Line{Event: e})
}

// write chains ln to the head and appends it.
func (l *Log) write(ln Line) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ErrClosed
	}
	if l.broken != nil {
		return l.broken
	}
	ln.Time = ln.Time.UTC()
	ln.Seq = l.head.Line + 1
	if l.head.Line > 0 {
		ln.Prev = l.head.String()
	}
	b, err := json.Marshal(ln)
	if err != nil {
		return fmt.Errorf("audit event: %w", err)
	}
	sum := sha256.Sum256(b)
	b = append(b, '\n')
	// One write of the whole line: with O_APPEND the kernel places it at the
	// end in one piece.
	if _, err := l.f.Write(b); err != nil {
		// Half a line may be on disk: a line chained to the old head would
		// only hide where the damage is, so nothing more is written.
		l.broken = fmt.Errorf("write audit trail: %w", err)
		return l.broken
	}
	l.head = Head{Line: ln.Seq, Hash: sum}
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("sync audit trail: %w", err)
	}
	return nil
}

// RecordSummary records s.Event().
func (l *Log) RecordSummary(s Summary) error { return l.Record(s.Event()) }

// Head is the trail's last line and its hash, as written so far: what the
// wizard shows at the end of a ceremony (Head().Short()) so that a printed
// protocol can seal it. A nil Log's Head is zero.
func (l *Log) Head() Head {
	if l == nil {
		return Head{}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.head
}

// Close writes the session's end line (outcome ok) and closes the file,
// which also lets its lock go. Closing a nil or closed Log does nothing.
func (l *Log) Close() error { return l.CloseWith(OutcomeOK, "") }

// CloseWith is Close with the session's outcome and words for its end line,
// e.g. OutcomeError when the program failed. detail is checked and cleaned
// as Record does; one it refuses is left out.
func (l *Log) CloseWith(out Outcome, detail string) error {
	if l == nil {
		return nil
	}
	end := Line{}
	end.Time, end.Operation, end.Step, end.Outcome, end.Detail = l.now(), OpSession, StepEnd, out, safetext.Clean(detail)
	if hasDigitRun(end.Detail, minPINDigits) {
		end.Detail = ""
	}
	werr := l.write(end)
	if errors.Is(werr, ErrClosed) {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.f.Close()
	l.f = nil
	if err != nil {
		return fmt.Errorf("close audit trail: %w", err)
	}
	if werr != nil && !errors.Is(werr, l.broken) {
		return werr
	}
	return nil
}

// Head names a line of a trail by its number and SHA-256.
type Head struct {
	Line int
	Hash [sha256.Size]byte
}

// String is the full hash in lowercase hex, as sha256sum prints it.
func (h Head) String() string { return hex.EncodeToString(h.Hash[:]) }

// shortBytes is how much of the hash the short form shows: 64 bits, enough
// that nobody can make another trail with the same short hash, short
// enough to read out and to write on paper.
const shortBytes = 8

// Short is the first 64 bits of the hash in four groups of four hex digits,
// e.g. "9f3a 01bc 77d2 e410": the form the wizard shows at the end of a
// ceremony and the protocol prints beside the full hash.
func (h Head) Short() string {
	s := hex.EncodeToString(h.Hash[:shortBytes])
	return s[0:4] + " " + s[4:8] + " " + s[8:12] + " " + s[12:16]
}
