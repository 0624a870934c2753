package wizard

import (
	"errors"
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
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
	o.f = newFrame(e, e.t(i18n.MenuInspect), audit.OpInspect, audit.SlotBackupKey)
	o.insert()
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizInspectIntro), next: o.hint()}
	return o
}

func (o *inspectOp) hint() string { return o.f.t(i18n.WizInspectHint) }

func (o *inspectOp) insert() {
	o.state = inspCard
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertCard, i18n.WizWaitInsert, i18n.WizInspectHint)
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
			o.f.note = s.pinNotice(pinBackupKey)
			return s.askPIN(verifyEntry, readWork(o.f.env.cfg.PINTimeout, s.card.onPad))
		}
		cmd := s.end()
		o.done(i18n.WizInspectNotRead)
		return cmd
	case evWrongPIN, evShortPIN:
		o.probe.slots[0] = s.card.status
		o.f.pinEvent(ev, s, pinBackupKey)
	case evTyped:
		return s.send()
	case evWorked:
		return o.shareRead()
	case evEnded:
		if ev.end == endFailed && ev.prob.cause == causeForeign && s.card != nil {
			o.probe = s.card
			o.done(i18n.WizInspectForeign)
			return cmd
		}
		if ev.end == endFailed && ev.prob.cause == causeBlocked && o.probe != nil {
			o.probe.slots[0] = tcos.PINStatus{Blocked: true}
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), holdsNothing)
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
		o.done(i18n.WizInspectNoSlot)
		return cmd
	case s.card.slots[0].Blocked:
		cmd := s.end()
		o.done(i18n.WizInspectBlocked)
		return cmd
	}
	o.state = inspAsk
	s.hold([2]string{o.f.t(i18n.PadShowShare), o.f.t(i18n.PadOKCancel)})
	o.f.note = notice{level: lvInfo, next: o.f.t(i18n.WizInspectAskNext)}
	return nil
}

// shareRead keeps what the record says about its key set; the step wipes
// the share when it ends, at once.
func (o *inspectOp) shareRead() tea.Cmd {
	s := o.step
	o.probe.slots[0] = tcos.PINStatus{TriesLeft: tcos.MaxTries} // a right PIN resets the counter
	t := o.f.t
	var text i18n.ID
	switch rec, recErr := s.res.rec, s.res.recErr; {
	case errors.Is(recErr, quorum.ErrEmpty):
		o.rec, text = t(i18n.WizInspectEmptyRec), i18n.WizInspectEmpty
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		o.rec, text = t(i18n.WizInspectUnknownRec), i18n.WizInspectUnknown
	case recErr != nil:
		o.rec, text = t(i18n.WizInspectDamagedRec), i18n.WizInspectDamaged
	default:
		set := setOf(rec)
		o.set, o.rec = &set, t(i18n.WizInspectLabelRec{Label: set.Label})
		text = i18n.WizInspectShown
	}
	s.record(audit.StepReadCard, audit.OutcomeOK, "share details shown", nil, o.f.env.now())
	cmd := s.end()
	o.done(text)
	return cmd
}

func (o *inspectOp) done(text i18n.ID) {
	o.state = inspDone
	o.f.summary(audit.OutcomeOK, "", nil)
	o.f.finish(notice{level: lvGood, text: o.f.t(text), next: o.f.t(i18n.WizInspectDoneNext)})
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
	t, p := o.f.t, o.f.env.p
	r := o.probe
	if r == nil {
		return nil
	}
	if r.card == nil && r.serial == (tcos.Serial{}) { // not an appliance card
		lines := []string{t(i18n.WizInspectNotAppliance)}
		if len(r.atr) > 0 {
			lines = append(lines, strings.Split(wrap(t(i18n.WizInspectATR{ATR: fmt.Sprintf("% X", r.atr)}), sideWidth), "\n")...)
		}
		return lines
	}
	lines := []string{t(i18n.WizInspectCard{Serial: r.serial.String()})}
	if r.slotErr[0] != nil || r.slotErr[1] != nil {
		lines = append(lines, t(i18n.WizInspectNotProfile))
	} else {
		lines = append(lines, t(i18n.WizInspectProfile))
	}
	slots := []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11}
	var labels []string
	width := 0
	for _, slot := range slots {
		l := t(i18n.WizInspectSlotLabel{Slot: slotName(p, slot)})
		labels, width = append(labels, l), max(width, ansi.StringWidth(l))
	}
	for i := range slots {
		state := triesLeft(p, r.slots[i].TriesLeft)
		switch {
		case r.slotErr[i] != nil:
			state = t(i18n.WizInspectMissing)
		case r.slots[i].Blocked:
			state = t(i18n.WizInspectBlockedState)
		}
		lines = append(lines, fitWidth(labels[i], width)+" "+state)
	}
	lines = append(lines, t(i18n.WizInspectStatusOnly))
	switch {
	case o.set != nil:
		s := o.set
		lines = append(lines,
			t(i18n.WizInspectShare{Rec: o.rec}),
			"  "+t(i18n.WizInspectScheme{K: s.Scheme.K, N: s.Scheme.N, Created: p.DateTimeMinutes(s.Created.UTC())}),
			"  "+t(i18n.WizInspectKeySet{ID: fmt.Sprintf("%X", s.ID[:])}),
			"  "+t(i18n.WizInspectKCV{KCV: kcvString(s.KCV)}))
	case o.rec != "":
		lines = append(lines, t(i18n.WizInspectShare{Rec: o.rec}))
	}
	return lines
}

func (o *inspectOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.step.pad()
		if o.state == inspDone {
			pad = [2]string{o.f.t(i18n.PadCardInspected), o.f.t(i18n.PadOK)}
		}
	}
	var s *cardStep
	if o.state != inspDone {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(o.report(), s)}
}
