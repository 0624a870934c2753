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

// slotListMsg: the slot's records, as anyone can read them.
type slotListMsg struct {
	recs hsm.Records
	err  error
}

// slotOpMsg: the slot PIN step and the operation ended. pinErr is a failed
// PIN (the card stays open on a wrong PIN with tries left, or a PIN-pad
// retry); err is the operation's failure after a right PIN. The card is
// closed unless pinErr says otherwise. An enrollment ends with its plan, for
// the security officer to confirm; an activation with what the slot's own
// list says of the other records.
type slotOpMsg struct {
	plan   *slotuser.Plan
	disc   hsm.Discrepancies
	pinErr error
	err    error
}

// slotAppliedMsg: a confirmed change of the slot's cards was made (or not).
type slotAppliedMsg struct {
	plan *slotuser.Plan
	res  hsm.ChangeResult
	err  error
}

func slotListCmd(slot hsm.UserSlot) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		recs, err := slotuser.List(ctx, slot)
		return slotListMsg{recs: recs, err: err}
	}
}

// slotOpCmd verifies the card's PKCS#11 slot user PIN (typed on screen, or on
// the reader's keypad when pin is nil; the copy is wiped once sent), then
// prepares the card's enrollment under label, or activates the slot with it.
// The slot's user PIN exists only inside slotuser and the slot, for the
// moment it is wrapped or handed to C_Login.
func slotOpCmd(ctx context.Context, oc *openCard, slot hsm.UserSlot, op slotOp, pin []byte, label string, now time.Time) tea.Cmd {
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
			octx, cancel := context.WithTimeout(context.Background(), keyGenTimeout)
			defer cancel()
			plan, err := slotuser.PrepareEnroll(octx, slot, oc.serial, oc.sess, label, now)
			return slotOpMsg{plan: plan, err: err}
		}
		octx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		d, err := slotuser.Activate(octx, slot, oc.serial, oc.sess)
		return slotOpMsg{disc: d, err: err}
	}
}

// slotApplyCmd makes the change plan says, as confirmed; no card is needed.
func slotApplyCmd(slot hsm.UserSlot, plan *slotuser.Plan) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		res, err := slotuser.Apply(ctx, slot, plan)
		return slotAppliedMsg{plan: plan, res: res, err: err}
	}
}
