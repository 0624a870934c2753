package wizard

// The PKCS#11 slot user cards: enroll a card for the slot, activate the slot
// with an enrolled card, list and revoke the enrolled cards. The slot's user
// PIN is never on screen, in a notice, in the audit trail or in the APDU
// log: the wizard only ever sees card serials.

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// opRevoke is the audit operation of revoking a slot user card.
const opRevoke audit.Operation = "revoke"

// slotCardOp enrolls a card for the slot or activates the slot with one.
type slotCardOp struct {
	f      frame
	state  slotCardState
	op     slotOp
	slot   hsm.UserSlot
	name   string // the slot's name, cleaned: it comes from the token
	listID stepID
	cards  []hsm.UserCard // enrolled, as listed when the operation started
	listed bool
	step   *cardStep
	done   tcos.Serial
}

// slotCardState is where an enrollment or activation stands.
type slotCardState int

const (
	slotListing slotCardState = iota // asking the slot which cards are enrolled
	slotCard                         // the card's step: insert, PIN, the operation
	slotDone                         // the result
)

// newSlotCard starts enrolling or activating; the slot's list comes first.
func newSlotCard(e *env, op slotOp, slot hsm.UserSlot) (*slotCardOp, tea.Cmd) {
	title, aop := "Enroll a PKCS#11 slot user card", audit.OpEnroll
	if op == slotActivate {
		title, aop = "Activate the PKCS#11 slot", audit.OpActivate
	}
	o := &slotCardOp{op: op, slot: slot, name: safetext.Clean(slot.SlotName())}
	o.f = newFrame(e, title, aop, audit.SlotPKCS11User)
	o.listID = e.newID()
	return o, slotListCmd(e.ctx, o.listID, slot)
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
		o.step.resume()
		return nil
	case frameLeave:
		return o.end()
	}
	switch o.state {
	case slotListing:
		if m, ok := msg.(slotListMsg); ok && m.id == o.listID {
			o.listedCards(m)
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
		return o.succeeded()
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
		p := classifyHSM(m.err)
		n := problemNotice(p, tcos.SlotPKCS11, "Press OK for the main menu.")
		n.text = "The slot cannot say which cards are enrolled. " + n.text
		o.f.finish(n)
		return
	}
	o.cards, o.listed = m.cards, true
	switch {
	case o.op == slotActivate && len(o.cards) == 0:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: "No user card is enrolled for " + o.name + " yet.", next: "Enroll a card first. Press OK for the main menu."})
		return
	case o.op == slotEnroll && len(o.cards) >= slotuser.MaxCards:
		o.state = slotDone
		o.f.finish(notice{level: lvWarn, text: fmt.Sprintf("%s already has %d user cards, the most it can have.", o.name, slotuser.MaxCards),
			next: "Revoke a card first (PKCS#11 slot user cards in the menu). Press OK for the main menu."})
		return
	}
	o.insert()
	if o.op == slotEnroll {
		o.f.note = notice{level: lvInfo, text: fmt.Sprintf("%s has %d of at most %d user cards. The card makes a key pair of its own (or uses the one it has); the slot's new user PIN is wrapped to it and to every enrolled card.",
			o.name, len(o.cards), slotuser.MaxCards), next: o.hint()}
		return
	}
	o.f.note = notice{level: lvInfo, text: fmt.Sprintf("Any one of the %s activates %s.", enrolledCards(len(o.cards)), o.name), next: o.hint()}
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
		return refuse(fmt.Sprintf("Card %s is not enrolled for this slot; it cannot activate it. No PIN was sent to it.", c.serial), audit.OutcomeRefused)
	case c.status.Blocked:
		return refuse(blockedText(c.serial, tcos.SlotPKCS11), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), o.f.env.now())
	o.f.note = s.pinNotice("the PKCS#11 slot user PIN of this card")
	return s.askPIN(verifyEntry, slotWork(o.op, o.slot, o.f.env.cfg.PINTimeout, c.onPad, o.f.env.now))
}

