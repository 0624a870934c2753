package wizard

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// verifyOp is Verify the card set (docs/lifecycle.md, "Verify"): each
// holder presents a card and its PIN, one card step each; cardset.Verify
// checks each record at once and, when the operator is done, every k-subset
// of the shares presented, naming a bad card where the subsets can tell.
// Nothing is written, to any card or to the HSM. The shares are in the
// Verify's secret memory until Finish; the cards still hold them, so
// leaving loses nothing and does not ask.
type verifyOp struct {
	f      frame
	state  verifyState
	step   *cardStep
	openID stepID
	v      *cardset.Verify
	hsmKey *hsm.KeyInfo
	reg    hsm.CardSets
	tries  int                  // the card's tries left when it came in
	cards  []cardset.CardResult // each card as Add read it
	report *cardset.Report
}

// verifyState is where a verify stands.
type verifyState int

const (
	verOpening verifyState = iota // reading the HSM's key and register
	verCard                       // a card step for the next card
	verDone                       // the verdicts
)

func newVerify(e *env) (*verifyOp, tea.Cmd) {
	o := &verifyOp{}
	o.f = newFrame(e, e.t(i18n.MenuVerify), audit.OpVerify, audit.SlotBackupKey)
	o.f.keySet = o.keySet
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	o.openID = e.newID()
	o.f.note = notice{level: lvInfo, text: e.t(i18n.WizAskingCardSets)}
	return o, cardSetsCmd(e.ctx, o.openID, e.cfg.HSM, wantVerify)
}

// set is the card set the verify is about: the one verified, else the
// first admitted card's, else the register's current one.
func (o *verifyOp) set() *quorum.KeySet {
	if o.report != nil && o.report.Set != nil {
		return o.report.Set
	}
	for _, c := range o.cards {
		if c.Verdict == cardset.Pending {
			return c.Set
		}
	}
	if s, ok := cardset.CurrentKeySet(o.reg); ok {
		return &s
	}
	return nil
}

// keySet puts the card set into each audit event, once known.
func (o *verifyOp) keySet(e *audit.Event) {
	if s := o.set(); s != nil {
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", s.ID[:]), kcvString(s.KCV), s.Scheme.String(), s.Label
		e.Generation = uint64(s.Generation)
	}
}

func (o *verifyOp) hint() i18n.Message {
	if n := len(o.cards); n > 0 {
		return i18n.WizVerifyNextHint{Count: n}
	}
	return i18n.WizVerifyFirstHint
}

// insert waits for the next card.
func (o *verifyOp) insert() {
	o.state = verCard
	n := len(o.cards) + 1
	o.step = o.f.newStep(tcos.SlotBackupKey, i18n.PadInsertNth{Card: n}, i18n.WizWaitInsertNth{Card: n}, o.hint())
}

func (o *verifyOp) update(msg tea.Msg) tea.Cmd {
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
	case verOpening:
		if m, ok := msg.(cardSetsMsg); ok && m.id == o.openID {
			return o.opened(m)
		}
		if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, keys.Cancel) {
			return o.end()
		}
	case verCard:
		return o.cardUpdate(msg)
	}
	return o.f.env.discardIfResult(msg)
}

// opened starts with the first card, once the HSM said what it holds.
func (o *verifyOp) opened(m cardSetsMsg) tea.Cmd {
	o.f.registerNotes(m.notes)
	if m.err != nil {
		o.done(o.f.cardSetsFailed(m.err))
		return nil
	}
	o.v, o.hsmKey, o.reg = m.verify, m.key, m.reg
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: o.f.t(i18n.WizVerifyIntro),
		next: o.f.t(o.hint())}
	return nil
}

