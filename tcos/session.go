package tcos

// The Session and the profile operations on files: identify the card, select
// a slot, read and write the share record. The PIN operations are in pin.go.
// The card profile (files, PINs, APDUs) is described in docs/tcos.md.

import (
	"context"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/secmem"
)

// Slot is one of the card's PIN-protected functions.
type Slot int

const (
	// SlotBackupKey is the Backup Key share slot, DF 4B00.
	SlotBackupKey Slot = iota
	// SlotPKCS11 is the PKCS#11 slot user slot, DF 4C00.
	SlotPKCS11
)

// Serial is a card's ICCSN from EF.GDO (10 bytes; docs/tcos.md).
type Serial [10]byte

// String prints the serial as uppercase hex, the way it is shown to operators.
func (s Serial) String() string { return strings.ToUpper(hex.EncodeToString(s[:])) }

// Session is one connected card speaking our profile for one step. It owns the
// transport (61xx/6Cxx handling, APDU log with secrets masked).
//
// The APDU sequences (CLA 00; docs/tcos.md):
//
//	Identify          ATR check (no APDU), then READ BINARY via SFI 2 (EF.GDO):
//	                  00 B0 82 00 0C → 5A 0A serial(10) 9000
//	                  on 6A82/6981/6986: 00 A4 08 0C 02 2F 02, 00 B0 00 00 0C
//	PINStatus         SELECT path from MF, no response data, unless the slot's
//	                  DF is already current:
//	                  Backup Key 00 A4 08 0C 04 4B 00 4B 01 (DF 4B00 and EF 4B01)
//	                  PKCS#11    00 A4 08 0C 02 4C 00
//	                  then VERIFY without data 00 20 00 81 → 63Cx / 9000 / 6983
//	VerifyPIN         [SELECT as above] 00 20 00 81 Lc PIN
//	ChangePIN         [SELECT as above] 00 20 00 81 Lc old, then
//	                  00 24 00 81 Lc old||new (see pin.go)
//	ChangePINOnPad    [SELECT as above] 00 20 00 81 Lc old, then
//	                  00 24 01 81 Lc new, both completed by the PIN pad
//	ReadShareRecord   [SELECT] 00 B0 00 00 FF (EF 4B01, 255 bytes)
//	WriteShareRecord  [SELECT] 00 D6 00 00 FF record||00…, then 00 B0 00 00 FF
//	                  and a constant-time compare (WriteShareRecordReadBack
//	                  the same, handing back what was read)
//	EraseShareRecord  [SELECT] 00 D6 00 00 FF 00…, then 00 B0 00 00 FF and
//	                  a constant-time compare
//
// Writing a share card is Identify (1) + PINStatus (2) + VerifyPIN (1) +
// ReadShareRecord (1, to show what the card holds before overwriting) +
// WriteShareRecord (2) = 7 APDUs; erasing one the same with
// EraseShareRecord; reading one is 1 + 2 + 1 + 1 = 5.
type Session struct {
	card cardio.Card
	t    *Transport
	opts Options
	// df and ef are the card's current DF and EF as far as this session
	// knows (0: unknown), so it selects only when it must. Connect hands over
	// a freshly reset card, where the MF is current.
	df, ef uint16
}

// Options configure a Session.
type Options struct {
	// APDULog, when not nil, receives every command and response with a
	// timestamp; PIN bytes and key material are replaced by "**".
	APDULog io.Writer
	// PINTimeout bounds a PIN typed on the reader's PIN pad.
	PINTimeout time.Duration
	// PadLangID is the language of the prompts a PIN-pad reader shows on
	// its own display (PC/SC part 10 wLangId, docs/pcsc.md); 0 is English.
	PadLangID uint16
}

// Profile constants (docs/tcos.md, "Card profile"). The PIN constants are in
// pin.go.
const (
	fidMF       = 0x3F00
	fidGDO      = 0x2F02
	fidBackupDF = 0x4B00
	fidShareEF  = 0x4B01
	fidPKCS11DF = 0x4C00
	sfiGDO      = 2
	ShareEFSize = 255 // EF 4B01 is a transparent EF of this fixed size
	gdoLen      = 12  // 5A 0A + 10-byte ICCSN
	tagICCSN    = 0x5A
	insSelect   = 0xA4
	insRead     = 0xB0
	insUpdate   = 0xD6
)

