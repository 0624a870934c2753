package wizard

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// factoryPIN is the PIN every slot has when delivered (seed: "These PINs are
// preset to 123456"; DESIGN profile).
const factoryPIN = "123456"

// pinTool changes the PIN of one slot of a card (seed "Change the PIN of the
// Backup Key share on a smart card" and "... of a PKCS#11 Slot User"): current
// PIN, new PIN, new PIN again, then one CHANGE REFERENCE DATA to that slot
// only. On a reader whose keypad can change PINs (MODIFY_PIN_DIRECT) the
// reader collects all three and no PIN crosses the host.
type pinTool struct {
	toolBase
	slot    tcos.Slot
	cur     []byte // the current PIN, typed on screen, until sent
	fresh   []byte // the new PIN, typed on screen, until sent
	again   []byte // the new PIN typed the second time, until sent
	changed tcos.Serial
	onHost  bool // the PINs are typed on screen for this card
}

func newPINTool(m *Model, slot tcos.Slot) *pinTool {
	t := &pinTool{slot: slot}
	t.init(m, t, "Change the PIN of the "+slotName(slot))
	t.op, t.toolBase.slot = audit.OpChangePIN, auditSlot(slot)
	t.setInsert("Insert card", "insert the card and press OK", "Insert the card and press OK.")
	t.note = notice{lvInfo,
		fmt.Sprintf("Changes the PIN of the %s of a card, nothing else: the card's other slot keeps its PIN. You will type the current PIN, then the new PIN (%d to %d digits) twice.", slotName(slot), minPIN, maxPIN),
		t.insertHint}
	t.toInsert()
	return t
}

// slotName is how the tools name a slot to the operator.
func slotName(s tcos.Slot) string {
	if s == tcos.SlotPKCS11 {
		return "PKCS#11 slot user"
	}
	return "Backup Key share slot"
}

func (t *pinTool) connect() tea.Cmd {
	return connectCmd(t.cfg.Reader, t.slot, t.cfg.APDULog, t.cfg.PINTimeout)
}

// holdsKey: nothing worth asking about; PINs in memory are simply wiped.
func (t *pinTool) holdsKey() bool      { return false }
func (t *pinTool) lossWarning() string { return "" }

// wipeStep wipes the PINs typed so far when the card's step ends early.
func (t *pinTool) wipeStep() { t.wipePINs() }

func (t *pinTool) wipePINs() {
	t.clearPIN()
	wipe(t.cur)
	wipe(t.fresh)
	wipe(t.again)
	t.cur, t.fresh, t.again = nil, nil, nil
}

func (t *pinTool) abandon() tea.Cmd {
	t.wipePINs()
	return t.endCard()
}

func (t *pinTool) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	switch t.step {
	case tPIN, tNewPIN, tNewPINAgain:
		if t.busy != "" {
			break
		}
		if s == "esc" {
			t.wipePINs()
			return t.cancelPIN()
		}
		if t.oc == nil || !t.onHost || !t.pinKey(s) {
			return nil
		}
		return t.typed()
	}
	return t.toolBase.key(k)
}

// answer to the factory PIN warning: OK keeps it, Cancel chooses another.
func (t *pinTool) answer(yes bool) tea.Cmd {
	if yes {
		return t.send()
	}
	wipe(t.fresh)
	wipe(t.again)
	t.fresh, t.again = nil, nil
	t.askNew("Choose another new PIN.")
	return nil
}

// typed takes a PIN that was typed in full and moves to the next entry.
func (t *pinTool) typed() tea.Cmd {
	switch t.step {
	case tPIN:
		t.cur = t.takePIN()
		t.askNew("")
	case tNewPIN:
		t.fresh = t.takePIN()
		t.step = tNewPINAgain
		t.expect(t.cfg.PINTimeout, "enter the new PIN again and press OK")
		t.note = notice{lvInfo, "Type the NEW PIN once more, then press OK.", "Backspace clears, Esc cancels."}
	case tNewPINAgain:
		again := t.takePIN()
		same := subtle.ConstantTimeCompare(again, t.fresh) == 1
		if !same {
			wipe(again)
			wipe(t.fresh)
			t.fresh = nil
			t.askNew("The two new PINs differ; nothing was changed.")
			t.note.level = lvWarn
			return nil
		}
		t.again = again // tcos.ChangePIN checks the two itself too
		if subtle.ConstantTimeCompare(t.fresh, []byte(factoryPIN)) == 1 {
			t.step = tConfirm
			t.expect(t.cfg.PINTimeout, "answer OK or Cancel")
			t.note = notice{lvWarn, "The new PIN is the factory PIN 123456, which every new card has: anyone who finds this card could use it.",
				"Press OK to use it anyway, or Cancel to choose another new PIN."}
			return nil
		}
		return t.send()
	}
	return nil
}

