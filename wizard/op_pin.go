package wizard

import (
	"crypto/subtle"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/tcos"
)

// pinOp changes the PIN of one slot of a card (the appliance manual,
// "Change the PIN of the Backup Key share on a smart card" and "... of a
// PKCS#11 Slot User"): the current PIN, the new PIN, the new PIN again, then
// one change to that slot only. On a reader whose keypad can change PINs
// the reader collects them all and no PIN crosses the host.
type pinOp struct {
	f       frame
	state   pinState
	slot    tcos.Slot
	step    *cardStep
	changed tcos.Serial
}

// pinState is where a PIN change stands.
type pinState int

const (
	pinCard     pinState = iota // the card's step: insert, connect, the PINs typed
	pinFactory                  // the new PIN is the factory PIN: use it anyway?
	pinChanging                 // the change runs on the card
	pinDone                     // the result
)

// changeEntry is the on-screen pad's three PINs of a change.
var changeEntry = pinEntry{
	{"Current PIN", "enter the current PIN and press OK"},
	{"New PIN", "enter the new PIN and press OK"},
	{"New PIN again", "enter the new PIN again and press OK"},
}

func newPINChange(e *env, slot tcos.Slot) *pinOp {
	o := &pinOp{slot: slot}
	o.f = newFrame(e, "Change the PIN of the "+slotName(slot), audit.OpChangePIN, auditSlot(slot))
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: fmt.Sprintf("Changes the PIN of the %s of a card, nothing else: the card's other slot keeps its PIN. You will type the current PIN, then the new PIN (%d to %d digits) twice.", slotName(slot), tcos.MinPINLen, tcos.MaxPINLen),
		next: o.hint()}
	return o
}

func (o *pinOp) hint() string { return "Insert the card and press OK." }

func (o *pinOp) insert() {
	o.state = pinCard
	o.step = o.f.newStep(o.slot, "Insert card", "insert the card and press OK", o.hint())
}

