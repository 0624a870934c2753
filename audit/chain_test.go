package audit

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/internal/pidlock"
)

// record writes a small trail (anchor, six events, end) and returns its
// bytes and the head the Log had before Close.
func record(t *testing.T) (path string, data []byte) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "audit.jsonl")
	at := time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC)
	l, err := OpenOptions(path, Options{Version: "v1.2.3", Host: "console", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for i, step := range []Step{StepStart, StepGenerate, StepIdentify, StepVerifyPIN, StepWriteCard, StepSummary} {
		e := Event{Time: at.Add(time.Duration(i) * time.Second), Operation: OpInstall, Step: step, Outcome: OutcomeOK}
		if step == StepIdentify {
			e.CardSerial = "0102030405060708090A"
		}
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data, err = os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, data
}

func lines(data []byte) [][]byte {
	return bytes.SplitAfter(data, []byte("\n"))[:bytes.Count(data, []byte("\n"))]
}

func join(ls ...[]byte) []byte { return bytes.Join(ls, nil) }

// Each way of tampering with a trail is caught at the first line that does
// not fit; the ways a chain cannot catch (a cut tail, a chain recomputed
// whole) change the head, which the printed protocol holds.
func TestVerifyTampering(t *testing.T) {
	_, data := record(t)
	ls := lines(data)
	if len(ls) != 8 {
		t.Fatalf("%d lines", len(ls))
	}
	intact, err := Parse(data)
	if err != nil {
		t.Fatalf("intact trail: %v", err)
	}
	changed := bytes.Replace(ls[2], []byte(`"generate"`), []byte(`"identify"`), 1)
	other, _ := record(t)
	otherData, _ := os.ReadFile(other)

	for _, tc := range []struct {
		name   string
		data   []byte
		line   int    // the first line that does not fit; 0: none
		reason string // what the error says
	}{
		{"intact", data, 0, ""},
		{"changed line", join(append(append([][]byte{}, ls[:2]...), append([][]byte{changed}, ls[3:]...)...)...), 4, "does not follow line 3"},
		{"removed line", join(append(append([][]byte{}, ls[:3]...), ls[4:]...)...), 4, "says it is line 5"},
		{"reordered lines", join(ls[0], ls[1], ls[3], ls[2], ls[4], ls[5], ls[6], ls[7]), 3, "says it is line 4"},
		{"line added", join(ls[0], ls[1], ls[1], ls[2]), 3, "says it is line 2"},
		{"first line removed", join(ls[1:]...), 1, "is not an anchor"},
		{"torn last write", data[:len(data)-10], 8, "cut short"},
		{"another trail joined on", join(data, otherData), 9, "second anchor"},
		{"not JSON", join(ls[0], []byte("hello\n")), 2, "is not a trail line"},
		{"unknown field", join(ls[0], bytes.Replace(ls[1], []byte(`{"seq":2`), []byte(`{"pin":"123456","seq":2`), 1)), 2, `unknown field "pin"`},
		{"a secret in a detail", join(ls[0], bytes.Replace(ls[1], []byte(`"outcome"`), []byte(`"detail":"PIN 123456","outcome"`), 1)), 2, "never writes"},
		{"empty file", nil, 1, "empty"},
		{"lines from before the chain", []byte(`{"time":"2025-03-09T05:00:00Z","operation":"install"}` + "\n"), 1, "not an anchor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr, err := Parse(tc.data)
			if tc.line == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ce *ChainError
			if !errors.As(err, &ce) || ce.Line != tc.line || !strings.Contains(err.Error(), tc.reason) {
				t.Fatalf("got %v, want line %d: %q", err, tc.line, tc.reason)
			}
			if len(tr.Lines) != tc.line-1 {
				t.Errorf("%d lines read before the bad one, want %d", len(tr.Lines), tc.line-1)
			}
			if tc.line == 1 && !errors.Is(err, ErrNotATrail) {
				t.Errorf("%v does not match ErrNotATrail", err)
			}
		})
	}

	// What the chain cannot see, the head shows.
	cut, err := Parse(join(ls[:6]...))
	if err != nil {
		t.Fatalf("a cut tail still verifies, as documented: %v", err)
	}
	if cut.Head == intact.Head {
		t.Error("cutting the tail kept the head")
	}
	lastChanged := join(append(append([][]byte{}, ls[:7]...), bytes.Replace(ls[7], []byte(`"ok"`), []byte(`"error"`), 1))...)
	tr, err := Parse(lastChanged)
	if err != nil || tr.Head == intact.Head {
		t.Errorf("a changed last line: err %v, head kept %v", err, tr.Head == intact.Head)
	}
}

// The chain is what the docs say: prev is sha256sum of the line before
// without its newline, and the head is the last line's.
func TestChainIsPlainSHA256(t *testing.T) {
	_, data := record(t)
	ls := lines(data)
	tr, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < len(tr.Lines); i++ {
		if want := sha256Hex(bytes.TrimSuffix(ls[i-1], []byte("\n"))); tr.Lines[i].Prev != want {
			t.Fatalf("line %d prev %s, want %s", i+1, tr.Lines[i].Prev, want)
		}
	}
	if want := sha256Hex(bytes.TrimSuffix(ls[len(ls)-1], []byte("\n"))); tr.Head.String() != want || tr.Head.Line != len(ls) {
		t.Errorf("head %d %s, want %d %s", tr.Head.Line, tr.Head, len(ls), want)
	}
	if s := tr.Head.Short(); len(s) != 19 || !strings.HasPrefix(tr.Head.String(), strings.ReplaceAll(s, " ", "")) {
		t.Errorf("short form %q of %s", s, tr.Head)
	}
	a := tr.Lines[0]
	if a.Step != StepAnchor || a.Program != Program || a.Version != "v1.2.3" || a.Host != "console" || len(a.TrailID) != 32 || a.Prev != "" {
		t.Errorf("anchor %+v", a)
	}
}

// An existing trail that does not verify is not appended to: a new line
// chained to a damaged trail would hide where the damage is.
func TestOpenRefusesABrokenTrail(t *testing.T) {
	path, data := record(t)
	ls := lines(data)
	broken := join(ls[0], ls[1], ls[3])
	os.WriteFile(path, broken, 0o600)
	_, err := Open(path)
	var ce *ChainError
	if !errors.As(err, &ce) || ce.Line != 3 || !strings.Contains(err.Error(), path) {
		t.Fatalf("got %v, want line 3 of %s", err, path)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(after, broken) {
		t.Error("the broken trail was written to")
	}
}

// One process at a time: a second Log on the same trail would fork the
// chain, so it is refused and told who holds it.
func TestOneWriterPerTrail(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path)
	var held *pidlock.HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: %v", err)
	}
	l.Close()
	l, err = Open(path)
	if err != nil {
		t.Fatalf("after Close: %v", err)
	}
	l.Close()
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesUnsafePaths(t *testing.T) {
	dir := t.TempDir()
	open := filepath.Join(dir, "open.jsonl")
	os.WriteFile(open, nil, 0o644)
	os.Chmod(open, 0o644)
	if _, err := Open(open); err == nil || !strings.Contains(err.Error(), "chmod") && !strings.Contains(err.Error(), "other users") {
		t.Errorf("a trail others can read: %v", err)
	}
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(filepath.Join(dir, "real.jsonl"), link)
	if _, err := Open(link); err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("a trail through a link: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "real.jsonl")); err == nil {
		t.Error("the link's target was created")
	}
}

// Text from a reader, a token or a card reaches the trail without escape
// sequences or control characters.
func TestRecordCleansText(t *testing.T) {
	l, path := openTemp(t)
	e := Event{Operation: OpInspect, Step: StepIdentify,
		Reader: "Virtual \x1b[31mPCD\x1b[0m 00 00", Label: "dc\x1b]0;owned\x07-1", HSM: "token\rx",
		Detail: "card said \x1b[2Jhello", Scheme: "2 of 3\x00"}
	if err := l.Record(e); err != nil {
		t.Fatal(err)
	}
	l.Close()
	raw, _ := os.ReadFile(path)
	if bytes.ContainsAny(raw, "\x1b\x07\r\x00") || bytes.Contains(raw, []byte(`\u001b`)) || bytes.Contains(raw, []byte(`\r`)) || bytes.Contains(raw, []byte(`\u0000`)) {
		t.Fatalf("control characters reached the trail: %q", raw)
	}
	got := readEvents(t, path)[0]
	if got.Reader != "Virtual PCD 00 00" || got.Label != "dc-1" || got.HSM != "token x" || got.Detail != "card said hello" || got.Scheme != "2 of 3" {
		t.Errorf("cleaned event %+v", got)
	}
}

// A write that failed may have left half a line: nothing more is chained.
func TestWriteFailureStopsTheTrail(t *testing.T) {
	l, path := openTemp(t)
	l.f.Close() // the file goes away underneath
	if err := l.Record(Event{Operation: OpInspect}); err == nil {
		t.Fatal("a failed write was not reported")
	}
	if err := l.Record(Event{Operation: OpInspect}); err == nil || !strings.Contains(err.Error(), "write audit trail") {
		t.Fatalf("a later record: %v", err)
	}
	if _, err := ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	path := filepath.Join(f.TempDir(), "audit.jsonl")
	l, err := Open(path)
	if err != nil {
		f.Fatal(err)
	}
	l.Record(Event{Operation: OpLoad, Step: StepReadCard, CardSerial: "0102", TriesLeft: Tries(2), Detail: "x"})
	l.Close()
	data, _ := os.ReadFile(path)
	f.Add(data)
	f.Add(data[:len(data)/2])
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":1,"time":"2025-01-01T00:00:00Z","operation":"session","step":"anchor","trail_id":"00000000000000000000000000000000"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		tr, err := Parse(data)
		if tr == nil {
			t.Fatal("no trail")
		}
		for i, ln := range tr.Lines {
			if ln.Seq != i+1 {
				t.Fatalf("line %d has seq %d", i+1, ln.Seq)
			}
		}
		if tr.Head.Line != len(tr.Lines) {
			t.Fatalf("head %d of %d lines", tr.Head.Line, len(tr.Lines))
		}
		var ce *ChainError
		if err != nil && (!errors.As(err, &ce) || ce.Line != len(tr.Lines)+1 || len(ce.Text) > maxShownLine) {
			t.Fatalf("error %v after %d lines", err, len(tr.Lines))
		}
		if err == nil && len(tr.Lines) > 0 && tr.ID != tr.Lines[0].TrailID {
			t.Fatal("trail ID is not the anchor's")
		}
	})
}

// A session that failed says so in its end line.
func TestCloseWith(t *testing.T) {
	l, path := openTemp(t)
	if err := l.CloseWith(OutcomeError, "stopped \x1b[2Jon an error, PIN 123456"); err != nil {
		t.Fatal(err)
	}
	tr, err := ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := tr.Lines[len(tr.Lines)-1]
	if end.Step != StepEnd || end.Outcome != OutcomeError || end.Detail != "" {
		t.Errorf("end line %+v", end)
	}
	if err := l.CloseWith(OutcomeError, ""); err != nil {
		t.Errorf("closing twice: %v", err)
	}
}
