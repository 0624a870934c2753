package wizard

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// reissueOp is Re-issue the card set (docs/lifecycle.md, "Re-issue"): k
// cards of the current set rebuild the Backup Key the HSM holds, the same
// key is split anew (a new key-set ID, generation + 1, the quorum and label
// chosen), every card of the new set is written and read back, and only
// then does the new set count (cardset.Reissue.Commit): the old one is
// superseded, and its cards are to collect. The quorum's cards are not
// written before the commit, so a fault, a refusal or a quit before it
// leaves the current set current and loadable; the screen says so. The key
// is in the re-issue's secret memory from the rebuild until the commit.
type reissueOp struct {
	f      frame
	state  reissueState
	step   *cardStep
	openID stepID
	cmdID  stepID
	g      *guard // hands r to the register command running (Plan, Commit)
	r      *cardset.Reissue
	reg    hsm.CardSetRegister
	start  hsm.CardSets // the register when the re-issue started
	hsmKey hsm.KeyInfo
	tries  int           // the card's tries left when it came in
	quorum []tcos.Serial // the cards of the current set read
	old    *quorum.KeySet
	// The new set's quorum (choices[scheme]) and label.
	choices []quorum.Scheme
	scheme  int
	label   textinput.Model
	plan    *cardset.Plan
	write   *cardset.Write // the new card being written
	retry   reissueState   // riRetry: the step OK tries again (riPlanning or riCommitting)
	done    *cardset.Committed
}

// reissueState is where a re-issue stands.
type reissueState int

const (
	riOpening    reissueState = iota // reading the HSM's key and register
	riSource                         // a card step for the next card of the quorum
	riParams                         // the new set's quorum and label
	riPlanning                       // the new set is split and recorded as uncommitted
	riTarget                         // a card step for the next new card: insert, PIN, its content read
	riOverwrite                      // the card is held: overwrite what it holds?
	riWriting                        // the new share is written and read back
	riCommitting                     // the new set is made current
	riRetry                          // the HSM's record was not updated: try again?
	riDone                           // the result
)

func newReissue(e *env) (*reissueOp, tea.Cmd) {
	o := &reissueOp{}
	o.f = newFrame(e, e.t(i18n.MenuReissue), audit.OpReissue, audit.SlotBackupKey)
	o.f.leave = i18n.WizLeaveCeremony
	o.f.keySet = o.keySet
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	reg, ok := e.register()
	if !ok {
		p := problem{cause: causeNoRegister, err: cardset.ErrNoRegister}
		o.finish(audit.OutcomeRefused, safeDetail(p.err), o.f.env.problemNotice(p, 0, o.f.t(i18n.WizBackToMenu)))
		return o, nil
	}
	o.reg = reg
	o.openID = e.newID()
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizAskingCardSets)}
	return o, cardSetsCmd(e.ctx, o.openID, e.cfg.HSM, wantReissue)
}

// set is the card set the re-issue is about: the new one once planned,
// else the one re-issued.
func (o *reissueOp) set() *quorum.KeySet {
	if o.plan != nil {
		return &o.plan.New
	}
	if o.old != nil {
		return o.old
	}
	if s, ok := cardset.CurrentKeySet(o.start); ok && o.start.KCV == o.hsmKey.KCV {
		return &s
	}
	return nil
}

func (o *reissueOp) keySet(e *audit.Event) {
	if s := o.set(); s != nil {
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", s.ID[:]), kcvString(s.KCV), s.Scheme.String(), s.Label
		e.Generation = uint64(s.Generation)
	}
}

// stays says that the current set is untouched: what a fault before the
// commit leaves.
func (o *reissueOp) stays() string {
	if s := o.set(); s != nil && o.old != nil {
		return o.f.t(i18n.WizReStaysGen{Generation: int(o.old.Generation)})
	}
	return o.f.t(i18n.WizReStays)
}

// need is the quorum's k: from the first card read, else the register's
// current set, else 0.
func (o *reissueOp) need() int {
	if _, k := o.r.Progress(); k > 0 {
		return k
	}
	if s := o.set(); s != nil {
		return s.Scheme.K
	}
	return 0
}

