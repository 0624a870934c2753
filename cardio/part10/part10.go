// Package part10 builds and parses the byte structures of PC/SC part 10 (IFDs
// with secure PIN entry): the GET_FEATURE_REQUEST feature list and the
// PIN_VERIFY_STRUCTURE / PIN_MODIFY_STRUCTURE a PIN-pad reader takes with
// VERIFY_PIN_DIRECT and MODIFY_PIN_DIRECT, and the reader's own status words.
// It is pure Go so the layouts are tested without a reader. The layouts, and
// where they come from, are in docs/pcsc.md ("PC/SC part 10").
//
// The structures never contain a PIN: the reader collects the digits on its
// own keypad and splices them into the APDU template we give it.
package part10

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// IoctlGetFeatureRequest is CM_IOCTL_GET_FEATURE_REQUEST, SCARD_CTL_CODE(3400)
// as pcsc-lite computes it (0x42000000 + 3400). It takes no input.
const IoctlGetFeatureRequest uint32 = 0x42000D48

// Feature is a PC/SC part 10 feature tag (part 10 §2.3).
type Feature byte

// The features this package knows by name. The cyberJack announces only
// VERIFY_PIN_DIRECT and MODIFY_PIN_DIRECT of these, so nothing here depends on
// PIN properties (0A) or TLV properties (12).
const (
	FeatureVerifyPINDirect  Feature = 0x06
	FeatureModifyPINDirect  Feature = 0x07
	FeatureIFDPINProperties Feature = 0x0A
	FeatureGetTLVProperties Feature = 0x12
)

// Features maps each announced feature to the control code to use with it.
type Features map[Feature]uint32

// ErrMalformed reports a feature list that is not a sequence of 6-byte TLVs.
var ErrMalformed = errors.New("malformed PC/SC feature list")

// ParseFeatures decodes a GET_FEATURE_REQUEST reply: a sequence of 6-byte TLVs
// `tag, 04, ioctl` with the ioctl big-endian (part 10 §2.3; docs/pcsc.md). An
// empty reply is a reader without features. A truncated TLV, a length other
// than 4 or a tag announced twice make the whole list malformed: a reader that
// garbles this is not one to trust with a PIN.
func ParseFeatures(b []byte) (Features, error) {
	if len(b)%6 != 0 {
		return nil, fmt.Errorf("%w: %d bytes is not a whole number of 6-byte entries", ErrMalformed, len(b))
	}
	f := make(Features, len(b)/6)
	for i := 0; i < len(b); i += 6 {
		tag, l := Feature(b[i]), b[i+1]
		if l != 4 {
			return nil, fmt.Errorf("%w: feature %02X has length %d, want 4", ErrMalformed, byte(tag), l)
		}
		if _, dup := f[tag]; dup {
			return nil, fmt.Errorf("%w: feature %02X announced twice", ErrMalformed, byte(tag))
		}
		f[tag] = binary.BigEndian.Uint32(b[i+2 : i+6])
	}
	return f, nil
}

// Fixed field values we send (part 10 §2.5.2, §2.5.3; docs/pcsc.md "PIN_VERIFY
// and PIN_MODIFY").
const (
	// FormatASCII is bmFormatString 0x82: system unit bytes (bit 7), PIN
	// frame at offset 0 of the data field (bits 6-3), left justified (bit 2),
	// ASCII digits (bits 1-0 = 10).
	FormatASCII = 0x82
	// PINBlockNone is bmPINBlockString 00: no PIN length field in the block,
	// and block size 0, i.e. the block is exactly the digits typed.
	PINBlockNone = 0x00
	// PINLengthNone is bmPINLengthFormat 00: the PIN length is not inserted.
	PINLengthNone = 0x00
	// ValidateOKKey is bEntryValidationCondition 02: entry ends on the OK key.
	ValidateOKKey = 0x02
	// LangEnglishUS is wLangId 0x0409, English (United States): what a zero
	// LangID sends.
	LangEnglishUS = 0x0409
	// LangGerman is wLangId 0x0407, German (Germany).
	LangGerman = 0x0407
	// ConfirmOldNew is bConfirmPIN 03: ask the current PIN (bit 1) and the
	// new PIN twice (bit 0).
	ConfirmOldNew = 0x03
	// ConfirmNew is bConfirmPIN 01: ask the new PIN twice (bit 0), not the
	// current one.
	ConfirmNew = 0x01
	// MaxPINDigits is the largest maximum PIN length we ask for: the cyberJack
	// fails a PIN_VERIFY that allows 16 (docs/pcsc.md "The cyberJack e-com").
	MaxPINDigits = 15
)

