package wizard

// Card and HSM I/O of the PKCS#11 slot user card activities, as tea.Cmds
// returning typed messages (the rule of cardops.go: Update touches nothing).

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// keyGenTimeout bounds enrolling: a real card may take well over a minute to
// generate an RSA-2048 key pair.
const keyGenTimeout = 3 * time.Minute

// slotOp is what a slot user card activity does with the card.
type slotOp int

const (
	slotEnroll slotOp = iota
	slotActivate
)

// slotListMsg: the cards enrolled for the slot.
type slotListMsg struct {
	cards []hsm.UserCard
	err   error
}

// slotOpMsg: the slot PIN step and the operation ended. pinErr is a failed
// PIN (the card stays open on a wrong PIN with tries left, or a PIN-pad
// retry); err is the operation's failure after a right PIN. The card is
// closed unless pinErr says otherwise.
type slotOpMsg struct {
	card   hsm.UserCard
	pinErr error
	err    error
}

// slotRevokedMsg: a card was revoked (or not).
type slotRevokedMsg struct {
	serial tcos.Serial
	err    error
}

func slotListCmd(slot hsm.UserSlot) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		cards, err := slotuser.List(ctx, slot)
		return slotListMsg{cards: cards, err: err}
	}
}

// slotOpCmd verifies the card's PKCS#11 slot user PIN (typed on screen, or on
// the reader's keypad when pin is nil; the copy is wiped once sent), then
// enrolls the card or activates the slot with it. The slot's user PIN exists
// only inside slotuser, for the moment it is wrapped or handed to C_Login.
func slotOpCmd(root, ctx context.Context, oc *openCard, slot hsm.UserSlot, op slotOp, pin []byte, now time.Time) tea.Cmd {
	return func() tea.Msg {
		keep, err := pinStep(ctx, pin != nil, func(ctx context.Context) error {
			if pin == nil {
				return oc.sess.VerifyPINOnPad(ctx, tcos.SlotPKCS11)
			}
			return oc.sess.VerifyPIN(ctx, tcos.SlotPKCS11, pin)
		}, pin)
		if keep {
			return slotOpMsg{pinErr: err}
		}
		defer oc.card.Close()
		if err != nil {
			return slotOpMsg{pinErr: err}
		}
		if op == slotEnroll {
			octx, cancel := context.WithTimeout(root, keyGenTimeout)
			defer cancel()
			u, err := slotuser.Enroll(octx, slot, oc.serial, oc.sess, now)
			return slotOpMsg{card: u, err: err}
		}
		octx, cancel := context.WithTimeout(root, stepTimeout)
		defer cancel()
		return slotOpMsg{err: slotuser.Activate(octx, slot, oc.serial, oc.sess)}
	}
}

// slotRevokeCmd revokes a card; no card is needed.
func slotRevokeCmd(slot hsm.UserSlot, serial tcos.Serial) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		return slotRevokedMsg{serial: serial, err: slotuser.Revoke(ctx, slot, serial)}
	}
}
