package wizard

import (
	"errors"
	"fmt"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// installOp is Install Backup Key (the appliance manual's Key generation,
// then its Key Reading): the generated key is split k-of-n, each share
// written to a card (asking before a card's content is overwritten), then
// read back from k cards and loaded into the HSM. The key stays in memory
// until it is in the HSM.
type installOp struct {
	f       frame
	state   installState
	scheme  quorum.Scheme
	label   string
	key     *quorum.Key      // the generated key, until it is in the HSM
	records []*quorum.Record // one share record per card
	written []tcos.Serial    // the card holding share i
	step    *cardStep
	reading *keyReading
	hsmKey  *hsmInfoMsg // the HSM's key when the install started
	agreed  *[3]byte    // the HSM key the operator agreed to replace
}

// installState is where an install stands.
type installState int

const (
	instStart     installState = iota // "Write New Key", press OK/Cancel
	instWrite                         // a card step for the next share: insert, PIN, the card's content read
	instOverwrite                     // the card holds something: overwrite it?
	instWriting                       // the share is written and read back
	instRead                          // the Key Reading
	instDone                          // the result
)

func newInstall(e *env, k keyMadeMsg) *installOp {
	o := &installOp{scheme: k.scheme, label: k.label, key: k.key, records: k.records, hsmKey: e.hsmKey}
	if k.replace && e.hsmKey != nil {
		kcv := e.hsmKey.info.KCV // the key the setup screen showed
		o.agreed = &kcv
	}
	o.f = newFrame(e, e.t(i18n.WizTitleInstall{Quorum: quorumWords(e.p, k.scheme), Label: k.label}), audit.OpInstall, audit.SlotBackupKey)
	o.f.keySet = o.keySet
	o.f.event(audit.StepGenerate, nil, audit.OutcomeOK, "label "+k.label)
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizInstallInMemory{Label: k.label, K: k.scheme.K, N: k.scheme.N}),
		next: e.t(i18n.WizInstallStartNext)}
	if k.key.LockError() != nil {
		o.f.note.text = sentences(o.f.note.text, e.t(i18n.WizKeyNotLocked))
	}
	return o
}

// keySet puts the new key set into each audit event.
func (o *installOp) keySet(e *audit.Event) {
	r := o.records[0]
	e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", r.KeySetID[:]), kcvString(r.KCV), r.Scheme.String(), r.Label
}

// cardNo is the number the pad shows in "Insert N. card".
func (o *installOp) cardNo() int { return len(o.written) + 1 }

func (o *installOp) hint() string {
	return o.f.t(i18n.WizInstallHint{Card: o.cardNo(), N: o.scheme.N})
}

// insert waits for the card the next share goes to.
func (o *installOp) insert() {
	o.state = instWrite
	n := o.cardNo()
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertNth{Card: n}, i18n.WizWaitInsertNth{Card: n}, i18n.WizInstallHint{Card: n, N: o.scheme.N})
}

func (o *installOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		if o.state == instRead {
			o.reading.insert()
			o.f.note = notice{level: lvInfo, next: o.reading.hint()}
			return nil
		}
		o.insert()
		o.f.note = notice{level: lvInfo, next: o.hint()}
		return nil
	case frameStay:
		o.activeStep().resume()
		return nil
	case frameLeave:
		return o.end()
	}
	switch o.state {
	case instStart:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(k, keys.OK):
				o.insert()
				o.f.note = notice{level: lvInfo, next: o.hint()}
			case key.Matches(k, keys.Cancel):
				if o.f.askLeave(o.status()) == frameLeave {
					return o.end()
				}
			}
		}
		return o.f.env.discardIfResult(msg)
	case instWrite, instOverwrite, instWriting:
		return o.cardUpdate(msg)
	case instRead:
		switch ev, cmd := o.reading.update(msg); ev {
		case readLeave:
			if o.f.askLeave(o.status()) == frameLeave {
				return tea.Batch(cmd, o.end())
			}
			return cmd
		case readEnded:
			return tea.Batch(cmd, o.done())
		default:
			return cmd
		}
	}
	return o.f.env.discardIfResult(msg)
}

