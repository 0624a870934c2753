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
func cardLine(mark string, c hsm.UserCard) string {
	label := c.Label
	if label == "" {
		label = "(no label)"
	}
	return fmt.Sprintf("%s%s %s %s", mark, tcos.Serial(c.Serial), fitWidth(safetext.Clean(label), hsm.MaxCardLabel), c.Enrolled.UTC().Format("2006-01-02"))
}

// refusedLines name records hsmcards does not use, under a heading.
func refusedLines(head string, refused []hsm.RefusedRecord) []string {
	if len(refused) == 0 {
		return nil
	}
	out := []string{styleLevel[lvWarn].Render(wrap(head, sideWidth))}
	for i, r := range refused {
		if i == maxListed {
			out = append(out, fmt.Sprintf("  …and %d more", len(refused)-maxListed))
			break
		}
		out = append(out, wrap("  "+safetext.Clean(r.String()), sideWidth))
	}
	return out
}

// planLines show the cards a change wraps the slot's new user PIN to.
func planLines(plan *slotuser.Plan) []string {
	var out []string
	switch len(plan.Cards) {
	case 0:
		out = append(out, wrap("The slot's new user PIN goes to no card: no card can activate the slot afterwards.", sideWidth))
	case 1:
		out = append(out, "The slot's new user PIN goes to this one card:")
	default:
		out = append(out, fmt.Sprintf("The slot's new user PIN goes to these %d cards:", len(plan.Cards)))
	}
	for _, c := range plan.Cards {
		mark := "  "
		if plan.Enrolling != nil && c.Serial == plan.Enrolling.Serial {
			mark = "+ "
		}
		out = append(out, cardLine(mark, c))
	}
	return append(out, refusedLines("Records hsmcards did not write, removed by this change:", plan.Refused)...)
}

// listedRecords names records, the first maxListed of them.
func listedRecords(refused []hsm.RefusedRecord, missing []hsm.UserCard, missingWhy string) []string {
	var parts []string
	for i, r := range refused {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(refused)-maxListed))
			break
		}
		parts = append(parts, safetext.Clean(r.String()))
	}
	for _, c := range missing {
		parts = append(parts, safetext.Clean(hsm.CardName(c))+missingWhy)
	}
	return parts
}

// recordsNotice explains a change the slot did not make because its
// records did not match its own list of cards.
func recordsNotice(what string, re *hsm.RecordsError) notice {
	why := listedRecords(re.Refused, re.Missing, ": its record had been deleted")
	text := "Nothing was changed: " + what + ". The records shown did not match the slot's own list of cards"
	if re.ListMissing {
		text = "Nothing was changed: " + what + ". The slot has no list of its own cards to vouch for the records shown"
	}
	if len(why) > 0 {
		text += " (" + strings.Join(why, "; ") + ")"
	}
	var kept []string
	for _, c := range re.Kept {
		kept = append(kept, tcos.Serial(c.Serial).String())
	}
	next := "The slot's user PIN was renewed for its own cards only, unchanged"
	if len(kept) > 0 {
		next += ": " + strings.Join(kept, ", ")
	}
	return notice{level: lvError, text: text + ".", next: next + ". Look at the list again and start once more."}
}

// removedText names the records a change removed, for a note.
func removedText(removed []hsm.RefusedRecord) string {
	if len(removed) == 0 {
		return ""
	}
	return " Removed, as hsmcards had not written them: " + strings.Join(listedRecords(removed, nil, ""), "; ") + "."
}

// discrepancyText says what the slot's own list found wrong with the other
// records, for a note.
func discrepancyText(d hsm.Discrepancies) string {
	fix := "removes those records"
	if len(d.Missing) > 0 {
		fix = "writes the deleted ones again"
		if len(d.Refused) > 0 {
			fix = "removes those records and writes the deleted ones again"
		}
	}
	return "The slot's own list of cards does not vouch for every record (" + strings.Join(listedRecords(d.Refused, d.Missing, ": its record was deleted"), "; ") +
		"); the security officer's next enrollment or revocation " + fix + "."
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
	title, aop := "Enroll a PKCS#11 slot user card", audit.OpEnroll
	if op == slotActivate {
		title, aop = "Activate the PKCS#11 slot", audit.OpActivate
	}
	o := &slotCardOp{op: op, slot: slot, name: safetext.Clean(slot.SlotName())}
	o.f = newFrame(e, title, aop, audit.SlotPKCS11User)
	o.id = e.newID()
	return o, slotListCmd(e.ctx, o.id, slot)
}

