package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// Line is one line of a trail: its place in the chain and the event. The
// anchor (line 1) and the session lines also say which program on which host
// wrote what follows.
//
// Event is embedded so that its fields sit at the top level of the line's
// JSON object, as they always have; Line adds the chain's fields around it.
type Line struct {
	// Seq is the line's number, from 1 for the anchor.
	Seq int `json:"seq"`
	// Prev is the SHA-256 of the line before (its bytes without the
	// newline), in lowercase hex; the anchor has none.
	Prev string `json:"prev,omitempty"`
	Event
	// TrailID is the anchor's random trail ID (32 hex digits).
	TrailID string `json:"trail_id,omitempty"`
	// Program, Version and Host are on the anchor and session start lines.
	Program string `json:"program,omitempty"`
	Version string `json:"version,omitempty"`
	Host    string `json:"host,omitempty"`

	// Hash is this line's SHA-256 (not written: it is what the next line's
	// Prev holds).
	Hash [sha256.Size]byte `json:"-"`
}

// Trail is a trail read back and verified.
type Trail struct {
	// ID is the anchor's trail ID.
	ID string
	// Lines are every line, the anchor first.
	Lines []Line
	// Head is the last line and its hash: what the protocol prints.
	Head Head
}

// Events are the trail's lines without the chain's own (anchor, session
// start and end): what the wizard recorded.
func (t *Trail) Events() []Event {
	var out []Event
	for _, ln := range t.Lines {
		if ln.Operation != OpSession {
			out = append(out, ln.Event)
		}
	}
	return out
}

// ChainError is the first line of a trail that does not fit: Line is its
// number (1-based), Text its content (cut short; from the file, so it may
// hold anything: clean it before it reaches a terminal).
type ChainError struct {
	Line   int
	Reason string
	Text   string
}

func (e *ChainError) Error() string { return fmt.Sprintf("line %d %s", e.Line, e.Reason) }

// ErrNotATrail is what ChainError matches when the file does not start with
// an anchor at all (an empty file, or audit lines from before the chain).
var ErrNotATrail = errors.New("not a hash-chained audit trail")

// Is lets a missing anchor match ErrNotATrail.
func (e *ChainError) Is(target error) bool { return target == ErrNotATrail && e.Line == 1 }

// maxShownLine bounds ChainError.Text.
const maxShownLine = 300

// ReadFile reads and verifies the trail at path (see Parse).
func ReadFile(path string) (*Trail, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxTrailSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxTrailSize {
		return nil, fmt.Errorf("%s is larger than %d MiB, more than any trail", path, maxTrailSize>>20)
	}
	return Parse(data)
}

// Parse reads a trail and checks its chain: line 1 is an anchor, every line
// is one JSON object of the trail's fields ending in a newline, numbered in
// order, carrying the hash of the line before, and holding nothing Record
// would have refused. It returns the trail up to the first line that does
// not fit and, if there is one, a *ChainError naming it.
func Parse(data []byte) (*Trail, error) {
	t := &Trail{}
	if len(data) == 0 {
		return t, &ChainError{Line: 1, Reason: "is missing: the file is empty, " + ErrNotATrail.Error()}
	}
	for n := 1; len(data) > 0; n++ {
		raw, rest, complete := bytes.Cut(data, []byte("\n"))
		data = rest
		fail := func(reason string) (*Trail, error) {
			text := raw
			if len(text) > maxShownLine {
				text = text[:maxShownLine]
			}
			return t, &ChainError{Line: n, Reason: reason, Text: string(text)}
		}
		if !complete {
			return fail("is cut short (it does not end in a newline): the write was torn, or the file cut")
		}
		ln, err := decodeLine(raw)
		if err != nil {
			if n == 1 {
				return fail("is not an anchor, " + ErrNotATrail.Error() + ": " + err.Error())
			}
			return fail("is not a trail line: " + err.Error())
		}
		if reason := fits(ln, n, t.Head); reason != "" {
			return fail(reason)
		}
		ln.Hash = sha256.Sum256(raw)
		if n == 1 {
			t.ID = ln.TrailID
		}
		t.Lines = append(t.Lines, *ln)
		t.Head = Head{Line: n, Hash: ln.Hash}
	}
	return t, nil
}

// decodeLine decodes one line strictly: one JSON object, no field the trail
// does not write.
func decodeLine(raw []byte) (*Line, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var ln Line
	if err := dec.Decode(&ln); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("more than one JSON value")
	}
	return &ln, nil
}

// fits says why line n does not follow prev in the chain, or "" when it does.
func fits(ln *Line, n int, prev Head) string {
	switch {
	case n == 1 && (ln.Operation != OpSession || ln.Step != StepAnchor):
		return "is not an anchor, " + ErrNotATrail.Error()
	case n > 1 && ln.Step == StepAnchor:
		return "is a second anchor: another trail was joined on"
	case ln.Seq != n:
		return fmt.Sprintf("says it is line %d: lines were removed, added or moved before it", ln.Seq)
	case n == 1 && (len(ln.TrailID) != 2*trailIDBytes || !isLowerHex(ln.TrailID)):
		return "is an anchor without a trail ID"
	case n == 1 && ln.Prev != "":
		return "is an anchor that follows another line"
	case n > 1 && ln.TrailID != "":
		return "carries a trail ID, which only the anchor does"
	case n > 1 && ln.Prev != prev.String():
		return fmt.Sprintf("does not follow line %d: its prev is not line %d's hash (line %d or this line was changed)", n-1, n-1, n-1)
	case ln.Time.IsZero():
		return "has no time"
	case ln.Operation == "":
		return "has no operation"
	}
	e := ln.Event
	if err := check(&e); err != nil {
		return "holds what the trail never writes (" + err.Error() + ")"
	}
	return ""
}

func isLowerHex(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s == string(bytes.ToLower([]byte(s)))
}
