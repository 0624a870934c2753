package wizard

import (
	"context"
	"crypto/subtle"
	"errors"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// copyOp copies a Backup Key share card one to one (the appliance manual,
// "Make a one-to-one copy of a Backup Key share on a smart card"): the
// source card's record is read into memory, then written to the target
// card and read back. Copies carry the same share, so a Load counts a card
// and its copy once.
type copyOp struct {
	f      frame
	state  copyState
	step   *cardStep
	hsmKey *hsmInfoMsg // the HSM's key when the copy started

	src       *quorum.Record // the source's record, share included, until written
	srcSerial tcos.Serial
	target    targetContent
	copied    tcos.Serial
	regID     stepID
	done      notice // the result, once the register is updated
}

// copyState is where a copy stands.
type copyState int

const (
	copySource    copyState = iota // the source card's step: insert, PIN, its record read
	copyTarget                     // the target card's step: insert, PIN, its content read
	copyConfirm                    // the target is held: write the copy over what it holds?
	copyWriting                    // the copy is written and read back
	copyRecording                  // the HSM's card-set register learns the new card
	copyDone                       // the result
)

// targetContent is what the target card held before the copy, without its
// share bytes.
type targetContent struct {
	kind   targetKind
	set    quorum.KeySet
	serial tcos.Serial
}

type targetKind int

const (
	targetEmpty      targetKind = iota
	targetSame                  // already this very share: a copy of the source
	targetSibling               // another share of the source's key set
	targetOther                 // a share of another key set
	targetDamaged               // a damaged record
	targetUnknownFmt            // an intact record in a format this program does not know
)

func newCopy(e *env) *copyOp {
	o := &copyOp{hsmKey: e.hsmKey}
	o.f = newFrame(e, e.t(i18n.MenuCopy), audit.OpCopy, audit.SlotBackupKey)
	o.insert()
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizCopyIntro), next: o.f.t(o.hint())}
	return o
}

func (o *copyOp) hint() i18n.Message {
	if o.src == nil {
		return i18n.WizCopySourceHint
	}
	return i18n.WizCopyTargetHint{Serial: o.srcSerial.String()}
}

// insert waits for the source, or once its share is read, the target.
func (o *copyOp) insert() {
	if o.src == nil {
		o.state = copySource
		o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertSource, i18n.WizWaitSource, o.hint())
		return
	}
	o.state = copyTarget
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertTarget, i18n.WizWaitTarget, o.hint())
}

