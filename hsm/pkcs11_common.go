package hsm

// This file holds the parts of the PKCS#11 backend that need no cgo: token
// selection, errors, the object label format and the PIN from the environment.
// The cgo half is pkcs11.go; pkcs11_nocgo.go stands in for it without cgo.

import (
	"crypto/aes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"
)

// PKCS11PINEnv names the environment variable that holds the token's user PIN
// for unattended runs; without it the wizard asks for the PIN, masked.
const PKCS11PINEnv = "HSMCARDS_PKCS11_PIN"

// PINFromEnv returns the token PIN from $HSMCARDS_PKCS11_PIN, if set and not
// empty. The caller owns the returned copy and should wipe it; the
// environment's own copy cannot be wiped.
func PINFromEnv() (pin []byte, ok bool) {
	v, ok := os.LookupEnv(PKCS11PINEnv)
	if !ok || v == "" {
		return nil, false
	}
	return []byte(v), true
}

// Errors of the PKCS#11 backend, for errors.Is. The errors returned carry more
// detail (module path, token label, the CKR_ code) but never a PIN or key.
var (
	// ErrModule means the PKCS#11 module could not be loaded or initialised.
	ErrModule = errors.New("pkcs11: cannot use the PKCS#11 module")
	// ErrTokenNotFound means no initialised token matched the selector.
	ErrTokenNotFound = errors.New("pkcs11: token not found")
	// ErrWrongPIN means the token rejected the user PIN (CKR_PIN_INCORRECT).
	ErrWrongPIN = errors.New("pkcs11: wrong token PIN")
	// ErrPINLocked means the token's user PIN is locked (CKR_PIN_LOCKED or
	// CKF_USER_PIN_LOCKED); its security officer must unlock it.
	ErrPINLocked = errors.New("pkcs11: the token's user PIN is locked")
	// ErrTemplateRefused means the token would not create the Backup Key
	// object as asked (CKR_TEMPLATE_INCONSISTENT, CKR_ATTRIBUTE_VALUE_INVALID
	// and the like), or did not keep an attribute we asked for.
	ErrTemplateRefused = errors.New("pkcs11: the token refused the key template")
)

// p11Error is a detailed error that still matches its sentinels (and the
// module's CKR_ error) with errors.Is and errors.As.
type p11Error struct {
	msg  string
	errs []error
}

func (e *p11Error) Error() string   { return e.msg }
func (e *p11Error) Unwrap() []error { return e.errs }

func p11Errorf(errs []error, format string, args ...any) error {
	return &p11Error{msg: fmt.Sprintf(format, args...), errs: errs}
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

// PKCS11Token describes an initialised token, for the wizard to list before
// it asks for the PIN.
type PKCS11Token struct {
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
	p11FlagUserPINCountLow  = 0x00010000 // CKF_USER_PIN_COUNT_LOW
	p11FlagUserPINFinalTry  = 0x00020000 // CKF_USER_PIN_FINAL_TRY
	p11FlagUserPINLocked    = 0x00040000 // CKF_USER_PIN_LOCKED
	p11FlagUserPINToChange  = 0x00080000 // CKF_USER_PIN_TO_BE_CHANGED
	p11FlagTokenInitialized = 0x00000400 // CKF_TOKEN_INITIALIZED
)

// PINLocked reports whether the token says its user PIN is locked.
func (t PKCS11Token) PINLocked() bool { return t.Flags&p11FlagUserPINLocked != 0 }

// PINNote says, for the screen, what the token reports about its user PIN's
// retry counter; "" when it reports nothing worth saying.
func (t PKCS11Token) PINNote() string {
	switch {
	case t.Flags&p11FlagUserPINLocked != 0:
		return "the token's user PIN is locked"
	case t.Flags&p11FlagUserPINFinalTry != 0:
		return "one more wrong PIN locks the token's user PIN"
	case t.Flags&p11FlagUserPINCountLow != 0:
		return "the token has counted wrong PINs; few tries are left"
	case t.Flags&p11FlagUserPINToChange != 0:
		return "the token asks for its user PIN to be changed"
	}
	return ""
}

func (t PKCS11Token) String() string {
	s := fmt.Sprintf("%q (slot %d", t.Label, t.SlotID)
	if t.Serial != "" {
		s += ", serial " + t.Serial
	}
	return s + ")"
}

// p11Describe lists tokens for a "not found" message.
func p11Describe(tokens []PKCS11Token) string {
	if len(tokens) == 0 {
		return "the module shows no initialised token"
	}
	parts := make([]string, len(tokens))
	for i, t := range tokens {
		parts[i] = t.String()
	}
	return "found " + strings.Join(parts, ", ")
}

// p11SelectToken applies sel to the listed tokens.
func p11SelectToken(tokens []PKCS11Token, sel TokenSelector) (PKCS11Token, error) {
	var hits []PKCS11Token
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
		return PKCS11Token{}, p11Errorf([]error{ErrTokenNotFound}, "pkcs11: no initialised token with %s; %s", sel, p11Describe(tokens))
	default:
		return PKCS11Token{}, p11Errorf([]error{ErrTokenNotFound}, "pkcs11: %d tokens match %s, choose one by slot; %s", len(hits), sel, p11Describe(hits))
	}
}

// Backup Key objects carry CKA_LABEL "hsmcards-backup-key:<32 hex digits of
// the key-set ID>" optionally followed by ":<appliance label>", and CKA_ID the
// 16 bytes of the key-set ID. The label is what we search by (PKCS#11 can only
// match whole attributes, so we filter by prefix); CKA_ID is the fallback.
const p11LabelPrefix = "hsmcards-backup-key:"

// p11KeyLen is the Backup Key's length: AES-256 (DESIGN.md).
const p11KeyLen = 32

// p11FormatLabel builds the CKA_LABEL of the Backup Key object.
func p11FormatLabel(info KeyInfo) string {
	s := p11LabelPrefix + hex.EncodeToString(info.KeySetID[:])
	if info.Label != "" {
		s += ":" + info.Label
	}
	return s
}

// p11ParseLabel reads a CKA_LABEL written by p11FormatLabel. isOurs says it
// has our prefix; ok says the key-set ID parsed. The appliance label loses
// control characters, as it comes from the token and may reach a terminal.
func p11ParseLabel(s string) (id [16]byte, label string, isOurs, ok bool) {
	rest, isOurs := strings.CutPrefix(s, p11LabelPrefix)
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
	return id, p11Printable(label), true, true
}

// p11Printable drops what a terminal could act on: invalid UTF-8 and control
// characters.
func p11Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == unicode.ReplacementChar || unicode.IsControl(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// p11CheckBlock returns AES-256-ECB(key, 16 zero bytes); its first 3 bytes are
// the KCV (DESIGN.md, share record). We compare whole blocks with the token's
// so that "same key" rests on 128 bits, not on the 24 of the KCV.
func p11CheckBlock(key []byte) ([aes.BlockSize]byte, error) {
	var block [aes.BlockSize]byte
	if len(key) != p11KeyLen {
		return block, fmt.Errorf("pkcs11: the Backup Key must be %d bytes, got %d", p11KeyLen, len(key))
	}
	c, err := aes.NewCipher(key)
	if err != nil {
		return block, fmt.Errorf("pkcs11: %w", err)
	}
	c.Encrypt(block[:], block[:])
	return block, nil
}
