package quorum

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/internal/safetext"
)

// hostile are labels that would make a terminal do something: move the
// cursor, recolour or clear the screen, retitle the window, reorder what the
// operator reads. None may be written to a card, and none is taken from one.
var hostile = []string{
	"\x1b[2J\x1b[Hall clear",   // CSI: clear the screen
	"prod\x1b[31m",             // CSI: colour
	"\x1b]0;owned\x07",         // OSC: window title
	"\x1b]52;c;Y2F0\x1b\\",     // OSC 52: write the clipboard
	"a\u009b31mb",              // C1 CSI, U+009B
	"raw\x9b31m",               // C1 CSI as a raw byte: not UTF-8
	"cluster\u202eniltreb",     // RIGHT-TO-LEFT OVERRIDE
	"\u2066isolate\u2069",      // LEFT-TO-RIGHT ISOLATE
	"tab\there", "line\nbreak", // a label fills one line
	"bell\a", "del\x7f", "nul\x00",
	"zero\u200bwidth", // ZERO WIDTH SPACE
	"bom\ufeff",
}

// TestValidateLabelRefusesTerminalControls: writing a share refuses every
// label a terminal would act on.
func TestValidateLabelRefusesTerminalControls(t *testing.T) {
	for _, l := range hostile {
		if err := ValidateLabel(l); err == nil {
			t.Errorf("ValidateLabel(%q) accepted", l)
		} else if strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("the error %q carries the escape", err)
		}
		if _, _, err := Generate(l, TwoOfThree, testNow); err == nil {
			t.Errorf("Generate with label %q succeeded", l)
		}
	}
	for _, l := range []string{"prod-cluster", "Cluster Berlin", "Zürich 1", "東京クラスタ", "🔑 keys", "a\u0301"} {
		if err := ValidateLabel(l); err != nil {
			t.Errorf("ValidateLabel(%q) = %v", l, err)
		}
	}
}

// TestParseRefusesTerminalControls: a card whose record carries such a
// label, checksum intact, is refused as damaged: hsmcards never writes one,
// and a label read from a card never reaches the screen raw.
func TestParseRefusesTerminalControls(t *testing.T) {
	for _, l := range hostile {
		es := exampleElems(t)
		es[2] = elem{tag: tagLabel, v: []byte(l)}
		r, err := Parse(build(es, nil))
		if !errors.Is(err, ErrCorrupt) || r != nil {
			t.Errorf("label %q: Parse = %v, %v; want ErrCorrupt", l, r, err)
			continue
		}
		if strings.ContainsAny(err.Error(), "\x1b\u009b\u202e\u2066") {
			t.Errorf("the error %q carries the label", err)
		}
	}
}

// FuzzValidateLabel: a label ValidateLabel accepts is one line of text that
// safetext.Clean leaves as it is, of 1 to MaxLabelLen characters, and it
// survives a card unchanged.
func FuzzValidateLabel(f *testing.F) {
	for _, l := range hostile {
		f.Add(l)
	}
	f.Add("Cluster Berlin")
	f.Add(strings.Repeat("🔑", MaxLabelLen))
	f.Fuzz(func(t *testing.T, l string) {
		if ValidateLabel(l) != nil {
			return
		}
		if c := safetext.Clean(l); c != l {
			t.Fatalf("ValidateLabel accepted %q, which Clean makes %q", l, c)
		}
		if n := utf8.RuneCountInString(l); n < 1 || n > MaxLabelLen {
			t.Fatalf("ValidateLabel accepted %d characters", n)
		}
		r := exampleRecord(t, 0)
		r.Label = l
		if got := viaCard(t, r).Label; got != l {
			t.Fatalf("label %q came back as %q", l, got)
		}
	})
}
