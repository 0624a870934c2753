package i18ntest

import (
	"testing"

	"github.com/hsmcards/hsmcards/i18n"
)

// The pad's display: 2 lines of 16 characters, an umlaut one of them.
func TestPadFit(t *testing.T) {
	for _, tc := range []struct {
		s  string
		ok bool
	}{
		{"Karte stecken", true},
		{"1234567890123456", true},
		{"12345678901234567", false},
		{"Schlüssel laden?", true}, // 16 characters, 17 bytes
		{"PIN eingeben\nOK drücken", true},
		{"eins\nzwei\ndrei", false},
		{"kurz\n12345678901234567", false},
	} {
		if got := padFit(tc.s) == ""; got != tc.ok {
			t.Errorf("%q: fits %v, want %v (%s)", tc.s, got, tc.ok, padFit(tc.s))
		}
	}
}

// A message struct's plural forms follow CLDR: English and German have one
// and other.
func TestPluralForms(t *testing.T) {
	for _, l := range i18n.Langs() {
		if got := pluralForms(l); len(got) != 2 || got[0] != "one" || got[1] != "other" {
			t.Errorf("%s: %v", l, got)
		}
	}
}

// Placeholders are found in actions and in printf's arguments.
func TestPlaceholders(t *testing.T) {
	got, err := placeholders(`a {{.A}} b {{printf "%q" .B}}{{if .C}}c{{end}}`)
	if err != nil || len(got) != 3 || !got["A"] || !got["B"] || !got["C"] {
		t.Errorf("%v %v", got, err)
	}
	if _, err := placeholders("{{.A"); err == nil {
		t.Error("a broken template parsed")
	}
}
