package wizard

import (
	"context"
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/tcos"
)

// eraseOp is Erase a card (docs/lifecycle.md, "Erase a card"): after the
// card's PIN its record is read and cardset.PlanErase says what it holds;
// a card somebody may still need (the current set's above all, with how
// many cards of the set the HSM knows, k of n) is erased only after asking.
// The erase writes an empty slot and reads it back; the card keeps its
// PIN. Then the HSM's register takes the card off its lists
// (cardset.Erased). Nothing secret is held beyond the card step.
type eraseOp struct {
	f      frame
	state  eraseState
	step   *cardStep
	openID stepID
	regID  stepID
	hsmKey *hsm.KeyInfo
	reg    hsm.CardSets
	hasReg bool
	plan   *cardset.ErasePlan // what the card held, from its first read
	after  hsm.CardSets       // the register once the card is off its lists
	erased bool               // the slot is empty and read back
}

// eraseState is where an erase stands.
type eraseState int

const (
	erOpening   eraseState = iota // reading the HSM's key and register
	erCard                        // the card's step: insert, PIN, its record read
	erConfirm                     // the card is held: erase what it holds?
	erErasing                     // the slot is cleared and read back
	erRecording                   // the register takes the card off its lists
	erRetry                       // the register was not updated: try again?
	erDone                        // the result
)

func newErase(e *env) (*eraseOp, tea.Cmd) {
	o := &eraseOp{}
	o.f = newFrame(e, e.t(i18n.MenuErase), audit.OpErase, audit.SlotBackupKey)
	o.f.keySet = o.keySet
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	o.openID = e.newID()
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizAskingCardSets)}
	return o, cardSetsCmd(e.ctx, o.openID, e.cfg.HSM, wantNothing)
}

// keySet puts the set the card held into each audit event, once known.
func (o *eraseOp) keySet(e *audit.Event) {
	if o.plan != nil && o.plan.Set != nil {
		s := o.plan.Set
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", s.ID[:]), kcvString(s.KCV), s.Scheme.String(), s.Label
		e.Generation = uint64(s.Generation)
		e.ShareX = int(o.plan.X)
	}
}

func (o *eraseOp) hint() i18n.Message {
	if o.plan != nil {
		return i18n.WizEraseAgainHint{Serial: o.plan.Serial.String()}
	}
	return i18n.WizEraseHint
}

func (o *eraseOp) insert() {
	o.state = erCard
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertCard, i18n.WizWaitInsert, o.hint())
}

func (o *eraseOp) update(msg tea.Msg) tea.Cmd {
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
	switch o.state {
	case erOpening:
		if m, ok := msg.(cardSetsMsg); ok && m.id == o.openID {
			return o.opened(m)
		}
		if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, keys.Cancel) {
			return o.end()
		}
	case erCard, erConfirm, erErasing:
		return o.cardUpdate(msg)
	case erRecording:
		if m, ok := msg.(registeredMsg); ok && m.id == o.regID {
			return o.recorded(m)
		}
	case erRetry:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			switch {
			case key.Matches(k, keys.OK):
				return o.record()
			case key.Matches(k, keys.Cancel):
				o.done(audit.OutcomeError, "the HSM's record of the card sets still lists the card", notice{level: lvWarn,
					text: o.f.t(i18n.WizEraseStillListed{Serial: o.plan.Serial.String()})})
				return nil
			}
		}
	}
	return o.f.env.discardIfResult(msg)
}

func (o *eraseOp) opened(m cardSetsMsg) tea.Cmd {
	o.f.registerNotes(m.notes)
	if m.err != nil {
		o.done(o.f.cardSetsFailed(m.err))
		return nil
	}
	o.hsmKey, o.reg, o.hasReg = m.key, m.reg, m.hasReg
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: o.f.t(i18n.WizEraseIntro),
		next: o.f.t(o.hint())}
	return nil
}