func (o *slotCardOp) hint() string { return "Insert the user card and press OK." }

func (o *slotCardOp) insert() {
	o.state = slotCard
	o.step = o.f.newStep(tcos.SlotPKCS11, "Insert card", "insert the card and press OK", o.hint())
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
		if o.step != nil {
			o.step.resume()
		}
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
		o.f.pinEvent(ev, s, "the PKCS#11 slot user PIN of this card")
	case evTyped:
		return s.send()
	case evWorked:
		return o.worked()
	case evEnded:
		if ev.end == endFailed && ev.pinOK {
			o.failed(ev.prob)
			return cmd
		}
		o.f.stepEnded(ev, tcos.SlotPKCS11, o.hint(), "")
		if o.f.mode == frameOn {
			o.insert()
		}
	}
	return cmd
}

func (o *slotCardOp) listedCards(m slotListMsg) {
	if m.err != nil {
		o.state = slotDone
		n := problemNotice(classifyHSM(m.err), tcos.SlotPKCS11, "Press OK for the main menu.")
		n.text = "The slot cannot say which cards are enrolled. " + n.text
		o.f.finish(n)
		return
	}
	o.cards, o.refused, o.listed = m.recs.Cards, m.recs.Refused, true
	switch {
	case o.op == slotActivate && len(o.cards) == 0:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: "No user card is enrolled for " + o.name + " yet, or the token's records of them were deleted.",
			next: "Enroll a card first (or, if cards were enrolled, have the security officer enroll one: the change restores the records). Press OK for the main menu."})
		return
	case o.op == slotEnroll && len(o.cards) >= slotuser.MaxCards:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: fmt.Sprintf("%s already has %d user cards, the most it can have.", o.name, slotuser.MaxCards),
			next: "Revoke a card first (PKCS#11 slot user cards in the menu). Press OK for the main menu."})
		return
	case o.op == slotEnroll:
		o.state = slotLabel
		o.label = newLabelInput(hsm.MaxCardLabel)
		o.f.note = notice{level: lvInfo, text: fmt.Sprintf("%s has %d of at most %d user cards.", o.name, len(o.cards), slotuser.MaxCards),
			next: fmt.Sprintf("Type a label for the new card (its holder's name, up to %d characters; it may stay empty) and press OK. Esc leaves.", hsm.MaxCardLabel)}
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
			o.f.note = notice{level: lvWarn, text: fmt.Sprintf("A card label has up to %d printable characters.", hsm.MaxCardLabel), next: "Type the label again and press OK."}
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
		return notice{level: lvInfo, text: fmt.Sprintf("%s has %d of at most %d user cards. The card makes a key pair of its own (or uses the one it has); before anything changes you see every card the slot's new user PIN will be wrapped to.",
			o.name, len(o.cards), slotuser.MaxCards), next: o.hint()}
	}
	return notice{level: lvInfo, text: fmt.Sprintf("Any one of the %s activates %s.", enrolledCards(len(o.cards)), o.name), next: o.hint()}
}

// enrolledCards names how many cards are enrolled, in words.
func enrolledCards(n int) string {
	if n == 1 {
		return "1 enrolled card"
	}
	return fmt.Sprintf("%d enrolled cards", n)
}

