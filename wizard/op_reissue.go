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
	o.f = newFrame(e, "Re-issue the card set", audit.OpReissue, audit.SlotBackupKey)
	o.f.what = "this ceremony"
	o.f.keySet = o.keySet
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	reg, ok := e.register()
	if !ok {
		p := problem{cause: causeNoRegister, err: cardset.ErrNoRegister}
		o.finish(audit.OutcomeRefused, safeDetail(p.err), problemNotice(p, 0, "Press OK for the main menu."))
		return o, nil
	}
	o.reg = reg
	o.openID = e.newID()
	o.f.note = notice{level: lvInfo, text: "Asking the HSM which Backup Key and card set it holds…"}
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
		return fmt.Sprintf("The current card set (generation %d) stays current and loadable from its cards.", o.old.Generation)
	}
	return "The current card set stays current and loadable from its cards."
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

func (o *reissueOp) hint() string {
	switch o.state {
	case riTarget, riOverwrite, riWriting:
		done, n := o.r.WrittenCount()
		var q []string
		for _, s := range o.quorum {
			q = append(q, shortSerial(s))
		}
		return fmt.Sprintf("Insert the card for share %d of %d of the new set (any card but the quorum's %s) and press OK.", done+1, n, strings.Join(q, ", "))
	}
	have, k := len(o.quorum), o.need()
	if k == 0 {
		return "Insert a card of the current card set (any of its cards) and press OK."
	}
	if have >= k {
		return "Insert one more card of the current card set and press OK."
	}
	return fmt.Sprintf("Insert card %d of the %d needed from the current card set (any of its cards, in any order) and press OK.", have+1, k)
}

// insert waits for the next card of the quorum.
func (o *reissueOp) insertSource() {
	o.state = riSource
	n := len(o.quorum) + 1
	o.step = o.f.newStep(tcos.SlotBackupKey, fmt.Sprintf("Insert %d. card", n), fmt.Sprintf("insert card %d and press OK", n), o.hint())
}

// insertTarget waits for the next new card.
func (o *reissueOp) insertTarget() {
	o.state = riTarget
	done, n := o.r.WrittenCount()
	o.step = o.f.newStep(tcos.SlotBackupKey, fmt.Sprintf("New card %d of %d", done+1, n), fmt.Sprintf("insert new card %d and press OK", done+1), o.hint())
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
		o.f.note = notice{level: lvInfo, next: o.hint()}
		return nil
	case frameStay:
		if o.step != nil && !o.step.ended() {
			o.step.resume()
		}
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
		p := classifyHSM(m.err)
		o.f.event(audit.StepStart, nil, p.outcome(), safeDetail(m.err))
		o.finish(audit.OutcomeError, "the HSM could not say what it holds", problemNotice(p, 0, "Press OK for the main menu."))
		return nil
	case m.key == nil || m.reissue == nil:
		p := problem{cause: causeNoKeyInHSM, err: cardset.ErrNoKeyInHSM}
		o.finish(audit.OutcomeRefused, safeDetail(p.err), problemNotice(p, 0, "Press OK for the main menu."))
		return nil
	}
	o.r, o.start, o.hsmKey = m.reissue, m.reg, *m.key
	o.insertSource()
	o.f.note = notice{level: lvInfo,
		text: "The Backup Key the HSM holds is rebuilt from cards of its current set and split anew onto a new card set: the same key, so every backup stays valid, on new cards (generation + 1). The new set counts only once all its cards are written and read back; until then the current set stays current, and its cards read here are not written.",
		next: o.hint()}
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
		o.f.pinEvent(ev, s, pinOfCard)
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
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), o.heldWord())
		if o.f.mode == frameOn {
			o.again()
		}
	}
	return cmd
}

// heldWord names the secret still in memory, for a timeout's notice.
func (o *reissueOp) heldWord() string {
	if o.r != nil && o.r.HoldsKey() {
		return "key"
	}
	return ""
}