func (o *copyOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		o.insert()
		o.f.note = notice{level: lvInfo, next: o.f.t(o.hint())}
		return nil
	case frameStay:
		o.step.resume()
		return nil
	case frameLeave:
		return o.end()
	}
	if o.state == copyRecording {
		if m, ok := msg.(registeredMsg); ok && m.id == o.regID {
			return o.recorded(m)
		}
	}
	if o.state == copyDone || o.state == copyRecording {
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
	case evWrongPIN, evShortPIN:
		o.f.pinEvent(ev, s, pinBackupKey)
	case evTyped:
		return s.send()
	case evWorked:
		switch o.state {
		case copySource:
			return o.sourceRead()
		case copyTarget:
			return o.targetRead()
		case copyWriting:
			return o.written()
		}
	case evAnswer:
		return o.answer(ev.yes)
	case evEnded:
		if o.state == copyWriting {
			return tea.Batch(cmd, o.writeFailed(ev))
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.f.t(o.hint()), o.held())
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// held is the secret in memory, for a timeout's notice.
func (o *copyOp) held() holding {
	if o.src != nil {
		return holdsShare
	}
	return holdsNothing
}

func (o *copyOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	refuse := func(why said, out audit.Outcome) tea.Cmd {
		s.record(audit.StepIdentify, out, why.trail, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: why.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.f.t(o.hint()))}
		return cmd
	}
	switch {
	case o.src != nil && c.serial == o.srcSerial:
		return refuse(o.f.env.say(i18n.WizCopySourceItself{Serial: o.srcSerial.String()}), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(o.f.env.blocked(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, readWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// sourceRead takes the source's record into memory, the copy's own to wipe.
func (o *copyOp) sourceRead() tea.Cmd {
	s := o.step
	serial := s.card.serial
	refuseSaid := func(w said) tea.Cmd {
		s.record(audit.StepReadCard, audit.OutcomeRefused, w.trail, nil, o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: w.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.f.t(o.hint()))}
		return cmd
	}
	refuse := func(why i18n.Message) tea.Cmd { return refuseSaid(o.f.env.say(why)) }
	switch ser, recErr := serial.String(), s.res.recErr; {
	case errors.Is(recErr, quorum.ErrEmpty):
		return refuse(i18n.WizCopyNoShare{Serial: ser})
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		return refuse(i18n.WizCopyUnknownFormat{Serial: ser})
	case recErr != nil:
		return refuse(i18n.WizCopyDamaged{Serial: ser})
	}
	// A card of a set that is not current is not copied: that would make
	// more cards to collect (docs/lifecycle.md, "Copy"). A newer set's card
	// may be: the register does not change for it.
	if err := o.f.env.admit(s.res.rec.KeySet()); err != nil {
		if p := classify(err); p.cause != causeNewer {
			cmd := refuseSaid(o.f.env.sayProblem(p, 0))
			if o.f.env.cardSets.regErr != nil {
				o.f.note = o.f.env.registerRefusal()
			}
			return cmd
		}
	}
	o.src, o.srcSerial = s.takeRecord(), serial
	s.record(audit.StepReadCard, audit.OutcomeOK, "copy source", nil, o.f.env.now())
	cmd := s.end()
	o.insert()
	o.f.note = notice{level: lvGood, text: o.f.t(i18n.WizCopySourceRead{Serial: serial.String(), Set: describeSet(o.f.env.p, setOf(o.src))}),
		next: sentences(o.f.t(i18n.WizTakeCardOut), o.f.t(o.hint()))}
	return cmd
}

// targetRead says what the target holds and asks before writing.
func (o *copyOp) targetRead() tea.Cmd {
	s := o.step
	rec, recErr := s.res.rec, s.res.recErr
	tc := targetContent{serial: s.card.serial}
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		tc.kind = targetEmpty
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		tc.kind = targetUnknownFmt
	case recErr != nil:
		tc.kind = targetDamaged
	default:
		tc.set = setOf(rec)
		switch {
		case rec.KeySetID != o.src.KeySetID:
			tc.kind = targetOther
		case subtle.ConstantTimeCompare(rec.Share, o.src.Share) == 1:
			tc.kind = targetSame
		default:
			tc.kind = targetSibling
		}
	}
	o.target = tc
	o.state = copyConfirm
	q := [2]string{o.f.t(i18n.PadOverwrite), o.f.t(i18n.PadOKCancel)}
	if tc.kind == targetEmpty {
		q[0] = o.f.t(i18n.PadWriteCopy)
	}
	s.hold(q)
	o.f.note = o.overwriteNotice()
	return nil
}

// overwriteNotice says what the target holds and what overwriting it gives
// up.
func (o *copyOp) overwriteNotice() notice {
	t, p := o.f.t, o.f.env.p
	tc, src := o.target, setOf(o.src)
	ser := tc.serial.String()
	var what string
	switch tc.kind {
	case targetEmpty:
		return notice{level: lvInfo, text: t(i18n.WizCopyTargetEmpty{Serial: ser}), next: t(i18n.WizCopyTargetEmptyNext)}
	case targetSame:
		return notice{level: lvInfo, text: t(i18n.WizCopyTargetSame{Serial: ser, Source: o.srcSerial.String()}), next: t(i18n.WizCopyTargetSameNext)}
	case targetSibling:
		// The appliance manual's "2 out of 2": copying card 2 over card 3.
		k, n := src.Scheme.K, src.Scheme.N
		others := t(i18n.WizCopyOthersSome{K: k - 1, Others: n - 2})
		switch {
		case n-2 == 1 && k-1 == 1:
			others = t(i18n.WizCopyOthersRemaining)
		case k-1 == n-2:
			others = t(i18n.WizCopyOthersAll{Count: n - 2})
		}
		what = t(i18n.WizCopyTargetSibling{Serial: ser, K: k, N: n, Left: n - 1, Source: o.srcSerial.String(), Others: others})
	case targetOther:
		what = t(i18n.WizCopyTargetOther{Serial: ser, Set: describeSet(p, tc.set)})
		if o.hsmKey != nil && o.hsmKey.info.KCV == tc.set.KCV {
			what = sentences(what, t(i18n.WizShareOfLoadedKey))
		}
		what = sentences(what, t(i18n.WizCopyDestroys))
	case targetUnknownFmt:
		what = t(i18n.WizCopyTargetUnknown{Serial: ser})
	default:
		what = t(i18n.WizCopyTargetDamaged{Serial: ser})
	}
	return notice{level: lvWarn, text: what, next: t(i18n.WizCopyOverwriteNext)}
}

// answer: OK writes the copy over the target's content.
func (o *copyOp) answer(yes bool) tea.Cmd {
	s := o.step
	if yes {
		o.state = copyWriting
		return s.run(writeWork(o.src, i18n.WorkWritingCopy))
	}
	s.record(audit.StepWriteCard, audit.OutcomeRefused, "the operator kept the target's content", nil, o.f.env.now())
	cmd := s.end()
	o.insert()
	o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizCopyTargetNotWritten), next: sentences(o.f.t(i18n.WizTakeItOut), o.f.t(o.hint()))}
	return cmd
}

func (o *copyOp) written() tea.Cmd {
	s := o.step
	serial := s.card.serial
	s.record(audit.StepWriteCard, audit.OutcomeOK, "", nil, o.f.env.now())
	cmd := s.end()
	src := setOf(o.src)
	o.copied = serial
	o.wipe()
	t := o.f.t
	text := t(i18n.WizCopyWritten{Serial: serial.String(), Source: o.srcSerial.String(), Set: describeSet(o.f.env.p, src)})
	if o.target.kind == targetSibling {
		text = sentences(text, t(i18n.WizCopyFormerGone{Count: src.Scheme.N - 1}))
	}
	o.done = notice{level: lvGood, text: text,
		next: t(i18n.WizCopyDoneNext)}
	reg, ok := o.f.env.register()
	if !ok {
		o.finishCopy(o.done)
		return cmd
	}
	// The HSM's register learns the new card of the set (nothing, for a
	// set it does not record).
	o.state = copyRecording
	o.regID = o.f.env.newID()
	return tea.Batch(cmd, registerCmd(o.f.env.ctx, o.regID, o.f.env.now, func(ctx context.Context) (hsm.CardSets, error) {
		return cardset.Copied(ctx, reg, src, serial)
	}))
}

// recorded shows the result once the register knows the new card.
func (o *copyOp) recorded(m registeredMsg) tea.Cmd {
	n := o.done
	if m.err != nil {
		p := classifyHSM(m.err)
		o.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: p.outcome(), Detail: safeDetail(m.err)}, &o.copied)
		n.level = lvWarn
		n.text = sentences(n.text, o.f.t(i18n.WizRegisterNoNewCard{Cause: p.says(o.f.env.p, 0)}))
		n.details = p.details()
	} else {
		o.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: audit.OutcomeOK}, &o.copied)
	}
	o.finishCopy(n)
	return nil
}

