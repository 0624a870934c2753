package wizard

import (
	"crypto/subtle"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
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
	{i18n.PadCurrentPIN, i18n.WizWaitCurrentPIN},
	{i18n.PadNewPIN, i18n.WizWaitNewPIN},
	{i18n.PadNewPINAgain, i18n.WizWaitNewPINAgain},
}

func newPINChange(e *env, slot tcos.Slot) *pinOp {
	o := &pinOp{slot: slot}
	o.f = newFrame(e, e.t(i18n.WizTitleChangePIN{Slot: slotName(e.p, slot)}), audit.OpChangePIN, auditSlot(slot))
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: e.t(i18n.WizPINIntro{Slot: slotName(e.p, slot), Min: tcos.MinPINLen, Max: tcos.MaxPINLen}),
		next: o.hint()}
	return o
}

func (o *pinOp) hint() string { return o.f.t(i18n.WizPINHint) }

func (o *pinOp) insert() {
	o.state = pinCard
	o.step = o.f.newStep(o.slot, i18n.PadInsertCard, i18n.WizWaitInsert, i18n.WizPINHint)
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
		o.f.pinEvent(ev, s, pinCurrent)
	case evTyped:
		return o.typed()
	case evAnswer:
		if ev.yes {
			return o.send()
		}
		o.retypeNew(i18n.WizPINChooseAnother, lvInfo)
	case evWorked:
		return o.changedPIN()
	case evEnded:
		o.f.stepEnded(ev, o.slot, o.hint(), holdsNothing)
		if ev.end == endFailed && ev.prob.answerLost() && o.state == pinChanging {
			// The change may have landed before the answer was lost: the
			// operator must know which PIN to try.
			o.f.note.next = sentences(o.f.note.next, o.f.t(i18n.WizPINMayBeChanged))
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
		why := o.f.env.blocked(c.serial, o.slot)
		s.record(audit.StepIdentify, audit.OutcomeBlocked, why.trail, audit.Tries(0), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: why.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.hint())}
		return cmd
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	onPad := c.onPad && c.modify
	if onPad {
		o.state = pinChanging
		o.f.note = s.pinNotice(pinCurrent)
		o.f.note.next = o.f.t(i18n.WizPINOnPad)
		return s.askPIN(nil, changeWork(o.slot, o.f.env.cfg.PINTimeout, true))
	}
	o.f.note = s.pinNotice(pinCurrent)
	o.f.note.next = o.f.t(i18n.WizPINOnScreen)
	if c.onPad {
		o.f.note.text = sentences(o.f.note.text, o.f.t(i18n.WizPINPadNoChange))
	}
	return s.askPIN(changeEntry, changeWork(o.slot, o.f.env.cfg.PINTimeout, false))
}

// askNew says what to type after field i.
func (o *pinOp) askNew(i int) {
	if i == 0 {
		o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizPINTypeNew{Min: tcos.MinPINLen, Max: tcos.MaxPINLen}),
			next: o.f.t(i18n.WizPINNotFactory)}
		return
	}
	o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizPINTypeNewAgain), next: o.f.t(i18n.WizPINClearCancel)}
}

// retypeNew asks the new PIN again, why first.
func (o *pinOp) retypeNew(why i18n.ID, lv level) {
	o.state = pinCard
	o.step.retype(1)
	o.askNew(0)
	o.f.note.text = sentences(o.f.t(why), o.f.note.text)
	o.f.note.level = lv
}

// typed checks the two new PINs before anything is sent, and warns of the
// factory PIN.
func (o *pinOp) typed() tea.Cmd {
	s := o.step
	fresh, again := s.fields[1].Bytes(), s.fields[2].Bytes()
	if subtle.ConstantTimeCompare(fresh, again) != 1 {
		o.retypeNew(i18n.WizPINsDiffer, lvWarn)
		return nil
	}
	if subtle.ConstantTimeCompare(fresh, []byte(tcos.FactoryPIN)) == 1 {
		o.state = pinFactory
		s.hold([2]string{o.f.t(i18n.PadFactoryPIN), o.f.t(i18n.PadOKCancel)})
		o.f.note = notice{level: lvWarn, text: o.f.t(i18n.WizPINIsFactory), next: o.f.t(i18n.WizPINFactoryNext)}
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
	p := o.f.env.p
	o.f.finish(notice{level: lvGood, text: o.f.t(i18n.WizPINChanged{Slot: slotName(p, o.slot), Serial: o.changed.String(), Other: slotName(p, other)}),
		next: o.f.t(i18n.WizPINChangedNext)})
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
			pad = [2]string{o.f.t(i18n.PadPINChanged), o.f.t(i18n.PadOK)}
		}
	}
	var body []string
	switch {
	case o.changed != (tcos.Serial{}):
		body = append(body, o.f.t(i18n.WizCardPINChanged{Serial: o.changed.String()}))
	case o.step.card != nil && !o.step.ended():
		body = append(body, o.f.t(i18n.WizCardTriesLeft{Serial: o.step.card.serial.String(), Tries: triesLeft(o.f.env.p, o.step.card.status.TriesLeft)}))
	}
	var s *cardStep
	if o.state != pinDone {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(body, s)}
}
