package wizard

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// inspectOp shows what a card is: its serial, whether it is a TCOS 3.0 card
// with the appliance profile, each slot's PIN state (from the status query,
// which spends no try) and, only after the Backup Key PIN, what its share
// record says — never the share itself.
type inspectOp struct {
	f     frame
	state inspectState
	step  *cardStep
	probe *openCard      // the latest card's answers, nil before one
	set   *quorum.KeySet // what the share record says, once read
	rec   string         // what the share slot holds, once read
}

// inspectState is where an inspection stands.
type inspectState int

const (
	inspCard    inspectState = iota // the card's step: insert, the status query
	inspAsk                         // the card is held: show the share's details?
	inspReading                     // the Backup Key PIN and the share record
	inspDone                        // the result
)

func newInspect(e *env) *inspectOp {
	o := &inspectOp{}
	o.f = newFrame(e, "Inspect a card", audit.OpInspect, audit.SlotBackupKey)
	o.insert()
	o.f.note = notice{level: lvInfo, text: "Shows the card's serial number, whether it is an appliance card, and the PIN state of each slot, without spending a PIN try. The share's details need the Backup Key PIN.",
		next: o.hint()}
	return o
}

func (o *inspectOp) hint() string { return "Insert the card to inspect and press OK." }

func (o *inspectOp) insert() {
	o.state = inspCard
	o.step = o.f.newStep(tcos.SlotBackupKey, "Insert card", "insert the card and press OK", o.hint())
	o.step.probe = true
}

func (o *inspectOp) update(msg tea.Msg) tea.Cmd {
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
	if o.state == inspDone {
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
		return o.probed()
	case evAnswer:
		if ev.yes {
			o.state = inspReading
			o.f.note = s.pinNotice("the Backup Key PIN of this card")
			return s.askPIN(verifyEntry, readWork(o.f.env.cfg.PINTimeout, s.card.onPad))
		}
		cmd := s.end()
		o.done("The share's details were not read.")
		return cmd
	case evWrongPIN, evShortPIN:
		o.probe.slots[0] = s.card.status
		o.f.pinEvent(ev, s, "the Backup Key PIN of this card")
	case evTyped:
		return s.send()
	case evWorked:
		return o.shareRead()
	case evEnded:
		if ev.end == endFailed && ev.prob.cause == causeForeign && s.card != nil {
			o.probe = s.card
			o.done("This card is not an appliance smart card. Nothing was written to it.")
			return cmd
		}
		if ev.end == endFailed && ev.prob.cause == causeBlocked && o.probe != nil {
			o.probe.slots[0] = tcos.PINStatus{Blocked: true}
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), "")
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// probed shows the card's slots and asks whether to read the share's
// details with the PIN.
func (o *inspectOp) probed() tea.Cmd {
	s := o.step
	o.probe, o.set, o.rec = s.card, nil, ""
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(s.card.slots[0].TriesLeft), o.f.env.now())
	switch {
	case s.card.slotErr[0] != nil:
		cmd := s.end()
		o.done("This card lacks the Backup Key share slot; it holds no share.")
		return cmd
	case s.card.slots[0].Blocked:
		cmd := s.end()
		o.done("The Backup Key PIN is blocked: the share's details cannot be read.")
		return cmd
	}
	o.state = inspAsk
	s.hold([2]string{"Show share?", "press OK/Cancel"})
	o.f.note = notice{level: lvInfo, next: "Press OK to enter the Backup Key PIN and show the share's details, or Cancel to finish."}
	return nil
}

// shareRead keeps what the record says about its key set; the step wipes
// the share when it ends, at once.
func (o *inspectOp) shareRead() tea.Cmd {
	s := o.step
	o.probe.slots[0] = tcos.PINStatus{TriesLeft: tcos.MaxTries} // a right PIN resets the counter
	var text string
	switch rec, recErr := s.res.rec, s.res.recErr; {
	case errors.Is(recErr, quorum.ErrEmpty):
		o.rec, text = "none: the slot is empty", "The share slot is empty: this card holds no Backup Key share."
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		o.rec, text = "in a format this hsmcards does not know (newer?)", "The share record is in a format this hsmcards does not know; a newer hsmcards may read it."
	case recErr != nil:
		o.rec, text = "a damaged record (an interrupted write leaves one)", "The share record is damaged: the card cannot serve in a Load as it is."
	default:
		set := setOf(rec)
		o.set, o.rec = &set, fmt.Sprintf("%q", set.Label)
		text = "The share's details are shown; the share itself never is."
	}
	s.record(audit.StepReadCard, audit.OutcomeOK, "share details shown", nil, o.f.env.now())
	cmd := s.end()
	o.done(text)
	return cmd
}

func (o *inspectOp) done(text string) {
	o.state = inspDone
	o.f.summary(audit.OutcomeOK, "", nil)
	o.f.finish(notice{level: lvGood, text: text, next: "Take the card out. Press OK for the main menu."})
}

func (o *inspectOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", nil)
	o.f.left = true
	return o.step.end()
}

func (o *inspectOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.step.running()}
	if o.state != inspDone {
		st = o.f.withCountdown(st, o.step)
	}
	return st
}

// report is the card's description for the side panel.
func (o *inspectOp) report() []string {
	r := o.probe
	if r == nil {
		return nil
	}
	if r.card == nil && r.serial == (tcos.Serial{}) { // not an appliance card
		lines := []string{"Not an appliance card."}
		if len(r.atr) > 0 {
			lines = append(lines, strings.Split(wrap(fmt.Sprintf("ATR % X", r.atr), sideWidth), "\n")...)
		}
		return lines
	}
	lines := []string{"Card " + r.serial.String()}
	if r.slotErr[0] != nil || r.slotErr[1] != nil {
		lines = append(lines, "TCOS 3.0, but NOT the appliance profile")
	} else {
		lines = append(lines, "TCOS 3.0 card with the appliance profile")
	}
	for i, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
		state := triesLeft(r.slots[i].TriesLeft)
		switch {
		case r.slotErr[i] != nil:
			state = "missing"
		case r.slots[i].Blocked:
			state = "BLOCKED"
		}
		lines = append(lines, fmt.Sprintf("%-22s %s", slotName(slot)+":", state))
	}
	lines = append(lines, "(status query only: no PIN try spent)")
	switch {
	case o.set != nil:
		s := o.set
		lines = append(lines,
			"Share: "+o.rec,
			fmt.Sprintf("  %d of %d, created %s", s.Scheme.K, s.Scheme.N, s.Created.UTC().Format("2006-01-02 15:04 MST")),
			fmt.Sprintf("  key set %X", s.ID[:]),
			"  KCV "+kcvString(s.KCV))
	case o.rec != "":
		lines = append(lines, "Share: "+o.rec)
	}
	return lines
}

func (o *inspectOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.step.pad()
		if o.state == inspDone {
			pad = [2]string{"Card inspected", "press OK"}
		}
	}
	var s *cardStep
	if o.state != inspDone {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(o.report(), s)}
}
