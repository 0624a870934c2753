package wizard

// The PKCS#11 slot user cards (issue 5): enroll a card for the slot, activate
// the slot with an enrolled card, list and revoke the enrolled cards. The
// slot's user PIN is never on screen, in a notice, in the audit trail or in
// the APDU log: the wizard only ever sees card serials.

import (
	"context"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// opRevoke is the audit operation of revoking a slot user card.
const opRevoke audit.Operation = "revoke"

// noSlotTool says that the HSM has no slot for user cards.
func noSlotTool(title string) *infoTool {
	return &infoTool{title: title, pad: "No slot", note: notice{lvWarn,
		"This HSM has no PKCS#11 slot for user cards configured.",
		"Start hsmcards with --pkcs11-user-token LABEL (or slot:N) to choose the token whose user cards are handled. Press OK for the main menu."}}
}

// startSlotCardTool starts enrolling or activating, after listing the slot.
func (m *Model) startSlotCardTool(op slotOp) tea.Cmd {
	title := "Enroll a PKCS#11 slot user card"
	if op == slotActivate {
		title = "Activate the PKCS#11 slot"
	}
	slot, ok := hsm.UserSlotOf(m.cfg.HSM)
	if !ok {
		return m.startTool(noSlotTool(title))
	}
	t := &slotCardTool{op: op, slot: slot}
	t.init(m, t, title)
	t.toolBase.op, t.toolBase.slot = t.auditOp(), audit.SlotPKCS11User
	t.setInsert("Insert card", "insert the card and press OK", "Insert the user card and press OK.")
	t.busy = "asking the slot which cards are enrolled"
	return m.start(t, slotListCmd(slot))
}

// slotCardTool enrolls a card for the slot or activates the slot with one.
type slotCardTool struct {
	toolBase
	op     slotOp
	slot   hsm.UserSlot
	cards  []hsm.UserCard // enrolled, as listed when the tool started
	listed bool
	done   tcos.Serial
}

func (t *slotCardTool) connect() tea.Cmd {
	return connectCmd(t.ctx, t.cfg.Reader, tcos.SlotPKCS11, t.cfg.APDULog, t.cfg.PINTimeout)
}

func (t *slotCardTool) holdsKey() bool      { return false }
func (t *slotCardTool) lossWarning() string { return "" }
func (t *slotCardTool) answer(bool) tea.Cmd { return nil }

func (t *slotCardTool) abandon() tea.Cmd {
	t.clearPIN()
	return t.endCard()
}

func (t *slotCardTool) auditOp() audit.Operation {
	if t.op == slotEnroll {
		return audit.OpEnroll
	}
	return audit.OpActivate
}

func (t *slotCardTool) event(step audit.Step, serial tcos.Serial, out audit.Outcome, detail string) {
	t.trail.record(audit.Event{Time: t.now, Operation: t.auditOp(), Step: step, CardSerial: serial.String(),
		Slot: audit.SlotPKCS11User, Outcome: out, Detail: detail})
}

func (t *slotCardTool) enrolled(s tcos.Serial) bool {
	for _, c := range t.cards {
		if c.Serial == s {
			return true
		}
	}
	return false
}

func (t *slotCardTool) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	if t.step == tPIN && t.busy == "" {
		if s == "esc" {
			return t.cancelPIN()
		}
		if t.oc == nil || t.oc.onPad || !t.pinKey(s) {
			return nil
		}
		return t.run(t.takePIN())
	}
	return t.toolBase.key(k)
}

// askPIN asks the card's PKCS#11 slot user PIN, on screen or on the reader.
func (t *slotCardTool) askPIN() tea.Cmd {
	t.step = tPIN
	t.clearPIN()
	t.expect(t.cfg.PINTimeout, "enter the PIN and press OK")
	t.note = t.pinNotice(tcos.SlotPKCS11, "the PKCS#11 slot user PIN of this card")
	if t.oc.onPad {
		return t.run(nil)
	}
	return nil
}

// run verifies the PIN (nil: on the reader's keypad) and does the operation.
func (t *slotCardTool) run(pin []byte) tea.Cmd {
	ctx := t.ctx
	if pin == nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t.cfg.PINTimeout+5*time.Second)
		t.padCancel = cancel
		t.busy = "waiting for the PIN on the reader"
	} else if t.op == slotEnroll {
		t.busy = "checking the PIN; the card makes its key pair (this can take a minute on a real card)"
	} else {
		t.busy = "checking the PIN; the card unwraps the slot's user PIN and the slot logs in"
	}
	return slotOpCmd(t.ctx, ctx, t.oc, t.slot, t.op, pin, t.now)
}