func (o *slotCardOp) succeeded() tea.Cmd {
	s := o.step
	serial := s.card.serial
	cmd := s.end()
	o.done = serial
	o.state = slotDone
	word := "slot activated"
	if o.op == slotEnroll {
		word = "card enrolled"
		o.cards = append(o.cards, hsm.UserCard{Serial: [10]byte(serial)}) // for the count on screen
	}
	o.f.summary(audit.OutcomeOK, word, func(sm *audit.Summary) { sm.CardsRead = []string{serial.String()} })
	if o.op == slotEnroll {
		o.f.finish(notice{level: lvGood, text: fmt.Sprintf("Card %s is enrolled for %s (%d of at most %d user cards). The slot has a new user PIN, wrapped to each enrolled card; nobody saw it.",
			serial, o.name, len(o.cards), slotuser.MaxCards),
			next: "The card's PKCS#11 slot user PIN protects the slot from now on: change it from the factory PIN. Press OK for the main menu."})
		return cmd
	}
	o.f.finish(notice{level: lvGood, text: fmt.Sprintf("%s is ACTIVE: its user is logged in, activated by card %s at %s.", o.name, serial, o.f.env.now().UTC().Format("15:04 MST")),
		next: "Take the card out and keep it safe. Press OK for the main menu."})
	return cmd
}

// failed explains a failed enrollment or activation after a right PIN; the
// card's step has ended.
func (o *slotCardOp) failed(p problem) {
	serial := o.step.card.serial
	word := "not enrolled"
	if o.op == slotActivate {
		word = "not activated"
	}
	o.f.event(audit.StepSummary, &serial, p.outcome(), word)
	next := "Insert a card and press OK, or Cancel to leave."
	o.insert()
	if p.cause == causeTokenWrongPIN && o.op == slotActivate {
		o.f.note = notice{level: lvError, text: fmt.Sprintf("The slot refused the user PIN that card %s holds: the slot's PIN was changed without this card (its enrollment is stale).", serial),
			next: "Revoke the card and enroll it again. " + next}
		return
	}
	n := problemNotice(p, tcos.SlotPKCS11, next)
	n.text = fmt.Sprintf("Card %s was %s. %s", serial, word, n.text)
	o.f.note = n
}

func (o *slotCardOp) end() tea.Cmd {
	o.f.summary(audit.OutcomeCancelled, "left by the operator", nil)
	o.f.left = true
	if o.step != nil {
		return o.step.end()
	}
	return nil
}

func (o *slotCardOp) status() actStatus {
	busy := o.state == slotListing || (o.state == slotCard && o.step.running())
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
	case slotListing:
		pad = [2]string{"Please wait...", ""}
	case slotCard:
		s = o.step
		pad = s.pad()
		if s.state == stepInsert {
			pad = [2]string{"Enroll User Card", "Insert card"}
			if o.op == slotActivate {
				pad[0] = "Activate Slot"
			}
		}
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
	if o.listed {
		body = append(body, fmt.Sprintf("Enrolled user cards: %d of %d", len(o.cards), slotuser.MaxCards))
	}
	if s != nil && s.card != nil && !s.ended() {
		body = append(body, fmt.Sprintf("Card %s: %s", s.card.serial, triesLeft(s.card.status.TriesLeft)))
	}
	side := o.f.side(body, s)
	if o.state == slotListing {
		side = append(side[:len(side)-len(o.f.note.lines())], wrap("Working: asking the slot which cards are enrolled…", sideWidth))
	}
	return panel{pad: pad, side: side}
}

// slotListOp lists the cards enrolled for the slot and revokes one. It
// needs no card: a lost card must be revocable.
type slotListOp struct {
	f       frame
	state   listState
	slot    hsm.UserSlot
	name    string
	id      stepID
	cards   []hsm.UserCard
	cursor  int
	listErr bool // the slot could not list its cards
}

// listState is where the list stands.
type listState int

const (
	listLoading  listState = iota // asking the slot which cards are enrolled
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
	if len(o.cards) == 0 {
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
			o.cards, o.listErr = nil, true
			n := problemNotice(classifyHSM(msg.err), tcos.SlotPKCS11, "Press Esc for the main menu.")
			n.text = "The slot cannot say which cards are enrolled. " + n.text
			o.f.note = n
			return nil
		}
		o.listErr = false
		o.cards = msg.cards
		o.cursor = min(o.cursor, max(len(o.cards)-1, 0))
		if o.f.note.text == "" {
			o.f.note = notice{level: lvInfo, next: o.hint()}
		} else {
			o.f.note.next = o.hint()
		}
	case slotRevokedMsg:
		if msg.id != o.id {
			return nil
		}
		out, detail := audit.OutcomeOK, "card revoked"
		if msg.err != nil {
			p := classifyHSM(msg.err)
			out, detail = p.outcome(), "not revoked"
			n := problemNotice(p, tcos.SlotPKCS11, "")
			n.text = fmt.Sprintf("Card %s was not revoked. %s", msg.serial, n.text)
			o.f.note = n
		} else {
			o.f.note = notice{level: lvGood, text: fmt.Sprintf("Card %s is revoked: it can no longer activate %s.", msg.serial, o.name)}
		}
		o.f.record(audit.Event{Time: msg.at, Step: audit.StepSummary, Outcome: out, Detail: detail}, &msg.serial)
		return o.list()
	case tea.KeyPressMsg:
		return o.key(msg)
	}
	return nil
}