func (o *reissueOp) hint() i18n.Message {
	switch o.state {
	case riTarget, riOverwrite, riWriting:
		done, n := o.r.WrittenCount()
		var q []string
		for _, s := range o.quorum {
			q = append(q, shortSerial(s))
		}
		return i18n.WizReTargetHint{Share: done + 1, N: n, Quorum: strings.Join(q, o.f.t(i18n.ListSeparator))}
	}
	have, k := len(o.quorum), o.need()
	if k == 0 {
		return i18n.WizReSourceAny
	}
	if have >= k {
		return i18n.WizReSourceOneMore
	}
	return i18n.WizReSourceNth{Card: have + 1, Need: k}
}

// insert waits for the next card of the quorum.
func (o *reissueOp) insertSource() {
	o.state = riSource
	n := len(o.quorum) + 1
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertNth{Card: n}, i18n.WizWaitInsertNth{Card: n}, o.hint())
}

// insertTarget waits for the next new card.
func (o *reissueOp) insertTarget() {
	o.state = riTarget
	done, n := o.r.WrittenCount()
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadNewCardOf{Card: done + 1, N: n}, i18n.WizWaitNewCard{Card: done + 1}, o.hint())
}

// again waits for a card again, where the re-issue stands.
func (o *reissueOp) again() {
	if o.plan != nil {
		o.insertTarget()
		return
	}
	o.insertSource()
}

func (o *reissueOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		o.again()
		o.f.note = notice{level: lvInfo, next: o.f.t(o.hint())}
		return nil
	case frameStay:
		o.step.resume()
		return nil
	case frameLeave:
		return o.end()
	}
	switch o.state {
	case riOpening:
		if m, ok := msg.(cardSetsMsg); ok && m.id == o.openID {
			return o.opened(m)
		}
		if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, keys.Cancel) {
			return o.end()
		}
	case riSource, riTarget, riOverwrite, riWriting:
		return o.cardUpdate(msg)
	case riParams:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			return o.paramsKey(k)
		}
	case riPlanning:
		if m, ok := msg.(planMsg); ok && m.id == o.cmdID {
			return o.planned(m)
		}
	case riCommitting:
		if m, ok := msg.(commitMsg); ok && m.id == o.cmdID {
			return o.committed(m)
		}
	case riRetry:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(k, keys.OK) && o.retry == riPlanning:
				return o.planNow()
			case key.Matches(k, keys.OK):
				return o.commit()
			case key.Matches(k, keys.Cancel):
				if o.f.askLeave(o.status()) == frameLeave {
					return o.end()
				}
			}
		}
	}
	return o.f.env.discardIfResult(msg)
}

func (o *reissueOp) opened(m cardSetsMsg) tea.Cmd {
	o.f.registerNotes(m.notes)
	switch {
	case m.err != nil:
		o.finish(o.f.cardSetsFailed(m.err))
		return nil
	case m.key == nil || m.reissue == nil:
		p := problem{cause: causeNoKeyInHSM, err: cardset.ErrNoKeyInHSM}
		o.finish(audit.OutcomeRefused, safeDetail(p.err), o.f.env.problemNotice(p, 0, o.f.t(i18n.WizBackToMenu)))
		return nil
	}
	o.r, o.start, o.hsmKey = m.reissue, m.reg, *m.key
	o.insertSource()
	o.f.note = notice{level: lvInfo,
		text: o.f.t(i18n.WizReissueIntro),
		next: o.f.t(o.hint())}
	return nil
}

func (o *reissueOp) cardUpdate(msg tea.Msg) tea.Cmd {
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
		switch o.state {
		case riSource:
			return o.sourceRead()
		case riTarget:
			return o.targetRead()
		case riWriting:
			return o.writtenBack()
		}
	case evAnswer:
		return o.overwrite(ev.yes)
	case evEnded:
		if o.state == riWriting {
			return tea.Batch(cmd, o.writeFailed(ev))
		}
		if o.write != nil {
			o.write.Release()
			o.write = nil
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.f.t(o.hint()), o.held())
		if o.f.mode == frameOn {
			o.again()
		}
	}
	return cmd
}

// held is the secret still in memory, for a timeout's notice.
func (o *reissueOp) held() holding {
	if o.r != nil && o.r.HoldsKey() {
		return holdsKey
	}
	return holdsNothing
}