// More profile errors.
var (
	// ErrShareMismatch: the record read back after writing differs from the
	// one written.
	ErrShareMismatch = errors.New("the card did not store the share record correctly")
	// ErrRecordTooLong: a share record larger than EF 4B01.
	ErrRecordTooLong = errors.New("the share record does not fit the card")
)

// String names the slot the way operators know it.
func (s Slot) String() string {
	switch s {
	case SlotBackupKey:
		return "Backup Key"
	case SlotPKCS11:
		return "PKCS#11 user"
	}
	return "unknown"
}

// slotPath is the SELECT path from the MF for a slot, and the DF and EF it
// leaves current.
func slotPath(slot Slot) (path []byte, df, ef uint16, err error) {
	switch slot {
	case SlotBackupKey:
		return []byte{0x4B, 0x00, 0x4B, 0x01}, fidBackupDF, fidShareEF, nil
	case SlotPKCS11:
		return []byte{0x4C, 0x00}, fidPKCS11DF, 0, nil
	}
	return nil, 0, 0, fmt.Errorf("unknown card slot %d", int(slot))
}

// Open starts a session on a connected card. It checks nothing yet.
func Open(card cardio.Card, opts Options) *Session {
	return &Session{card: card, t: NewTransport(card, opts.APDULog), opts: opts, df: fidMF}
}

// Identify checks the ATR is TCOS 3.0 and reads the serial from EF.GDO. A card
// that is not ours yields an error matching ErrForeignCard.
func (s *Session) Identify(ctx context.Context) (Serial, error) {
	if !isTCOS30(s.card.ATR()) {
		return Serial{}, fmt.Errorf("%w: its answer to reset is not TCOS 3.0", ErrForeignCard)
	}
	// READ BINARY with SFI 2 in P1 (bit 8 set): EF.GDO in the MF, current
	// right after reset.
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insRead, P1: 0x80 | sfiGDO, P2: 0x00, Ne: gdoLen})
	if err != nil {
		return Serial{}, err
	}
	switch resp.SW {
	case SWFileNotFound, SWFileIncompatible, SWNoCurrentEF:
		// A card (or a current DF) without SFI support: select EF.GDO by path.
		if err := s.selectPath(ctx, 0x08, []byte{0x2F, 0x02}, fidMF, fidGDO); err != nil {
			if errors.Is(err, ErrFileNotFound) {
				return Serial{}, fmt.Errorf("%w: it has no EF.GDO", ErrForeignCard)
			}
			return Serial{}, err
		}
		resp, err = s.t.Transmit(ctx, Command{CLA: 0x00, INS: insRead, Ne: gdoLen})
		if err != nil {
			return Serial{}, err
		}
	default:
		if resp.SW == SWOK {
			s.ef = fidGDO
		}
	}
	if err := resp.Err(); err != nil {
		return Serial{}, fmt.Errorf("%w: reading its serial number failed (%w)", ErrForeignCard, err)
	}
	d := resp.Data
	if len(d) != gdoLen || d[0] != tagICCSN || d[1] != 0x0A {
		return Serial{}, fmt.Errorf("%w: its EF.GDO holds no card serial number", ErrForeignCard)
	}
	var sn Serial
	copy(sn[:], d[2:])
	return sn, nil
}

// selectPath sends SELECT with P2 0C (no response data) and records the new
// current DF and EF. On failure the current files are unknown.
func (s *Session) selectPath(ctx context.Context, p1 byte, path []byte, df, ef uint16) error {
	s.df, s.ef = 0, 0
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insSelect, P1: p1, P2: 0x0C, Data: path})
	if err != nil {
		return err
	}
	if err := resp.Err(); err != nil {
		return err
	}
	s.df, s.ef = df, ef
	return nil
}

