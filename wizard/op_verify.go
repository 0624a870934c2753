package wizard

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
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

const pinOfCard = "the Backup Key PIN of this card"

func newVerify(e *env) (*verifyOp, tea.Cmd) {
	o := &verifyOp{}
	o.f = newFrame(e, "Verify the card set", audit.OpVerify, audit.SlotBackupKey)
	o.f.keySet = o.keySet
	o.f.event(audit.StepStart, nil, audit.OutcomeOK, "")
	o.openID = e.newID()
	o.f.note = notice{level: lvInfo, text: "Asking the HSM which Backup Key and card set it holds…"}
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

func (o *verifyOp) hint() string {
	switch n := len(o.cards); n {
	case 0:
		return "Insert the first card and press OK."
	case 1:
		return "Insert the next card and press OK, or press Cancel (Esc) to finish with the 1 card presented."
	default:
		return fmt.Sprintf("Insert the next card and press OK, or press Cancel (Esc) to finish with the %d cards presented.", n)
	}
}

// insert waits for the next card.
func (o *verifyOp) insert() {
	o.state = verCard
	n := len(o.cards) + 1
	o.step = o.f.newStep(tcos.SlotBackupKey, fmt.Sprintf("Insert %d. card", n), fmt.Sprintf("insert card %d and press OK", n), o.hint())
}

func (o *verifyOp) update(msg tea.Msg) tea.Cmd {
	switch ev, cmd := o.f.update(msg, o.status()); ev {
	case frameTaken:
		return cmd
	case frameAgain:
		o.insert()
		o.f.note = notice{level: lvInfo, next: o.hint()}
		return nil
	case frameStay:
		if o.step != nil {
			o.step.resume()
		}
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
		p := classifyHSM(m.err)
		o.f.event(audit.StepStart, nil, p.outcome(), safeDetail(m.err))
		o.done(audit.OutcomeError, "the HSM could not say what it holds", problemNotice(p, 0, "Press OK for the main menu."))
		return nil
	}
	o.v, o.hsmKey, o.reg = m.verify, m.key, m.reg
	o.insert()
	o.f.note = notice{level: lvInfo,
		text: "Each holder presents a card and its PIN, one after the other. Every card is checked, and every k of them must rebuild the Backup Key; nothing is written to any card or to the HSM. With k+1 cards or more, a bad card is found and named.",
		next: o.hint()}
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
		o.f.pinEvent(ev, s, pinOfCard)
	case evTyped:
		return s.send()
	case evWorked:
		return o.read()
	case evEnded:
		if ev.end == endFailed && ev.prob.cause == causeBlocked && s.card != nil && s.card.serial != (tcos.Serial{}) {
			// Blocked by the wrong PINs just typed: a finding of its own.
			o.add(cardset.Card{Serial: s.card.serial, Err: ev.prob.err})
		}
		o.f.stepEnded(ev, tcos.SlotBackupKey, o.hint(), "")
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
		text := fmt.Sprintf("Card %s was already presented in this check; each card counts once.", c.serial)
		s.record(audit.StepIdentify, audit.OutcomeRefused, text, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: text, next: "Take this card out. " + o.hint()}
		return cmd
	}
	if c.status.Blocked {
		s.record(audit.StepIdentify, audit.OutcomeBlocked, "", audit.Tries(0), o.f.env.now())
		serial := c.serial
		cmd := s.end()
		o.add(cardset.Card{Serial: serial, Err: tcos.ErrBlocked})
		o.insert()
		o.f.note = notice{level: lvError, text: blockedText(serial, tcos.SlotBackupKey) + " Its share cannot be checked: it counts as unreadable.",
			next: "Take this card out. " + o.hint()}
		return cmd
	}
	o.tries = c.status.TriesLeft
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinOfCard)
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
		n := problemNotice(classify(err), tcos.SlotBackupKey, o.hint())
		o.f.note = n
		return cmd
	}
	n := len(o.cards)
	switch {
	case res.Verdict == cardset.Pending:
		o.f.note = notice{level: lvGood, text: fmt.Sprintf("Card %s read: share %d of %s. %s", serial, res.X, describeSet(*res.Set), cardsPresented(n)),
			next: "Take the card out. " + o.hint()}
	case res.Reason == cardset.NotCurrent:
		o.f.note = notice{level: lvError, text: classify(res.Refused).says(0) + " It is not checked with the others.", next: "Take the card out. " + o.hint()}
	default:
		o.f.note = notice{level: lvWarn, text: fmt.Sprintf("Card %s: %s It cannot be checked with the others.", serial, reasonSentence(res)), next: "Take the card out. " + o.hint()}
	}
	return cmd
}

// cardsPresented says how many cards were presented.
func cardsPresented(n int) string {
	if n == 1 {
		return "1 card presented."
	}
	return fmt.Sprintf("%d cards presented.", n)
}

