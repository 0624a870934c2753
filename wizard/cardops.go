package wizard

import (
	"context"
	"errors"
	"io"
	"runtime"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// This file holds every piece of I/O the wizard does. Each function returns a
// tea.Cmd that runs outside Update and reports back with a typed message;
// Update itself never touches a card, a reader or the HSM.

// stepTimeout bounds card work that needs no human (select, read, write), so a
// mute card cannot hang the wizard.
const stepTimeout = 20 * time.Second

// openCard is a connected card in the middle of one step.
type openCard struct {
	card   cardio.Card
	sess   *tcos.Session
	serial tcos.Serial
	status tcos.PINStatus
	onPad  bool // the reader's own keypad takes the PIN
}

// cardReadyMsg: a card was connected, identified and its slot PIN queried.
type cardReadyMsg struct {
	oc  *openCard
	err error
}

// pinDoneMsg: the slot PIN was verified and the share record read. rec is
// the parsed record, or nil with recErr (quorum.ErrEmpty, quorum.ErrCorrupt…).
type pinDoneMsg struct {
	rec    *quorum.Record
	recErr error
	err    error // the PIN step itself failed
}

// writtenMsg: the share record was written and read back, card closed.
type writtenMsg struct{ err error }

// closedMsg: a card was closed after the step ended.
type closedMsg struct{}

// loadedMsg: the key went into the HSM.
type loadedMsg struct {
	already bool
	err     error
}

// hsmInfoMsg reports the HSM's current Backup Key.
type hsmInfoMsg struct {
	info hsm.KeyInfo
	ok   bool
	err  error
}

// simMsg reports a simulated card insertion or removal.
type simMsg struct {
	inserted int
	err      error
}

// presenceMsg reports a card coming or going, from the reader watcher.
type presenceMsg struct {
	present bool
	err     error
}

// tickMsg drives the countdowns.
type tickMsg time.Time

// connectCmd connects to the card in the reader, identifies it and asks the
// slot's PIN state without spending a try. On success the card stays open
// for the step; on failure it is closed.
func connectCmd(parent context.Context, r cardio.Reader, slot tcos.Slot, apduLog io.Writer, pinTimeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, stepTimeout)
		defer cancel()
		card, err := r.Connect(ctx)
		if err != nil {
			return cardReadyMsg{err: err}
		}
		sess := tcos.Open(card, tcos.Options{APDULog: apduLog, PINTimeout: pinTimeout})
		oc := &openCard{card: card, sess: sess, onPad: card.PINPad() != nil}
		if oc.serial, err = sess.Identify(ctx); err == nil {
			oc.status, err = sess.PINStatus(ctx, slot)
		}
		if err != nil {
			card.Close()
			return cardReadyMsg{oc: oc, err: err}
		}
		return cardReadyMsg{oc: oc}
	}
}

// verifyCmd verifies the Backup Key slot PIN (typed on screen, or on the
// reader's keypad when pin is nil, within ctx) and reads the share record
// (within root, which ends when the operator quits). The PIN copy is
// wiped once sent. On a wrong PIN the card stays open for another try; on
// every other failure it is closed.
func verifyCmd(root, ctx context.Context, oc *openCard, pin []byte) tea.Cmd {
	return func() tea.Msg {
		keep, err := pinStep(ctx, pin != nil, func(ctx context.Context) error {
			if pin == nil {
				return oc.sess.VerifyPINOnPad(ctx, tcos.SlotBackupKey)
			}
			return oc.sess.VerifyPIN(ctx, tcos.SlotBackupKey, pin)
		}, pin)
		if keep {
			return pinDoneMsg{err: err}
		}
		if err != nil {
			oc.card.Close()
			return pinDoneMsg{err: err}
		}
		rctx, cancel := context.WithTimeout(root, stepTimeout)
		defer cancel()
		raw, err := oc.sess.ReadShareRecord(rctx)
		if err != nil {
			oc.card.Close()
			return pinDoneMsg{err: err}
		}
		rec, recErr := quorum.Parse(raw)
		wipe(raw)
		return pinDoneMsg{rec: rec, recErr: recErr}
	}
}

