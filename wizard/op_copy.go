package wizard

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
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
	o.f = newFrame(e, "Copy a Backup Key share card", audit.OpCopy, audit.SlotBackupKey)
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: "Copies the Backup Key share of one card onto another card, e.g. for the disaster-recovery site's second set. The share is held in memory only until it is written. Only the Backup Key share is copied: PKCS#11 slot user credentials cannot be copied.",
		next: o.hint()}
	return o
}

func (o *copyOp) hint() string {
	if o.src == nil {
		return "Insert the SOURCE card (the one to copy) and press OK."
	}
	return fmt.Sprintf("Insert the TARGET card (not card %s) and press OK.", o.srcSerial)
}

// insert waits for the source, or once its share is read, the target.
func (o *copyOp) insert() {
	if o.src == nil {
		o.state = copySource
		o.step = o.f.newStep(tcos.SlotBackupKey, "Insert source", "insert the source card and press OK", o.hint())
		return
	}
	o.state = copyTarget
	o.step = o.f.newStep(tcos.SlotBackupKey, "Insert target", "insert the target card and press OK", o.hint())
}

func (o *copyOp) update(msg tea.Msg) tea.Cmd {
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
		o.f.pinEvent(ev, s, "the Backup Key PIN of this card")
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
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), o.held())
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// held names the secret in memory for a timeout's notice.
func (o *copyOp) held() string {
	if o.src != nil {
		return "share"
	}
	return ""
}