// refuse ends the card's step with why and waits for another card.
func (o *reissueOp) refuse(step audit.Step, why said, out audit.Outcome, tries *int) tea.Cmd {
	s := o.step
	s.record(step, out, why.trail, tries, o.f.env.now())
	cmd := s.end()
	o.again()
	o.f.note = notice{level: lvError, text: why.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.f.t(o.hint()))}
	return cmd
}

// refuseProblem is refuse in the words of a classified problem.
func (o *reissueOp) refuseProblem(step audit.Step, p problem) tea.Cmd {
	s := o.step
	s.record(step, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	cmd := s.end()
	o.again()
	o.f.note = o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(o.hint()))
	return cmd
}

// identified refuses, before any PIN, a card already read, a card of the
// quorum offered as a new card, a new card already written and a blocked
// card; it asks any other card's PIN.
func (o *reissueOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	tries := audit.Tries(c.status.TriesLeft)
	switch {
	case o.state == riSource && slices.Contains(o.quorum, c.serial):
		return o.refuse(audit.StepIdentify, o.f.env.say(i18n.WizReAlreadyRead{Serial: c.serial.String()}), audit.OutcomeRefused, tries)
	case o.state == riTarget && slices.Contains(o.quorum, c.serial):
		return o.refuseProblem(audit.StepIdentify, problem{cause: causeQuorumCard, err: cardset.ErrQuorumCard})
	case o.state == riTarget && slices.Contains(o.r.Cards(), c.serial):
		i := slices.Index(o.r.Cards(), c.serial)
		return o.refuseProblem(audit.StepIdentify, problem{cause: causeAlreadyWritten, share: i, err: &cardset.AlreadyWrittenError{Share: i}})
	case c.status.Blocked:
		return o.refuse(audit.StepIdentify, o.f.env.blocked(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked, tries)
	}
	o.tries = c.status.TriesLeft
	s.record(audit.StepIdentify, audit.OutcomeOK, "", tries, o.f.env.now())
	o.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, rawReadWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// sourceRead takes the card into the quorum (the re-issue copies its share
// into its own memory; the step wipes the card's copy as it ends), and
// rebuilds the key once there are k.
func (o *reissueOp) sourceRead() tea.Cmd {
	s := o.step
	serial := s.card.serial
	res, err := o.r.AddSource(cardset.Card{Serial: serial, TriesLeft: o.tries, Raw: s.res.rawBytes()})
	if err != nil {
		return o.refuseProblem(audit.StepReadCard, classify(err))
	}
	o.quorum = append(o.quorum, serial)
	set := *res.Set
	o.old = &set
	o.f.title = o.f.t(i18n.WizTitleReissue{Quorum: quorumWords(o.f.env.p, set.Scheme), Label: set.Label})
	o.f.record(audit.Event{Step: audit.StepReadCard, Outcome: audit.OutcomeOK, ShareX: int(res.X)}, &serial)
	cmd := s.end()
	if have, k := o.r.Progress(); have < k {
		o.insertSource()
		o.f.note = notice{level: lvGood, text: o.f.t(i18n.WizReSourceRead{Serial: serial.String(), X: int(res.X), Set: describeSet(o.f.env.p, set), Have: have, Need: k}),
			next: sentences(o.f.t(i18n.WizTakeCardOut), o.f.t(o.hint()))}
		return cmd
	}
	return tea.Batch(cmd, o.rebuild())
}

// rebuild rebuilds the key from the quorum; with exactly k cards and a bad
// one among them, one more card lets another subset rebuild it.
func (o *reissueOp) rebuild() tea.Cmd {
	set, err := o.r.Rebuild()
	if err != nil {
		p := classify(err)
		o.f.event(audit.StepRebuild, nil, p.outcome(), safeDetail(err))
		if p.cause == causeRebuild {
			o.insertSource()
			o.f.note = notice{level: lvError,
				text: o.f.t(i18n.WizReNotRebuilt{Cards: len(o.quorum)}),
				next: sentences(o.f.t(i18n.WizTakeCardOut), o.f.t(o.hint()))}
			return nil
		}
		n := o.f.env.problemNotice(p, tcos.SlotBackupKey, "")
		n.text = sentences(n.text, o.f.t(i18n.WizNothingWritten), o.stays())
		n.next = o.f.t(i18n.WizBackToMenu)
		o.finish(audit.OutcomeRefused, safeDetail(err), n)
		return nil
	}
	o.f.event(audit.StepRebuild, nil, audit.OutcomeOK, "")
	o.choices = slices.Clone(schemes)
	if !slices.Contains(o.choices, set.Scheme) {
		o.choices = append([]quorum.Scheme{set.Scheme}, o.choices...)
	}
	o.scheme = slices.Index(o.choices, set.Scheme)
	o.label = newLabelInput(quorum.MaxLabelLen)
	o.label.SetValue(set.Label)
	o.state = riParams
	o.f.note = notice{level: lvGood,
		text: o.f.t(i18n.WizReRebuilt{Cards: len(o.quorum), KCV: kcvString(set.KCV)}),
		next: o.f.t(i18n.WizReParamsNext)}
	return nil
}

// paramsKey edits the new set's quorum and label.
func (o *reissueOp) paramsKey(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.Choose):
		if len(o.choices) > 1 {
			o.scheme = (o.scheme + 1) % len(o.choices)
		}
		return nil
	case key.Matches(k, keys.Cancel):
		if o.f.askLeave(o.status()) == frameLeave {
			return o.end()
		}
		return nil
	case key.Matches(k, keys.OK):
		label := strings.TrimSpace(o.label.Value())
		if quorum.ValidateLabel(label) != nil {
			o.f.note = notice{level: lvWarn, text: o.f.t(labelRule), next: o.f.t(i18n.WizTypeLabelAgain)}
			return nil
		}
		o.label.SetValue(label)
		return o.planNow()
	}
	var cmd tea.Cmd
	o.label, cmd = o.label.Update(k)
	return cmd
}

