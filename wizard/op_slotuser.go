package wizard

// The PKCS#11 slot user cards: enroll a card for the slot, activate the slot
// with an enrolled card, list and revoke the enrolled cards. The slot's user
// PIN is never on screen, in a notice, in the audit trail or in the APDU
// log: the wizard only ever sees card serials and labels. Before an
// enrollment or a revocation changes anything, the security officer sees the
// cards the slot's new user PIN will be wrapped to and confirms; records the
// slot does not vouch for are named (docs/pkcs11.md, "Slot user cards").

import (
	"errors"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// opRevoke is the audit operation of revoking a slot user card.
const opRevoke audit.Operation = "revoke"

// maxListed is how many refused records a screen names; the rest are
// counted.
const maxListed = 3

// cardLine is one card of a list: serial, label, enrollment date.
func cardLine(p *i18n.Printer, mark string, c hsm.UserCard) string {
	label := safetext.Clean(c.Label)
	if label == "" {
		label = p.T(i18n.WizNoLabel)
	}
	return fmt.Sprintf("%s%s %s %s", mark, tcos.Serial(c.Serial), fitWidth(label, hsm.MaxCardLabel), p.Date(c.Enrolled.UTC()))
}

// refusedLines name records hsmcards does not use, under a heading.
func refusedLines(p *i18n.Printer, head i18n.ID, refused []hsm.RefusedRecord) []string {
	if len(refused) == 0 {
		return nil
	}
	out := []string{styleLevel[lvWarn].Render(wrap(p.T(head), sideWidth))}
	for i, r := range refused {
		if i == maxListed {
			out = append(out, "  "+p.T(i18n.WizAndMore{Count: len(refused) - maxListed}))
			break
		}
		out = append(out, wrap("  "+safetext.Clean(r.String()), sideWidth))
	}
	return out
}

// planLines show the cards a change wraps the slot's new user PIN to.
func planLines(p *i18n.Printer, plan *slotuser.Plan) []string {
	var out []string
	if len(plan.Cards) == 0 {
		out = append(out, wrap(p.T(i18n.WizPlanNone), sideWidth))
	} else {
		out = append(out, p.T(i18n.WizPlanCards{Count: len(plan.Cards)}))
	}
	for _, c := range plan.Cards {
		mark := "  "
		if plan.Enrolling != nil && c.Serial == plan.Enrolling.Serial {
			mark = "+ "
		}
		out = append(out, cardLine(p, mark, c))
	}
	return append(out, refusedLines(p, i18n.WizPlanRemoved, plan.Refused)...)
}

// listedRecords names records, the first maxListed of them; missing are
// cards whose record was deleted, said by deleted.
func listedRecords(p *i18n.Printer, refused []hsm.RefusedRecord, missing []hsm.UserCard, deleted func(card string) i18n.Message) []string {
	var parts []string
	for i, r := range refused {
		if i == maxListed {
			parts = append(parts, p.T(i18n.WizAndMoreInline{Count: len(refused) - maxListed}))
			break
		}
		parts = append(parts, safetext.Clean(r.String()))
	}
	for _, c := range missing {
		parts = append(parts, p.T(deleted(safetext.Clean(hsm.CardName(c)))))
	}
	return parts
}

// recordsNotice explains a change the slot did not make because its
// records did not match its own list of cards; nothing is the first
// sentence, what was not done.
func (e *env) recordsNotice(nothing i18n.Message, re *hsm.RecordsError) notice {
	why := strings.Join(listedRecords(e.p, re.Refused, re.Missing, func(c string) i18n.Message { return i18n.WizRecordDeleted{Card: c} }), "; ")
	var reason i18n.Message = i18n.WizRecordsMismatch{Why: why}
	if re.ListMissing {
		reason = i18n.WizRecordsNoList{Why: why}
	}
	var kept []string
	for _, c := range re.Kept {
		kept = append(kept, tcos.Serial(c.Serial).String())
	}
	return notice{level: lvError, text: sentences(e.t(nothing), e.t(reason)),
		next: e.t(i18n.WizRecordsKept{Kept: strings.Join(kept, ", ")})}
}

// removedText names the records a change removed, for a note.
func removedText(p *i18n.Printer, removed []hsm.RefusedRecord) string {
	if len(removed) == 0 {
		return ""
	}
	return p.T(i18n.WizRemovedRecords{List: strings.Join(listedRecords(p, removed, nil, nil), "; ")})
}

// discrepancyText says what the slot's own list found wrong with the other
// records, for a note.
func discrepancyText(p *i18n.Printer, d hsm.Discrepancies) string {
	list := strings.Join(listedRecords(p, d.Refused, d.Missing, func(c string) i18n.Message { return i18n.WizRecordWasDeleted{Card: c} }), "; ")
	switch {
	case len(d.Missing) > 0 && len(d.Refused) > 0:
		return p.T(i18n.WizDiscrepancyBoth{List: list})
	case len(d.Missing) > 0:
		return p.T(i18n.WizDiscrepancyRestore{List: list})
	}
	return p.T(i18n.WizDiscrepancyRemove{List: list})
}

// slotCardOp enrolls a card for the slot or activates the slot with one.
// Before an enrollment changes anything, the security officer sees every
// card the slot's new user PIN will be wrapped to and confirms; records
// the slot does not vouch for are named (docs/pkcs11.md, "Slot user
// cards").
type slotCardOp struct {
	f       frame
	state   slotCardState
	op      slotOp
	slot    hsm.UserSlot
	name    string // the slot's name, cleaned: it comes from the token
	id      stepID // of the list or the change
	cards   []hsm.UserCard
	refused []hsm.RefusedRecord
	listed  bool
	label   textinput.Model // the label of the card to enroll
	step    *cardStep
	plan    *slotuser.Plan // the enrollment to confirm
	done    tcos.Serial
}

// slotCardState is where an enrollment or activation stands.
type slotCardState int

const (
	slotListing  slotCardState = iota // asking the slot for its records
	slotLabel                         // enroll: the label of the card
	slotCard                          // the card's step: insert, PIN, the card's part
	slotConfirm                       // enroll: the cards the new user PIN goes to, for the SO to confirm
	slotApplying                      // enroll: the confirmed change runs
	slotDone                          // the result
)

// newSlotCard starts enrolling or activating; the slot's records come first.
func newSlotCard(e *env, op slotOp, slot hsm.UserSlot) (*slotCardOp, tea.Cmd) {
	title, aop := i18n.MenuEnroll, audit.OpEnroll
	if op == slotActivate {
		title, aop = i18n.MenuActivate, audit.OpActivate
	}
	o := &slotCardOp{op: op, slot: slot, name: safetext.Clean(slot.SlotName())}
	o.f = newFrame(e, e.t(title), aop, audit.SlotPKCS11User)
	o.id = e.newID()
	return o, slotListCmd(e.ctx, o.id, slot)
}

func (o *slotCardOp) hint() string { return o.f.t(i18n.WizSlotUserHint) }

func (o *slotCardOp) insert() {
	o.state = slotCard
	o.step = o.f.newStep(tcos.SlotPKCS11, i18n.PadInsertCard, i18n.WizWaitInsert, i18n.WizSlotUserHint)
}

func (o *slotCardOp) enrolled(s tcos.Serial) bool {
	for _, c := range o.cards {
		if tcos.Serial(c.Serial) == s {
			return true
		}
	}
	return false
}

func (o *slotCardOp) update(msg tea.Msg) tea.Cmd {
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
	switch o.state {
	case slotListing:
		if m, ok := msg.(slotListMsg); ok && m.id == o.id {
			o.listedCards(m)
		}
		return nil
	case slotLabel:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			return o.labelKey(k)
		}
		return o.f.env.discardIfResult(msg)
	case slotConfirm:
		if k, ok := msg.(tea.KeyPressMsg); ok {
			return o.confirm(k)
		}
		return o.f.env.discardIfResult(msg)
	case slotApplying:
		if m, ok := msg.(slotAppliedMsg); ok && m.id == o.id {
			o.applied(m)
		}
		return nil
	case slotDone:
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
		o.f.pinEvent(ev, s, pinPKCS11)
	case evTyped:
		return s.send()
	case evWorked:
		return o.worked()
	case evEnded:
		if ev.end == endFailed && ev.pinOK {
			o.failed(ev.prob)
			return cmd
		}
		o.f.stepEnded(ev, tcos.SlotPKCS11, o.hint(), holdsNothing)
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

func (o *slotCardOp) listedCards(m slotListMsg) {
	t := o.f.t
	if m.err != nil {
		o.state = slotDone
		n := o.f.env.problemNotice(classifyHSM(m.err), tcos.SlotPKCS11, t(i18n.WizBackToMenu))
		n.text = sentences(t(i18n.WizSlotCannotList), n.text)
		o.f.finish(n)
		return
	}
	o.cards, o.refused, o.listed = m.recs.Cards, m.recs.Refused, true
	switch {
	case o.op == slotActivate && len(o.cards) == 0:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: t(i18n.WizSlotNoCards{Slot: o.name}), next: t(i18n.WizSlotNoCardsNext)})
		return
	case o.op == slotEnroll && len(o.cards) >= slotuser.MaxCards:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: t(i18n.WizSlotFull{Slot: o.name, Max: slotuser.MaxCards}), next: t(i18n.WizSlotFullNext)})
		return
	case o.op == slotEnroll:
		o.state = slotLabel
		o.label = newLabelInput(hsm.MaxCardLabel)
		o.f.note = notice{level: lvInfo, text: t(i18n.WizSlotHas{Slot: o.name, Cards: len(o.cards), Max: slotuser.MaxCards}),
			next: t(i18n.WizSlotLabelNext{Max: hsm.MaxCardLabel})}
		return
	}
	o.insert()
	o.f.note = o.introNotice()
}