func (t *slotCardTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case slotListMsg:
		t.busy = ""
		if msg.err != nil {
			t.step, t.deadline = tDone, time.Time{}
			t.note = notice{lvError, "The slot cannot say which cards are enrolled: " + sentence(msg.err.Error()) + ".", "Press OK for the main menu."}
			return nil
		}
		t.cards, t.listed = msg.cards, true
		switch {
		case t.op == slotActivate && len(t.cards) == 0:
			t.step = tDone
			t.note = notice{lvWarn, "No user card is enrolled for " + t.slot.SlotName() + " yet.", "Enroll a card first. Press OK for the main menu."}
			return nil
		case t.op == slotEnroll && len(t.cards) >= slotuser.MaxCards:
			t.step = tDone
			t.note = notice{lvWarn, fmt.Sprintf("%s already has %d user cards, the most it can have.", t.slot.SlotName(), slotuser.MaxCards),
				"Revoke a card first (PKCS#11 slot user cards in the menu). Press OK for the main menu."}
			return nil
		}
		t.note = t.introNotice()
		t.toInsert()
		return nil
	case cardReadyMsg:
		t.busy = ""
		if msg.err != nil {
			return t.connectFailed(msg.err, tcos.SlotPKCS11)
		}
		t.oc = msg.oc
		t.event(audit.StepIdentify, t.oc.serial, audit.OutcomeOK, "")
		switch {
		case t.op == slotEnroll && t.enrolled(t.oc.serial):
			return t.refuse(fmt.Sprintf("Card %s is already enrolled for this slot. To enroll it anew, revoke it first.", t.oc.serial))
		case t.op == slotActivate && !t.enrolled(t.oc.serial):
			return t.refuse(fmt.Sprintf("Card %s is not enrolled for this slot; it cannot activate it. No PIN was sent to it.", t.oc.serial))
		case t.oc.status.Blocked:
			return t.refuse(blockedText(t.oc, tcos.SlotPKCS11))
		}
		return t.askPIN()
	case slotOpMsg:
		t.busy = ""
		if cmd, done := t.pinFailed(msg.pinErr, tcos.SlotPKCS11, t.askPIN); done {
			return cmd
		}
		serial := t.oc.serial
		t.oc = nil // slotOpCmd closed it
		if msg.err != nil {
			t.event(audit.StepSummary, serial, outcomeOf(msg.err), t.failWord())
			t.note = t.opProblem(msg.err, serial)
			t.toInsert()
			return nil
		}
		t.done = serial
		if t.op == slotEnroll {
			t.cards = append(t.cards, hsm.UserCard{Serial: serial}) // for the count on screen
		}
		t.step, t.deadline = tDone, time.Time{}
		t.event(audit.StepSummary, serial, audit.OutcomeOK, t.doneWord())
		if t.op == slotEnroll {
			t.note = notice{lvGood, fmt.Sprintf("Card %s is enrolled for %s (%d of at most %d user cards). The slot has a new user PIN, wrapped to each enrolled card; nobody saw it.",
				serial, t.slot.SlotName(), len(t.cards), slotuser.MaxCards),
				"The card's PKCS#11 slot user PIN protects the slot from now on: change it from the factory PIN. Press OK for the main menu."}
		} else {
			t.note = notice{lvGood, fmt.Sprintf("%s is ACTIVE: its user is logged in, activated by card %s at %s.", t.slot.SlotName(), serial, t.now.UTC().Format("15:04 MST")),
				"Take the card out and keep it safe. Press OK for the main menu."}
		}
	}
	return nil
}

func (t *slotCardTool) doneWord() string {
	if t.op == slotEnroll {
		return "card enrolled"
	}
	return "slot activated"
}

func (t *slotCardTool) failWord() string {
	if t.op == slotEnroll {
		return "not enrolled"
	}
	return "not activated"
}