// pinStep runs one PIN command and wipes the PINs once sent. A PIN typed on
// screen needs no human at the card, so it is bounded like any card work (a
// mute card cannot hang the step); on the reader's keypad ctx bounds it. keep
// says the card stays open for another try: a wrong PIN with tries left, or a
// PIN-pad outcome after which the same card can be asked again.
func pinStep(ctx context.Context, onHost bool, run func(context.Context) error, pins ...[]byte) (keep bool, err error) {
	if onHost {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, stepTimeout)
		defer cancel()
	}
	err = run(ctx)
	for _, p := range pins {
		wipe(p)
	}
	var wrong *tcos.WrongPINError
	return errors.As(err, &wrong) && wrong.TriesLeft > 0 || isPadRetry(err), err
}

// isPadRetry reports PIN-pad outcomes after which the same card can simply be
// asked for its PIN again.
func isPadRetry(err error) bool {
	var pe *cardio.PINPadError
	return errors.As(err, &pe) && pe.SW != cardio.SWPadBadParams
}

// writeCmd writes one share record, reads it back, and closes the card.
func writeCmd(parent context.Context, oc *openCard, rec *quorum.Record) tea.Cmd {
	return func() tea.Msg {
		defer oc.card.Close()
		b, err := rec.Marshal()
		if err != nil {
			return writtenMsg{err: err}
		}
		defer wipe(b)
		ctx, cancel := context.WithTimeout(parent, stepTimeout)
		defer cancel()
		return writtenMsg{err: oc.sess.WriteShareRecord(ctx, b)}
	}
}

// closeCmd ends a card's step without doing more on it.
func closeCmd(oc *openCard) tea.Cmd {
	if oc == nil {
		return nil
	}
	return func() tea.Msg {
		oc.card.Close()
		return closedMsg{}
	}
}

// loadCmd loads the rebuilt key into the HSM. The key stays the caller's to
// wipe: a refused replace must leave it in memory for the operator's answer.
func loadCmd(parent context.Context, h hsm.HSM, key *quorum.Key, info hsm.KeyInfo, replace bool) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(parent, stepTimeout)
		defer cancel()
		already, err := h.LoadBackupKey(ctx, key.Bytes(), info, replace)
		runtime.KeepAlive(key) // its memory is unmapped once it is unreachable
		return loadedMsg{already: already, err: err}
	}
}

// hsmInfoCmd asks the HSM which Backup Key it holds.
func hsmInfoCmd(h hsm.HSM) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		info, ok, err := h.BackupKey(ctx)
		return hsmInfoMsg{info: info, ok: ok, err: err}
	}
}

// simInsertCmd puts simulated card i into the simulated reader (0 takes the
// card out).
func simInsertCmd(sim SimDeck, i int) tea.Cmd {
	return func() tea.Msg {
		if i == 0 {
			sim.Remove()
			return simMsg{}
		}
		return simMsg{inserted: i, err: sim.Insert(i)}
	}
}

// watchCmd waits for the reader's card presence to change from present.
func watchCmd(ctx context.Context, r cardio.Reader, present bool) tea.Cmd {
	return func() tea.Msg {
		var err error
		if present {
			err = r.WaitForRemoval(ctx)
		} else {
			err = r.WaitForCard(ctx)
		}
		if err != nil {
			return presenceMsg{present: present, err: err}
		}
		return presenceMsg{present: !present}
	}
}

// presentCmd asks once whether a card is in the reader.
func presentCmd(r cardio.Reader) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		p, err := r.Present(ctx)
		return presenceMsg{present: p, err: err}
	}
}

func tickCmd(every time.Duration) tea.Cmd {
	if every <= 0 {
		return nil
	}
	return tea.Tick(every, func(t time.Time) tea.Msg { return tickMsg(t) })
}

// wipe overwrites a secret buffer.
func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