func (t *pinTool) askNew(why string) {
	t.step = tNewPIN
	t.clearPIN()
	t.expect(t.cfg.PINTimeout, "enter the new PIN and press OK")
	t.note = notice{lvInfo, strings.TrimSpace(why + fmt.Sprintf(" Type the NEW PIN (%d to %d digits), then press OK.", minPIN, maxPIN)),
		"Do not choose 123456, the factory PIN. Backspace clears, Esc cancels."}
}

// askCurrent asks the current PIN, on screen or (when the reader can change
// PINs itself) on the reader's keypad.
func (t *pinTool) askCurrent() tea.Cmd {
	t.step = tPIN
	t.clearPIN()
	t.expect(t.cfg.PINTimeout, "enter the current PIN and press OK")
	if !t.onHost {
		t.note = t.pinNotice(t.slot, "")
		t.note.next = "On the reader's keypad type the current PIN, OK; the new PIN, OK; the new PIN again, OK. No PIN passes through this computer. Do not choose 123456, the factory PIN."
		ctx, cancel := context.WithTimeout(context.Background(), 3*t.cfg.PINTimeout+5*time.Second)
		t.padCancel = cancel
		t.busy = "waiting for the PINs on the reader"
		return changePINCmd(ctx, t.oc, t.slot, nil, nil, nil)
	}
	t.note = t.pinNotice(t.slot, "the CURRENT PIN of this slot")
	t.note.next = strings.Replace(t.note.next, "Type", "On the on-screen pad, type", 1)
	return nil
}

func (t *pinTool) send() tea.Cmd {
	cur, fresh, again := t.cur, t.fresh, t.again
	t.cur, t.fresh, t.again = nil, nil, nil // the command wipes them once sent
	t.busy = "changing the PIN"
	return changePINCmd(context.Background(), t.oc, t.slot, cur, fresh, again)
}

func (t *pinTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case cardReadyMsg:
		t.busy = ""
		if msg.err != nil {
			return t.connectFailed(msg.err, t.slot)
		}
		t.oc = msg.oc
		if t.oc.status.Blocked {
			return t.refuse(blockedText(t.oc, t.slot))
		}
		pad := t.oc.card.PINPad()
		t.onHost = pad == nil || !pad.CanModify()
		cmd := t.askCurrent()
		if pad != nil && t.onHost {
			t.note.text += " This reader cannot change PINs on its keypad: type them here."
		}
		return cmd
	case pinChangedMsg:
		t.busy = ""
		if cmd, done := t.pinFailed(msg.err, t.slot, t.askCurrent); done {
			t.wipePINs()
			if answerLost(msg.err) {
				// The change may have landed before the answer was lost
				// (fault matrix): the operator must know which PIN to try.
				t.note.next += " The PIN may already be changed: if the current PIN is refused, type the NEW PIN as the current one."
			}
			return cmd
		}
		t.changed = t.oc.serial
		t.record(audit.StepChangePIN, &t.changed, audit.OutcomeOK, "", nil)
		t.oc = nil // changePINCmd closed it
		t.wipePINs()
		t.step, t.deadline = tDone, time.Time{}
		other := tcos.SlotPKCS11
		if t.slot == tcos.SlotPKCS11 {
			other = tcos.SlotBackupKey
		}
		t.note = notice{lvGood, fmt.Sprintf("The PIN of the %s of card %s was changed. The %s keeps its PIN.", slotName(t.slot), t.changed, slotName(other)),
			"Use the new PIN from now on. Press OK for the main menu."}
	}
	return nil
}

func (t *pinTool) screen() ([2]string, []string) {
	l1, l2, ok := t.display()
	okCancel := "press OK/Cancel"
	stars := strings.Repeat("*", len(t.pin))
	switch {
	case t.busy != "":
	case t.step == tPIN:
		l1, l2 = "Current PIN", stars
	case t.step == tNewPIN:
		l1, l2 = "New PIN", stars
	case t.step == tNewPINAgain:
		l1, l2 = "New PIN again", stars
	case t.step == tConfirm:
		l1, l2 = "Factory PIN?", okCancel
	case !ok && t.step == tDone:
		l1, l2 = "PIN changed", "press OK"
	}
	var body []string
	switch {
	case t.changed != (tcos.Serial{}):
		body = append(body, "Card "+t.changed.String()+": PIN changed")
	case t.oc != nil:
		body = append(body, fmt.Sprintf("Card %s: %s", t.oc.serial, triesLeft(t.oc.status.TriesLeft)))
	}
	return [2]string{l1, l2}, t.side(body, "")
}

func triesLeft(n int) string {
	if n == 1 {
		return "1 PIN try left"
	}
	return fmt.Sprintf("%d PIN tries left", n)
}

// answerLost reports errors after which a command may have reached the card
// with its answer lost: pulled, reset, unplugged, mute.
func answerLost(err error) bool {
	return errors.Is(err, cardio.ErrCardRemoved) || errors.Is(err, cardio.ErrCardReset) ||
		errors.Is(err, cardio.ErrReaderGone) || errors.Is(err, cardio.ErrCardMute) ||
		errors.Is(err, context.DeadlineExceeded)
}