func (o *verifyOp) cardUpdate(msg tea.Msg) tea.Cmd {
	s := o.step
	ev, cmd := s.update(msg)
	switch ev.kind {
	case evLeave:
		if len(o.cards) > 0 {
			return tea.Batch(cmd, o.finish())
		}
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
		return o.read()
	case evEnded:
		if ev.end == endFailed && ev.prob.cause == causeBlocked && s.card != nil && s.card.serial != (tcos.Serial{}) {
			// Blocked by the wrong PINs just typed: a finding of its own.
			o.add(cardset.Card{Serial: s.card.serial, Err: ev.prob.err})
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.f.t(o.hint()), holdsNothing)
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

// presented reports whether the card was presented in this verify.
func (o *verifyOp) presented(s tcos.Serial) bool {
	for _, c := range o.cards {
		if c.Serial == s {
			return true
		}
	}
	return false
}

// identified refuses a card presented already; a blocked card is a
// finding (unreadable) without any PIN; any other is asked its PIN.
func (o *verifyOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	if o.presented(c.serial) {
		w := o.f.env.say(i18n.WizVerifyAlreadyPresented{Serial: c.serial.String()})
		s.record(audit.StepIdentify, audit.OutcomeRefused, w.trail, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: w.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.f.t(o.hint()))}
		return cmd
	}
	if c.status.Blocked {
		s.record(audit.StepIdentify, audit.OutcomeBlocked, "", audit.Tries(0), o.f.env.now())
		serial := c.serial
		cmd := s.end()
		o.add(cardset.Card{Serial: serial, Err: tcos.ErrBlocked})
		o.insert()
		o.f.note = notice{level: lvError, text: o.f.env.blocked(serial, tcos.SlotBackupKey).and(o.f.env, i18n.WizVerifyBlockedUnreadable).screen,
			next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.f.t(o.hint()))}
		return cmd
	}
	o.tries = c.status.TriesLeft
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, rawReadWork(o.f.env.cfg.PINTimeout, c.onPad))
}

// add takes a card into the verify; it reports the card's result.
func (o *verifyOp) add(c cardset.Card) (cardset.CardResult, error) {
	res, err := o.v.Add(c)
	if err == nil {
		o.cards = append(o.cards, res)
		ev := audit.Event{Step: audit.StepReadCard, Outcome: audit.OutcomeOK, Detail: readWords(res), ShareX: int(res.X), TriesLeft: audit.Tries(res.TriesLeft)}
		if res.Verdict != cardset.Pending {
			ev.Outcome = audit.OutcomeRefused
		}
		if res.Err != nil {
			ev.Outcome = classify(res.Err).outcome()
		}
		o.f.record(ev, &res.Serial)
	}
	return res, err
}

// read hands the record the card read to the verify (which copies the
// share into its own memory); the step wipes the card's copy as it ends.
func (o *verifyOp) read() tea.Cmd {
	s := o.step
	serial := s.card.serial
	res, err := o.add(cardset.Card{Serial: serial, TriesLeft: o.tries, Raw: s.res.rawBytes()})
	cmd := s.end()
	o.insert()
	if err != nil {
		n := o.f.env.problemNotice(classify(err), tcos.SlotBackupKey, o.f.t(o.hint()))
		o.f.note = n
		return cmd
	}
	t, p := o.f.t, o.f.env.p
	n, next := len(o.cards), sentences(t(i18n.WizTakeCardOut), t(o.hint()))
	switch {
	case res.Verdict == cardset.Pending:
		o.f.note = notice{level: lvGood, text: sentences(t(i18n.WizVerifyCardRead{Serial: serial.String(), X: int(res.X), Set: describeSet(p, *res.Set)}), t(i18n.WizCardsPresented{Count: n})),
			next: next}
	case res.Reason == cardset.NotCurrent:
		o.f.note = notice{level: lvError, text: sentences(classify(res.Refused).says(p, 0), t(i18n.WizVerifyNotChecked)), next: next}
	default:
		o.f.note = notice{level: lvWarn, text: sentences(reasonSentence(p, serial, res), t(i18n.WizVerifyCannotCheck)), next: next}
	}
	return cmd
}

// reasonSentence says why card serial's share is not checked.
func reasonSentence(p *i18n.Printer, serial tcos.Serial, c cardset.CardResult) string {
	sn := serial.String()
	switch c.Reason {
	case cardset.Unreadable:
		return p.T(i18n.WizVerifyUnreadable{Serial: sn, Cause: classify(c.Err).says(p, tcos.SlotBackupKey)})
	case cardset.EmptySlot:
		return p.T(i18n.WizVerifyEmpty{Serial: sn})
	case cardset.Damaged:
		return p.T(i18n.WizVerifyDamaged{Serial: sn})
	case cardset.UnknownFormat:
		return p.T(i18n.WizVerifyUnknownFormat{Serial: sn})
	}
	return p.T(i18n.WizVerifyUnusable{Serial: sn})
}

// readWords is the audit trail's word on a card as read (stable English:
// cardset's names).
func readWords(c cardset.CardResult) string {
	if c.Verdict == cardset.Pending {
		return ""
	}
	return c.Reason.String()
}

