package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l, path
}

// readEvents reads the trail back, failing unless it verifies, and returns
// the wizard's events (without the chain's session lines).
func readEvents(t *testing.T, path string) []Event {
	t.Helper()
	tr, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr.Events()
}

func TestRoundTrip(t *testing.T) {
	l, path := openTemp(t)
	at := time.Date(2025, 3, 9, 5, 1, 2, 345678901, time.FixedZone("CET", 3600))
	events := []Event{
		{Time: at, Operation: OpInstall, Step: StepStart, Scheme: "2 of 3"},
		{Time: at, Operation: OpInstall, Step: StepWriteCard, CardSerial: "0102030405060708090a",
			Slot: SlotBackupKey, Outcome: OutcomeOK, KeySetID: "00112233445566778899aabbccddeeff", KCV: "a1b2c3"},
		{Time: at, Operation: OpLoad, Step: StepVerifyPIN, CardSerial: "0A0B0C0D0E0F10111213",
			Slot: SlotBackupKey, Outcome: OutcomeWrongPIN, TriesLeft: Tries(2)},
		{Time: at, Operation: OpLoad, Step: StepVerifyPIN, Outcome: OutcomeBlocked, TriesLeft: Tries(0),
			Detail: "three wrong PINs block the slot"},
		Summary{Operation: OpLoad, Outcome: OutcomeOK, KCV: "ABCDEF", Scheme: "3 of 5",
			CardsRead: []string{"01020304050607080910", "aabbccddeeff00112233"}}.Event(),
	}
	events[4].Time = at
	for _, e := range events {
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	got := readEvents(t, path)
	if len(got) != len(events) {
		t.Fatalf("read %d events, wrote %d", len(got), len(events))
	}
	for i, want := range events {
		want.Time = want.Time.UTC()
		want.CardSerial = strings.ToUpper(want.CardSerial)
		want.KeySetID = strings.ToUpper(want.KeySetID)
		want.KCV = strings.ToUpper(want.KCV)
		want.CardsRead = upperAll(want.CardsRead)
		if !reflect.DeepEqual(got[i], want) {
			t.Errorf("event %d:\n got %+v\nwant %+v", i, got[i], want)
		}
	}
	// The caller's slices are not rewritten in place.
	if events[4].CardsRead[1] != "aabbccddeeff00112233" {
		t.Errorf("Record changed the caller's CardsRead: %q", events[4].CardsRead)
	}
}

func TestWireFormat(t *testing.T) {
	l, path := openTemp(t)
	at := time.Date(2025, 3, 9, 6, 1, 2, 500, time.FixedZone("CET", 3600))
	if err := l.Record(Event{Time: at, Operation: OpLoad, Step: StepVerifyPIN, Outcome: OutcomeBlocked, TriesLeft: Tries(0)}); err != nil {
		t.Fatal(err)
	}
	if err := l.RecordSummary(Summary{Operation: OpInstall, Outcome: OutcomeOK, CardsWritten: []string{"0a"}}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("got %d lines: %q", len(lines), data)
	}
	lines = lines[1:] // after the anchor
	var m map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &m); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"seq":        2.0,
		"prev":       sha256Hex(data[:strings.Index(string(data), "\n")]),
		"time":       "2025-03-09T05:01:02.0000005Z",
		"operation":  "load",
		"step":       "verify_pin",
		"outcome":    "blocked",
		"tries_left": 0.0, // a pointer, so zero tries left is still written
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("line 1 = %v, want %v", m, want)
	}
	m = nil
	if err := json.Unmarshal([]byte(lines[1]), &m); err != nil {
		t.Fatal(err)
	}
	if m["step"] != "summary" || m["operation"] != "install" || !reflect.DeepEqual(m["cards_written"], []any{"0A"}) {
		t.Errorf("summary line = %v", m)
	}
	ts, ok := m["time"].(string)
	if !ok {
		t.Fatalf("summary has no time: %v", m)
	}
	if tm, err := time.Parse(time.RFC3339Nano, ts); err != nil || !strings.HasSuffix(ts, "Z") || time.Since(tm) < 0 || time.Since(tm) > time.Hour {
		t.Errorf("summary time %q is not a recent RFC3339 UTC time (%v)", ts, err)
	}
}

func TestConcurrentRecordsAreWholeLines(t *testing.T) {
	l, path := openTemp(t)
	const workers, each = 8, 50
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				// A long detail makes torn writes likely if writes were split.
				d := fmt.Sprintf("worker %d event %d %s", w, i, strings.Repeat("x", 500))
				if err := l.Record(Event{Operation: OpInspect, Detail: d}); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, e := range readEvents(t, path) {
		if seen[e.Detail] {
			t.Errorf("duplicate event %q", e.Detail[:20])
		}
		seen[e.Detail] = true
	}
	if len(seen) != workers*each {
		t.Errorf("read %d distinct events, want %d", len(seen), workers*each)
	}
}

