package pkcs11

// This file holds the parts of the PKCS#11 backend that need no cgo: token
// selection, errors and the object label format. The cgo half is hsm.go,
// session.go and userslot.go; nocgo.go stands in for it without cgo.

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

func errorf(errs []error, format string, args ...any) error {
	return hsm.NewError(fmt.Sprintf(format, args...), errs...)
}

// TokenSelector chooses a token of a PKCS#11 module: by slot ID when BySlot,
// else by label; the zero TokenSelector picks the only initialised token.
type TokenSelector struct {
	Label  string
	SlotID uint
	BySlot bool
}

// TokenByLabel selects the token whose label is label.
func TokenByLabel(label string) TokenSelector { return TokenSelector{Label: label} }

// TokenBySlot selects the token in slot id.
func TokenBySlot(id uint) TokenSelector { return TokenSelector{SlotID: id, BySlot: true} }

// ParseTokenSelector reads a --pkcs11-token value: "slot:N" (decimal or 0x
// hex slot ID), "label:NAME", a bare NAME (a label), or "" for the only token.
func ParseTokenSelector(s string) (TokenSelector, error) {
	switch {
	case strings.HasPrefix(s, "slot:"):
		id, err := strconv.ParseUint(strings.TrimPrefix(s, "slot:"), 0, 64)
		if err != nil {
			return TokenSelector{}, fmt.Errorf("pkcs11: bad slot ID in %q", s)
		}
		return TokenBySlot(uint(id)), nil
	case strings.HasPrefix(s, "label:"):
		return TokenByLabel(strings.TrimPrefix(s, "label:")), nil
	default:
		return TokenByLabel(s), nil
	}
}

func (s TokenSelector) String() string {
	switch {
	case s.BySlot:
		return fmt.Sprintf("slot %d", s.SlotID)
	case s.Label != "":
		return fmt.Sprintf("label %q", s.Label)
	default:
		return "the only token"
	}
}

// Token describes an initialised token, for the wizard to list before
// it asks for the PIN.
type Token struct {
	SlotID       uint
	Label        string
	Serial       string
	Manufacturer string
	Model        string
	// Flags are the token's CK_TOKEN_INFO flags (CKF_*).
	Flags uint
}

// CK_TOKEN_INFO flags we read (PKCS#11 v2.40 §3.2, CK_TOKEN_INFO); repeated
// here so the non-cgo half can interpret them.
const (
	flagUserPINCountLow  = 0x00010000 // CKF_USER_PIN_COUNT_LOW
	flagUserPINFinalTry  = 0x00020000 // CKF_USER_PIN_FINAL_TRY
	flagUserPINLocked    = 0x00040000 // CKF_USER_PIN_LOCKED
	flagUserPINToChange  = 0x00080000 // CKF_USER_PIN_TO_BE_CHANGED
	flagTokenInitialized = 0x00000400 // CKF_TOKEN_INITIALIZED
)

// PINLocked reports whether the token says its user PIN is locked.
func (t Token) PINLocked() bool { return t.Flags&flagUserPINLocked != 0 }

// PINNote says, for the screen, what the token reports about its user PIN's
// retry counter; "" when it reports nothing worth saying.
func (t Token) PINNote() string {
	switch {
	case t.Flags&flagUserPINLocked != 0:
		return "the token's user PIN is locked"
	case t.Flags&flagUserPINFinalTry != 0:
		return "one more wrong PIN locks the token's user PIN"
	case t.Flags&flagUserPINCountLow != 0:
		return "the token has counted wrong PINs; few tries are left"
	case t.Flags&flagUserPINToChange != 0:
		return "the token asks for its user PIN to be changed"
	}
	return ""
}

func (t Token) String() string {
	s := fmt.Sprintf("%q (slot %d", t.Label, t.SlotID)
	if t.Serial != "" {
		s += ", serial " + t.Serial
	}
	return s + ")"
}

// describeTokens lists tokens for a "not found" message.
func describeTokens(tokens []Token) string {
	if len(tokens) == 0 {
		return "the module shows no initialised token"
	}
	parts := make([]string, len(tokens))
	for i, t := range tokens {
		parts[i] = t.String()
	}
	return "found " + strings.Join(parts, ", ")
}

// selectToken applies sel to the listed tokens.
func selectToken(tokens []Token, sel TokenSelector) (Token, error) {
	var hits []Token
	for _, t := range tokens {
		if (sel.BySlot && t.SlotID == sel.SlotID) || (!sel.BySlot && sel.Label != "" && t.Label == sel.Label) {
			hits = append(hits, t)
		}
	}
	if !sel.BySlot && sel.Label == "" {
		hits = tokens
	}
	switch len(hits) {
	case 1:
		return hits[0], nil
	case 0:
		return Token{}, errorf([]error{hsm.ErrTokenNotFound}, "pkcs11: no initialised token with %s; %s", sel, describeTokens(tokens))
	default:
		return Token{}, errorf([]error{hsm.ErrTokenNotFound}, "pkcs11: %d tokens match %s, choose one by slot; %s", len(hits), sel, describeTokens(hits))
	}
}

// Backup Key objects carry CKA_LABEL "hsmcards-backup-key:<32 hex digits of
// the key-set ID>" optionally followed by ":<appliance label>", and CKA_ID the
// 16 bytes of the key-set ID. The label is what we search by (PKCS#11 can only
// match whole attributes, so we filter by prefix); CKA_ID is the fallback.
const labelPrefix = "hsmcards-backup-key:"

// formatLabel builds the CKA_LABEL of the Backup Key object.
func formatLabel(info hsm.KeyInfo) string {
	s := labelPrefix + hex.EncodeToString(info.KeySetID[:])
	if info.Label != "" {
		s += ":" + info.Label
	}
	return s
}

// parseLabel reads a CKA_LABEL written by formatLabel. isOurs says it
// has our prefix; ok says the key-set ID parsed. The appliance label is
// cleaned (safetext.Clean): it comes from the token and may reach a terminal
// or the audit trail.
func parseLabel(s string) (id [16]byte, label string, isOurs, ok bool) {
	rest, isOurs := strings.CutPrefix(s, labelPrefix)
	if !isOurs {
		return id, "", false, false
	}
	hexID, label, hasLabel := strings.Cut(rest, ":")
	if len(hexID) != 2*len(id) {
		return id, "", true, false
	}
	if _, err := hex.Decode(id[:], []byte(hexID)); err != nil {
		return [16]byte{}, "", true, false
	}
	if !hasLabel {
		return id, "", true, true
	}
	return id, safetext.Clean(label), true, true
}
