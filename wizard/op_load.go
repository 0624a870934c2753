package wizard

import (
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
)

// loadOp is Load Backup Key: restoring a backup, or a new cluster node. A
// quorum of share cards is read and the key rebuilt from them goes into the
// HSM (the Key Reading of the appliance manual).
type loadOp struct {
	f       frame
	state   loadState
	reading *keyReading
}

// loadState is where a load stands.
type loadState int

const (
	loadRead loadState = iota // the Key Reading
	loadDone                  // the result
)

func newLoad(e *env) *loadOp {
	o := &loadOp{}
	o.f = newFrame(e, e.t(i18n.MenuLoad), audit.OpLoad, audit.SlotBackupKey)
	o.f.keySet = o.keySet
	o.reading = newKeyReading(&o.f, nil, nil, nil)
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizLoadIntro), next: e.t(i18n.WizLoadStartNext)}
	return o
}

// keySet puts the key set being read into each audit event, once known.
func (o *loadOp) keySet(e *audit.Event) {
	if s := o.reading.set; s != nil {
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", s.ID[:]), kcvString(s.KCV), s.Scheme.String(), s.Label
	}
}

func (o *loadOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		o.reading.insert()
		o.f.note = notice{level: lvInfo, next: o.reading.hint()}
		return nil
	case frameStay:
		o.reading.step.resume()
		return nil
	case frameLeave:
		return o.end()
	}
	if o.state != loadRead {
		return o.f.env.discardIfResult(msg)
	}
	ev, cmd := o.reading.update(msg)
	if s := o.reading.set; s != nil {
		o.f.title = o.f.t(i18n.WizTitleLoad{Quorum: quorumWords(o.f.env.p, s.Scheme), Label: s.Label})
	}
	switch ev {
	case readLeave:
		if o.f.askLeave(o.status()) == frameLeave {
			return tea.Batch(cmd, o.end())
		}
	case readEnded:
		o.state = loadDone
		o.f.summary(o.reading.outcome, "", o.fill)
		n := o.f.note
		n.next = o.f.t(i18n.WizBackToMenu)
		o.f.finish(n)
	}
	return cmd
}

func (o *loadOp) fill(s *audit.Summary) {
	for _, x := range o.reading.read {
		s.CardsRead = append(s.CardsRead, x.String())
	}
}

func (o *loadOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", o.fill)
	o.f.left = true
	return o.reading.wipe()
}

func (o *loadOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.reading.busy()}
	if o.reading.state == readCard {
		st = o.f.withCountdown(st, o.reading.step)
	}
	if o.reading.holds() {
		st.holds = holdsKey
		st.loss = o.f.t(i18n.WizLossLoad)
	}
	return st
}

func (o *loadOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.reading.pad()
	}
	var s *cardStep
	if o.reading.state == readCard {
		s = o.reading.step
	}
	return panel{pad: pad, side: o.f.side(o.reading.progress(0), s)}
}