func (o *pinOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		o.insert()
		o.f.note = notice{level: lvInfo, next: o.hint()}
		return nil
	case frameStay:
		o.step.resume()
		return nil
	case frameLeave:
		return o.end()
	}
	if o.state == pinDone {
		return o.f.env.discardIfResult(msg)
	}
	s := o.step
	ev, cmd := s.update(msg)
	switch ev.kind {
	case evLeave:
		if o.f.askLeave(o.status()) == frameLeave {
			return tea.Batch(cmd, o.end())
		}
	case evConnected:
		return o.identified()
	case evField:
		o.askNew(ev.field)
	case evWrongPIN, evShortPIN:
		o.f.pinEvent(ev, s, "the CURRENT PIN of this slot")
	case evTyped:
		return o.typed()
	case evAnswer:
		if ev.yes {
			return o.send()
		}
		o.retypeNew("Choose another new PIN.", lvInfo)
	case evWorked:
		return o.changedPIN()
	case evEnded:
		o.f.stepEnded(ev, o.slot, o.hint(), "")
		if ev.end == endFailed && ev.prob.answerLost() && o.state == pinChanging {
			// The change may have landed before the answer was lost: the
			// operator must know which PIN to try.
			o.f.note.next += " The PIN may already be changed: if the current PIN is refused, type the NEW PIN as the current one."
		}
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

func (o *pinOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	if c.status.Blocked {
		text := blockedText(c.serial, o.slot)
		s.record(audit.StepIdentify, audit.OutcomeBlocked, text, audit.Tries(0), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: text, next: "Take this card out. " + o.hint()}
		return cmd
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	onPad := c.onPad && c.modify
	if onPad {
		o.state = pinChanging
		o.f.note = s.pinNotice("the current PIN")
		o.f.note.next = "On the reader's keypad type the current PIN and press OK, then the new PIN twice. No PIN passes through this computer. Do not choose 123456, the factory PIN."
		return s.askPIN(nil, changeWork(o.slot, o.f.env.cfg.PINTimeout, true))
	}
	o.f.note = s.pinNotice("the CURRENT PIN of this slot")
	o.f.note.next = "On the on-screen pad, type the CURRENT PIN of this slot (digits), then press OK. Backspace clears, Esc cancels."
	if c.onPad {
		o.f.note.text += " This reader cannot change PINs on its keypad: type them here."
	}
	return s.askPIN(changeEntry, changeWork(o.slot, o.f.env.cfg.PINTimeout, false))
}

// askNew says what to type after field i.
func (o *pinOp) askNew(i int) {
	if i == 0 {
		o.f.note = notice{level: lvInfo, text: fmt.Sprintf("Type the NEW PIN (%d to %d digits), then press OK.", tcos.MinPINLen, tcos.MaxPINLen),
			next: "Do not choose 123456, the factory PIN. Backspace clears, Esc cancels."}
		return
	}
	o.f.note = notice{level: lvInfo, text: "Type the NEW PIN once more, then press OK.", next: "Backspace clears, Esc cancels."}
}

// retypeNew asks the new PIN again, why first.
func (o *pinOp) retypeNew(why string, lv level) {
	o.state = pinCard
	o.step.retype(1)
	o.askNew(0)
	o.f.note.text = why + " " + o.f.note.text
	o.f.note.level = lv
}

// typed checks the two new PINs before anything is sent, and warns of the
// factory PIN.
func (o *pinOp) typed() tea.Cmd {
	s := o.step
	fresh, again := s.fields[1].Bytes(), s.fields[2].Bytes()
	if subtle.ConstantTimeCompare(fresh, again) != 1 {
		o.retypeNew("The two new PINs differ; nothing was changed.", lvWarn)
		return nil
	}
	if subtle.ConstantTimeCompare(fresh, []byte(tcos.FactoryPIN)) == 1 {
		o.state = pinFactory
		s.hold([2]string{"Factory PIN?", "press OK/Cancel"})
		o.f.note = notice{level: lvWarn, text: "The new PIN is the factory PIN 123456, which every new card has: anyone who finds this card could use it.",
			next: "Press OK to use it anyway, or Cancel to choose another new PIN."}
		return nil
	}
	return o.send()
}

func (o *pinOp) send() tea.Cmd {
	o.state = pinChanging
	return o.step.send()
}

func (o *pinOp) changedPIN() tea.Cmd {
	s := o.step
	o.changed = s.card.serial
	s.record(audit.StepChangePIN, audit.OutcomeOK, "", nil, o.f.env.now())
	o.f.summary(audit.OutcomeOK, "", nil)
	cmd := s.end()
	o.state = pinDone
	other := tcos.SlotPKCS11
	if o.slot == tcos.SlotPKCS11 {
		other = tcos.SlotBackupKey
	}
	o.f.finish(notice{level: lvGood, text: fmt.Sprintf("The PIN of the %s of card %s was changed. The %s keeps its PIN.", slotName(o.slot), o.changed, slotName(other)),
		next: "Use the new PIN from now on. Press OK for the main menu."})
	return cmd
}

func (o *pinOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", nil)
	o.f.left = true
	return o.step.end()
}

// status: a PIN change holds nothing worth asking about; PINs typed are
// simply wiped.
func (o *pinOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.step.running()}
	if o.state != pinDone {
		st = o.f.withCountdown(st, o.step)
	}
	return st
}

func (o *pinOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.step.pad()
		if o.state == pinDone {
			pad = [2]string{"PIN changed", "press OK"}
		}
	}
	var body []string
	switch {
	case o.changed != (tcos.Serial{}):
		body = append(body, "Card "+o.changed.String()+": PIN changed")
	case o.step.card != nil && !o.step.ended():
		body = append(body, fmt.Sprintf("Card %s: %s", o.step.card.serial, triesLeft(o.step.card.status.TriesLeft)))
	}
	var s *cardStep
	if o.state != pinDone {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(body, s)}
}