// labelKey edits the label of the card to enroll.
func (o *slotCardOp) labelKey(k tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(k, keys.OK):
		label := strings.TrimSpace(o.label.Value())
		if hsm.CheckCardLabel(label) != nil {
			o.f.note = notice{level: lvWarn, text: o.f.t(i18n.WizCardLabelRule{Max: hsm.MaxCardLabel}), next: o.f.t(i18n.WizTypeLabelAgain)}
			return nil
		}
		o.label.SetValue(label)
		o.insert()
		o.f.note = o.introNotice()
		return nil
	case key.Matches(k, keys.Cancel):
		if o.f.askLeave(o.status()) == frameLeave {
			return o.end()
		}
		return nil
	}
	var cmd tea.Cmd
	o.label, cmd = o.label.Update(k)
	return cmd
}

func (o *slotCardOp) introNotice() notice {
	if o.op == slotEnroll {
		return notice{level: lvInfo, text: o.f.t(i18n.WizEnrollIntro{Slot: o.name, Cards: len(o.cards), Max: slotuser.MaxCards}), next: o.hint()}
	}
	return notice{level: lvInfo, text: o.f.t(i18n.WizActivateIntro{Count: len(o.cards), Slot: o.name}), next: o.hint()}
}

func (o *slotCardOp) identified() tea.Cmd {
	s := o.step
	c := s.card
	refuse := func(why said, out audit.Outcome) tea.Cmd {
		s.record(audit.StepIdentify, out, why.trail, audit.Tries(c.status.TriesLeft), o.f.env.now())
		cmd := s.end()
		o.insert()
		o.f.note = notice{level: lvError, text: why.screen, next: sentences(o.f.t(i18n.WizTakeThisCardOut), o.hint())}
		return cmd
	}
	ser := c.serial.String()
	switch {
	case o.op == slotEnroll && o.enrolled(c.serial):
		return refuse(o.f.env.say(i18n.WizAlreadyEnrolled{Serial: ser}), audit.OutcomeRefused)
	case o.op == slotActivate && !o.enrolled(c.serial):
		var why i18n.Message = i18n.WizNotUsableRecord{Serial: ser}
		for _, r := range o.refused {
			if tcos.Serial(r.Serial) == c.serial {
				why = i18n.WizRefusedRecord{Serial: ser, Reason: safetext.Clean(r.Reason.String())}
			}
		}
		return refuse(o.f.env.say(why), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(o.f.env.blocked(c.serial, tcos.SlotPKCS11), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice(pinPKCS11)
	e := o.f.env
	return s.askPIN(verifyEntry, slotWork(o.op, o.slot, e.cfg.PINTimeout, c.onPad, o.label.Value(), e.now))
}

// worked: an enrollment is shown for the security officer to confirm (the
// card's part is done: it is released); an activation is done.
func (o *slotCardOp) worked() tea.Cmd {
	s := o.step
	serial := s.card.serial
	res := s.res
	cmd := s.end()
	if o.op == slotEnroll {
		o.plan = res.plan
		o.state = slotConfirm
		o.f.note = notice{level: lvWarn, text: o.f.t(i18n.WizEnrollConfirm{Serial: serial.String()}), next: o.f.t(i18n.WizEnrollConfirmNext)}
		return cmd
	}
	o.done, o.state = serial, slotDone
	o.f.summary(audit.OutcomeOK, "slot activated", func(sm *audit.Summary) { sm.CardsRead = []string{serial.String()} })
	p := o.f.env.p
	n := notice{level: lvGood, text: o.f.t(i18n.WizSlotActive{Slot: o.name, Serial: serial.String(), Clock: p.ClockMinutes(o.f.env.now().UTC())}),
		next: o.f.t(i18n.WizSlotActiveNext)}
	switch {
	case res.auditErr != nil:
		n.level = lvWarn
		n.text = sentences(n.text, o.f.t(i18n.WizSlotUnchecked))
		n.details = safeDetail(res.auditErr)
	case !res.disc.None():
		n.level = lvWarn
		n.text = sentences(n.text, discrepancyText(p, res.disc))
	}
	o.f.finish(n)
	return cmd
}

// confirm is the security officer's OK or Cancel to the enrollment shown.
func (o *slotCardOp) confirm(k tea.KeyPressMsg) tea.Cmd {
	serial := tcos.Serial(o.plan.Enrolling.Serial)
	switch {
	case key.Matches(k, keys.OK):
		o.state = slotApplying
		o.id = o.f.env.newID()
		return slotApplyCmd(o.f.env.ctx, o.id, o.slot, o.plan)
	case key.Matches(k, keys.Cancel):
		o.plan, o.state = nil, slotDone
		o.f.summary(audit.OutcomeCancelled, "not confirmed", func(sm *audit.Summary) { sm.CardsRead = []string{serial.String()} })
		o.f.finish(notice{level: lvInfo, text: o.f.t(i18n.WizNotEnrolledNothing{Serial: serial.String()}), next: o.f.t(i18n.WizBackToMenu)})
	}
	return nil
}

// applied says what the confirmed enrollment did.
func (o *slotCardOp) applied(m slotAppliedMsg) {
	serial := tcos.Serial(m.plan.Enrolling.Serial)
	o.plan, o.state = nil, slotDone
	cards := func(sm *audit.Summary) { sm.CardsRead = []string{serial.String()} }
	var re *hsm.RecordsError
	switch {
	case errors.As(m.err, &re):
		o.cards = re.Kept
		o.f.summary(audit.OutcomeRefused, "records did not match the slot's own list", cards)
		o.f.finish(o.f.env.recordsNotice(i18n.WizNotEnrolledNothing{Serial: serial.String()}, re))
		return
	case m.err != nil:
		p := classifyHSM(m.err)
		o.f.summary(p.outcome(), "not enrolled", cards)
		n := o.f.env.problemNotice(p, tcos.SlotPKCS11, o.f.t(i18n.WizBackToMenu))
		n.text = sentences(o.f.t(i18n.WizCardNotEnrolled{Serial: serial.String()}), n.text)
		o.f.finish(n)
		return
	}
	o.done = serial
	o.cards = m.res.Cards
	o.f.summary(audit.OutcomeOK, "card enrolled", cards)
	o.f.finish(notice{level: lvGood,
		text: sentences(o.f.t(i18n.WizCardEnrolled{Serial: serial.String(), Slot: o.name, Cards: len(o.cards), Max: slotuser.MaxCards}), removedText(o.f.env.p, m.res.Removed)),
		next: o.f.t(i18n.WizCardEnrolledNext)})
}

// failed explains a failed enrollment or activation after a right PIN; the
// card's step has ended.
func (o *slotCardOp) failed(p problem) {
	serial := o.step.card.serial
	word, was := "not enrolled", i18n.Message(i18n.WizCardNotEnrolled{Serial: serial.String()})
	if o.op == slotActivate {
		word, was = "not activated", i18n.WizCardNotActivated{Serial: serial.String()}
	}
	o.f.event(audit.StepEnd, &serial, p.outcome(), word)
	o.insert()
	n := o.f.env.problemNotice(p, tcos.SlotPKCS11, o.f.t(i18n.WizInsertOrLeave))
	n.text = sentences(o.f.t(was), n.text)
	o.f.note = n
}

func (o *slotCardOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", nil)
	o.f.left = true
	o.plan = nil
	if o.step != nil {
		return o.step.end()
	}
	return nil
}

func (o *slotCardOp) status() actStatus {
	busy := o.state == slotListing || o.state == slotApplying || (o.state == slotCard && o.step.running())
	st := actStatus{done: o.f.left, busy: busy}
	if o.state == slotCard {
		st = o.f.withCountdown(st, o.step)
	}
	return st
}

func (o *slotCardOp) view() panel {
	t, p := o.f.t, o.f.env.p
	var pad [2]string
	var s *cardStep
	switch o.state {
	case slotListing, slotApplying:
		pad = [2]string{t(i18n.PadWait), ""}
	case slotLabel:
		pad = [2]string{t(i18n.PadCardLabel), t(i18n.PadOK)}
	case slotCard:
		s = o.step
		pad = s.pad()
		if s.state == stepInsert {
			pad = [2]string{t(i18n.PadEnrollCard), t(i18n.PadInsertCard)}
			if o.op == slotActivate {
				pad[0] = t(i18n.PadActivateSlot)
			}
		}
	case slotConfirm:
		pad = [2]string{t(i18n.PadEnrollConfirm), t(i18n.PadOKCancel)}
	case slotDone:
		switch {
		case o.done == (tcos.Serial{}):
			pad = [2]string{"", t(i18n.PadOK)}
		case o.op == slotEnroll:
			pad = [2]string{t(i18n.PadCardEnrolled), t(i18n.PadOK)}
		default:
			pad = [2]string{t(i18n.PadSlotActive), t(i18n.PadOK)}
		}
	}
	if fp, ok := o.f.pad(); ok {
		pad = fp
	}
	body := []string{fitWidth(t(i18n.WizSlotName{Slot: o.name}), sideWidth)}
	switch {
	case o.state == slotConfirm:
		body = append(body, planLines(p, o.plan)...)
	case o.listed:
		body = append(body, t(i18n.WizEnrolledOf{Cards: len(o.cards), Max: slotuser.MaxCards}))
		if o.state != slotDone {
			body = append(body, refusedLines(p, i18n.WizRecordsNotUsed, o.refused)...)
		}
	}
	if o.state == slotLabel {
		body = append(body, t(i18n.WizLabelField{Field: o.label.View()}))
	}
	if s != nil && s.card != nil && !s.ended() {
		body = append(body, t(i18n.WizCardTriesLeft{Serial: s.card.serial.String(), Tries: triesLeft(p, s.card.status.TriesLeft)}))
	}
	side := o.f.side(body, s)
	if o.state == slotListing || o.state == slotApplying {
		what := t(i18n.WorkListingSlot)
		if o.state == slotApplying {
			what = t(i18n.WorkRenewing{Count: len(o.plan.Cards)})
		}
		side = append(side[:len(side)-len(o.f.note.lines(p))], wrap(t(i18n.WizWorkingSlot{What: what}), sideWidth))
	}
	return panel{pad: pad, side: side}
}

// slotListOp lists the cards enrolled for the slot and revokes one. It
// needs no card: a lost card must be revocable. The security officer sees
// the cards the slot's new user PIN goes to before the revocation.
type slotListOp struct {
	f       frame
	state   listState
	slot    hsm.UserSlot
	name    string
	id      stepID
	recs    hsm.Records
	cursor  int
	plan    *slotuser.Plan // the revocation to confirm
	listErr bool           // the slot could not list its cards
}

// listState is where the list stands.
type listState int

const (
	listLoading  listState = iota // asking the slot for its records
	listShow                      // the cards, one chosen
	listConfirm                   // revoke the chosen card?
	listRevoking                  // the revocation runs
)

func newSlotList(e *env, slot hsm.UserSlot) (*slotListOp, tea.Cmd) {
	o := &slotListOp{slot: slot, name: safetext.Clean(slot.SlotName())}
	o.f = newFrame(e, e.t(i18n.MenuSlotCards), opRevoke, audit.SlotPKCS11User)
	o.f.closed = true // each revocation is recorded on its own
	return o, o.list()
}

func (o *slotListOp) list() tea.Cmd {
	o.state = listLoading
	o.id = o.f.env.newID()
	return slotListCmd(o.f.env.ctx, o.id, o.slot)
}

func (o *slotListOp) hint() string {
	if len(o.recs.Cards) == 0 {
		return o.f.t(i18n.WizBackToMenu)
	}
	return o.f.t(i18n.WizRevokeHint)
}

func (o *slotListOp) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case slotListMsg:
		if msg.id != o.id {
			return nil
		}
		o.state = listShow
		if msg.err != nil {
			o.recs, o.listErr = hsm.Records{}, true
			n := o.f.env.problemNotice(classifyHSM(msg.err), tcos.SlotPKCS11, o.f.t(i18n.WizEscToMenu))
			n.text = sentences(o.f.t(i18n.WizSlotCannotList), n.text)
			o.f.note = n
			return nil
		}
		o.listErr = false
		o.recs = msg.recs
		o.cursor = min(o.cursor, max(len(o.recs.Cards)-1, 0))
		if o.f.note.text == "" {
			o.f.note = notice{level: lvInfo, next: o.hint()}
		} else {
			o.f.note.next = o.hint()
		}
	case slotAppliedMsg:
		if msg.id != o.id {
			return nil
		}
		serial := tcos.Serial(msg.plan.Revoking.Serial)
		out, detail := audit.OutcomeOK, "card revoked"
		var re *hsm.RecordsError
		switch {
		case errors.As(msg.err, &re):
			out, detail = audit.OutcomeRefused, "records did not match the slot's own list"
			o.f.note = o.f.env.recordsNotice(i18n.WizNotRevokedNothing{Serial: serial.String()}, re)
		case msg.err != nil:
			p := classifyHSM(msg.err)
			out, detail = p.outcome(), "not revoked"
			n := o.f.env.problemNotice(p, tcos.SlotPKCS11, "")
			n.text = sentences(o.f.t(i18n.WizNotRevoked{Serial: serial.String()}), n.text)
			o.f.note = n
		default:
			o.f.note = notice{level: lvGood, text: sentences(o.f.t(i18n.WizRevoked{Serial: serial.String(), Slot: o.name}), removedText(o.f.env.p, msg.res.Removed))}
		}
		// Each revocation is a ceremony of its own: its summary seals the
		// trail as an operation's does.
		e := audit.Event{Time: msg.at, Step: audit.StepSummary, Outcome: out, Detail: detail, Operation: o.f.op, Slot: o.f.slot, CardSerial: serial.String()}
		o.f.sealID, o.f.seal = o.f.env.recordSealed(e), nil
		return o.list()
	case sealedMsg:
		o.f.sealed(msg)
	case tea.KeyPressMsg:
		return o.key(msg)
	}
	return nil
}

func (o *slotListOp) key(k tea.KeyPressMsg) tea.Cmd {
	cards := o.recs.Cards
	switch o.state {
	case listLoading, listRevoking:
		return nil
	case listConfirm:
		switch {
		case key.Matches(k, keys.OK):
			o.state = listRevoking
			o.id = o.f.env.newID()
			return slotApplyCmd(o.f.env.ctx, o.id, o.slot, o.plan)
		case key.Matches(k, keys.Cancel):
			o.state, o.plan = listShow, nil
			o.f.note = notice{level: lvInfo, text: o.f.t(i18n.WizNothingRevoked), next: o.hint()}
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Up):
		if len(cards) > 0 {
			o.cursor = (o.cursor + len(cards) - 1) % len(cards)
		}
	case key.Matches(k, keys.Down, keys.Next):
		if len(cards) > 0 {
			o.cursor = (o.cursor + 1) % len(cards)
		}
	case key.Matches(k, keys.Revoke):
		if len(cards) == 0 {
			o.f.left = true
			return nil
		}
		serial := tcos.Serial(cards[o.cursor].Serial)
		plan, err := slotuser.PlanRevoke(o.recs, serial)
		if err != nil {
			n := o.f.env.problemNotice(classify(err), tcos.SlotPKCS11, o.hint())
			n.text = sentences(o.f.t(i18n.WizCannotRevoke{Serial: serial.String()}), n.text)
			o.f.note = n
			return nil
		}
		o.plan, o.state = plan, listConfirm
		o.f.note = notice{level: lvWarn, text: o.f.t(i18n.WizRevokeConfirm{Serial: serial.String(), Slot: o.name}), next: o.f.t(i18n.WizRevokeConfirmNext)}
	case key.Matches(k, keys.Cancel):
		o.f.left = true
	}
	return nil
}

func (o *slotListOp) end() tea.Cmd { o.f.left = true; return nil }

func (o *slotListOp) status() actStatus {
	return actStatus{done: o.f.left, busy: o.state == listLoading || o.state == listRevoking}
}

func (o *slotListOp) view() panel {
	t, p := o.f.t, o.f.env.p
	cards := o.recs.Cards
	pad := [2]string{t(i18n.PadUserCards), t(i18n.PadEnrolledCount{Count: len(cards)})}
	side := []string{styleTitle.Render(fitWidth(o.f.title, sideWidth)), fitWidth(t(i18n.WizSlotName{Slot: o.name}), sideWidth), ""}
	switch {
	case o.state == listLoading || o.state == listRevoking:
		what := t(i18n.WorkListingSlot)
		if o.state == listRevoking {
			what = t(i18n.WorkRevoking{Count: len(o.plan.Cards)})
		}
		side = append(side, wrap(t(i18n.WizWorkingSlot{What: what}), sideWidth))
		return panel{pad: [2]string{t(i18n.PadWait), ""}, side: side}
	case o.state == listConfirm:
		pad = [2]string{t(i18n.PadRevokeConfirm), t(i18n.PadOKCancel)}
		side = append(side, planLines(p, o.plan)...)
	case o.listErr:
		pad = [2]string{t(i18n.PadUserCards), t(i18n.PadUnknown)}
	case len(cards) == 0:
		side = append(side, t(i18n.WizNoUserCard))
		side = append(side, refusedLines(p, i18n.WizRecordsNotUsed, o.recs.Refused)...)
	default:
		side = append(side, t(i18n.WizUserCardsOf{Cards: len(cards), Max: slotuser.MaxCards}))
		for i, c := range cards {
			cur := "  "
			if i == o.cursor {
				cur = "> "
			}
			side = append(side, cardLine(p, cur, c))
		}
		side = append(side, refusedLines(p, i18n.WizRecordsNotUsed, o.recs.Refused)...)
	}
	side = append(side, "")
	side = append(side, o.f.note.lines(p)...)
	if o.f.seal != nil && o.state == listShow {
		side = append(side, styleTitle.Render(wrap(t(i18n.WizSeal{Line: o.f.seal.Line, Hash: o.f.seal.Short()}), sideWidth)))
	}
	return panel{pad: pad, side: side}
}