// finish decides: the verify combines every k-subset and wipes every share.
func (o *verifyOp) finish() tea.Cmd {
	rep, err := o.v.Finish()
	if err != nil {
		p := classify(err)
		o.done(audit.OutcomeError, safeDetail(err), o.f.env.problemNotice(p, 0, o.f.t(i18n.WizBackToMenu)))
		return nil
	}
	o.report = rep
	for _, c := range rep.Cards {
		out := audit.OutcomeRefused
		switch c.Verdict {
		case cardset.Good:
			out = audit.OutcomeOK
		case cardset.Bad:
			out = audit.OutcomeError
		}
		detail := c.Verdict.String()
		if c.Reason != cardset.NoReason {
			detail += ": " + c.Reason.String()
		}
		if c.CopyOf != nil {
			detail += ", a copy of card " + c.CopyOf.String()
		}
		o.f.record(audit.Event{Step: audit.StepVerdict, Outcome: out, Detail: detail, ShareX: int(c.X), TriesLeft: audit.Tries(c.TriesLeft)}, &c.Serial)
	}
	out := audit.OutcomeError
	switch rep.Outcome {
	case cardset.AllGood:
		out = audit.OutcomeOK
	case cardset.TooFew, cardset.NoSet:
		out = audit.OutcomeRefused
	}
	o.done(out, rep.Outcome.String(), o.verdictNotice(rep))
	return nil
}

// done closes the verify with the result n.
func (o *verifyOp) done(out audit.Outcome, detail string, n notice) {
	o.state = verDone
	o.f.summary(out, detail, o.fill)
	if o.v != nil {
		o.v.Wipe()
	}
	if n.next == "" {
		n.next = o.f.t(i18n.WizInspectDoneNext)
	}
	o.f.finish(n)
}

func (o *verifyOp) fill(s *audit.Summary) {
	for _, c := range o.cards {
		s.CardsRead = append(s.CardsRead, c.Serial.String())
	}
}

// verdictNotice says what the verify found, in a few sentences.
func (o *verifyOp) verdictNotice(rep *cardset.Report) notice {
	t := o.f.t
	if rep.Set == nil {
		return notice{level: lvError, text: t(i18n.WizVerifyNoSet)}
	}
	set, k := rep.Set, rep.Set.Scheme.K
	var text []string
	lv := lvError
	switch rep.Outcome {
	case cardset.AllGood:
		lv = lvGood
		if rep.Shares >= set.Scheme.N {
			text = append(text, t(i18n.WizVerifyAllGood{Cards: rep.Shares, K: k}))
		} else {
			text = append(text, t(i18n.WizVerifySomeGood{Cards: rep.Shares, K: k, Others: set.Scheme.N - rep.Shares}))
		}
	case cardset.BadFound:
		for _, c := range rep.Bad() {
			if c.Reason == cardset.Disagrees {
				text = append(text, t(i18n.WizVerifyBadRecord{Serial: c.Serial.String()}))
			} else {
				text = append(text, t(i18n.WizVerifyBadShare{Serial: c.Serial.String()}))
			}
		}
		text = append(text, t(i18n.WizVerifyOthersGood{K: k}))
	case cardset.CannotTell:
		if rep.Shares == k {
			text = append(text, t(i18n.WizVerifyCannotTellK{K: k}))
		} else {
			text = append(text, t(i18n.WizVerifyCannotTell{K: k, Cards: rep.Shares, Bad: rep.Shares - k}))
		}
	case cardset.TwoKeys:
		text = append(text, t(i18n.WizVerifyTwoKeys))
	case cardset.TooFew:
		lv = lvWarn
		text = append(text, t(i18n.WizVerifyTooFew{Count: rep.Shares, K: k}))
	}
	switch rep.HSM {
	case cardset.HSMSameKey:
		text = append(text, t(i18n.WizVerifyHSMSame))
	case cardset.HSMOtherKey:
		text = append(text, t(i18n.WizVerifyHSMOther))
		lv = lvError
	case cardset.HSMNoKey:
		text = append(text, t(i18n.WizVerifyHSMNone))
	}
	refused := 0
	for _, c := range rep.Cards {
		if c.Reason == cardset.NotCurrent {
			refused++
		}
	}
	if refused > 0 {
		text = append(text, t(i18n.WizVerifyNotCurrent{Count: refused}))
	}
	return notice{level: lv, text: sentences(text...)}
}

