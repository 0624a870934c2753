package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/tcos"
)

// inspect's own exit codes, for scripts that take a card inventory.
const (
	exitNoCard  = 3 // the reader is empty
	exitForeign = 4 // a card, but not an appliance card
	exitBlocked = 5 // an appliance card with a blocked slot PIN
)

// inspectTimeout bounds the whole inspection: a mute card must not hang a
// script.
const inspectTimeout = 30 * time.Second

// shareRecordUnread is what inspect's JSON says of the share record it
// leaves alone (the text says i18n.InspectShareUnread).
const shareRecordUnread = "not read: reading it needs the slot PIN (the wizard's Inspect asks for it)"

var inspectCommand = &command{
	name:    "inspect",
	summary: i18n.HelpInspectSummary,
	about:   i18n.HelpInspectAbout,
	exits:   i18n.HelpInspectExits,
	defineFn: func(fs *flagSet) runFunc {
		var o struct {
			reader, simDir, apduLog string
			card                    flagCard
			json                    bool
		}
		fs.str(&o.reader, "reader", "sim", i18n.HelpFlagInspectReader)
		defineSimDir(fs, &o.simDir)
		fs.value(&o.card, "card", i18n.HelpFlagInspectCard)
		fs.str(&o.apduLog, "apdu-log", "", i18n.HelpFlagInspectAPDULog)
		fs.boolean(&o.json, "json", i18n.HelpFlagInspectJSON)
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return usage("inspect", i18n.CLIUnexpectedArg{Arg: args[0]})
			}
			if o.card != 0 && o.reader != "sim" {
				return usage("inspect", i18n.CLICardNeedsSim)
			}
			r, release, err := inspectReader(o.reader, o.simDir, int(o.card))
			if err != nil {
				return err
			}
			defer release()
			var log io.Writer
			if o.apduLog != "" {
				f, err := safefile.OpenAppend(o.apduLog)
				if err != nil {
					return flagPathError("--apdu-log", err)
				}
				defer f.Close()
				log = f
			}
			ctx, cancel := interrupted()
			defer cancel()
			ctx, cancel = context.WithTimeout(ctx, inspectTimeout)
			defer cancel()
			res, err := inspectCard(ctx, r, log)
			if err != nil {
				return err
			}
			res.Simulated, res.Card = o.reader == "sim", int(o.card)
			if o.json {
				enc := json.NewEncoder(e.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else {
				res.print(e.stdout, e.p)
			}
			if c := res.exitCode(); c != exitOK {
				return &exitError{code: c}
			}
			return nil
		}
	},
}

// inspectReader opens the reader inspect reads: the simulated one with card
// (if not 0) in it, or a PC/SC reader.
func inspectReader(reader, simDir string, card int) (cardio.Reader, func(), error) {
	switch {
	case reader == "sim":
		deck, release, err := openDeck(simDir, 0, true)
		if err != nil {
			return nil, nil, err
		}
		sim := cardio.NewSimReader(deck.SimulatedCards())
		done := func() { sim.Close(); release() }
		if card > sim.Len() {
			done()
			return nil, nil, usage("inspect", i18n.CLIDeckRange{Count: sim.Len(), Card: card})
		}
		if card > 0 {
			if err := sim.Insert(card); err != nil {
				done()
				return nil, nil, err
			}
		}
		return sim, done, nil
	case reader == "pcsc" || strings.HasPrefix(reader, "pcsc:"):
		r, err := pcsc.Open(context.Background(), strings.TrimPrefix(strings.TrimPrefix(reader, "pcsc"), ":"))
		var several *pcsc.MultipleReadersError
		if errors.As(err, &several) {
			names := make([]string, len(several.Names))
			for i, n := range several.Names {
				names[i] = fmt.Sprintf("%q", safetext.Clean(n))
			}
			return nil, nil, &hinted{err, i18n.HintWhichReader{Names: strings.Join(names, ", ")}}
		}
		if err != nil {
			return nil, nil, err
		}
		return r, func() { r.Close() }, nil
	}
	return nil, nil, usage("inspect", i18n.CLIUnknownReader{Reader: reader})
}

// inspection is what inspect found; its JSON form is for card inventories.
type inspection struct {
	Reader    string `json:"reader"`
	Simulated bool   `json:"simulated"`
	Card      int    `json:"sim_card,omitempty"` // the simulated deck's card number
	Present   bool   `json:"card_present"`
	ATR       string `json:"atr,omitempty"`
	// TCOS says the ATR is TCOS 3.0; Appliance that the card also has the
	// appliance's profile (its serial could be read).
	TCOS      bool   `json:"tcos"`
	Appliance bool   `json:"appliance_card"`
	Serial    string `json:"serial,omitempty"`
	// Slots are the two slot PINs' states, Backup Key slot first.
	Slots       []slotState `json:"slots,omitempty"`
	ShareRecord string      `json:"share_record,omitempty"`
	// Problem is why the card is not an appliance card, in words.
	Problem   string `json:"problem,omitempty"`
	PINsAsked int    `json:"pins_asked"` // always 0: no PIN is asked and no try spent
}

// slotState is one slot PIN without a try spent.
type slotState struct {
	Slot      string `json:"slot"` // backup_key or pkcs11_user, as in the audit trail
	Name      string `json:"name"`
	TriesLeft int    `json:"tries_left"`
	Blocked   bool   `json:"blocked"`
	Problem   string `json:"problem,omitempty"`
}