func (t *slotCardTool) introNotice() notice {
	if t.op == slotEnroll {
		return notice{lvInfo, fmt.Sprintf("%s has %d of at most %d user cards. The card makes a key pair of its own (or uses the one it has); the slot's new user PIN is wrapped to it and to every enrolled card.",
			t.slot.SlotName(), len(t.cards), slotuser.MaxCards), t.insertHint}
	}
	return notice{lvInfo, fmt.Sprintf("Any one of the %d enrolled cards, with its PIN, activates %s.", len(t.cards), t.slot.SlotName()), t.insertHint}
}

// opProblem explains a failed enrollment or activation after a right PIN.
func (t *slotCardTool) opProblem(err error, serial tcos.Serial) notice {
	next := "Insert a card and press OK, or Cancel to leave."
	switch {
	case errors.Is(err, hsm.ErrSOPINNeeded):
		return notice{lvError, "The token needs its security officer for this: " + sentence(err.Error()) + ". Nothing was changed.",
			"Restart hsmcards with the SO PIN in $" + hsm.PKCS11SOPINEnv + " (or type it when asked), or press Cancel."}
	case errors.Is(err, hsm.ErrWrongPIN) && t.op == slotActivate:
		return notice{lvError, fmt.Sprintf("The slot refused the user PIN that card %s holds: the slot's PIN was changed without this card (its enrollment is stale).", serial),
			"Revoke the card and enroll it again. " + next}
	case errors.Is(err, slotuser.ErrKeyChanged), errors.Is(err, slotuser.ErrAlreadyEnrolled), errors.Is(err, slotuser.ErrNotEnrolled),
		errors.Is(err, slotuser.ErrFull), errors.Is(err, slotuser.ErrCardCannotUnwrap):
		return notice{lvError, fmt.Sprintf("Card %s: %s.", serial, err.Error()), next}
	}
	n := describe(err, next)
	n.text = fmt.Sprintf("Card %s was %s. %s", serial, t.failWord(), n.text)
	return n
}

func (t *slotCardTool) screen() ([2]string, []string) {
	l1, l2, ok := t.display()
	if !ok && t.step == tDone {
		switch {
		case t.done == (tcos.Serial{}):
			l1, l2 = "", "press OK"
		case t.op == slotEnroll:
			l1, l2 = "Card enrolled", "press OK"
		default:
			l1, l2 = "Slot active", "press OK"
		}
	}
	if t.step == tInsert && t.busy == "" {
		if t.op == slotEnroll {
			l1 = "Enroll User Card"
		} else {
			l1 = "Activate Slot"
		}
		l2 = "Insert card"
	}
	body := []string{fitWidth("Slot: "+t.slot.SlotName(), sideWidth)}
	if t.listed {
		body = append(body, fmt.Sprintf("Enrolled user cards: %d of %d", len(t.cards), slotuser.MaxCards))
	}
	if t.oc != nil {
		body = append(body, fmt.Sprintf("Card %s: %s", t.oc.serial, triesLeft(t.oc.status.TriesLeft)))
	}
	return [2]string{l1, l2}, t.side(body, "")
}

// slotListTool lists the cards enrolled for the slot and revokes one. It
// needs no card: a lost card must be revocable.
type slotListTool struct {
	slot    hsm.UserSlot
	trail   *trail
	now     time.Time
	cards   []hsm.UserCard
	cursor  int
	confirm bool
	busy    string
	note    notice
	left    bool
}

// startSlotListTool lists the slot's user cards.
func (m *Model) startSlotListTool() tea.Cmd {
	const title = "PKCS#11 slot user cards"
	slot, ok := hsm.UserSlotOf(m.cfg.HSM)
	if !ok {
		return m.startTool(noSlotTool(title))
	}
	t := &slotListTool{slot: slot, trail: m.trail, now: m.now, busy: "asking the slot which cards are enrolled"}
	return m.start(t, slotListCmd(slot))
}

func (t *slotListTool) key(k tea.KeyPressMsg) tea.Cmd {
	if t.busy != "" {
		return nil
	}
	s := k.String()
	if t.confirm {
		switch s {
		case "enter":
			t.confirm = false
			t.busy = "revoking the card"
			return slotRevokeCmd(t.slot, tcos.Serial(t.cards[t.cursor].Serial))
		case "esc":
			t.confirm = false
			t.note = notice{lvInfo, "Nothing was revoked.", t.hint()}
		}
		return nil
	}
	switch s {
	case "up", "k":
		if len(t.cards) > 0 {
			t.cursor = (t.cursor + len(t.cards) - 1) % len(t.cards)
		}
	case "down", "j", "tab":
		if len(t.cards) > 0 {
			t.cursor = (t.cursor + 1) % len(t.cards)
		}
	case "enter", "r":
		if len(t.cards) == 0 {
			t.left = true
			return nil
		}
		t.confirm = true
		t.note = notice{lvWarn, fmt.Sprintf("Revoke card %s? It can no longer activate %s. The slot gets a new user PIN, wrapped to the %d other enrolled cards; the revoked card's old PIN stops working.",
			tcos.Serial(t.cards[t.cursor].Serial), t.slot.SlotName(), len(t.cards)-1),
			"Press OK to revoke it, or Cancel to keep it."}
	case "esc":
		t.left = true
	}
	return nil
}