// refuse ends the card's step with text and waits for another card.
func (o *reissueOp) refuse(step audit.Step, text string, out audit.Outcome, tries *int) tea.Cmd {
	s := o.step
	s.record(step, out, text, tries, o.f.env.now())
	cmd := s.end()
	o.again()
	o.f.note = notice{level: lvError, text: text, next: "Take this card out. " + o.hint()}
	return cmd
}

// refuseProblem is refuse in the words of a classified problem.
func (o *reissueOp) refuseProblem(step audit.Step, p problem) tea.Cmd {
	s := o.step
	s.record(step, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	cmd := s.end()
	o.again()
	o.f.note = problemNotice(p, tcos.SlotBackupKey, o.hint())
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
		return o.refuse(audit.StepIdentify, fmt.Sprintf("Card %s was already read in this re-issue; each card counts once.", c.serial), audit.OutcomeRefused, tries)
	case o.state == riTarget && slices.Contains(o.quorum, c.serial):
		return o.refuseProblem(audit.StepIdentify, problem{cause: causeQuorumCard, err: cardset.ErrQuorumCard})
	case o.state == riTarget && slices.Contains(o.r.Cards(), c.serial):
		i := slices.Index(o.r.Cards(), c.serial)
		return o.refuseProblem(audit.StepIdentify, problem{cause: causeAlreadyWritten, share: i, err: &cardset.AlreadyWrittenError{Share: i}})
	case c.status.Blocked:
		return o.refuse(audit.StepIdentify, blockedText(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked, tries)
	}
	o.tries = c.status.TriesLeft
	s.record(audit.StepIdentify, audit.OutcomeOK, "", tries, o.f.env.now())
	o.f.note = s.pinNotice(pinOfCard)
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
	o.f.title = fmt.Sprintf("Re-issue the card set · %s · %q", set.Scheme, set.Label)
	o.f.record(audit.Event{Step: audit.StepReadCard, Outcome: audit.OutcomeOK, ShareX: int(res.X)}, &serial)
	cmd := s.end()
	if have, k := o.r.Progress(); have < k {
		o.insertSource()
		o.f.note = notice{level: lvGood, text: fmt.Sprintf("Card %s read: share %d of %s, %d of the %d needed.", serial, res.X, describeSet(set), have, k),
			next: "Take the card out. " + o.hint()}
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
				text: fmt.Sprintf("These %d cards do not rebuild the Backup Key the HSM holds: one of them is bad, and which one cannot be told. Nothing was written.", len(o.quorum)),
				next: "Take the card out. " + o.hint()}
			return nil
		}
		n := problemNotice(p, tcos.SlotBackupKey, "")
		n.text += " Nothing was written. " + o.stays()
		n.next = "Press OK for the main menu."
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
		text: fmt.Sprintf("The Backup Key is rebuilt from %d cards: KCV %s, the key the HSM holds. The cards' shares are wiped from memory; the cards are unchanged.", len(o.quorum), kcvString(set.KCV)),
		next: "Choose the new set's quorum (↑/↓) and label (type it), then press OK to write its cards. Esc leaves."}
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
			o.f.note = notice{level: lvWarn, text: labelProblem, next: "Type the label again and press OK."}
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
	p := cardset.Params{Label: o.label.Value(), Scheme: o.choices[o.scheme], Now: e.now()}
	return planCmd(e.ctx, o.cmdID, o.g, o.r, o.reg, p, e.now)
}