func (o *copyOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	refuse := func(text string, out audit.Outcome) tea.Cmd {
		s.record(audit.StepIdentify, out, text, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: text, next: "Take this card out. " + o.hint()}
		return cmd
	}
	switch {
	case o.src != nil && c.serial == o.srcSerial:
		return refuse(fmt.Sprintf("This is the source card %s itself. A copy must go to another card.", o.srcSerial), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(blockedText(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice("the Backup Key PIN of this card")
	return s.askPIN(verifyEntry, readWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// sourceRead takes the source's record into memory, the copy's own to wipe.
func (o *copyOp) sourceRead() tea.Cmd {
	s := o.step
	serial := s.card.serial
	refuse := func(text string) tea.Cmd {
		s.record(audit.StepReadCard, audit.OutcomeRefused, text, nil, o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: text, next: "Take this card out. " + o.hint()}
		return cmd
	}
	switch recErr := s.res.recErr; {
	case errors.Is(recErr, quorum.ErrEmpty):
		return refuse(fmt.Sprintf("Card %s holds no Backup Key share: there is nothing to copy.", serial))
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		return refuse(fmt.Sprintf("Card %s holds a share in a format this hsmcards does not know; use a newer hsmcards to copy it.", serial))
	case recErr != nil:
		return refuse(fmt.Sprintf("Card %s holds a damaged share record: it cannot be copied.", serial))
	}
	// A card of a set that is not current is not copied: that would make
	// more cards to collect (docs/lifecycle.md, "Copy"). A newer set's card
	// may be: the register does not change for it.
	if err := cardset.Admit(o.f.env.admitReg(), s.res.rec.KeySet()); err != nil {
		if p := classify(err); p.cause != causeNewer {
			return refuse(p.says(0))
		}
	}
	o.src, o.srcSerial = s.takeRecord(), serial
	s.record(audit.StepReadCard, audit.OutcomeOK, "copy source", nil, o.f.env.now())
	cmd := s.end()
	o.insert()
	o.f.note = notice{level: lvGood, text: fmt.Sprintf("Share read from card %s: %s. It is held in memory.", serial, describeSet(setOf(o.src))),
		next: "Take the card out. " + o.hint()}
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
	q := [2]string{"Overwrite card?", "press OK/Cancel"}
	if tc.kind == targetEmpty {
		q[0] = "Write copy?"
	}
	s.hold(q)
	o.f.note = o.overwriteNotice()
	return nil
}

// overwriteNotice says what the target holds and what overwriting it gives
// up.
func (o *copyOp) overwriteNotice() notice {
	tc, src := o.target, setOf(o.src)
	next := "Press OK to overwrite it with the copy, or Cancel to keep it and use another card."
	var what string
	switch tc.kind {
	case targetEmpty:
		return notice{level: lvInfo, text: fmt.Sprintf("Target card %s is empty: it holds no Backup Key share.", tc.serial),
			next: "Press OK to write the copy to it, or Cancel."}
	case targetSame:
		return notice{level: lvInfo, text: fmt.Sprintf("Target card %s already holds this very share: it is a copy of card %s. Writing again changes nothing.", tc.serial, o.srcSerial),
			next: "Press OK to write it again anyway, or Cancel."}
	case targetSibling:
		// The appliance manual's "2 out of 2": copying card 2 over card 3.
		k, n := src.Scheme.K, src.Scheme.N
		others := fmt.Sprintf("%d of the set's other %d cards", k-1, n-2)
		switch {
		case n-2 == 1 && k-1 == 1:
			others = "the set's remaining card"
		case k-1 == n-2:
			others = fmt.Sprintf("all %d other cards of the set", n-2)
		}
		what = fmt.Sprintf("Card %s holds ANOTHER share of this same Backup Key (%d of %d). Overwriting it destroys that share for good: the set then has %d different shares instead of %d, and cards %s and %s carry the same share, which a Load counts once. To rebuild the key you then need card %s or %s, plus %s.",
			tc.serial, k, n, n-1, n, o.srcSerial, tc.serial, o.srcSerial, tc.serial, others)
	case targetOther:
		what = fmt.Sprintf("Card %s holds a share of a DIFFERENT Backup Key: %s.", tc.serial, describeSet(tc.set))
		if o.hsmKey != nil && o.hsmKey.info.KCV == tc.set.KCV {
			what += " It is a share of the Backup Key LOADED IN THE HSM NOW."
		}
		what += " Overwriting it destroys that share for good."
	case targetUnknownFmt:
		what = fmt.Sprintf("Card %s holds a share record in a format this hsmcards does not know (probably newer). Overwriting it destroys it for good.", tc.serial)
	default:
		what = fmt.Sprintf("Card %s holds a damaged share record (an interrupted write leaves one).", tc.serial)
	}
	return notice{level: lvWarn, text: what, next: next}
}

// answer: OK writes the copy over the target's content.
func (o *copyOp) answer(yes bool) tea.Cmd {
	s := o.step
	if yes {
		o.state = copyWriting
		return s.run(writeWork(o.src, "writing the copy"))
	}
	s.record(audit.StepWriteCard, audit.OutcomeRefused, "the operator kept the target's content", nil, o.f.env.now())
	cmd := s.end()
	o.insert()
	o.f.note = notice{level: lvInfo, text: "The target card was not written.", next: "Take it out. " + o.hint()}
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
	text := fmt.Sprintf("Copy written to card %s and read back: it now holds the same share as card %s (%s).", serial, o.srcSerial, describeSet(src))
	if o.target.kind == targetSibling {
		text += fmt.Sprintf(" Its former share is gone: this key set now has %d different shares.", src.Scheme.N-1)
	}
	o.done = notice{level: lvGood, text: text,
		next: "The share was wiped from memory. In a Load a card and its copy count once: keep the copy apart from the original. Press OK for the main menu."}
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
		n.text += " But the HSM's record of the card sets could not learn the new card: " + p.says(0)
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
	n := problemNotice(p, tcos.SlotBackupKey, "Insert the target card again (or another) and press OK: it will be written again.")
	n.text = "The copy was not written completely. " + n.text + " The share is still in memory."
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
		st.loss = fmt.Sprintf("The Backup Key share read from card %s is held in memory and was not copied yet. Leaving wipes it; card %s itself is unchanged.", o.srcSerial, o.srcSerial)
	}
	return st
}

func (o *copyOp) view() panel {
	pad, ok := o.f.pad()
	if !ok {
		pad = o.step.pad()
		switch o.state {
		case copyRecording:
			pad = [2]string{"Please wait...", ""}
		case copyDone:
			pad = [2]string{"Card copied", "press OK"}
		}
	}
	src, dst := "Source now", "Target -"
	if o.src != nil || o.copied != (tcos.Serial{}) {
		src = "Source " + o.srcSerial.String() + ", read"
	}
	switch {
	case o.copied != (tcos.Serial{}):
		dst = "Target " + o.copied.String() + ", written and checked"
	case o.src != nil:
		dst = "Target now"
	}
	var s *cardStep
	if o.state != copyDone && o.state != copyRecording {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side([]string{src, dst}, s)}
}