func (t *slotListTool) hint() string {
	if len(t.cards) == 0 {
		return "Press OK for the main menu."
	}
	return "↑/↓ choose a card · Enter revoke it · Esc main menu"
}

func (t *slotListTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case slotListMsg:
		t.busy = ""
		if msg.err != nil {
			t.note = notice{lvError, "The slot cannot say which cards are enrolled: " + sentence(msg.err.Error()) + ".", "Press Esc for the main menu."}
			return nil
		}
		t.cards = msg.cards
		t.cursor = min(t.cursor, max(len(t.cards)-1, 0))
		if t.note.text == "" {
			t.note = notice{lvInfo, "", t.hint()}
		} else {
			t.note.next = t.hint()
		}
	case slotRevokedMsg:
		t.busy = ""
		out, detail := audit.OutcomeOK, "card revoked"
		if msg.err != nil {
			out, detail = outcomeOf(msg.err), "not revoked"
			t.note = notice{lvError, fmt.Sprintf("Card %s was not revoked: %s.", msg.serial, sentence(msg.err.Error())), t.hint()}
			if errors.Is(msg.err, hsm.ErrSOPINNeeded) {
				t.note.next = "Restart hsmcards with the SO PIN in $" + hsm.PKCS11SOPINEnv + " (or type it when asked)."
			}
		} else {
			t.note = notice{lvGood, fmt.Sprintf("Card %s is revoked: it can no longer activate %s.", msg.serial, t.slot.SlotName()), ""}
		}
		t.trail.record(audit.Event{Time: t.now, Operation: opRevoke, Step: audit.StepSummary, CardSerial: msg.serial.String(),
			Slot: audit.SlotPKCS11User, Outcome: out, Detail: detail})
		t.busy = "asking the slot which cards are enrolled"
		return slotListCmd(t.slot)
	}
	return nil
}

func (t *slotListTool) tick(now time.Time) tea.Cmd { t.now = now; return nil }
func (t *slotListTool) presence(bool) tea.Cmd      { return nil }
func (t *slotListTool) holdsKey() bool             { return false }
func (t *slotListTool) lossWarning() string        { return "" }
func (t *slotListTool) abandon() tea.Cmd           { return nil }
func (t *slotListTool) finished() bool             { return t.left }
func (t *slotListTool) working() bool              { return t.busy != "" }

func (t *slotListTool) screen() ([2]string, []string) {
	pad := [2]string{"User cards", fmt.Sprintf("%d enrolled", len(t.cards))}
	if t.confirm {
		pad = [2]string{"Revoke card?", "press OK/Cancel"}
	}
	side := []string{styleTitle.Render(fitWidth("PKCS#11 slot user cards", sideWidth)), fitWidth("Slot: "+t.slot.SlotName(), sideWidth), ""}
	switch {
	case t.busy != "":
		side = append(side, wrap("Working: "+t.busy+"…", sideWidth))
		pad = [2]string{"Please wait...", ""}
	case len(t.cards) == 0:
		side = append(side, "No user card is enrolled.")
	default:
		side = append(side, fmt.Sprintf("%d of at most %d user cards:", len(t.cards), slotuser.MaxCards))
		for i, c := range t.cards {
			cur := "  "
			if i == t.cursor {
				cur = "> "
			}
			side = append(side, fmt.Sprintf("%scard %s, enrolled %s", cur, tcos.Serial(c.Serial), c.Enrolled.UTC().Format("2006-01-02 15:04 MST")))
		}
	}
	if t.busy == "" {
		side = append(side, "")
		side = append(side, t.note.lines()...)
	}
	return pad, side
}

func (t *slotCardTool) holdsShare() bool { return false }

func (t *slotListTool) holdsShare() bool { return false }