func (o *slotCardOp) identified() tea.Cmd {
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
	case o.op == slotEnroll && o.enrolled(c.serial):
		return refuse(fmt.Sprintf("Card %s is already enrolled for this slot. To enroll it anew, revoke it first.", c.serial), audit.OutcomeRefused)
	case o.op == slotActivate && !o.enrolled(c.serial):
		why := "it is not enrolled, or its record was deleted from the token"
		for _, r := range o.refused {
			if tcos.Serial(r.Serial) == c.serial {
				why = "its record is refused (" + r.Reason.String() + ")"
			}
		}
		return refuse(fmt.Sprintf("The slot holds no usable record for card %s: %s. It cannot activate the slot. No PIN was sent to it.", c.serial, why), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(blockedText(c.serial, tcos.SlotPKCS11), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice("the PKCS#11 slot user PIN of this card")
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
		o.f.note = notice{level: lvWarn, text: fmt.Sprintf("Enroll card %s? Check every card above: one you do not know was not enrolled by you.", serial),
			next: "Press OK to renew the slot's user PIN and wrap it to these cards, or Cancel to change nothing."}
		return cmd
	}
	o.done, o.state = serial, slotDone
	o.f.summary(audit.OutcomeOK, "slot activated", func(sm *audit.Summary) { sm.CardsRead = []string{serial.String()} })
	n := notice{level: lvGood, text: fmt.Sprintf("%s is ACTIVE: its user is logged in, activated by card %s at %s.", o.name, serial, o.f.env.now().UTC().Format("15:04 MST")),
		next: "Take the card out and keep it safe. Press OK for the main menu."}
	switch {
	case res.auditErr != nil:
		n.level = lvWarn
		n.text += " Its records could not be checked against its own list of cards."
		n.details = safeDetail(res.auditErr)
	case !res.disc.None():
		n.level = lvWarn
		n.text += " " + discrepancyText(res.disc)
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
		o.f.finish(notice{level: lvInfo, text: fmt.Sprintf("Nothing was changed: card %s was not enrolled.", serial), next: "Press OK for the main menu."})
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
		o.f.finish(recordsNotice(fmt.Sprintf("card %s was not enrolled", serial), re))
		return
	case m.err != nil:
		p := classifyHSM(m.err)
		o.f.summary(p.outcome(), "not enrolled", cards)
		n := problemNotice(p, tcos.SlotPKCS11, "Press OK for the main menu.")
		n.text = fmt.Sprintf("Card %s was not enrolled. %s", serial, n.text)
		o.f.finish(n)
		return
	}
	o.done = serial
	o.cards = m.res.Cards
	o.f.summary(audit.OutcomeOK, "card enrolled", cards)
	o.f.finish(notice{level: lvGood, text: fmt.Sprintf("Card %s is enrolled for %s (%d of at most %d user cards). The slot has a new user PIN, wrapped to each enrolled card; nobody saw it.",
		serial, o.name, len(o.cards), slotuser.MaxCards) + removedText(m.res.Removed),
		next: "The card's PKCS#11 slot user PIN protects the slot from now on: change it from the factory PIN. Press OK for the main menu."})
}

// failed explains a failed enrollment or activation after a right PIN; the
// card's step has ended.
func (o *slotCardOp) failed(p problem) {
	serial := o.step.card.serial
	word := "not enrolled"
	if o.op == slotActivate {
		word = "not activated"
	}
	o.f.event(audit.StepEnd, &serial, p.outcome(), word)
	o.insert()
	n := problemNotice(p, tcos.SlotPKCS11, "Insert a card and press OK, or Cancel to leave.")
	n.text = fmt.Sprintf("Card %s was %s. %s", serial, word, n.text)
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
	var pad [2]string
	var s *cardStep
	switch o.state {
	case slotListing, slotApplying:
		pad = [2]string{"Please wait...", ""}
	case slotLabel:
		pad = [2]string{"Card label", "press OK"}
	case slotCard:
		s = o.step
		pad = s.pad()
		if s.state == stepInsert {
			pad = [2]string{"Enroll User Card", "Insert card"}
			if o.op == slotActivate {
				pad[0] = "Activate Slot"
			}
		}
	case slotConfirm:
		pad = [2]string{"Enroll card?", "press OK/Cancel"}
	case slotDone:
		switch {
		case o.done == (tcos.Serial{}):
			pad = [2]string{"", "press OK"}
		case o.op == slotEnroll:
			pad = [2]string{"Card enrolled", "press OK"}
		default:
			pad = [2]string{"Slot active", "press OK"}
		}
	}
	if p, ok := o.f.pad(); ok {
		pad = p
	}
	body := []string{fitWidth("Slot: "+o.name, sideWidth)}
	switch {
	case o.state == slotConfirm:
		body = append(body, planLines(o.plan)...)
	case o.listed:
		body = append(body, fmt.Sprintf("Enrolled user cards: %d of %d", len(o.cards), slotuser.MaxCards))
		if o.state != slotDone {
			body = append(body, refusedLines("Records hsmcards will not use:", o.refused)...)
		}
	}
	if o.state == slotLabel {
		body = append(body, "Label: "+o.label.View())
	}
	if s != nil && s.card != nil && !s.ended() {
		body = append(body, fmt.Sprintf("Card %s: %s", s.card.serial, triesLeft(s.card.status.TriesLeft)))
	}
	side := o.f.side(body, s)
	if o.state == slotListing || o.state == slotApplying {
		what := "asking the slot which cards are enrolled"
		if o.state == slotApplying {
			what = fmt.Sprintf("renewing the slot's user PIN and wrapping it to %d cards", len(o.plan.Cards))
		}
		side = append(side[:len(side)-len(o.f.note.lines())], wrap("Working: "+what+"…", sideWidth))
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
	o.f = newFrame(e, "PKCS#11 slot user cards", opRevoke, audit.SlotPKCS11User)
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
		return "Press OK for the main menu."
	}
	return "↑/↓ choose a card · Enter revoke it · Esc main menu"
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
			n := problemNotice(classifyHSM(msg.err), tcos.SlotPKCS11, "Press Esc for the main menu.")
			n.text = "The slot cannot say which cards are enrolled. " + n.text
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
			o.f.note = recordsNotice(fmt.Sprintf("card %s was not revoked", serial), re)
		case msg.err != nil:
			p := classifyHSM(msg.err)
			out, detail = p.outcome(), "not revoked"
			n := problemNotice(p, tcos.SlotPKCS11, "")
			n.text = fmt.Sprintf("Card %s was not revoked. %s", serial, n.text)
			o.f.note = n
		default:
			o.f.note = notice{level: lvGood, text: fmt.Sprintf("Card %s is revoked: it can no longer activate %s.", serial, o.name) + removedText(msg.res.Removed)}
		}
		o.f.record(audit.Event{Time: msg.at, Step: audit.StepSummary, Outcome: out, Detail: detail}, &serial)
		return o.list()
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
			o.f.note = notice{level: lvInfo, text: "Nothing was revoked.", next: o.hint()}
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
			n := problemNotice(classify(err), tcos.SlotPKCS11, o.hint())
			n.text = fmt.Sprintf("Card %s cannot be revoked. %s", serial, n.text)
			o.f.note = n
			return nil
		}
		o.plan, o.state = plan, listConfirm
		o.f.note = notice{level: lvWarn, text: fmt.Sprintf("Revoke card %s? It can no longer activate %s; its old PIN stops working. Check every card above: one you do not know was not enrolled by you.",
			serial, o.name),
			next: "Press OK to revoke it, or Cancel to keep it."}
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
	cards := o.recs.Cards
	pad := [2]string{"User cards", fmt.Sprintf("%d enrolled", len(cards))}
	side := []string{styleTitle.Render(fitWidth("PKCS#11 slot user cards", sideWidth)), fitWidth("Slot: "+o.name, sideWidth), ""}
	switch {
	case o.state == listLoading || o.state == listRevoking:
		what := "asking the slot which cards are enrolled"
		if o.state == listRevoking {
			what = fmt.Sprintf("revoking the card: renewing the slot's user PIN and wrapping it to %d cards", len(o.plan.Cards))
		}
		side = append(side, wrap("Working: "+what+"…", sideWidth))
		return panel{pad: [2]string{"Please wait...", ""}, side: side}
	case o.state == listConfirm:
		pad = [2]string{"Revoke card?", "press OK/Cancel"}
		side = append(side, planLines(o.plan)...)
	case o.listErr:
		pad = [2]string{"User cards", "unknown"}
	case len(cards) == 0:
		side = append(side, "No user card is enrolled.")
		side = append(side, refusedLines("Records hsmcards will not use:", o.recs.Refused)...)
	default:
		side = append(side, fmt.Sprintf("%d of at most %d user cards:", len(cards), slotuser.MaxCards))
		for i, c := range cards {
			cur := "  "
			if i == o.cursor {
				cur = "> "
			}
			side = append(side, cardLine(cur, c))
		}
		side = append(side, refusedLines("Records hsmcards will not use:", o.recs.Refused)...)
	}
	side = append(side, "")
	side = append(side, o.f.note.lines()...)
	return panel{pad: pad, side: side}
}
