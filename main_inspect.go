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

	"github.com/hsmcards/hsmcards/cardio"
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

// shareRecordUnread is what inspect says of the share record it leaves alone.
const shareRecordUnread = "not read: reading it needs the slot PIN (the wizard's Inspect asks for it)"

var inspectCommand = &command{
	name:    "inspect",
	summary: "read the card in the reader without a PIN (serial, ATR, tries left)",
	about: "Reads the card in the reader without any PIN and without spending a PIN try: its ATR, " +
		"whether it is TCOS 3.0, its serial number, and the tries left (or blocked) of both slot PINs. " +
		"The share record needs the slot PIN, so it stays unread. On the simulated reader --card N " +
		"says which card of the deck is in it. --json prints one JSON object, for card inventories.",
	exits: "3 no card in the reader, 4 not an appliance card, 5 a slot PIN is blocked",
	defineFn: func(fs *flagSet) runFunc {
		var o struct {
			reader, simDir, apduLog string
			card                    flagCard
			json                    bool
		}
		fs.str(&o.reader, "reader", "sim", "the card reader `READER`: sim, pcsc (the only one) or pcsc:NAME")
		defineSimDir(fs, &o.simDir)
		fs.value(&o.card, "card", "with the simulated reader, card `N` of the deck is in it (none: the reader is empty)")
		fs.str(&o.apduLog, "apdu-log", "", "append every APDU to `FILE`")
		fs.boolean(&o.json, "json", "print the result as one JSON object")
		return func(e *env, args []string) error {
			if len(args) > 0 {
				return &usageError{cmd: "inspect", msg: fmt.Sprintf("unexpected argument %q", args[0])}
			}
			if o.card != 0 && o.reader != "sim" {
				return &usageError{cmd: "inspect", msg: "--card is for the simulated reader (--reader sim)"}
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
				res.print(e.stdout)
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
			return nil, nil, &usageError{cmd: "inspect", msg: fmt.Sprintf("the deck has cards 1 to %d, not %d", sim.Len(), card)}
		}
		if card > 0 {
			if err := sim.Insert(card); err != nil {
				done()
				return nil, nil, err
			}
		}
		return sim, done, nil
	case reader == "pcsc" || strings.HasPrefix(reader, "pcsc:"):
		r, err := cardio.OpenPCSC(context.Background(), strings.TrimPrefix(strings.TrimPrefix(reader, "pcsc"), ":"))
		var several *cardio.MultipleReadersError
		if errors.As(err, &several) {
			names := make([]string, len(several.Names))
			for i, n := range several.Names {
				names[i] = fmt.Sprintf("%q", safetext.Clean(n))
			}
			return nil, nil, &hinted{err, "say which: --reader pcsc:NAME, with (part of) one of " + strings.Join(names, ", ")}
		}
		if err != nil {
			return nil, nil, err
		}
		return r, func() { r.Close() }, nil
	}
	return nil, nil, &usageError{cmd: "inspect", msg: fmt.Sprintf("unknown reader %q: use sim, pcsc or pcsc:NAME", reader)}
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
	}{{tcos.SlotBackupKey, "backup_key"}, {tcos.SlotPKCS11, "pkcs11_user"}} {
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

func (r *inspection) print(w io.Writer) {
	line := func(label, format string, a ...any) {
		fmt.Fprintf(w, "%-24s%s\n", label, fmt.Sprintf(format, a...))
	}
	line("Reader:", "%s", r.Reader)
	if !r.Present {
		line("Card:", "none in the reader")
		if r.Simulated {
			line("", "(--card N puts card N of the simulated deck in it)")
		}
		return
	}
	if r.Card > 0 {
		line("Card:", "simulated card %d", r.Card)
	}
	line("ATR:", "%s", spaced(r.ATR))
	if r.TCOS {
		line("TCOS 3.0:", "recognised")
	} else {
		line("TCOS 3.0:", "not recognised")
	}
	if !r.Appliance {
		line("Appliance card:", "no: %s", r.Problem)
		return
	}
	line("Serial:", "%s", r.Serial)
	for _, s := range r.Slots {
		state := fmt.Sprintf("%d of %d PIN tries left", s.TriesLeft, tcos.MaxTries)
		switch {
		case s.Problem != "":
			state = s.Problem
		case s.Blocked:
			state = "BLOCKED (three wrong PINs)"
		}
		line(s.Name+" PIN:", "%s", state)
	}
	line("Share record:", "%s", r.ShareRecord)
	fmt.Fprintf(w, "No PIN was asked and no PIN try was spent.\n")
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