// Template is the command APDU the reader completes with the typed PIN:
// `CLA INS P1 P2 00`. With bmPINBlockString 00 the PIN block is exactly the
// digits typed, and the reader appends them after the header and rewrites Lc
// with their number (part 10 §2.5.2: Lc is recalculated once the IFD has built
// the APDU body). The trailing 00 is that Lc placeholder: it makes the
// template a complete short header, which TPDU-level readers need in order to
// know where the data field begins; Lc=00 with no data is what the reader
// replaces. For CHANGE REFERENCE DATA the reader appends old then new PIN
// (TCOS splits them by the stored PIN's length).
func Template(header [4]byte) []byte {
	return []byte{header[0], header[1], header[2], header[3], 0x00}
}

// Verify are the parameters of a PIN_VERIFY_STRUCTURE.
type Verify struct {
	// Timeout is bTimerOut, rounded up to whole seconds (1..255).
	Timeout time.Duration
	// MinLen and MaxLen go to wPINMaxExtraDigit (1 ≤ MinLen ≤ MaxLen ≤ 15).
	MinLen, MaxLen int
	// Header is CLA INS P1 P2 of the VERIFY command.
	Header [4]byte
	// MsgIndex is bMsgIndex, the reader's prompt (0: "enter PIN").
	MsgIndex byte
	// LangID is wLangId, the language of the prompts the reader shows itself
	// (a Windows LANGID: LangEnglishUS, LangGerman); 0 sends LangEnglishUS.
	LangID uint16
}

// Modify are the parameters of a PIN_MODIFY_STRUCTURE for old || new.
type Modify struct {
	// Timeout is bTimerOut, rounded up to whole seconds (1..255).
	Timeout time.Duration
	// MinLen and MaxLen go to wPINMaxExtraDigit (1 ≤ MinLen ≤ MaxLen ≤ 15).
	MinLen, MaxLen int
	// Header is CLA INS P1 P2 of the CHANGE REFERENCE DATA command.
	Header [4]byte
	// OffsetOld and OffsetNew are bInsertionOffsetOld/New in bytes from the
	// start of the data field. Both 0 with PINBlockNone: each PIN block is as
	// long as what was typed, and the reader places them one after the other.
	OffsetOld, OffsetNew byte
	// LangID is wLangId, as in Verify; 0 sends LangEnglishUS.
	LangID uint16
	// NewOnly asks for the new PIN and its confirmation only (bConfirmPIN
	// 01, two prompts), not for the current PIN: the data field is the new
	// PIN alone.
	NewOnly bool
}

// Lengths of the fixed parts, before abData (part 10 §2.5.2, §2.5.3).
const (
	verifyHeaderLen = 19
	modifyHeaderLen = 24
)

// Marshal returns the PIN_VERIFY_STRUCTURE (multi-byte fields little-endian).
func (v Verify) Marshal() ([]byte, error) {
	timer, err := timerOut(v.Timeout)
	if err != nil {
		return nil, err
	}
	extra, err := maxExtraDigit(v.MinLen, v.MaxLen)
	if err != nil {
		return nil, err
	}
	apdu := Template(v.Header)
	b := make([]byte, verifyHeaderLen, verifyHeaderLen+len(apdu))
	b[0] = timer         // bTimerOut
	b[1] = 0             // bTimerOut2: only bTimerOut matters to us
	b[2] = FormatASCII   // bmFormatString
	b[3] = PINBlockNone  // bmPINBlockString
	b[4] = PINLengthNone // bmPINLengthFormat
	binary.LittleEndian.PutUint16(b[5:7], extra)
	b[7] = ValidateOKKey // bEntryValidationCondition
	b[8] = 0x01          // bNumberMessage: one prompt, bMsgIndex
	binary.LittleEndian.PutUint16(b[9:11], langID(v.LangID))
	b[11] = v.MsgIndex // bMsgIndex
	// b[12:15] bTeoPrologue stays 0: the driver fills it for T=1 TPDU readers.
	binary.LittleEndian.PutUint32(b[15:19], uint32(len(apdu)))
	return append(b, apdu...), nil
}