// planNow splits the key anew and records the new set as uncommitted.
func (o *reissueOp) planNow() tea.Cmd {
	o.state = riPlanning
	o.cmdID = o.f.env.newID()
	o.g = &guard{}
	e := o.f.env
	p := cardset.Params{Label: o.label.Value(), Scheme: o.choices[o.scheme], Now: e.now(), HSM: e.cfg.HSM}
	return planCmd(e.ctx, o.cmdID, o.g, o.r, o.reg, p, e.now)
}

func (o *reissueOp) planned(m planMsg) tea.Cmd {
	o.g = nil
	if m.err != nil {
		p := classifyHSM(m.err)
		o.f.record(audit.Event{Time: m.at, Step: audit.StepPlan, Outcome: p.outcome(), Detail: safeDetail(m.err)}, nil)
		n := o.f.env.problemNotice(p, 0, "")
		n.text = sentences(o.f.t(i18n.WizRePlanFailed), n.text, o.f.t(i18n.WizNothingWrittenToCards), o.stays())
		switch p.cause {
		case causeRegisterChanged, causeSuperseded, causeStale, causeUncommitted, causeNewer, causeNotHSMKey:
			n.next = o.f.t(i18n.WizBackToMenu)
			o.finish(audit.OutcomeError, safeDetail(m.err), n)
		default:
			n.next = o.f.t(i18n.WizRetryOrLeave)
			o.retry, o.state = riPlanning, riRetry
			o.f.note = n
		}
		return nil
	}
	o.plan = m.plan
	o.f.title = o.f.t(i18n.WizTitleReissue{Quorum: quorumWords(o.f.env.p, o.plan.New.Scheme), Label: o.plan.New.Label})
	o.f.record(audit.Event{Time: m.at, Step: audit.StepPlan, Outcome: audit.OutcomeOK}, nil)
	o.insertTarget()
	o.f.note = notice{level: lvInfo,
		text: o.f.t(i18n.WizRePlanned{Generation: int(o.plan.New.Generation), Quorum: quorumWords(o.f.env.p, o.plan.New.Scheme), N: o.plan.New.Scheme.N}),
		next: o.f.t(o.hint())}
	return nil
}