func TestNilLog(t *testing.T) {
	var l *Log
	if err := l.Record(Event{Operation: OpInstall, Outcome: OutcomeOK}); err != nil {
		t.Errorf("nil Log Record: %v", err)
	}
	if err := l.RecordSummary(Summary{Operation: OpLoad}); err != nil {
		t.Errorf("nil Log RecordSummary: %v", err)
	}
	// A nil Log applies the same checks, so tests without --audit catch leaks.
	if err := l.Record(Event{Detail: "PIN 123456"}); !errors.Is(err, ErrDigitsInDetail) {
		t.Errorf("nil Log accepted a PIN-like detail: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("nil Log Close: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	tests := []struct {
		name string
		e    Event
		want error
	}{
		{"six digits", Event{Detail: "entered 123456"}, ErrDigitsInDetail},
		{"fifteen digits", Event{Detail: "123456789012345"}, ErrDigitsInDetail},
		{"digits at end", Event{Detail: "x999999"}, ErrDigitsInDetail},
		{"serial in detail", Event{Detail: "card 01020304050607080910"}, ErrDigitsInDetail},
		{"five digits ok", Event{Detail: "12345 a 12345"}, nil},
		{"tries and years ok", Event{Detail: "2 tries left since 2025-03-09"}, nil},
		{"non-ASCII digits are not counted", Event{Detail: "١٢٣٤٥٦"}, nil},
		{"key as key-set ID", Event{KeySetID: strings.Repeat("ab", 32)}, ErrBadHex},
		{"share as serial", Event{CardSerial: strings.Repeat("01", 33)}, ErrBadHex},
		{"17 bytes", Event{KCV: strings.Repeat("00", 17)}, ErrBadHex},
		{"16 bytes ok", Event{KeySetID: strings.Repeat("0f", 16)}, nil},
		{"odd hex", Event{KCV: "abc"}, ErrBadHex},
		{"not hex", Event{CardSerial: "serial-1"}, ErrBadHex},
		{"empty serial in list", Event{CardsRead: []string{""}}, ErrBadHex},
		{"key in list", Event{CardsWritten: []string{"00", strings.Repeat("00", 32)}}, ErrBadHex},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l, path := openTemp(t)
			tt.e.Operation = OpInspect
			err := l.Record(tt.e)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Record = %v, want %v", err, tt.want)
			}
			n := len(readEvents(t, path))
			if tt.want != nil && n != 0 {
				t.Errorf("refused event was written (%d lines)", n)
			}
			if tt.want == nil && n != 1 {
				t.Errorf("accepted event wrote %d lines", n)
			}
			if err != nil {
				for _, v := range []string{tt.e.Detail, tt.e.KeySetID, tt.e.CardSerial, tt.e.KCV} {
					if v != "" && strings.Contains(err.Error(), v) {
						t.Errorf("error %q repeats the refused value", err)
					}
				}
			}
		})
	}
}

func TestFileMode(t *testing.T) {
	_, path := openTemp(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if m := fi.Mode().Perm(); m != 0o600 {
		t.Errorf("mode %v, want 0600", m)
	}
}

func TestAppendsAcrossOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	var heads []Head
	for i := range 3 {
		l, err := OpenOptions(path, Options{Version: fmt.Sprint("v1.", i), Host: "console"})
		if err != nil {
			t.Fatal(err)
		}
		if err := l.Record(Event{Operation: OpInspect, Step: StepIdentify, Detail: fmt.Sprint("run ", i)}); err != nil {
			t.Fatal(err)
		}
		heads = append(heads, l.Head())
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tr, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	evs := tr.Events()
	if len(evs) != 3 {
		t.Fatalf("got %d events, want 3", len(evs))
	}
	for i, e := range evs {
		if want := fmt.Sprint("run ", i); e.Detail != want {
			t.Errorf("event %d detail %q, want %q", i, e.Detail, want)
		}
	}
	// anchor, event, end; start, event, end; start, event, end
	var story []string
	for _, ln := range tr.Lines {
		story = append(story, string(ln.Step)+" "+ln.Version)
	}
	want := "anchor v1.0|identify |end |start v1.1|identify |end |start v1.2|identify |end "
	if got := strings.Join(story, "|"); got != want {
		t.Errorf("lines\n got %s\nwant %s", got, want)
	}
	// Each run's head was the event it recorded, and the chain went on.
	for i, h := range heads {
		if ln := tr.Lines[h.Line-1]; ln.Hash != h.Hash || ln.Detail != fmt.Sprint("run ", i) {
			t.Errorf("run %d: head %d %s is not its event", i, h.Line, h)
		}
	}
	if tr.Head.Line != 9 || tr.Lines[0].Host != "console" || tr.ID == "" {
		t.Errorf("head %d, host %q, trail %q", tr.Head.Line, tr.Lines[0].Host, tr.ID)
	}
}

func TestClosed(t *testing.T) {
	l, path := openTemp(t)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := l.Record(Event{Operation: OpInspect}); !errors.Is(err, ErrClosed) {
		t.Errorf("Record after Close = %v, want ErrClosed", err)
	}
	if n := len(readEvents(t, path)); n != 0 {
		t.Errorf("%d events after Close", n)
	}
}

func TestOpenError(t *testing.T) {
	_, err := Open(filepath.Join(t.TempDir(), "missing", "audit.jsonl"))
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Open in a missing directory = %v", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