func (o *eraseOp) cardUpdate(msg tea.Msg) tea.Cmd {
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
		if o.state == erErasing {
			return o.wasErased()
		}
		return o.read()
	case evAnswer:
		if ev.yes {
			return o.erase()
		}
		s.record(audit.StepErase, audit.OutcomeRefused, "the operator kept the card's share", nil, o.f.env.now())
		cmd := s.end()
		o.done(audit.OutcomeRefused, "the operator kept the card's share", notice{level: lvInfo, text: o.f.t(i18n.WizEraseKept)})
		return cmd
	case evEnded:
		if o.state == erErasing {
			return tea.Batch(cmd, o.eraseFailed(ev))
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.f.t(o.hint()), holdsNothing)
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// identified refuses a blocked card (nothing can be erased without its
// PIN), or another card than the one whose erase did not complete, else
// asks its PIN.
func (o *eraseOp) identified() tea.Cmd {
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
	case o.plan != nil && c.serial != o.plan.Serial:
		return refuse(o.f.env.say(i18n.WizEraseOtherCard{Serial: c.serial.String(), Planned: o.plan.Serial.String()}), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(o.f.env.blocked(c.serial, tcos.SlotBackupKey).and(o.f.env, i18n.WizEraseNeedsPIN), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, rawReadWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// read says what the card holds and asks first where somebody may still
// need it, else erases at once.
func (o *eraseOp) read() tea.Cmd {
	s := o.step
	plan, err := cardset.PlanErase(o.reg, o.hsmKey, cardset.Card{Serial: s.card.serial, TriesLeft: s.card.status.TriesLeft, Raw: s.res.rawBytes()})
	s.wipeResult() // the plan holds nothing secret
	if err != nil {
		p := classify(err)
		s.record(audit.StepReadCard, p.outcome(), safeDetail(err), nil, o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(o.hint()))
		return cmd
	}
	if o.plan == nil {
		// A card read again after an erase that did not complete may be
		// blank by now: the first read says what it held.
		o.plan = &plan
	}
	s.record(audit.StepReadCard, audit.OutcomeOK, plan.Kind.String(), nil, o.f.env.now())
	if !plan.Confirm {
		return o.erase()
	}
	o.state = erConfirm
	s.hold([2]string{o.f.t(i18n.PadEraseCard), o.f.t(i18n.PadOKCancel)})
	o.f.note = o.confirmNotice(plan)
	return nil
}

// confirmNotice says what erasing the card gives up: its set and
// generation, and for the current set how many of its cards the HSM knows.
func (o *eraseOp) confirmNotice(p cardset.ErasePlan) notice {
	t := o.f.t
	text := describeHolding(o.f.env.p, p.Serial, p.Holding)
	if p.Kind == cardset.DamagedRecord {
		text = sentences(text, t(i18n.WizEraseReadAgain))
	}
	switch {
	case p.Listed && (p.Kind != cardset.Share || p.Standing != cardset.Current):
		k, n := o.reg.Current.K, o.reg.Current.N
		text = sentences(text, t(i18n.WizEraseListedCurrent{Known: p.Known, K: k, N: n}))
		if p.LeavesTooFew {
			text = sentences(text, t(i18n.WizEraseLeavesTooFew{Left: p.Known - 1, K: k}))
		}
	case p.Kind == cardset.UnknownRecord:
		text = sentences(text, t(i18n.WizEraseDestroysRecord))
	case p.Standing == cardset.Current:
		k, n := p.Set.Scheme.K, p.Set.Scheme.N
		text = sentences(text, t(i18n.WizEraseKnown{Known: p.Known, K: k, N: n}))
		if p.LeavesTooFew {
			text = sentences(text, t(i18n.WizEraseLeavesTooFew{Left: p.Known - 1, K: k}))
		}
	case p.Standing == cardset.Newer:
		text = sentences(text, t(i18n.WizEraseNewer))
	default:
		text = sentences(text, t(i18n.WizEraseMayNeed))
		if p.OfHSMKey {
			text = sentences(text, t(i18n.WizEraseHSMKey))
		}
	}
	return notice{level: lvWarn, text: text, next: t(i18n.WizEraseConfirmNext)}
}

func (o *eraseOp) erase() tea.Cmd {
	o.state = erErasing
	return o.step.run(eraseWork())
}

// wasErased takes the card off the register's lists.
func (o *eraseOp) wasErased() tea.Cmd {
	s := o.step
	s.record(audit.StepErase, audit.OutcomeOK, "", nil, o.f.env.now())
	cmd := s.end()
	o.erased = true
	return tea.Batch(cmd, o.record())
}

// record has the register take the card off its lists (when the HSM keeps
// one), with the plan of the first read.
func (o *eraseOp) record() tea.Cmd {
	reg, ok := o.f.env.register()
	if !ok {
		o.finished()
		return nil
	}
	o.state = erRecording
	o.regID = o.f.env.newID()
	plan := *o.plan
	return registerCmd(o.f.env.ctx, o.regID, o.f.env.now, func(ctx context.Context) (hsm.CardSets, error) {
		return cardset.Erased(ctx, reg, plan)
	})
}

func (o *eraseOp) recorded(m registeredMsg) tea.Cmd {
	if m.err != nil {
		p := classifyHSM(m.err)
		o.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: p.outcome(), Detail: safeDetail(m.err)}, &o.plan.Serial)
		o.state = erRetry
		n := o.f.env.problemNotice(p, 0, o.f.t(i18n.WizEraseRetryNext))
		n.text = sentences(o.f.t(i18n.WizEraseNotRecorded{Serial: o.plan.Serial.String()}), n.text)
		o.f.note = n
		return nil
	}
	o.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: audit.OutcomeOK}, &o.plan.Serial)
	o.after = m.reg
	o.finished()
	return nil
}

