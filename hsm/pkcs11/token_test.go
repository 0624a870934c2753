package pkcs11

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

func TestLabelRoundTrip(t *testing.T) {
	id := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10}
	tests := []struct {
		label string
		want  string
	}{
		{"", "hsmcards-backup-key:0123456789abcdeffedcba9876543210"},
		{"cluster-1", "hsmcards-backup-key:0123456789abcdeffedcba9876543210:cluster-1"},
		{"a:b:c", "hsmcards-backup-key:0123456789abcdeffedcba9876543210:a:b:c"},
	}
	for _, tt := range tests {
		got := formatLabel(hsm.KeyInfo{KeySetID: id, Label: tt.label})
		if got != tt.want {
			t.Errorf("formatLabel(%q) = %q, want %q", tt.label, got, tt.want)
		}
		gotID, gotLabel, ours, ok := parseLabel(got)
		if !ours || !ok || gotID != id || gotLabel != tt.label {
			t.Errorf("parseLabel(%q) = %x, %q, %v, %v", got, gotID, gotLabel, ours, ok)
		}
	}
}

func TestParseLabel(t *testing.T) {
	const hexID = "00112233445566778899aabbccddeeff"
	tests := []struct {
		in        string
		ours, ok  bool
		wantLabel string
	}{
		{"some other key", false, false, ""},
		{"hsmcards-backup-key", false, false, ""},
		{"hsmcards-backup-key:", true, false, ""},
		{"hsmcards-backup-key:" + hexID[:30], true, false, ""},
		{"hsmcards-backup-key:" + hexID + "00", true, false, ""},
		{"hsmcards-backup-key:" + hexID[:30] + "zz", true, false, ""},
		{"hsmcards-backup-key:" + strings.ToUpper(hexID), true, true, ""},
		{"hsmcards-backup-key:" + hexID + ":", true, true, ""},
		{"hsmcards-backup-key:" + hexID + ":prod\x1b[2Jdc\x00", true, true, "proddc"},
		{"hsmcards-backup-key:" + hexID + ":r\xffé", true, true, "r\ufffdé"},
		{"hsmcards-backup-key:" + hexID + ":a\x1b]0;owned\x07b\u202e", true, true, "ab"},
	}
	for _, tt := range tests {
		id, label, ours, ok := parseLabel(tt.in)
		if ours != tt.ours || ok != tt.ok || label != tt.wantLabel {
			t.Errorf("parseLabel(%q) = %q, ours %v, ok %v; want %q, %v, %v", tt.in, label, ours, ok, tt.wantLabel, tt.ours, tt.ok)
		}
		if ok && hex.EncodeToString(id[:]) != hexID {
			t.Errorf("parseLabel(%q) ID = %x", tt.in, id)
		}
	}
}

// FuzzParseLabel: a token hands us CKA_LABEL; parsing must not panic,
// must give clean labels, and what parses must format back to itself
// (up to hex case and dropped characters).
func FuzzParseLabel(f *testing.F) {
	f.Add("hsmcards-backup-key:00112233445566778899aabbccddeeff")
	f.Add("hsmcards-backup-key:00112233445566778899aabbccddeeff:label:x")
	f.Add("hsmcards-backup-key:zz")
	f.Add("other")
	f.Fuzz(func(t *testing.T, s string) {
		id, label, ours, ok := parseLabel(s)
		if ok && !ours {
			t.Fatal("ok without our prefix")
		}
		if !ok {
			return
		}
		if label != safetext.Clean(label) {
			t.Fatalf("label %q is not clean", label)
		}
		id2, label2, _, ok2 := parseLabel(formatLabel(hsm.KeyInfo{KeySetID: id, Label: label}))
		if !ok2 || id2 != id || label2 != label {
			t.Fatalf("round trip of %q: %x %q %v", s, id2, label2, ok2)
		}
	})
}

func TestParseTokenSelector(t *testing.T) {
	tests := []struct {
		in      string
		want    TokenSelector
		wantErr bool
	}{
		{"", TokenSelector{}, false},
		{"appliance", TokenByLabel("appliance"), false},
		{"label:slot:3", TokenByLabel("slot:3"), false},
		{"slot:3", TokenBySlot(3), false},
		{"slot:0x10", TokenBySlot(16), false},
		{"slot:", TokenSelector{}, true},
		{"slot:-1", TokenSelector{}, true},
		{"slot:three", TokenSelector{}, true},
	}
	for _, tt := range tests {
		got, err := ParseTokenSelector(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseTokenSelector(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestP11SelectToken(t *testing.T) {
	a := Token{SlotID: 1, Label: "alpha", Serial: "s1"}
	b := Token{SlotID: 2, Label: "beta", Serial: "s2"}
	b2 := Token{SlotID: 3, Label: "beta", Serial: "s3"}
	tests := []struct {
		name   string
		tokens []Token
		sel    TokenSelector
		want   Token
		errHas string
	}{
		{"by label", []Token{a, b}, TokenByLabel("beta"), b, ""},
		{"by slot", []Token{a, b, b2}, TokenBySlot(3), b2, ""},
		{"only token", []Token{a}, TokenSelector{}, a, ""},
		{"no tokens", nil, TokenSelector{}, Token{}, "no initialised token"},
		{"label missing", []Token{a, b}, TokenByLabel("gamma"), Token{}, `"alpha" (slot 1, serial s1), "beta" (slot 2, serial s2)`},
		{"label twice", []Token{a, b, b2}, TokenByLabel("beta"), Token{}, "2 tokens match"},
		{"choose", []Token{a, b}, TokenSelector{}, Token{}, "2 tokens match"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := selectToken(tt.tokens, tt.sel)
			if tt.errHas == "" {
				if err != nil || got != tt.want {
					t.Fatalf("= %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if !errors.Is(err, hsm.ErrTokenNotFound) || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("error %v, want hsm.ErrTokenNotFound mentioning %q", err, tt.errHas)
			}
		})
	}
}

func TestPKCS11TokenPINNote(t *testing.T) {
	tests := []struct {
		flags  uint
		locked bool
		has    string
	}{
		{0, false, ""},
		{flagUserPINCountLow, false, "few tries"},
		{flagUserPINCountLow | flagUserPINFinalTry, false, "one more"},
		{flagUserPINFinalTry | flagUserPINLocked, true, "locked"},
		{flagUserPINToChange, false, "changed"},
	}
	for _, tt := range tests {
		tok := Token{Flags: tt.flags}
		note := tok.PINNote()
		if tok.PINLocked() != tt.locked || (tt.has == "") != (note == "") || !strings.Contains(note, tt.has) {
			t.Errorf("flags %#x: PINLocked %v, PINNote %q; want %v, %q", tt.flags, tok.PINLocked(), note, tt.locked, tt.has)
		}
	}
}