func (o *verifyOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", o.fill)
	o.f.left = true
	if o.v != nil {
		o.v.Wipe()
	}
	if o.step != nil {
		return o.step.end()
	}
	return nil
}

func (o *verifyOp) status() actStatus {
	st := actStatus{done: o.f.left, busy: o.state == verOpening || o.step.running()}
	if o.state == verCard {
		st = o.f.withCountdown(st, o.step)
	}
	return st
}

// verdictWord is a card's verdict in the result table, at most
// verdictWidth cells.
func verdictWord(p *i18n.Printer, c cardset.CardResult) string {
	switch c.Verdict {
	case cardset.Pending:
		return p.T(i18n.WizVerdictRead)
	case cardset.Good:
		if c.CopyOf != nil {
			return p.T(i18n.WizVerdictGoodCopy{Of: shortSerial(*c.CopyOf)})
		}
		return p.T(i18n.WizVerdictGood)
	case cardset.Bad:
		if c.Reason == cardset.Disagrees {
			return p.T(i18n.WizVerdictBadRecord)
		}
		return p.T(i18n.WizVerdictBadShare)
	case cardset.Undecided:
		return p.T(i18n.WizVerdictCannotTell)
	}
	switch c.Reason {
	case cardset.Unreadable:
		if classify(c.Err).cause == causeBlocked {
			return p.T(i18n.WizVerdictBlocked)
		}
		return p.T(i18n.WizVerdictNotRead)
	case cardset.EmptySlot:
		return p.T(i18n.WizVerdictNoShare)
	case cardset.Damaged:
		return p.T(i18n.WizVerdictDamaged)
	case cardset.UnknownFormat:
		return p.T(i18n.WizVerdictUnknown)
	case cardset.OtherSet:
		return p.T(i18n.WizVerdictOtherSet)
	case cardset.NotCurrent:
		return p.T(i18n.WizVerdictNotCurrent{Standing: standingWord(p, c.Standing), Generation: int(c.Refused.Generation)})
	}
	return c.Reason.String()
}

// verdictWidth is the widest verdict the table has room for.
const verdictWidth = 22

// table is the cards presented: serial (its end), x, label, tries left,
// verdict.
func (o *verifyOp) table() []string {
	if len(o.cards) == 0 {
		return nil
	}
	cards := o.cards
	if o.report != nil {
		cards = o.report.Cards
	}
	t, p := o.f.t, o.f.env.p
	lines := []string{styleDim.Render(fmt.Sprintf("%-7s %3s %-16s %5s %s", t(i18n.WizColCard), "x", t(i18n.WizColLabel), t(i18n.WizColTries), t(i18n.WizColVerdict)))}
	for _, c := range cards {
		x, label := "-", "-"
		if c.Set != nil {
			x, label = fmt.Sprint(c.X), safetext.Clean(c.Set.Label)
		}
		line := fmt.Sprintf("%-7s %3s %s %5d %s", shortSerial(c.Serial), x, fitWidth(label, 16), c.TriesLeft, verdictWord(p, c))
		lv := lvInfo
		switch c.Verdict {
		case cardset.Good:
			lv = lvGood
		case cardset.Bad:
			lv = lvError
		}
		lines = append(lines, styleLevel[lv].Render(fitWidth(line, sideWidth)))
	}
	return lines
}

func (o *verifyOp) view() panel {
	t, p := o.f.t, o.f.env.p
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case verOpening:
			pad = [2]string{t(i18n.PadWait), ""}
		case verCard:
			pad = o.step.pad()
		default:
			pad = [2]string{t(i18n.PadSetVerified), t(i18n.PadOK)}
			if o.report == nil || o.report.Outcome != cardset.AllGood {
				pad = [2]string{t(i18n.PadVerifyFailed), t(i18n.PadOK)}
			}
			if o.report != nil && o.report.Outcome == cardset.BadFound {
				pad = [2]string{t(i18n.PadBadCardFound), t(i18n.PadOK)}
			}
		}
	}
	var body []string
	if s := o.set(); s != nil {
		body = append(body, fitWidth(t(i18n.WizVerifySetLine{Label: safetext.Clean(s.Label), Generation: generationWord(p, *s), Quorum: quorumWords(p, s.Scheme), KCV: kcvString(s.KCV)}), sideWidth))
	}
	body = append(body, o.table()...)
	var s *cardStep
	if o.state == verCard {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(body, s)}
}