// finished says what the card held and what is left to collect.
func (o *eraseOp) finished() {
	p, pr := o.plan, o.f.env.p
	sn := p.Serial.String()
	var text string
	switch p.Kind {
	case cardset.Share:
		text = pr.T(i18n.WizErasedShare{Serial: sn, X: int(p.X), Set: describeSet(pr, *p.Set), Standing: standingWords(pr, p.Holding)})
	case cardset.Blank:
		text = pr.T(i18n.WizErasedBlank{Serial: sn})
	default:
		text = pr.T(i18n.WizErasedUnreadable{Serial: sn})
	}
	text = sentences(text, pr.T(i18n.WizPINUnchanged))
	o.done(audit.OutcomeOK, "", notice{level: lvGood, text: text})
}

// eraseFailed says that the erase did not complete; the card is erased
// again when it comes back.
func (o *eraseOp) eraseFailed(ev stepEvent) tea.Cmd {
	p := ev.prob
	if ev.end == endStopped {
		p = problem{cause: causeStopped}
	}
	o.step.record(audit.StepErase, p.outcome(), safeDetail(p.err), nil, o.f.env.now())
	o.insert()
	n := o.f.env.problemNotice(p, tcos.SlotBackupKey, o.f.t(o.hint()))
	n.text = sentences(o.f.t(i18n.WizEraseIncomplete), n.text)
	o.f.note = n
	return nil
}

func (o *eraseOp) done(out audit.Outcome, detail string, n notice) {
	o.state = erDone
	o.f.summary(out, detail, o.fill)
	if n.next == "" {
		n.next = o.f.t(i18n.WizInspectDoneNext)
	}
	o.f.finish(n)
}

func (o *eraseOp) fill(s *audit.Summary) {
	if o.erased {
		s.CardsWritten = []string{o.plan.Serial.String()}
	}
}

func (o *eraseOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", o.fill)
	o.f.left = true
	if o.step != nil {
		return o.step.end()
	}
	return nil
}

func (o *eraseOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.state == erOpening || o.state == erRecording || o.step.running()}
	switch o.state {
	case erCard, erConfirm, erErasing:
		st = o.f.withCountdown(st, o.step)
	}
	return st
}

func (o *eraseOp) view() panel {
	t, pr := o.f.t, o.f.env.p
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case erOpening, erRecording:
			pad = [2]string{t(i18n.PadWait), ""}
		case erCard, erConfirm, erErasing:
			pad = o.step.pad()
		case erRetry:
			pad = [2]string{t(i18n.PadRecordFailed), t(i18n.PadOKCancel)}
		default:
			pad = [2]string{t(i18n.PadCardErased), t(i18n.PadOK)}
			if !o.erased {
				pad = [2]string{t(i18n.PadNotErased), t(i18n.PadOK)}
			}
		}
	}
	var body []string
	if o.plan != nil {
		body = append(body, t(i18n.WizSideCard{Serial: o.plan.Serial.String()}))
		switch {
		case o.plan.Kind == cardset.Share && o.erased:
			body = append(body, fitWidth(t(i18n.WizSideHeldShare{X: int(o.plan.X), Generation: generationWord(pr, *o.plan.Set), Standing: standingWord(pr, o.plan.Standing)}), sideWidth))
		case o.plan.Kind == cardset.Share:
			body = append(body, fitWidth(t(i18n.WizSideHoldsShare{X: int(o.plan.X), Generation: generationWord(pr, *o.plan.Set), Standing: standingWord(pr, o.plan.Standing)}), sideWidth))
		case o.erased:
			body = append(body, t(i18n.WizSideHeld{What: holdWord(pr, o.plan.Kind)}))
		default:
			body = append(body, t(i18n.WizSideHolds{What: holdWord(pr, o.plan.Kind)}))
		}
	}
	reg := o.reg
	if o.state == erDone && o.after.Revision != 0 {
		reg = o.after
	}
	if o.state == erCard || o.state == erDone {
		body = append(body, outstandingLines(pr, reg, sideWidth)...)
	}
	var s *cardStep
	switch o.state {
	case erCard, erConfirm, erErasing:
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(body, s)}
}