// finishCopy closes the copy that was written, with the result n.
func (o *copyOp) finishCopy(n notice) {
	o.state = copyDone
	o.summaryWritten()
	o.f.finish(n)
}

// summaryWritten closes the copy in the audit trail as written.
func (o *copyOp) summaryWritten() {
	o.f.summary(audit.OutcomeOK, "copy of the source card written", func(sm *audit.Summary) {
		sm.CardsRead, sm.CardsWritten = []string{o.srcSerial.String()}, []string{o.copied.String()}
	})
}

// writeFailed says that the copy did not complete; the share is still in
// memory and the target can be written again.
func (o *copyOp) writeFailed(ev stepEvent) tea.Cmd {
	p := ev.prob
	if ev.end == endStopped {
		p = problem{cause: causeStopped}
	}
	o.step.record(audit.StepWriteCard, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	o.insert()
	n := o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(i18n.WizCopyWriteAgain))
	n.text = sentences(o.f.t(i18n.WizCopyNotWritten), n.text, o.f.t(i18n.WizShareStillHeld))
	o.f.note = n
	return nil
}

func (o *copyOp) wipe() {
	if o.src != nil {
		o.src.Wipe()
		o.src = nil
	}
}

func (o *copyOp) end() tea.Cmd {
	if o.copied != (tcos.Serial{}) {
		o.summaryWritten() // quit while the register learned the new card
	}
	o.f.summary(audit.OutcomeCancelled, "left by the operator", nil)
	o.f.left = true
	o.wipe()
	return o.step.end()
}

func (o *copyOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.step.running() || o.state == copyRecording}
	if o.state != copyDone && o.state != copyRecording {
		st = o.f.withCountdown(st, o.step)
	}
	if o.src != nil {
		st.holds = holdsShare
		st.loss = o.f.t(i18n.WizLossCopy{Serial: o.srcSerial.String()})
	}
	return st
}

func (o *copyOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.step.pad()
		switch o.state {
		case copyRecording:
			pad = [2]string{o.f.t(i18n.PadWait), ""}
		case copyDone:
			pad = [2]string{o.f.t(i18n.PadCardCopied), o.f.t(i18n.PadOK)}
		}
	}
	t := o.f.t
	src, dst := t(i18n.WizCopySourceNow), t(i18n.WizCopyTargetNone)
	if o.src != nil || o.copied != (tcos.Serial{}) {
		src = t(i18n.WizCopySourceDone{Serial: o.srcSerial.String()})
	}
	switch {
	case o.copied != (tcos.Serial{}):
		dst = t(i18n.WizCopyTargetDone{Serial: o.copied.String()})
	case o.src != nil:
		dst = t(i18n.WizCopyTargetNow)
	}
	var s *cardStep
	if o.state != copyDone && o.state != copyRecording {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side([]string{src, dst}, s)}
}