func (o *slotListOp) key(k tea.KeyPressMsg) tea.Cmd {
	switch o.state {
	case listLoading, listRevoking:
		return nil
	case listConfirm:
		switch {
		case key.Matches(k, keys.OK):
			o.state = listRevoking
			o.id = o.f.env.newID()
			e := o.f.env
			return slotRevokeCmd(e.ctx, o.id, o.slot, tcos.Serial(o.cards[o.cursor].Serial), e.now)
		case key.Matches(k, keys.Cancel):
			o.state = listShow
			o.f.note = notice{level: lvInfo, text: "Nothing was revoked.", next: o.hint()}
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Up):
		if len(o.cards) > 0 {
			o.cursor = (o.cursor + len(o.cards) - 1) % len(o.cards)
		}
	case key.Matches(k, keys.Down, keys.Next):
		if len(o.cards) > 0 {
			o.cursor = (o.cursor + 1) % len(o.cards)
		}
	case key.Matches(k, keys.Revoke):
		if len(o.cards) == 0 {
			o.f.left = true
			return nil
		}
		o.state = listConfirm
		o.f.note = notice{level: lvWarn, text: revokeQuestion(tcos.Serial(o.cards[o.cursor].Serial), o.name, len(o.cards)-1),
			next: "Press OK to revoke it, or Cancel to keep it."}
	case key.Matches(k, keys.Cancel):
		o.f.left = true
	}
	return nil
}

// revokeQuestion asks whether to revoke card serial of slot, which has
// others enrolled cards besides it: one sentence per case, so that each
// reads whole.
func revokeQuestion(serial tcos.Serial, slot string, others int) string {
	switch others {
	case 0:
		return fmt.Sprintf("Revoke card %s? It can no longer activate %s. No other card is enrolled: the slot gets a new user PIN that no card holds, and the revoked card's old PIN stops working.", serial, slot)
	case 1:
		return fmt.Sprintf("Revoke card %s? It can no longer activate %s. The slot gets a new user PIN, wrapped to the other enrolled card; the revoked card's old PIN stops working.", serial, slot)
	}
	return fmt.Sprintf("Revoke card %s? It can no longer activate %s. The slot gets a new user PIN, wrapped to the %d other enrolled cards; the revoked card's old PIN stops working.", serial, slot, others)
}

func (o *slotListOp) end() tea.Cmd { o.f.left = true; return nil }

func (o *slotListOp) status() actStatus {
	return actStatus{done: o.f.left, busy: o.state == listLoading || o.state == listRevoking}
}

func (o *slotListOp) view() panel {
	pad := [2]string{"User cards", fmt.Sprintf("%d enrolled", len(o.cards))}
	side := []string{styleTitle.Render(fitWidth("PKCS#11 slot user cards", sideWidth)), fitWidth("Slot: "+o.name, sideWidth), ""}
	switch {
	case o.state == listLoading || o.state == listRevoking:
		what := "asking the slot which cards are enrolled"
		if o.state == listRevoking {
			what = "revoking the card"
		}
		side = append(side, wrap("Working: "+what+"…", sideWidth))
		return panel{pad: [2]string{"Please wait...", ""}, side: side}
	case o.state == listConfirm:
		pad = [2]string{"Revoke card?", "press OK/Cancel"}
	case o.listErr:
		pad = [2]string{"User cards", "unknown"}
	case len(o.cards) == 0:
		side = append(side, "No user card is enrolled.")
	default:
		side = append(side, fmt.Sprintf("%d of at most %d user cards:", len(o.cards), slotuser.MaxCards))
		for i, c := range o.cards {
			cur := "  "
			if i == o.cursor {
				cur = "> "
			}
			side = append(side, fmt.Sprintf("%scard %s, enrolled %s", cur, tcos.Serial(c.Serial), c.Enrolled.UTC().Format("2006-01-02 15:04 MST")))
		}
	}
	side = append(side, "")
	side = append(side, o.f.note.lines()...)
	return panel{pad: pad, side: side}
}
