package safetext

import (
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "REINER SCT cyberJack e-com 00 00", "REINER SCT cyberJack e-com 00 00"},
		{"umlauts and CJK stay", "Rechenzentrum Süd 東京", "Rechenzentrum Süd 東京"},
		{"CSI colour", "Virtual \x1b[31mPCD\x1b[0m 00", "Virtual PCD 00"},
		{"CSI clear screen and cursor", "a\x1b[2J\x1b[1;1Hb", "ab"},
		{"OSC title with BEL", "x\x1b]0;owned\x07y", "xy"},
		{"OSC 52 clipboard with ST", "x\x1b]52;c;ZWNobyBoaQ==\x1b\\y", "xy"},
		{"DCS", "x\x1bPq#0;2;0;0;0\x1b\\y", "xy"},
		{"two-byte escape", "x\x1bcy", "xy"},
		{"charset escape", "x\x1b(By", "xy"},
		{"lone ESC at end", "x\x1b", "x"},
		{"8-bit CSI", "x\u009b31my", "xy"},
		{"8-bit OSC", "x\u009d0;t\u009cy", "xy"},
		{"C0 controls", "a\x00b\x07c\x08d\x7fe", "abcde"},
		{"line breaks become spaces", "a\r\nb\tc", "a  b c"},
		{"bidi override", "card\u202e1234\u202c", "card1234"},
		{"invalid UTF-8", "a\xffb", "a\uFFFDb"},
		{"unterminated OSC swallows the rest", "x\x1b]0;title", "x"},
		{"broken CSI keeps the following text", "x\x1b[31\ny", "x y"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Clean(tt.in); got != tt.want {
				t.Errorf("Clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// FuzzClean checks that nothing a terminal acts on survives, whatever the input.
func FuzzClean(f *testing.F) {
	for _, s := range []string{"Virtual PCD 00 00", "\x1b[2J", "\x1b]0;x\x07", "\u009b1m", "a\xffb\u202e"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := Clean(s)
		if !utf8.ValidString(got) {
			t.Fatalf("Clean(%q) = %q: not valid UTF-8", s, got)
		}
		for _, r := range got {
			if unicode.IsControl(r) || isReorder(r) {
				t.Fatalf("Clean(%q) = %q: keeps %U", s, got, r)
			}
		}
		if Clean(got) != got {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if len(got) > 3*len(s) { // only invalid bytes grow, to U+FFFD
			t.Fatalf("Clean(%q) grew to %d bytes", s, len(got))
		}
	})
}