func (o *reissueOp) planned(m planMsg) tea.Cmd {
	o.g = nil
	if m.err != nil {
		p := classifyHSM(m.err)
		o.f.record(audit.Event{Time: m.at, Step: audit.StepPlan, Outcome: p.outcome(), Detail: safeDetail(m.err)}, nil)
		n := problemNotice(p, 0, "")
		n.text = "The new card set could not be recorded in the HSM. " + n.text + " Nothing was written to any card. " + o.stays()
		switch p.cause {
		case causeRegisterChanged, causeSuperseded, causeStale, causeUncommitted, causeNewer:
			n.next = "Press OK for the main menu."
			o.finish(audit.OutcomeError, safeDetail(m.err), n)
		default:
			n.next = "Press OK to try again, or Cancel to leave."
			o.retry, o.state = riPlanning, riRetry
			o.f.note = n
		}
		return nil
	}
	o.plan = m.plan
	o.f.title = fmt.Sprintf("Re-issue the card set · %s · %q", o.plan.New.Scheme, o.plan.New.Label)
	o.f.record(audit.Event{Time: m.at, Step: audit.StepPlan, Outcome: audit.OutcomeOK}, nil)
	o.insertTarget()
	o.f.note = notice{level: lvInfo,
		text: fmt.Sprintf("The new card set, generation %d (%s), is recorded in the HSM as not yet current. Now each of its %d cards is written and read back.", o.plan.New.Generation, o.plan.New.Scheme, o.plan.New.Scheme.N),
		next: o.hint()}
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
	s.hold([2]string{"Overwrite card?", "press OK/Cancel"})
	o.f.note = o.overwriteNotice(w)
	return nil
}

// overwriteNotice says what the card holds, its generation above all, and
// what overwriting it gives up.
func (o *reissueOp) overwriteNotice(w *cardset.Write) notice {
	h := w.Holds
	text := describeHolding(w.Serial, h)
	switch {
	case h.Kind == cardset.UnknownRecord:
		text += " Overwriting it destroys it for good."
	case h.Kind != cardset.Share:
	case h.Set.ID == o.plan.Old.ID:
		text += " It is a card of the set being re-issued: until the new set counts, that set has one card fewer; then this card is collected."
	case h.Standing == cardset.Superseded, h.Standing == cardset.Stale, h.Standing == cardset.Uncommitted:
		text += " Overwriting it collects it."
	case h.Standing == cardset.Newer:
		text += " Another appliance's card set may need it: overwriting it destroys that share for good."
	default:
		text += " Overwriting it destroys that share for good."
		if h.OfHSMKey {
			text += " It is a share of the Backup Key LOADED IN THE HSM NOW."
		}
	}
	return notice{level: lvWarn, text: text, next: fmt.Sprintf("Press OK to overwrite it with share %d of the new set, or Cancel to keep it and use another card.", w.Share+1)}
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
	o.f.note = notice{level: lvInfo, text: "The card was not written.", next: "Take it out. " + o.hint()}
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
	return s.run(recordWork(buf, n, "writing the new share and reading it back"))
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
		n := problemNotice(p, tcos.SlotBackupKey, "Insert this card again (or another) and press OK: it will be written again.")
		n.text += " " + o.stays()
		o.f.note = n
		return cmd
	}
	o.f.record(audit.Event{Step: audit.StepWriteCard, Outcome: audit.OutcomeOK, Detail: fmt.Sprintf("share %d of the new card set", w.Share+1)}, &serial)
	cmd := s.end()
	done, n := o.r.WrittenCount()
	if done < n {
		o.insertTarget()
		o.f.note = notice{level: lvGood, text: fmt.Sprintf("Share %d of the new set written to card %s and read back (%d of %d).", w.Share+1, serial, done, n),
			next: "Take the card out. " + o.hint()}
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
	n := problemNotice(p, tcos.SlotBackupKey, "Insert this card again (or another) and press OK: it will be written again.")
	n.text = "The new share was not written completely. " + n.text + " " + o.stays()
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
		n := problemNotice(p, 0, "")
		n.text = "The new card set could not be made current. " + n.text + " " + o.stays()
		if p.cause == causeRegisterChanged {
			n.next = "Press OK for the main menu."
			o.finish(audit.OutcomeError, safeDetail(m.err), n)
			return nil
		}
		n.next = "Press OK to try again (the new cards are written), or Cancel to leave: the new cards then never count."
		o.retry, o.state = riCommitting, riRetry
		o.f.note = n
		return nil
	}
	o.done = m.done
	o.f.record(audit.Event{Time: m.at, Step: audit.StepCommit, Outcome: audit.OutcomeOK}, nil)
	c := m.done
	text := fmt.Sprintf("Generation %d (%s, %q) is now the current card set: its %d cards are written and read back, and every %d of them rebuild the Backup Key. The key is unchanged (KCV %s): every backup stays valid. Generation %d is superseded: Load and Verify refuse its cards from now on.",
		c.New.Generation, c.New.Scheme, c.New.Label, c.New.Scheme.N, c.New.Scheme.K, kcvString(c.New.KCV), c.Old.Generation)
	next := "Press OK for the main menu."
	if len(c.Superseded.Serials) > 0 {
		next = fmt.Sprintf("Collect and erase the cards of generation %d listed above (Erase a card): a card never collected stays a share of the key. Press OK for the main menu.", c.Old.Generation)
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
		st.loss = "The Backup Key rebuilt from the cards is in memory. Leaving wipes it; nothing was written to any card. " + o.stays()
		if o.plan != nil {
			done, n := o.r.WrittenCount()
			st.loss = fmt.Sprintf("The Backup Key rebuilt from the cards is in memory, and the new card set is on %d of %d cards. Leaving wipes it: those cards never count (they are refused, and can be overwritten or erased). %s", done, n, o.stays())
		}
	}
	return st
}