// targetRead prepares the new card's write; it asks before overwriting
// anything but an empty slot or this re-issue's own share.
func (o *reissueOp) targetRead() tea.Cmd {
	s := o.step
	w, err := o.r.Target(cardset.Card{Serial: s.card.serial, TriesLeft: o.tries, Raw: s.res.rawBytes()})
	if err != nil {
		return o.refuseProblem(audit.StepReadCard, classify(err))
	}
	o.write = w
	h := w.Holds
	if h.Kind == cardset.Blank || h.Kind == cardset.Share && h.Set.ID == o.plan.New.ID {
		return o.writeNow()
	}
	o.state = riOverwrite
	s.hold([2]string{o.f.t(i18n.PadOverwrite), o.f.t(i18n.PadOKCancel)})
	o.f.note = o.overwriteNotice(w)
	return nil
}

// overwriteNotice says what the card holds, its generation above all, and
// what overwriting it gives up.
func (o *reissueOp) overwriteNotice(w *cardset.Write) notice {
	h, t := w.Holds, o.f.t
	text := describeHolding(o.f.env.p, w.Serial, h)
	switch {
	case h.Kind == cardset.UnknownRecord:
		text = sentences(text, t(i18n.WizReOverwriteDestroys))
	case h.Kind != cardset.Share:
	case h.Set.ID == o.plan.Old.ID:
		text = sentences(text, t(i18n.WizReOldSetCard))
	case h.Standing == cardset.Superseded, h.Standing == cardset.Stale, h.Standing == cardset.Uncommitted:
		text = sentences(text, t(i18n.WizReCollects))
	case h.Standing == cardset.Newer:
		text = sentences(text, t(i18n.WizReNewerMayNeed))
	default:
		text = sentences(text, t(i18n.WizReDestroysShare))
		if h.OfHSMKey {
			text = sentences(text, t(i18n.WizEraseHSMKey))
		}
	}
	return notice{level: lvWarn, text: text, next: t(i18n.WizReOverwriteNext{Share: w.Share + 1})}
}

func (o *reissueOp) overwrite(yes bool) tea.Cmd {
	if yes {
		return o.writeNow()
	}
	o.write.Release()
	o.write = nil
	s := o.step
	s.record(audit.StepWriteCard, audit.OutcomeRefused, "the operator kept the card's content", nil, o.f.env.now())
	cmd := s.end()
	o.insertTarget()
	o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizNotWritten), next: sentences(o.f.t(i18n.WizTakeItOut), o.f.t(o.hint()))}
	return cmd
}

// writeNow writes the new record through the step's buffer: the record is
// copied there (it never leaves the re-issue's memory otherwise), the
// command writes it and brings back what the card read back in it.
func (o *reissueOp) writeNow() tea.Cmd {
	s := o.step
	buf := s.takeRaw()
	rec := o.write.Record()
	if buf == nil || rec == nil {
		buf.Destroy()
		return o.refuseProblem(audit.StepWriteCard, classify(cardset.ErrOutOfStep))
	}
	secmem.Wipe(buf.Bytes())
	n := secmem.Copy(buf.Bytes(), rec)
	o.state = riWriting
	return s.run(recordWork(buf, n, i18n.WorkWritingNewShare))
}

// writtenBack confirms the write with what the card read back.
func (o *reissueOp) writtenBack() tea.Cmd {
	s := o.step
	serial := s.card.serial
	w := o.write
	o.write = nil
	if err := o.r.Written(w, s.res.rawBytes()); err != nil {
		p := classify(err)
		s.record(audit.StepWriteCard, p.outcome(), safeDetail(err), nil, o.f.env.now())
		cmd := s.end()
		o.insertTarget()
		n := o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(i18n.WizWriteAgain))
		n.text = sentences(n.text, o.stays())
		o.f.note = n
		return cmd
	}
	o.f.record(audit.Event{Step: audit.StepWriteCard, Outcome: audit.OutcomeOK, ShareX: int(w.X), Detail: fmt.Sprintf("share %d of the new card set", w.Share+1)}, &serial)
	cmd := s.end()
	done, n := o.r.WrittenCount()
	if done < n {
		o.insertTarget()
		o.f.note = notice{level: lvGood, text: o.f.t(i18n.WizReShareWritten{Share: w.Share + 1, Serial: serial.String(), Done: done, N: n}),
			next: sentences(o.f.t(i18n.WizTakeCardOut), o.f.t(o.hint()))}
		return cmd
	}
	return tea.Batch(cmd, o.commit())
}

