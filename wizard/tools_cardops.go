package wizard

// Card I/O of the card tools, as tea.Cmds returning typed messages (the same
// rule as cardops.go: Update never touches a card).

import (
	"context"
	"errors"
	"io"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// pinChangedMsg: CHANGE REFERENCE DATA ended. On a wrong current PIN with
// tries left (or a PIN-pad retry) the card stays open; otherwise it is closed.
type pinChangedMsg struct{ err error }

// changePINCmd changes a slot PIN: typed on screen (oldPIN, newPIN and
// again, the new PIN typed twice), or on the reader's keypad when oldPIN is
// nil (VERIFY_PIN_DIRECT, then MODIFY_PIN_DIRECT), so that no PIN crosses
// the host. The PIN copies are wiped once sent.
func changePINCmd(ctx context.Context, oc *openCard, slot tcos.Slot, oldPIN, newPIN, again []byte) tea.Cmd {
	return func() tea.Msg {
		keep, err := pinStep(ctx, oldPIN != nil, func(ctx context.Context) error {
			if oldPIN == nil {
				return oc.sess.ChangePINOnPad(ctx, slot)
			}
			return oc.sess.ChangePIN(ctx, slot, oldPIN, newPIN, again)
		}, oldPIN, newPIN, again)
		if keep {
			return pinChangedMsg{err: err}
		}
		oc.card.Close()
		return pinChangedMsg{err: err}
	}
}

// probeMsg: what Inspect learns from a card without any PIN. err is set when
// the card is not ours (matching tcos.ErrForeignCard) or did not answer; the
// card is then closed. Otherwise slots[i] is the state of slot i (or
// slotErr[i] why it has none), and the card stays open when its Backup Key
// slot can still take a PIN.
type probeMsg struct {
	oc      *openCard
	atr     []byte
	slots   [2]tcos.PINStatus
	slotErr [2]error
	err     error
}

// probeCmd connects, identifies the card and asks both slots' PIN state with
// VERIFY without data (00 20 00 81): no try is spent (DESIGN facts).
func probeCmd(r cardio.Reader, apduLog io.Writer, pinTimeout time.Duration) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		card, err := r.Connect(ctx)
		if err != nil {
			return probeMsg{err: err}
		}
		sess := tcos.Open(card, tcos.Options{APDULog: apduLog, PINTimeout: pinTimeout})
		msg := probeMsg{oc: &openCard{card: card, sess: sess, onPad: card.PINPad() != nil}, atr: card.ATR()}
		if msg.oc.serial, err = sess.Identify(ctx); err != nil {
			card.Close()
			msg.err = err
			return msg
		}
		for i, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
			st, err := sess.PINStatus(ctx, slot)
			if err != nil && !errors.Is(err, tcos.ErrForeignCard) {
				card.Close()
				msg.err = err
				return msg
			}
			msg.slots[i], msg.slotErr[i] = st, err
		}
		msg.oc.status = msg.slots[0]
		if msg.slotErr[0] != nil || msg.slots[0].Blocked {
			card.Close()
		}
		return msg
	}
}
