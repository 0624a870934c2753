package scenario

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

func TestParse(t *testing.T) {
	s, err := Parse(strings.NewReader("# a comment\n\npull card=2 at=write   # trailing\n\twrong-pin card=3\nmute at=read n=12\nforeign card=4\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := []Step{
		{Line: 3, Fault: "pull", Card: 2, At: "write", N: 1},
		{Line: 4, Fault: "wrong-pin", Card: 3, At: "verify", N: 1},
		{Line: 5, Fault: "mute", At: "read", N: 12},
		{Line: 6, Fault: "foreign", Card: 4, At: "any", N: 1},
	}
	if !reflect.DeepEqual(s.Steps, want) {
		t.Fatalf("got %+v\nwant %+v", s.Steps, want)
	}
}

func TestParseRefuses(t *testing.T) {
	tests := []struct{ in, want string }{
		{"explode", `line 1: unknown fault "explode"`},
		{"pull card=0", "card=0: not a number from 1 to 9"},
		{"pull card=10", "card=10: not a number"},
		{"pull card=01", "card=01: not a number"},
		{"pull card=+1", "card=+1: not a number"},
		{"pull n=1000", "n=1000: not a number from 1 to 999"},
		{"pull at=nowhere", "at=nowhere: not one of any, identify"},
		{"pull card=1 card=2", "card= given twice"},
		{"pull colour=red", "unknown option colour="},
		{"pull card", `"card" is not key=value`},
		{"pull card=", `"card=" is not key=value`},
		{"foreign", "foreign needs card="},
		{"blocked card=1 at=verify", "blocked changes a whole card"},
		{"wrong-pin at=write", "wrong-pin happens at=verify"},
		{"\n\nPULL", `line 3: unknown fault "PULL"`},
		{"pull \xff", "not UTF-8"},
		{strings.Repeat("pull\n", MaxSteps+1), "more than 100 faults"},
	}
	for _, tt := range tests {
		_, err := Parse(strings.NewReader(tt.in))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%.20q) = %v, want %q", tt.in, err, tt.want)
		}
	}
	if _, err := Parse(bytes.NewReader(make([]byte, MaxSize+1))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized file: %v", err)
	}
}

func TestExamplesParse(t *testing.T) {
	files, _ := filepath.Glob("../testdata/scenarios/*.txt")
	if len(files) < 3 {
		t.Fatalf("only %d example scenarios", len(files))
	}
	for _, f := range files {
		s, err := ParseFile(f)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		if len(s.Steps) == 0 {
			t.Errorf("%s: no faults", f)
		}
	}
}

func TestApply(t *testing.T) {
	sn := func(s string) (x tcos.Serial) { copy(x[:], s); return }
	serials := []tcos.Serial{sn("CARD000001"), sn("CARD000002"), sn("CARD000003")}
	sims := make([]cardio.SimulatedCard, len(serials))
	for i, s := range serials {
		sims[i] = simcard.New(s)
	}
	r := cardio.NewSimReader(sims)
	f := r.Faults()
	s, err := Parse(strings.NewReader("blocked card=1\nforeign card=2\nother-key-set card=3\npull card=1 at=verify n=2\n"))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Apply(f, serials); err != nil {
		t.Fatal(err)
	}
	if len(f.Armed()) != 1 || f.Armed()[0].Label != "pull card=1 at=verify n=2" {
		t.Errorf("armed %+v", f.Armed())
	}
	ctx := context.Background()
	session := func(i int) (*tcos.Session, cardio.Card) {
		t.Helper()
		if err := r.Insert(i); err != nil {
			t.Fatal(err)
		}
		c, err := r.Connect(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tcos.Open(c, tcos.Options{}), c
	}
	s1, c1 := session(1)
	if got, err := s1.Identify(ctx); err != nil || got != serials[0] {
		t.Errorf("blocked twin: serial %v %v", got, err)
	}
	if st, err := s1.PINStatus(ctx, tcos.SlotBackupKey); err != nil || !st.Blocked {
		t.Errorf("blocked twin: %+v %v", st, err)
	}
	c1.Close()
	s2, c2 := session(2)
	if _, err := s2.Identify(ctx); !errors.Is(err, tcos.ErrForeignCard) {
		t.Errorf("foreign: %v", err)
	}
	c2.Close()
	s3, c3 := session(3)
	if err := s3.VerifyPIN(ctx, tcos.SlotBackupKey, []byte("123456")); err != nil {
		t.Fatal(err)
	}
	if raw, err := s3.ReadShareRecord(ctx); err != nil || raw[0] == 0 {
		t.Errorf("other key set prop holds no record: %v", err)
	}
	c3.Close()

	if err := (&Scenario{Steps: []Step{{Line: 1, Fault: "foreign", Card: 4}}}).Apply(f, serials); err == nil {
		t.Error("applied to a card the deck lacks")
	}
}

func TestMatchers(t *testing.T) {
	cmds := map[string][]byte{
		"identify": {0x00, 0xB0, 0x82, 0x00, 0x0C},
		"select":   {0x00, 0xA4, 0x08, 0x0C, 0x02, 0x4B, 0x00},
		"status":   {0x00, 0x20, 0x00, 0x81},
		"verify":   {0x00, 0x20, 0x00, 0x81, 0x06, '1', '2', '3', '4', '5', '6'},
		"read":     {0x00, 0xB0, 0x00, 0x00, 0xFF},
		"write":    {0x00, 0xD6, 0x00, 0x00, 0x01, 0x00},
		"change":   {0x00, 0x24, 0x00, 0x81, 0x0C},
	}
	for name, m := range matchers {
		if m == nil {
			continue
		}
		for other, cmd := range cmds {
			if m(cmd) != (name == other) {
				t.Errorf("at=%s on the %s command: %v", name, other, m(cmd))
			}
		}
	}
}

// FuzzParse: the parser never panics, and what it accepts it prints in a
// canonical form that parses back to the same steps.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("../testdata/scenarios/*.txt")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("pull card=2 at=write n=3\n"))
	f.Add([]byte("wrong-pin at=verify\r\nblocked card=9 # x\n"))
	f.Add([]byte("tear\tcard=1\x00"))
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := Parse(bytes.NewReader(in))
		if err != nil {
			return
		}
		var b strings.Builder
		for _, st := range s.Steps {
			b.WriteString(st.String() + "\n")
			if _, isCmd := st.Rule(); !isCmd && st.Card == 0 {
				t.Fatalf("step %+v: card fault without a card", st)
			}
		}
		again, err := Parse(strings.NewReader(b.String()))
		if err != nil {
			t.Fatalf("canonical form %q does not parse: %v", b.String(), err)
		}
		if len(again.Steps) != len(s.Steps) {
			t.Fatalf("%d steps, then %d", len(s.Steps), len(again.Steps))
		}
		for i := range s.Steps {
			a, b := s.Steps[i], again.Steps[i]
			a.Line, b.Line = 0, 0
			if a != b {
				t.Fatalf("step %+v became %+v", a, b)
			}
		}
	})
}
