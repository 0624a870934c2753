// Package safetext makes strings from outside the program safe to draw on a
// terminal or to write to the audit trail. A PC/SC reader name, a PKCS#11
// token label or message, a share record's label: each comes from a device
// or a file that someone else may have chosen, and a terminal obeys the
// escape sequences in what it prints (it can move the cursor, rewrite what
// the operator reads, retitle the window, or answer back into the input).
// Clean keeps the text and drops what a terminal would act on.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Clean returns s without control characters, escape sequences and
// invisible reordering marks. An escape sequence (ESC followed by a CSI,
// OSC, DCS, SOS, PM or APC string, or a two-byte sequence) goes whole, so
// none of its parameters show up as text. Invalid UTF-8 becomes U+FFFD.
// Tabs and line breaks become a space: a value from outside fills one line.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n <= 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		case r == 0x1b: // ESC
			i += escapeLen(s[i:])
			continue
		case r >= 0x80 && r <= 0x9f:
			// C1 controls: 0x9b is CSI, 0x9d OSC and so on on terminals
			// that take 8-bit controls; their strings go with them.
			i += c1Len(s[i:], r, n)
			continue
		case r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f':
			b.WriteByte(' ')
		case unicode.IsControl(r), isReorder(r):
			// dropped
		default:
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// isReorder reports the bidirectional formatting characters (Unicode
// Bidirectional Algorithm, UAX #9), which reorder the text around them on
// screen, and the BOM/zero-width no-break space.
func isReorder(r rune) bool {
	switch {
	case r >= 0x202a && r <= 0x202e, // LRE, RLE, PDF, LRO, RLO
		r >= 0x2066 && r <= 0x2069,            // LRI, RLI, FSI, PDI
		r == 0x200e, r == 0x200f, r == 0x061c, // LRM, RLM, ALM
		r == 0xfeff:
		return true
	}
	return false
}

// escapeLen is the length of the escape sequence at the start of s (which
// begins with ESC), per ECMA-48: CSI (ESC [) runs to a final byte 0x40–0x7e;
// OSC, DCS, SOS, PM and APC (ESC ] P X ^ _) run to ST (ESC \) or BEL; any
// other ESC takes intermediate bytes 0x20–0x2f and one final byte.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		return 2 + stringLen(s[2:])
	}
	i := 1
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) {
		i++ // the final byte
	}
	return i
}

// c1Len is the length of the C1 control r (n bytes of UTF-8) at the start of
// s, with the string or parameters it introduces.
func c1Len(s string, r rune, n int) int {
	switch r {
	case 0x9b: // CSI
		return n + csiLen(s[n:])
	case 0x9d, 0x90, 0x98, 0x9e, 0x9f: // OSC, DCS, SOS, PM, APC
		return n + stringLen(s[n:])
	}
	return n
}

// csiLen is the length of a control sequence's parameters, intermediates and
// final byte.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x40 && s[i] <= 0x7e {
			return i + 1
		}
		if s[i] < 0x20 || s[i] > 0x7e {
			return i // a broken sequence ends at the first byte that cannot be in it
		}
	}
	return len(s)
}

// stringLen is the length of a control string up to and including its
// terminator: BEL, ESC \ or the 8-bit ST (U+009C).
func stringLen(s string) int {
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == 0x07:
			return i + 1
		case s[i] == 0x1b:
			if i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			return i // another escape begins: the string was not terminated
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
	}
	return len(s)
}