// Marshal returns the PIN_MODIFY_STRUCTURE (multi-byte fields little-endian)
// asking for the current PIN (unless NewOnly) and the new PIN twice.
func (m Modify) Marshal() ([]byte, error) {
	timer, err := timerOut(m.Timeout)
	if err != nil {
		return nil, err
	}
	extra, err := maxExtraDigit(m.MinLen, m.MaxLen)
	if err != nil {
		return nil, err
	}
	apdu := Template(m.Header)
	b := make([]byte, modifyHeaderLen, modifyHeaderLen+len(apdu))
	b[0] = timer
	b[1] = 0
	b[2] = FormatASCII
	b[3] = PINBlockNone
	b[4] = PINLengthNone
	b[5] = m.OffsetOld // bInsertionOffsetOld
	b[6] = m.OffsetNew // bInsertionOffsetNew
	binary.LittleEndian.PutUint16(b[7:9], extra)
	b[9] = ConfirmOldNew // bConfirmPIN
	b[10] = ValidateOKKey
	b[11] = 0x03 // bNumberMessage: old, new, confirm prompts
	binary.LittleEndian.PutUint16(b[12:14], langID(m.LangID))
	b[14] = 0x00 // bMsgIndex1: enter current PIN
	b[15] = 0x01 // bMsgIndex2: enter new PIN
	b[16] = 0x02 // bMsgIndex3: confirm new PIN
	if m.NewOnly {
		b[9] = ConfirmNew
		b[11] = 0x02 // bNumberMessage: new, confirm prompts
		b[14] = 0x01 // bMsgIndex1: enter new PIN
		b[15] = 0x02 // bMsgIndex2: confirm new PIN
		b[16] = 0x00 // bMsgIndex3: unused
	}
	// b[17:20] bTeoPrologue stays 0.
	binary.LittleEndian.PutUint32(b[20:24], uint32(len(apdu)))
	return append(b, apdu...), nil
}

// langID is the wLangId to send: the caller's, English when none.
func langID(id uint16) uint16 {
	if id == 0 {
		return LangEnglishUS
	}
	return id
}

// timerOut converts a timeout to bTimerOut seconds, rounding up so the reader
// never gives up before the countdown the wizard shows. 0 would mean "reader
// default", which the wizard could not show, so it is refused.
func timerOut(d time.Duration) (byte, error) {
	if d <= 0 || d > 255*time.Second {
		return 0, fmt.Errorf("pin-pad timeout %v is outside 1s..255s", d)
	}
	s := (d + time.Second - 1) / time.Second
	return byte(s), nil
}

// maxExtraDigit encodes wPINMaxExtraDigit as 0xXXYY with XX the minimum and
// YY the maximum, so byte 0 (little-endian) is the maximum.
func maxExtraDigit(minLen, maxLen int) (uint16, error) {
	if minLen < 1 || maxLen < minLen || maxLen > MaxPINDigits {
		return 0, fmt.Errorf("pin length %d..%d is outside 1..%d", minLen, maxLen, MaxPINDigits)
	}
	return uint16(minLen)<<8 | uint16(maxLen), nil
}

// Reader statuses: what a PIN-pad reader answers itself, instead of the
// card's status word, when a VERIFY_PIN_DIRECT or MODIFY_PIN_DIRECT did not
// reach the card (part 10 §2.5.2; the CT-BCS ones of the cyberJack:
// docs/pcsc.md "Reader statuses"). This is their one home: cardio names them
// for the wizard.
const (
	SWTimeout      = 0x6400 // the card holder did not finish in time
	SWCancelled    = 0x6401 // Cancel was pressed on the reader
	SWMismatch     = 0x6402 // the new PIN and its confirmation differ
	SWLength       = 0x6403 // the PIN typed is too short or too long
	SWNoCard       = 0x64A1 // CT-BCS: no card in the reader
	SWCardInactive = 0x64A2 // CT-BCS: the card is not activated
	SWBadParams    = 0x6B80 // the reader refused the parameter block
)

// IsReaderStatus reports whether sw, the answer to a PIN-pad operation, comes
// from the reader rather than the card: SW1 64 (part 10's 6400..6403, the
// cyberJack's 64A1/64A2, and any other 64xx, which ISO 7816-4 also defines as
// "execution error, nothing changed": the PIN was not checked) or 6B80.
func IsReaderStatus(sw uint16) bool {
	return sw>>8 == 0x64 || sw == SWBadParams
}

// ReaderStatus reports whether rsp, the answer to a PIN-pad operation, is
// exactly a status word that IsReaderStatus gives to the reader, and which.
func ReaderStatus(rsp []byte) (uint16, bool) {
	if len(rsp) != 2 {
		return 0, false
	}
	sw := binary.BigEndian.Uint16(rsp)
	if !IsReaderStatus(sw) {
		return 0, false
	}
	return sw, true
}
