// Package scenario reads training scenarios: which fault the simulated reader
// or card suffers at which step of a ceremony (hsmcards --scenario FILE), e.g.
// "card 2 pulled while writing, then a wrong PIN on card 3".
//
// # Format
//
// A scenario is UTF-8 text, one fault per line; '#' starts a comment, blank
// lines are ignored. A line is a fault name followed by key=value options,
// each at most once, separated by blanks:
//
//	FAULT [card=N] [at=STEP] [n=K]
//
// Faults that strike a command (the rule fires once, on the n-th command of
// kind STEP sent to card N):
//
//	pull          the card is taken out before the command reaches it
//	tear          the card is taken out while it works: half the command's
//	              data lands (a half-written share record, a PIN cut short)
//	unplug        the reader is unplugged (the trainee plugs it back: the
//	              instructor key ctrl+f, then u)
//	mute          the card stops answering until it is taken out
//	garble        the command's data is spoilt on the way (a wrong PIN, a
//	              damaged record written)
//	noise         the answer's data is spoilt on the way (a damaged record read)
//	wrong-pin     garble at=verify: the PIN reaches the card wrong
//	damaged-read  noise at=read: the share record reads as damaged
//
// Faults that change a card for the whole run (card= is required; at= and
// n= are not allowed): the deck card is replaced, in memory only, by
//
//	foreign        a card that is not an appliance card
//	blocked        a twin of the card with its Backup Key PIN blocked
//	other-key-set  a card holding a share of another Backup Key
//
// Options: card=1…9 (default: any card), n=1…999 (default 1), and at= one of
// any (default), identify (reading the card serial), select, status (the PIN
// tries query, which spends no try), verify (a PIN sent), read (the share
// record read), write (the share record written), change (a PIN change). The
// n-th command counts from the start of the program, across ceremonies.
// Every rule is armed at the start; each fires once.
//
// Example:
//
//	# card 2 pulled while writing, then a wrong PIN on card 3
//	pull card=2 at=write
//	wrong-pin card=3
package scenario

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// Limits keep a hostile file from costing much.
const (
	MaxSize  = 64 << 10 // bytes in a file
	MaxSteps = 100      // faults in a scenario
	MaxCard  = 9        // F1–F9 insert cards 1–9 (docs/wizard.md, Keys)
	MaxN     = 999
)

// Step is one line of a scenario.
type Step struct {
	Line  int    // 1-based line in the file
	Fault string // canonical fault name
	Card  int    // 1-based deck card; 0 any
	At    string // command kind; "any" when not given
	N     int    // the n-th matching command, 1-based
}

// Scenario is a parsed scenario file.
type Scenario struct {
	Steps []Step
}

// kinds maps command faults to the fault layer, and the kind of command an
// alias implies.
var kinds = map[string]struct {
	kind cardio.FaultKind
	at   string
}{
	"pull": {cardio.FaultPull, ""}, "tear": {cardio.FaultTear, ""}, "unplug": {cardio.FaultUnplug, ""},
	"mute": {cardio.FaultMute, ""}, "garble": {cardio.FaultGarble, ""}, "noise": {cardio.FaultNoise, ""},
	"wrong-pin": {cardio.FaultGarble, "verify"}, "damaged-read": {cardio.FaultNoise, "read"},
}

// cardFaults change a whole card.
var cardFaults = map[string]bool{"foreign": true, "blocked": true, "other-key-set": true}

// Command kinds, by INS byte (docs/tcos.md, "APDU facts"; the bytes' one
// home is package tcos). Identify is a READ BINARY by short EF identifier
// (P1 bit 8 set), a status query a VERIFY without data.
var matchers = map[string]func(cmd []byte) bool{
	"any":      nil,
	"identify": func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSReadBinary && c[2]&0x80 != 0 },
	"select":   func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSSelect },
	"status":   func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSVerify && len(c) <= 5 },
	"verify":   func(c []byte) bool { return len(c) > 5 && c[1] == tcos.INSVerify },
	"read":     func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSReadBinary && c[2]&0x80 == 0 },
	"write":    func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSUpdateBinary },
	"change":   func(c []byte) bool { return len(c) >= 4 && c[1] == tcos.INSChangeRef },
}

// Steps names the command kinds at= accepts (for help texts).
func Steps() []string {
	return []string{"any", "identify", "select", "status", "verify", "read", "write", "change"}
}

// ParseFile reads a scenario file.
func ParseFile(path string) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	s, err := Parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// ErrTooLarge: the file is over MaxSize.
var ErrTooLarge = errors.New("scenario file too large")

// Parse reads a scenario. It refuses anything not in the format: unknown
// faults, options or values, repeated options, more than MaxSteps faults.
func Parse(r io.Reader) (*Scenario, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxSize {
		return nil, ErrTooLarge
	}
	if !utf8.Valid(b) {
		return nil, errors.New("scenario file is not UTF-8 text")
	}
	s := &Scenario{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), MaxSize+1)
	for line := 1; sc.Scan(); line++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		st, err := parseStep(fields)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		st.Line = line
		if len(s.Steps) == MaxSteps {
			return nil, fmt.Errorf("line %d: more than %d faults", line, MaxSteps)
		}
		s.Steps = append(s.Steps, st)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