// enterSlot makes the slot's DF current, selecting it only when it is not.
// Selecting another DF drops the verification state (docs/tcos.md), so
// skipping a needless SELECT also keeps a verified PIN.
func (s *Session) enterSlot(ctx context.Context, slot Slot) error {
	path, df, ef, err := slotPath(slot)
	if err != nil {
		return err
	}
	if s.df == df {
		return nil
	}
	err = s.selectPath(ctx, 0x08, path, df, ef)
	if errors.Is(err, ErrFileNotFound) {
		return fmt.Errorf("%w: the card lacks the %s slot", ErrForeignCard, slot)
	}
	return err
}

// enterShareEF makes EF 4B01 current: by path from the MF, or from DF 4B00
// when that is already current (keeping its verification state).
func (s *Session) enterShareEF(ctx context.Context) error {
	switch {
	case s.df == fidBackupDF && s.ef == fidShareEF:
		return nil
	case s.df == fidBackupDF:
		err := s.selectPath(ctx, 0x09, []byte{0x4B, 0x01}, fidBackupDF, fidShareEF)
		if errors.Is(err, ErrFileNotFound) {
			return fmt.Errorf("%w: the card lacks the share file", ErrForeignCard)
		}
		return err
	}
	return s.enterSlot(ctx, SlotBackupKey)
}

// ReadShareRecord reads the raw contents of EF 4B01 (needs the slot PIN). The
// caller (quorum) parses it; an empty slot reads as all zero bytes.
func (s *Session) ReadShareRecord(ctx context.Context) ([]byte, error) {
	if err := s.enterShareEF(ctx); err != nil {
		return nil, err
	}
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insRead, Ne: ShareEFSize, SecretResponse: true})
	if err != nil {
		return nil, err
	}
	switch resp.SW {
	case SWOK, SWEndOfFile: // 6282: a smaller EF; its data came all the same
		return resp.Data, nil
	}
	secmem.Wipe(resp.Data)
	return nil, resp.Err()
}

// WriteShareRecord writes rec to EF 4B01 and reads it back to check it landed.
// The record is padded with 00 to the EF's 255 bytes, so no byte of an older,
// longer record survives.
func (s *Session) WriteShareRecord(ctx context.Context, rec []byte) error {
	back, err := s.WriteShareRecordReadBack(ctx, rec)
	secmem.Wipe(back)
	return err
}

// WriteShareRecordReadBack is WriteShareRecord that also returns what the
// card read back (EF 4B01, 255 bytes), the same APDUs: on success it is rec
// padded with zeros, byte for byte. A re-issue hands it to package cardset,
// which parses it itself before the new card set counts
// (docs/lifecycle.md). The caller wipes it.
func (s *Session) WriteShareRecordReadBack(ctx context.Context, rec []byte) ([]byte, error) {
	if len(rec) > ShareEFSize {
		return nil, ErrRecordTooLong
	}
	if err := s.enterShareEF(ctx); err != nil {
		return nil, err
	}
	buf := make([]byte, ShareEFSize)
	defer secmem.Wipe(buf)
	copy(buf, rec)
	resp, err := s.t.Transmit(ctx, Command{CLA: 0x00, INS: insUpdate, Data: buf, SecretData: true})
	if err != nil {
		return nil, err
	}
	if err := resp.Err(); err != nil {
		return nil, err
	}
	got, err := s.ReadShareRecord(ctx)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(got, buf) != 1 {
		secmem.Wipe(got)
		return nil, ErrShareMismatch
	}
	return got, nil
}

// EraseShareRecord clears the Backup Key share slot: EF 4B01 becomes 255
// zero bytes, an empty slot (quorum/FORMAT.md), read back to check (needs
// the slot PIN; docs/lifecycle.md, "Erase a card"). The card keeps its PIN
// and its tries.
func (s *Session) EraseShareRecord(ctx context.Context) error {
	return s.WriteShareRecord(ctx, nil)
}

// APDUs counts the command APDUs this session has sent (for benchmarks).
func (s *Session) APDUs() int { return s.t.Count() }

// Profile errors the wizard matches with errors.Is / errors.As. Status words
// in general are *StatusError values (see apdu.go); these are the ones with a
// meaning the operator must see.
var (
	// ErrForeignCard: not TCOS 3.0, or without our profile (docs/tcos.md).
	ErrForeignCard = errors.New("this is not an appliance smart card")
)