// inspectCard reads the card in r without a PIN.
func inspectCard(ctx context.Context, r cardio.Reader, log io.Writer) (*inspection, error) {
	res := &inspection{Reader: safetext.Clean(r.Name())}
	present, err := r.Present(ctx)
	if err != nil {
		return nil, err
	}
	if !present {
		return res, nil
	}
	res.Present = true
	card, err := r.Connect(ctx)
	if errors.Is(err, cardio.ErrNoCard) {
		res.Present = false
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	defer card.Close()
	atr := card.ATR()
	res.ATR = strings.ToUpper(hex.EncodeToString(atr))
	res.TCOS = tcos.IsTCOS30(atr)
	s := tcos.Open(card, tcos.Options{APDULog: log})
	serial, err := s.Identify(ctx)
	if errors.Is(err, tcos.ErrForeignCard) {
		res.Problem = err.Error()
		return res, nil
	}
	if err != nil {
		return nil, err
	}
	res.Appliance, res.Serial = true, serial.String()
	for _, sl := range []struct {
		slot tcos.Slot
		name string
	}{{tcos.SlotBackupKey, string(audit.SlotBackupKey)}, {tcos.SlotPKCS11, string(audit.SlotPKCS11User)}} {
		st := slotState{Slot: sl.name, Name: sl.slot.String() + " slot"}
		ps, err := s.PINStatus(ctx, sl.slot)
		switch {
		case err == nil:
			st.TriesLeft, st.Blocked = ps.TriesLeft, ps.Blocked
		case errors.Is(err, tcos.ErrBlocked):
			st.Blocked = true
		case errors.Is(err, tcos.ErrForeignCard), errors.Is(err, tcos.ErrFileNotFound):
			st.Problem = err.Error()
		default:
			return nil, err
		}
		res.Slots = append(res.Slots, st)
	}
	res.ShareRecord = shareRecordUnread
	return res, nil
}

// exitCode is inspect's exit status for what it found.
func (r *inspection) exitCode() int {
	switch {
	case !r.Present:
		return exitNoCard
	case !r.Appliance:
		return exitForeign
	}
	for _, s := range r.Slots {
		if s.Blocked {
			return exitBlocked
		}
	}
	return exitOK
}

// print writes what inspect found as text, in p's language: a label
// column as wide as the language's longest label, then the values, wrapped
// to 80 columns.
func (r *inspection) print(w io.Writer, p *i18n.Printer) {
	width := 0
	for _, l := range []i18n.ID{i18n.InspectLabelReader, i18n.InspectLabelCard, i18n.InspectLabelATR, i18n.InspectLabelTCOS,
		i18n.InspectLabelAppliance, i18n.InspectLabelSerial, i18n.InspectLabelBackupKeyPIN, i18n.InspectLabelPKCS11UserPIN,
		i18n.InspectLabelShareRecord} {
		width = max(width, utf8.RuneCountInString(p.T(l)))
	}
	width += 2
	for _, rw := range r.rows() {
		label := ""
		if rw.label != "" {
			label = p.T(rw.label)
		}
		for _, l := range wrap(p.T(rw.value), helpWidth-width) {
			fmt.Fprintf(w, "%-*s%s\n", width, label, l)
			label = ""
		}
	}
	if r.Appliance {
		fmt.Fprintln(w, p.T(i18n.InspectNoPINSpent))
	}
}

// inspectRow is a line of inspect's text: a label (none: the line goes on
// the one before) and its value.
type inspectRow struct {
	label i18n.ID
	value i18n.Message
}

// rows are inspect's lines of text.
func (r *inspection) rows() []inspectRow {
	rows := []inspectRow{{i18n.InspectLabelReader, i18n.Verbatim{Text: r.Reader}}}
	if !r.Present {
		rows = append(rows, inspectRow{i18n.InspectLabelCard, i18n.InspectNoCard})
		if r.Simulated {
			rows = append(rows, inspectRow{"", i18n.InspectNoCardSimHint})
		}
		return rows
	}
	if r.Card > 0 {
		rows = append(rows, inspectRow{i18n.InspectLabelCard, i18n.InspectSimCard{Card: r.Card}})
	}
	rows = append(rows, inspectRow{i18n.InspectLabelATR, i18n.Verbatim{Text: spaced(r.ATR)}})
	tcosWord := i18n.InspectTCOSNo
	if r.TCOS {
		tcosWord = i18n.InspectTCOSYes
	}
	rows = append(rows, inspectRow{i18n.InspectLabelTCOS, tcosWord})
	if !r.Appliance {
		return append(rows, inspectRow{i18n.InspectLabelAppliance, i18n.InspectNotAppliance})
	}
	rows = append(rows, inspectRow{i18n.InspectLabelSerial, i18n.Verbatim{Text: r.Serial}})
	for _, s := range r.Slots {
		var state i18n.Message = i18n.InspectTriesLeft{Left: s.TriesLeft, Max: tcos.MaxTries}
		switch {
		case s.Problem != "":
			state = i18n.InspectSlotMissing
		case s.Blocked:
			state = i18n.InspectBlocked
		}
		label := i18n.InspectLabelBackupKeyPIN
		if s.Slot == string(audit.SlotPKCS11User) {
			label = i18n.InspectLabelPKCS11UserPIN
		}
		rows = append(rows, inspectRow{label, state})
	}
	return append(rows, inspectRow{i18n.InspectLabelShareRecord, i18n.InspectShareUnread})
}

// spaced writes hex in pairs, as the wizard shows an ATR.
func spaced(h string) string {
	var b strings.Builder
	for i := 0; i+1 < len(h); i += 2 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i : i+2])
	}
	return b.String()
}
