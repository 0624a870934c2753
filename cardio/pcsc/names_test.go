package pcsc

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
)

func TestPickReader(t *testing.T) {
	two := []string{"REINER SCT cyberJack e-com 00 00", "Virtual PCD 00 00"}
	tests := []struct {
		name    string
		names   []string
		want    string
		pick    int
		wantErr error
		multi   []string
	}{
		{name: "no reader", names: nil, wantErr: cardio.ErrNoReader},
		{name: "only reader", names: two[:1], pick: 0},
		{name: "several, none named", names: two, multi: two},
		{name: "exact name", names: two, want: "Virtual PCD 00 00", pick: 1},
		{name: "part of the name, any case", names: two, want: "cyberjack", pick: 0},
		{name: "unknown name", names: two, want: "Gemalto", wantErr: cardio.ErrNoReader},
		{name: "part that fits two", names: two, want: "00 00", multi: two},
		{
			name:  "exact beats part",
			names: []string{"Virtual PCD 00 00", "Virtual PCD 00 00 (2)"},
			want:  "Virtual PCD 00 00", pick: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickReader(tt.names, tt.want)
			var multi *MultipleReadersError
			switch {
			case tt.multi != nil:
				if !errors.As(err, &multi) || !slices.Equal(multi.Names, tt.multi) {
					t.Fatalf("pickReader = %d, %v; want MultipleReadersError%q", got, err, tt.multi)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("pickReader = %d, %v; want %v", got, err, tt.wantErr)
				}
			default:
				if err != nil || got != tt.pick {
					t.Fatalf("pickReader = %d, %v; want %d", got, err, tt.pick)
				}
			}
		})
	}
}

// A reader names itself: a name with escape sequences must reach neither the
// screen nor the audit trail as it is, and cleaning must not make two
// readers one.
func TestShownNames(t *testing.T) {
	tests := []struct {
		name string
		raw  []string
		want []string
	}{
		{"plain names stay", []string{"REINER SCT cyberJack e-com 00 00", "Virtual PCD 00 00"},
			[]string{"REINER SCT cyberJack e-com 00 00", "Virtual PCD 00 00"}},
		{"escape sequences go", []string{"Evil\x1b]0;owned\x07 Reader\x1b[2J 00 00"},
			[]string{"Evil Reader 00 00"}},
		{"a name that cleans to another is numbered", []string{"Virtual PCD 00 00", "Virtual PCD\x1b[8m 00 00"},
			[]string{"Virtual PCD 00 00", "Virtual PCD 00 00 #2"}},
		{"numbers never collide", []string{"X #2", "X", "X\x07"},
			[]string{"X #2", "X", "X #3"}},
		{"nothing printable left", []string{"\x1b[2J"}, []string{"unnamed reader"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := shownNames(tt.raw)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("shownNames(%q) = %q, want %q", tt.raw, got, tt.want)
			}
		})
	}
}

// Errors are short; what to do is the hint (the wizard shows both).
func TestErrorsAreShortWithHints(t *testing.T) {
	names := []string{"REINER SCT cyberJack e-com 00 00", "Virtual PCD 00 00"}
	_, several := pickReader(names, "")
	_, unknown := pickReader(names, "Gemalto\x1b[2J")
	tests := []struct {
		err      error
		hintHas  string
		errLacks string
	}{
		{ErrNotBuilt, "-tags pcsc", "tags"},
		{several, "--reader pcsc:NAME", "cyberJack"},
		{unknown, "Virtual PCD 00 00", "Virtual"},
	}
	for _, tt := range tests {
		msg := tt.err.Error()
		if len(msg) > 50 || strings.Contains(msg, tt.errLacks) || strings.ContainsAny(msg, "\x1b;") {
			t.Errorf("error %q: keep it short, the rest goes in the hint", msg)
		}
		if h := cardio.Hint(tt.err); !strings.Contains(h, tt.hintHas) {
			t.Errorf("hint of %q = %q, want it to contain %q", msg, h, tt.hintHas)
		}
		if msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
			t.Errorf("message %q should start lowercase and not end with a period", msg)
		}
	}
	if !errors.Is(unknown, cardio.ErrNoReader) {
		t.Errorf("%v does not match ErrNoReader", unknown)
	}
}