// writeFailed says that the write did not complete; the share goes to the
// next card, or to this one again.
func (o *reissueOp) writeFailed(ev stepEvent) tea.Cmd {
	if o.write != nil {
		o.write.Release()
		o.write = nil
	}
	p := ev.prob
	if ev.end == endStopped {
		p = problem{cause: causeStopped}
	}
	o.step.record(audit.StepWriteCard, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	o.insertTarget()
	n := o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(i18n.WizWriteAgain))
	n.text = sentences(o.f.t(i18n.WizReWriteIncomplete), n.text, o.stays())
	o.f.note = n
	return nil
}

// commit makes the new set current, once all its cards are written and
// read back.
func (o *reissueOp) commit() tea.Cmd {
	o.state = riCommitting
	o.cmdID = o.f.env.newID()
	o.g = &guard{}
	e := o.f.env
	return commitCmd(e.ctx, o.cmdID, o.g, o.r, o.reg, e.now)
}

func (o *reissueOp) committed(m commitMsg) tea.Cmd {
	o.g = nil
	if m.err != nil {
		p := classifyHSM(m.err)
		o.f.record(audit.Event{Time: m.at, Step: audit.StepCommit, Outcome: p.outcome(), Detail: safeDetail(m.err)}, nil)
		n := o.f.env.problemNotice(p, 0, "")
		if p.cause == causeCommitUnknown {
			// The update may have landed: neither set can be said to
			// count until the register reads again.
			n.next = o.f.t(i18n.WizReCommitUnknownNext)
			o.retry, o.state = riCommitting, riRetry
			o.f.note = n
			return nil
		}
		n.text = sentences(o.f.t(i18n.WizReCommitFailed), n.text, o.stays())
		if p.cause == causeRegisterChanged {
			n.next = o.f.t(i18n.WizBackToMenu)
			o.finish(audit.OutcomeError, safeDetail(m.err), n)
			return nil
		}
		n.next = o.f.t(i18n.WizReCommitRetryNext)
		o.retry, o.state = riCommitting, riRetry
		o.f.note = n
		return nil
	}
	o.done = m.done
	o.f.record(audit.Event{Time: m.at, Step: audit.StepCommit, Outcome: audit.OutcomeOK}, nil)
	c := m.done
	text := o.f.t(i18n.WizReCommitted{Generation: int(c.New.Generation), Quorum: quorumWords(o.f.env.p, c.New.Scheme), Label: c.New.Label,
		N: c.New.Scheme.N, K: c.New.Scheme.K, KCV: kcvString(c.New.KCV), Old: int(c.Old.Generation)})
	next := o.f.t(i18n.WizBackToMenu)
	if len(c.Superseded.Serials) > 0 {
		next = o.f.t(i18n.WizReCollectNext{Old: int(c.Old.Generation)})
	}
	o.finish(audit.OutcomeOK, "", notice{level: lvGood, text: text, next: next})
	return nil
}

// finish shows the result and wipes what the re-issue holds.
func (o *reissueOp) finish(out audit.Outcome, detail string, n notice) {
	o.state = riDone
	o.f.summary(out, detail, o.fill)
	o.wipe()
	o.f.finish(n)
}

func (o *reissueOp) fill(s *audit.Summary) {
	for _, x := range o.quorum {
		s.CardsRead = append(s.CardsRead, x.String())
	}
	if o.r != nil {
		for _, x := range o.r.Cards() {
			if x != (tcos.Serial{}) {
				s.CardsWritten = append(s.CardsWritten, x.String())
			}
		}
	}
}

// wipe wipes the re-issue's secrets, or hands that to the register command
// still working on them.
func (o *reissueOp) wipe() {
	if o.write != nil {
		o.write.Release()
		o.write = nil
	}
	if o.r == nil {
		return
	}
	if o.g != nil {
		o.g.abandon(o.r)
		o.g = nil
		return
	}
	o.r.Wipe()
}

func (o *reissueOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", o.fill)
	o.f.left = true
	o.wipe()
	if o.step != nil {
		return o.step.end()
	}
	return nil
}