func (o *reissueOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case riOpening, riPlanning, riCommitting:
			pad = [2]string{"Please wait...", ""}
		case riParams:
			pad = [2]string{"New card set", "press OK/Cancel"}
		case riRetry:
			pad = [2]string{"Record failed", "press OK/Cancel"}
		case riDone:
			pad = [2]string{"Set re-issued", "press OK"}
			if o.done == nil {
				pad = [2]string{"Not re-issued", "press OK"}
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
	var lines []string
	if old := o.old; (old != nil || o.set() != nil) && o.done == nil {
		if old == nil {
			old = o.set()
		}
		lines = append(lines, fitWidth(fmt.Sprintf("Current: %s, %s, KCV %s", generationWord(*old), old.Scheme, kcvString(old.KCV)), sideWidth))
	}
	if o.r != nil {
		k := o.need()
		var items []string
		for i := 0; i < max(k, len(o.quorum)); i++ {
			var sn *tcos.Serial
			if i < len(o.quorum) {
				sn = &o.quorum[i]
			}
			items = append(items, progressItem(i+1, sn, i == len(o.quorum) && o.state == riSource))
		}
		if len(items) > 0 {
			lines = append(lines, "Quorum "+joinItems(items))
		}
	}
	switch {
	case o.state == riParams:
		lines = append(lines, "", fmt.Sprintf("New card set: generation %d, the same Backup Key", o.old.Generation+1))
		for i, sc := range o.choices {
			mark := "( )"
			if i == o.scheme {
				mark = "(•)"
			}
			lines = append(lines, fmt.Sprintf("  %s %d out of %d", mark, sc.K, sc.N))
		}
		lines = append(lines, "  Label: "+o.label.View())
		if n := o.f.env.deckSize; n > 0 && n < len(o.quorum)+o.choices[o.scheme].N {
			lines = append(lines, styleLevel[lvWarn].Render(wrap(fmt.Sprintf("The simulated deck has %d cards: the new set needs %d cards besides the quorum's %d.", n, o.choices[o.scheme].N, len(o.quorum)), sideWidth)))
		}
	case o.plan != nil:
		cards := o.r.Cards()
		var items []string
		for i, sn := range cards {
			var p *tcos.Serial
			if sn != (tcos.Serial{}) {
				p = &cards[i]
			}
			items = append(items, progressItem(i+1, p, false))
		}
		lines = append(lines, fitWidth(fmt.Sprintf("New:     generation %d, %s, %q", o.plan.New.Generation, o.plan.New.Scheme, safetext.Clean(o.plan.New.Label)), sideWidth),
			"Write  "+joinItems(items))
	}
	if o.done != nil {
		lines = append(lines, outstandingLines(o.done.Register, sideWidth)...)
	}
	return lines
}