func parseStep(fields []string) (Step, error) {
	st := Step{Fault: fields[0], At: "any", N: 1}
	k, isCmd := kinds[st.Fault]
	if !isCmd && !cardFaults[st.Fault] {
		return Step{}, fmt.Errorf("unknown fault %q", clip(st.Fault))
	}
	seen := map[string]bool{}
	for _, f := range fields[1:] {
		key, val, ok := strings.Cut(f, "=")
		if !ok || val == "" {
			return Step{}, fmt.Errorf("%q is not key=value", clip(f))
		}
		if seen[key] {
			return Step{}, fmt.Errorf("%s= given twice", clip(key))
		}
		seen[key] = true
		switch key {
		case "card":
			n, err := number(val, MaxCard)
			if err != nil {
				return Step{}, fmt.Errorf("card=%s: %w", clip(val), err)
			}
			st.Card = n
		case "n":
			n, err := number(val, MaxN)
			if err != nil {
				return Step{}, fmt.Errorf("n=%s: %w", clip(val), err)
			}
			st.N = n
		case "at":
			if _, ok := matchers[val]; !ok {
				return Step{}, fmt.Errorf("at=%s: not one of %s", clip(val), strings.Join(Steps(), ", "))
			}
			st.At = val
		default:
			return Step{}, fmt.Errorf("unknown option %s=", clip(key))
		}
	}
	switch {
	case !isCmd && (seen["at"] || seen["n"]):
		return Step{}, fmt.Errorf("%s changes a whole card: it takes card= only", st.Fault)
	case !isCmd && st.Card == 0:
		return Step{}, fmt.Errorf("%s needs card=", st.Fault)
	case isCmd && k.at != "" && seen["at"] && st.At != k.at:
		return Step{}, fmt.Errorf("%s happens at=%s", st.Fault, k.at)
	case isCmd && k.at != "":
		st.At = k.at
	}
	return st, nil
}

// number parses a decimal 1..max with no sign or leading zero.
func number(s string, max int) (int, error) {
	if len(s) > 3 || s[0] < '1' || s[0] > '9' {
		return 0, fmt.Errorf("not a number from 1 to %d", max)
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, fmt.Errorf("not a number from 1 to %d", max)
	}
	return n, nil
}

// clip keeps quoted input short in error messages.
func clip(s string) string {
	if len(s) > 24 {
		return s[:24] + "…"
	}
	return s
}

// String is the step in canonical form; Parse reads it back as the same step.
func (st Step) String() string {
	var b strings.Builder
	b.WriteString(st.Fault)
	if st.Card != 0 {
		fmt.Fprintf(&b, " card=%d", st.Card)
	}
	if _, isCmd := kinds[st.Fault]; isCmd {
		if st.At != "any" {
			fmt.Fprintf(&b, " at=%s", st.At)
		}
		if st.N != 1 {
			fmt.Fprintf(&b, " n=%d", st.N)
		}
	}
	return b.String()
}

// Rule is the fault-layer rule of a command fault; ok is false for a fault
// that changes a whole card.
func (st Step) Rule() (r cardio.Rule, ok bool) {
	k, ok := kinds[st.Fault]
	if !ok {
		return cardio.Rule{}, false
	}
	return cardio.Rule{Kind: k.kind, Card: st.Card, Match: matchers[st.At], After: st.N - 1, Label: st.String()}, true
}

// Match is the matcher of a command kind (nil for "any" or an unknown kind).
func Match(at string) func(cmd []byte) bool { return matchers[at] }

// Apply arms the scenario on a simulated reader's fault layer. serials are
// the deck's card serials (for the blocked twins), in deck order.
func (s *Scenario) Apply(f *cardio.Faults, serials []tcos.Serial) error {
	for _, st := range s.Steps {
		if st.Card > len(serials) {
			return fmt.Errorf("line %d: there is no card %d in a deck of %d", st.Line, st.Card, len(serials))
		}
	}
	for _, st := range s.Steps {
		if r, ok := st.Rule(); ok {
			f.Arm(r)
			continue
		}
		prop, err := MakeProp(st.Fault, serials[st.Card-1])
		if err != nil {
			return fmt.Errorf("line %d: %w", st.Line, err)
		}
		if err := f.Substitute(st.Card, prop); err != nil {
			return fmt.Errorf("line %d: %w", st.Line, err)
		}
	}
	return nil
}

// MakeProp builds the prop card of a card fault (foreign, blocked,
// other-key-set) for the deck card with serial sn.
func MakeProp(fault string, sn tcos.Serial) (cardio.SimulatedCard, error) {
	switch fault {
	case "foreign":
		return simcard.Foreign{}, nil
	case "blocked":
		return simcard.BlockedTwin(sn, tcos.SlotBackupKey)
	case "other-key-set":
		var other tcos.Serial
		copy(other[:], "OTHERSET01")
		return simcard.OtherKeySet(other, "another appliance")
	}
	return nil, fmt.Errorf("%q is not a card fault", clip(fault))
}