func (o *installOp) cardUpdate(msg tea.Msg) tea.Cmd {
	s := o.step
	ev, cmd := s.update(msg)
	switch ev.kind {
	case evLeave:
		if o.f.askLeave(o.status()) == frameLeave {
			return tea.Batch(cmd, o.end())
		}
	case evConnected:
		return o.identified()
	case evWrongPIN, evShortPIN:
		o.f.pinEvent(ev, s, pinBackupKey)
	case evTyped:
		return s.send()
	case evWorked:
		if o.state == instWriting {
			return o.written1()
		}
		return o.contentRead()
	case evAnswer:
		return o.overwrite(ev.yes)
	case evEnded:
		if o.state == instWriting {
			return tea.Batch(cmd, o.writeFailed(ev))
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), holdsKey)
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// identified refuses a card written a moment ago or blocked, else asks its
// PIN, so that the card's content can be read before anything is written.
func (o *installOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	refuse := func(why said, out audit.Outcome) tea.Cmd {
		s.record(audit.StepIdentify, out, why.trail, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: why.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.hint())}
		return cmd
	}
	if i := indexOf(o.written, c.serial); i >= 0 {
		return refuse(o.f.env.say(i18n.WizAlreadyWritten{Serial: c.serial.String(), Share: i + 1}), audit.OutcomeRefused)
	}
	if c.status.Blocked {
		return refuse(o.f.env.blocked(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, readWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// contentRead writes to an empty card at once and asks before anything
// else is overwritten. What the card held stays the step's: it is wiped
// when the step ends, however it ends.
func (o *installOp) contentRead() tea.Cmd {
	s := o.step
	if errors.Is(s.res.recErr, quorum.ErrEmpty) {
		return o.write()
	}
	o.state = instOverwrite
	s.hold([2]string{o.f.t(i18n.PadOverwrite), o.f.t(i18n.PadOKCancel)})
	o.f.note = o.overwriteNotice()
	return nil
}

func (o *installOp) overwriteNotice() notice {
	t := o.f.t
	rec, recErr := o.step.res.rec, o.step.res.recErr
	var what string
	switch {
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		what = t(i18n.WizOverwriteUnknownFormat)
	case recErr != nil:
		what = t(i18n.WizOverwriteDamaged)
	case rec.KeySetID == o.records[0].KeySetID:
		what = t(i18n.WizOverwriteSameKey)
	default:
		what = t(i18n.WizOverwriteShare{Set: describeSet(o.f.env.p, setOf(rec))})
		if o.hsmKey != nil && o.hsmKey.info.KCV == rec.KCV {
			what = sentences(what, t(i18n.WizShareOfLoadedKey))
		}
		what = sentences(what, t(i18n.WizOverwriteLost))
	}
	return notice{level: lvWarn, text: what, next: t(i18n.WizOverwriteNext)}
}

// overwrite is the answer to the overwrite question.
func (o *installOp) overwrite(yes bool) tea.Cmd {
	if yes {
		return o.write()
	}
	s := o.step
	s.record(audit.StepWriteCard, audit.OutcomeRefused, "the operator kept the card's content", nil, o.f.env.now())
	cmd := s.end()
	o.insert()
	o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizNotWritten), next: o.f.t(i18n.WizInsertAnother)}
	return cmd
}

func (o *installOp) write() tea.Cmd {
	o.state = instWriting
	return o.step.run(writeWork(o.records[len(o.written)], i18n.WorkWritingShare))
}

func (o *installOp) written1() tea.Cmd {
	s := o.step
	serial := s.card.serial
	s.record(audit.StepWriteCard, audit.OutcomeOK, "", nil, o.f.env.now())
	cmd := s.end()
	o.written = append(o.written, serial)
	if len(o.written) < o.scheme.N {
		o.insert()
		o.f.note = notice{level: lvGood, text: o.f.t(i18n.WizShareWritten{Share: len(o.written), Serial: serial.String()}),
			next: sentences(o.f.t(i18n.WizTakeCardOut), o.hint())}
		return cmd
	}
	id := o.records[0].KeySetID
	o.reading = newKeyReading(&o.f, &id, o.key, o.agreed)
	o.reading.known = slices.Clone(o.written) // the HSM's register learns every card written
	o.state = instRead
	o.f.note = notice{level: lvGood, text: o.f.t(i18n.WizAllWritten{N: o.scheme.N}),
		next: o.f.t(i18n.WizReadBackNext{K: o.scheme.K, N: o.scheme.N})}
	return cmd
}

// writeFailed says that a write did not complete; the same card (or
// another) is written again.
func (o *installOp) writeFailed(ev stepEvent) tea.Cmd {
	s := o.step
	if ev.end != endFailed && ev.end != endStopped {
		return nil
	}
	p := ev.prob
	if ev.end == endStopped {
		p = problem{cause: causeStopped}
	}
	s.record(audit.StepWriteCard, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	n := o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(i18n.WizWriteAgain))
	n.text = sentences(o.f.t(i18n.WizShareNotWritten), n.text)
	o.insert()
	o.f.note = n
	return nil
}

// done closes the install once the Key Reading ended.
func (o *installOp) done() tea.Cmd {
	r := o.reading
	o.state = instDone
	o.summary(r.outcome, "")
	o.wipe()
	n := o.f.note
	if r.loadedOK() {
		n.next = o.f.t(i18n.WizInstallDoneNext)
	} else {
		n.next = o.f.t(i18n.WizInstallNotLoadedNext)
	}
	o.f.finish(n)
	return nil
}

func (o *installOp) summary(out audit.Outcome, detail string) {
	o.f.summary(out, detail, func(s *audit.Summary) {
		for _, x := range o.written {
			s.CardsWritten = append(s.CardsWritten, x.String())
		}
		if o.reading != nil {
			for _, x := range o.reading.read {
				s.CardsRead = append(s.CardsRead, x.String())
			}
		}
	})
}

// wipe wipes the key, the share records and whatever the card steps hold.
func (o *installOp) wipe() tea.Cmd {
	o.key.Wipe()
	for _, r := range o.records {
		r.Wipe()
	}
	var cmds []tea.Cmd
	if o.reading != nil {
		cmds = append(cmds, o.reading.wipe())
	}
	if o.step != nil {
		cmds = append(cmds, o.step.end())
	}
	return tea.Batch(cmds...)
}

func (o *installOp) end() tea.Cmd {
	o.summary(audit.OutcomeCancelled, "left by the operator")
	o.f.left = true
	return o.wipe()
}

func (o *installOp) status() actStatus {
	st := actStatus{done: o.f.left}
	switch o.state {
	case instWrite, instOverwrite, instWriting:
		st.busy = o.step.running()
	case instRead:
		st.busy = o.reading.busy()
	}
	if o.state != instDone {
		st.holds, st.loss = holdsKey, o.lossWarning()
	}
	return o.f.withCountdown(st, o.activeStep())
}

// lossWarning says what leaving now loses.
func (o *installOp) lossWarning() string {
	switch {
	case o.state != instRead && len(o.written) == 0:
		return o.f.t(i18n.WizLossInstallNone)
	case o.state != instRead:
		return o.f.t(i18n.WizLossInstallSome{Written: len(o.written), N: o.scheme.N})
	}
	return o.f.t(i18n.WizLossInstallAll)
}

func (o *installOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case instStart:
			pad = [2]string{o.f.t(i18n.PadWriteNewKey), o.f.t(i18n.PadOKCancel)}
		case instRead, instDone:
			pad = o.reading.pad()
		default:
			pad = o.step.pad()
		}
	}
	return panel{pad: pad, side: o.f.side(o.progress(), o.activeStep())}
}

// activeStep is the card step whose countdown and work show.
func (o *installOp) activeStep() *cardStep {
	switch o.state {
	case instWrite, instOverwrite, instWriting:
		return o.step
	case instRead:
		if o.reading.state == readCard {
			return o.reading.step
		}
	}
	return nil
}

// progress lists the steps done and left, each card by the end of its
// serial (the whole serial is in the notices).
func (o *installOp) progress() []string {
	p := o.f.env.p
	var items []string
	for i := 0; i < o.scheme.N; i++ {
		var s *tcos.Serial
		if i < len(o.written) {
			s = &o.written[i]
		}
		items = append(items, progressItem(p, i+1, s, i == len(o.written) && o.state >= instWrite && o.state <= instWriting))
	}
	lines := []string{p.T(i18n.WizProgressWrite{Items: joinItems(items)})}
	if o.reading == nil {
		var read []string
		for i := 1; i <= o.scheme.K; i++ {
			read = append(read, progressItem(p, i, nil, false))
		}
		return append(lines, p.T(i18n.WizProgressRead{Items: joinItems(read)}), p.T(i18n.WizProgressLoad{State: "-"}))
	}
	return append(lines, o.reading.progress(o.scheme.K)...)
}