// reasonSentence says why a card's share is not checked.
func reasonSentence(c cardset.CardResult) string {
	switch c.Reason {
	case cardset.Unreadable:
		return classify(c.Err).says(tcos.SlotBackupKey)
	case cardset.EmptySlot:
		return "it holds no Backup Key share."
	case cardset.Damaged:
		return "its share record is damaged (an interrupted write leaves one)."
	case cardset.UnknownFormat:
		return "its share record is in a format this hsmcards does not know (made by a newer version?)."
	}
	return "its share cannot be used."
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
		o.done(audit.OutcomeError, safeDetail(err), problemNotice(p, 0, "Press OK for the main menu."))
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
		n.next = "Take the card out. Press OK for the main menu."
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
	if rep.Set == nil {
		return notice{level: lvError, text: "No card presented holds a share that could be checked: nothing was verified."}
	}
	set, k := rep.Set, rep.Set.Scheme.K
	var text []string
	lv := lvError
	switch rep.Outcome {
	case cardset.AllGood:
		lv = lvGood
		if rep.Shares >= set.Scheme.N {
			text = append(text, fmt.Sprintf("All %d cards of the set are good: every %d of them rebuild the Backup Key.", rep.Shares, k))
		} else {
			text = append(text, fmt.Sprintf("The %d cards presented are good: every %d of them rebuild the Backup Key. The set's other %d cards were not presented.", rep.Shares, k, set.Scheme.N-rep.Shares))
		}
	case cardset.BadFound:
		for _, c := range rep.Bad() {
			if c.Reason == cardset.Disagrees {
				text = append(text, fmt.Sprintf("Card %s is BAD: its record describes the card set otherwise than the set's (damaged, or altered).", c.Serial))
			} else {
				text = append(text, fmt.Sprintf("Card %s is BAD: its share does not rebuild the Backup Key with the others (damaged, or altered).", c.Serial))
			}
		}
		text = append(text, fmt.Sprintf("The other cards are good: %d of them rebuild the key.", k))
	case cardset.CannotTell:
		if rep.Shares == k {
			text = append(text, fmt.Sprintf("These %d cards do not rebuild the Backup Key: at least one of them is bad, and which one %d cards cannot tell. Verify again with one more card of the set.", k, k))
		} else {
			text = append(text, fmt.Sprintf("No %d of the %d cards rebuild the Backup Key: more than %d of them are bad.", k, rep.Shares, rep.Shares-k))
		}
	case cardset.TwoKeys:
		text = append(text, "Two different keys come out of these cards, both passing the records' 3-byte check (a format 1 set): which one is the Backup Key cannot be told.")
	case cardset.TooFew:
		lv = lvWarn
		text = append(text, fmt.Sprintf("Each record was checked, but %d cards of the set were presented and %d are needed to check the key.", rep.Shares, k))
	}
	switch rep.HSM {
	case cardset.HSMSameKey:
		text = append(text, "It is the Backup Key the HSM holds.")
	case cardset.HSMOtherKey:
		text = append(text, "It is NOT the Backup Key the HSM holds.")
		lv = lvError
	case cardset.HSMNoKey:
		text = append(text, "The HSM holds no Backup Key to compare it with.")
	}
	refused := 0
	for _, c := range rep.Cards {
		if c.Reason == cardset.NotCurrent {
			refused++
		}
	}
	switch refused {
	case 0:
	case 1:
		text = append(text, "1 card of a card set that is not current was not checked: collect and erase it.")
	default:
		text = append(text, fmt.Sprintf("%d cards of a card set that is not current were not checked: collect and erase them.", refused))
	}
	return notice{level: lv, text: strings.Join(text, " ")}
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

// verdictWord is a card's verdict in the result table, at most 22 cells.
func verdictWord(c cardset.CardResult) string {
	switch c.Verdict {
	case cardset.Pending:
		return "read"
	case cardset.Good:
		if c.CopyOf != nil {
			return "good, copy of " + shortSerial(*c.CopyOf)
		}
		return "good"
	case cardset.Bad:
		if c.Reason == cardset.Disagrees {
			return "BAD: record differs"
		}
		return "BAD: wrong share"
	case cardset.Undecided:
		return "cannot tell"
	}
	switch c.Reason {
	case cardset.Unreadable:
		if classify(c.Err).cause == causeBlocked {
			return "PIN blocked"
		}
		return "not read"
	case cardset.EmptySlot:
		return "no share"
	case cardset.Damaged:
		return "damaged record"
	case cardset.UnknownFormat:
		return "unknown format"
	case cardset.OtherSet:
		return "another card set"
	case cardset.NotCurrent:
		return fmt.Sprintf("%s gen %d", c.Standing, c.Refused.Generation)
	}
	return c.Reason.String()
}

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
	lines := []string{styleDim.Render(fmt.Sprintf("%-7s %3s %-16s %5s %s", "Card", "x", "Label", "Tries", "Verdict"))}
	for _, c := range cards {
		x, label := "-", "-"
		if c.Set != nil {
			x, label = fmt.Sprint(c.X), safetext.Clean(c.Set.Label)
		}
		line := fmt.Sprintf("%-7s %3s %s %5d %s", shortSerial(c.Serial), x, fitWidth(label, 16), c.TriesLeft, verdictWord(c))
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
	pad, ok := o.f.pad()
	if !ok {
		switch o.state {
		case verOpening:
			pad = [2]string{"Please wait...", ""}
		case verCard:
			pad = o.step.pad()
		default:
			pad = [2]string{"Set verified", "press OK"}
			if o.report == nil || o.report.Outcome != cardset.AllGood {
				pad = [2]string{"Verify failed", "press OK"}
			}
			if o.report != nil && o.report.Outcome == cardset.BadFound {
				pad = [2]string{"Bad card found", "press OK"}
			}
		}
	}
	var body []string
	if s := o.set(); s != nil {
		body = append(body, fitWidth(fmt.Sprintf("%q, %s, %s, KCV %s", safetext.Clean(s.Label), generationWord(*s), s.Scheme, kcvString(s.KCV)), sideWidth))
	}
	body = append(body, o.table()...)
	var s *cardStep
	if o.state == verCard {
		s = o.step
	}
	return panel{pad: pad, side: o.f.side(body, s)}
}