func (o *reissueOp) status() actStatus {
	st := actStatus{done: o.f.left}
	switch o.state {
	case riOpening, riPlanning, riCommitting:
		st.busy = true
	case riSource, riTarget, riOverwrite, riWriting:
		st.busy = o.step.running()
		st = o.f.withCountdown(st, o.step)
	}
	if o.r != nil && o.state != riDone && (o.r.HoldsKey() || o.state == riPlanning || o.state == riCommitting) {
		st.holds = holdsKey
		st.loss = sentences(o.f.t(i18n.WizLossReissue), o.stays())
		if o.plan != nil {
			done, n := o.r.WrittenCount()
			st.loss = sentences(o.f.t(i18n.WizLossReissueWritten{Done: done, N: n}), o.stays())
		}
	}
	return st
}

func (o *reissueOp) view() panel {
	t := o.f.t
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case riOpening, riPlanning, riCommitting:
			pad = [2]string{t(i18n.PadWait), ""}
		case riParams:
			pad = [2]string{t(i18n.PadNewCardSet), t(i18n.PadOKCancel)}
		case riRetry:
			pad = [2]string{t(i18n.PadRecordFailed), t(i18n.PadOKCancel)}
		case riDone:
			pad = [2]string{t(i18n.PadSetReissued), t(i18n.PadOK)}
			if o.done == nil {
				pad = [2]string{t(i18n.PadNotReissued), t(i18n.PadOK)}
			}
		default:
			pad = o.step.pad()
		}
	}
	var s *cardStep
	switch o.state {
	case riSource, riTarget, riOverwrite, riWriting:
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(o.body(), s)}
}

// body is the re-issue's lines of the side panel: the set re-issued, the
// quorum read, the new set and its cards, what is left to collect.
func (o *reissueOp) body() []string {
	t, p := o.f.t, o.f.env.p
	var lines []string
	if old := o.old; (old != nil || o.set() != nil) && o.done == nil {
		if old == nil {
			old = o.set()
		}
		lines = append(lines, fitWidth(t(i18n.WizReCurrentLine{Generation: generationWord(p, *old), Quorum: quorumWords(p, old.Scheme), KCV: kcvString(old.KCV)}), sideWidth))
	}
	if o.r != nil {
		k := o.need()
		var items []string
		for i := 0; i < max(k, len(o.quorum)); i++ {
			var sn *tcos.Serial
			if i < len(o.quorum) {
				sn = &o.quorum[i]
			}
			items = append(items, progressItem(p, i+1, sn, i == len(o.quorum) && o.state == riSource))
		}
		if len(items) > 0 {
			lines = append(lines, t(i18n.WizReQuorumLine{Items: joinItems(items)}))
		}
	}
	switch {
	case o.state == riParams:
		lines = append(lines, "", t(i18n.WizReNewSetGen{Generation: int(o.old.Generation) + 1}))
		for i, sc := range o.choices {
			mark := "( )"
			if i == o.scheme {
				mark = "(•)"
			}
			lines = append(lines, "  "+mark+" "+t(i18n.WizSetupScheme{K: sc.K, N: sc.N}))
		}
		lines = append(lines, "  "+t(i18n.WizReLabel{Label: o.label.View()}))
		if n := o.f.env.deckSize; n > 0 && n < len(o.quorum)+o.choices[o.scheme].N {
			lines = append(lines, styleLevel[lvWarn].Render(wrap(t(i18n.WizReFewCards{Cards: n, Need: o.choices[o.scheme].N, Quorum: len(o.quorum)}), sideWidth)))
		}
	case o.plan != nil:
		cards := o.r.Cards()
		var items []string
		// "now" marks the share a card step is for: the pending write's, or
		// before its card is read, the first one still to write.
		now := -1
		switch {
		case o.write != nil:
			now = o.write.Share
		case o.state == riTarget:
			now = slices.Index(cards, tcos.Serial{})
		}
		for i, sn := range cards {
			var sp *tcos.Serial
			if sn != (tcos.Serial{}) {
				sp = &cards[i]
			}
			items = append(items, progressItem(o.f.env.p, i+1, sp, i == now && sp == nil))
		}
		lines = append(lines, fitWidth(t(i18n.WizReNewLine{Generation: int(o.plan.New.Generation), Quorum: quorumWords(p, o.plan.New.Scheme), Label: safetext.Clean(o.plan.New.Label)}), sideWidth),
			t(i18n.WizProgressWrite{Items: joinItems(items)}))
	}
	if o.done != nil {
		lines = append(lines, outstandingLines(p, o.done.Register, sideWidth)...)
	}
	return lines
}
