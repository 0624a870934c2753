package wizard

// The PKCS#11 slot user cards: enroll a card for the slot, activate the slot
// with an enrolled card, list and revoke the enrolled cards. The slot's user
// PIN is never on screen, in a notice, in the audit trail or in the APDU
// log: the wizard only ever sees card serials and labels. Before an
// enrollment or a revocation changes anything, the security officer sees the
// cards the slot's new user PIN will be wrapped to and confirms; records the
// slot does not vouch for are named (docs/pkcs11.md, "Slot user cards").

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// opRevoke is the audit operation of revoking a slot user card.
const opRevoke audit.Operation = "revoke"

// maxListed is how many refused records a screen names; the rest are
// counted.
const maxListed = 3

// noSlotTool says that the HSM has no slot for user cards.
func noSlotTool(title string) *infoTool {
	return &infoTool{title: title, pad: "No slot", note: notice{lvWarn,
		"This HSM has no PKCS#11 slot for user cards configured.",
		"Start hsmcards with --pkcs11-user-token LABEL (or slot:N) to choose the token whose user cards are handled. Press OK for the main menu."}}
}

// cardLine is one card of a list: serial, label, enrollment date.
func cardLine(mark string, c hsm.UserCard) string {
	label := c.Label
	if label == "" {
		label = "(no label)"
	}
	return fmt.Sprintf("%s%s %s %s", mark, tcos.Serial(c.Serial), fitWidth(label, hsm.MaxCardLabel), c.Enrolled.UTC().Format("2006-01-02"))
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
		out = append(out, wrap("  "+r.String(), sideWidth))
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

// recordsNotice explains a change the slot did not make because its
// records did not match its own list of cards.
func recordsNotice(what string, re *hsm.RecordsError) notice {
	var why []string
	for i, r := range re.Refused {
		if i == maxListed {
			why = append(why, fmt.Sprintf("and %d more", len(re.Refused)-maxListed))
			break
		}
		why = append(why, r.String())
	}
	for _, c := range re.Missing {
		why = append(why, hsm.CardName(c)+": its record had been deleted")
	}
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
	return notice{lvError, text + ".", next + ". Look at the list again and start once more."}
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
	op      slotOp
	slot    hsm.UserSlot
	cards   []hsm.UserCard // enrolled, as the records said when the tool started
	refused []hsm.RefusedRecord
	listed  bool
	label   []rune         // the label of the card to enroll
	plan    *slotuser.Plan // the enrollment to confirm
	done    tcos.Serial
}

func (t *slotCardTool) connect() tea.Cmd {
	return connectCmd(t.cfg.Reader, tcos.SlotPKCS11, t.cfg.APDULog, t.cfg.PINTimeout)
}

func (t *slotCardTool) holdsKey() bool      { return false }
func (t *slotCardTool) lossWarning() string { return "" }

// answer is the security officer's OK or Cancel to the enrollment shown.
func (t *slotCardTool) answer(yes bool) tea.Cmd {
	plan := t.plan
	if plan == nil {
		return nil
	}
	serial := tcos.Serial(plan.Enrolling.Serial)
	if !yes {
		t.plan = nil
		t.step = tDone
		t.event(audit.StepSummary, serial, audit.OutcomeCancelled, "not confirmed")
		t.note = notice{lvInfo, fmt.Sprintf("Nothing was changed: card %s was not enrolled.", serial), "Press OK for the main menu."}
		return nil
	}
	t.busy = fmt.Sprintf("renewing the slot's user PIN and wrapping it to %d cards", len(plan.Cards))
	return slotApplyCmd(t.slot, plan)
}

func (t *slotCardTool) abandon() tea.Cmd {
	t.clearPIN()
	t.plan = nil
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
	switch {
	case t.step == tLabel && t.busy == "":
		return t.labelKey(k)
	case t.step == tPIN && t.busy == "":
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

// labelKey edits the label of the card to enroll.
func (t *slotCardTool) labelKey(k tea.KeyPressMsg) tea.Cmd {
	switch k.String() {
	case "enter":
		label := strings.TrimSpace(string(t.label))
		if err := hsm.CheckCardLabel(label); err != nil {
			t.note = notice{lvWarn, sentence(err.Error()) + ".", "Type the label again and press OK."}
			return nil
		}
		t.label = []rune(label)
		t.note = t.introNotice()
		t.toInsert()
	case "backspace":
		if len(t.label) > 0 {
			t.label = t.label[:len(t.label)-1]
		}
	case "esc":
		return t.askLeave()
	default:
		for _, r := range k.Text {
			if unicode.IsPrint(r) && len(t.label) < hsm.MaxCardLabel {
				t.label = append(t.label, r)
			}
		}
	}
	return nil
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
	ctx := context.Background()
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
	return slotOpCmd(ctx, t.oc, t.slot, t.op, pin, string(t.label), t.now)
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
		t.cards, t.refused, t.listed = msg.recs.Cards, msg.recs.Refused, true
		switch {
		case t.op == slotActivate && len(t.cards) == 0:
			t.step = tDone
			t.note = notice{lvWarn, "No user card is enrolled for " + t.slot.SlotName() + " yet, or the token's records of them were deleted.", "Enroll a card first (or, if cards were enrolled, have the security officer enroll one: the change restores the records). Press OK for the main menu."}
			return nil
		case t.op == slotEnroll && len(t.cards) >= slotuser.MaxCards:
			t.step = tDone
			t.note = notice{lvWarn, fmt.Sprintf("%s already has %d user cards, the most it can have.", t.slot.SlotName(), slotuser.MaxCards),
				"Revoke a card first (PKCS#11 slot user cards in the menu). Press OK for the main menu."}
			return nil
		case t.op == slotEnroll:
			t.step = tLabel
			t.note = notice{lvInfo, fmt.Sprintf("%s has %d of at most %d user cards.", t.slot.SlotName(), len(t.cards), slotuser.MaxCards),
				fmt.Sprintf("Type a label for the new card (its holder's name, up to %d characters; it may stay empty) and press OK. Esc leaves.", hsm.MaxCardLabel)}
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
			why := "it is not enrolled, or its record was deleted from the token"
			for _, r := range t.refused {
				if r.Serial == t.oc.serial {
					why = "its record is refused (" + r.Reason.String() + ")"
				}
			}
			return t.refuse(fmt.Sprintf("The slot holds no usable record for card %s: %s. It cannot activate the slot. No PIN was sent to it.", t.oc.serial, why))
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
		var auditErr *slotuser.AuditError
		if msg.err != nil && !errors.As(msg.err, &auditErr) {
			t.event(audit.StepSummary, serial, outcomeOf(msg.err), t.failWord())
			t.note = t.opProblem(msg.err, serial)
			t.toInsert()
			return nil
		}
		if t.op == slotEnroll {
			t.plan = msg.plan
			t.step, t.deadline = tConfirm, time.Time{}
			t.note = notice{lvWarn, fmt.Sprintf("Enroll card %s? Check every card above: one you do not know was not enrolled by you.", serial),
				"Press OK to renew the slot's user PIN and wrap it to these cards, or Cancel to change nothing."}
			return nil
		}
		t.done = serial
		t.step, t.deadline = tDone, time.Time{}
		t.event(audit.StepSummary, serial, audit.OutcomeOK, t.doneWord())
		t.note = notice{lvGood, fmt.Sprintf("%s is ACTIVE: its user is logged in, activated by card %s at %s.", t.slot.SlotName(), serial, t.now.UTC().Format("15:04 MST")),
			"Take the card out and keep it safe. Press OK for the main menu."}
		switch {
		case auditErr != nil:
			t.note.level = lvWarn
			t.note.text += " " + sentence(auditErr.Error()) + "."
		case !msg.disc.None():
			t.note.level = lvWarn
			t.note.text += " " + discrepancyText(msg.disc)
		}
	case slotAppliedMsg:
		t.busy = ""
		t.plan = nil
		serial := tcos.Serial(msg.plan.Enrolling.Serial)
		t.step, t.deadline = tDone, time.Time{}
		var re *hsm.RecordsError
		switch {
		case errors.As(msg.err, &re):
			t.cards = re.Kept
			t.event(audit.StepSummary, serial, audit.OutcomeRefused, "records did not match the slot's own list")
			t.note = recordsNotice(fmt.Sprintf("card %s was not enrolled", serial), re)
			return nil
		case msg.err != nil:
			t.event(audit.StepSummary, serial, outcomeOf(msg.err), t.failWord())
			t.note = t.opProblem(msg.err, serial)
			t.note.next = "Press OK for the main menu."
			return nil
		}
		t.done = serial
		t.cards = msg.res.Cards
		t.event(audit.StepSummary, serial, audit.OutcomeOK, t.doneWord())
		t.note = notice{lvGood, fmt.Sprintf("Card %s is enrolled for %s (%d of at most %d user cards). The slot has a new user PIN, wrapped to each enrolled card; nobody saw it.",
			serial, t.slot.SlotName(), len(t.cards), slotuser.MaxCards),
			"The card's PKCS#11 slot user PIN protects the slot from now on: change it from the factory PIN. Press OK for the main menu."}
		t.note.text += removedText(msg.res.Removed)
	}
	return nil
}

// removedText names the records a change removed, for a note.
func removedText(removed []hsm.RefusedRecord) string {
	if len(removed) == 0 {
		return ""
	}
	var parts []string
	for i, r := range removed {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(removed)-maxListed))
			break
		}
		parts = append(parts, r.String())
	}
	return " Removed, as hsmcards had not written them: " + strings.Join(parts, "; ") + "."
}

// discrepancyText says what the slot's own list found wrong with the other
// records, for a note.
func discrepancyText(d hsm.Discrepancies) string {
	var parts []string
	for i, r := range d.Refused {
		if i == maxListed {
			parts = append(parts, fmt.Sprintf("and %d more", len(d.Refused)-maxListed))
			break
		}
		parts = append(parts, r.String())
	}
	for _, c := range d.Missing {
		parts = append(parts, hsm.CardName(c)+": its record was deleted")
	}
	fix := "removes those records"
	if len(d.Missing) > 0 {
		fix = "writes the deleted ones again"
		if len(d.Refused) > 0 {
			fix = "removes those records and writes the deleted ones again"
		}
	}
	return "The slot's own list of cards does not vouch for every record (" + strings.Join(parts, "; ") +
		"); the security officer's next enrollment or revocation " + fix + "."
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
		return notice{lvInfo, fmt.Sprintf("%s has %d of at most %d user cards. The card makes a key pair of its own (or uses the one it has); before anything changes you see every card the slot's new user PIN will be wrapped to.",
			t.slot.SlotName(), len(t.cards), slotuser.MaxCards), t.insertHint}
	}
	return notice{lvInfo, fmt.Sprintf("Any one of the %d enrolled cards, with its PIN, activates %s.", len(t.cards), t.slot.SlotName()), t.insertHint}
}

// opProblem explains a failed enrollment or activation after a right PIN.
func (t *slotCardTool) opProblem(err error, serial tcos.Serial) notice {
	next := "Insert a card and press OK, or Cancel to leave."
	var refused *slotuser.RefusedError
	switch {
	case errors.Is(err, hsm.ErrSOPINNeeded):
		return notice{lvError, "The token needs its security officer for this: " + sentence(err.Error()) + ". Nothing was changed.",
			"Restart hsmcards with the SO PIN in $" + hsm.PKCS11SOPINEnv + " (or type it when asked), or press Cancel."}
	case errors.Is(err, slotuser.ErrNotEnrolled), errors.Is(err, slotuser.ErrDuplicateRecords), errors.Is(err, slotuser.ErrKeyChanged),
		errors.Is(err, slotuser.ErrWrapRefused), errors.Is(err, slotuser.ErrStaleRecord), errors.Is(err, slotuser.ErrDamagedAnswer),
		errors.As(err, &refused):
		// The records are public token objects: anyone can spoil them. The
		// next change of the slot's cards writes them from the slot's own
		// list again.
		return notice{lvError, fmt.Sprintf("Card %s: %s.", serial, err.Error()),
			"Try again; if it happens again, the security officer's next enrollment (which shows the slot's own list first) writes every card's record anew. " + next}
	case errors.Is(err, slotuser.ErrAlreadyEnrolled), errors.Is(err, slotuser.ErrFull), errors.Is(err, slotuser.ErrCardCannotUnwrap):
		return notice{lvError, fmt.Sprintf("Card %s: %s.", serial, err.Error()), next}
	}
	n := describe(err, next)
	n.text = fmt.Sprintf("Card %s was %s. %s", serial, t.failWord(), n.text)
	return n
}

func (t *slotCardTool) screen() ([2]string, []string) {
	l1, l2, ok := t.display()
	if !ok {
		switch {
		case t.step == tLabel:
			l1, l2 = "Card label", "press OK"
		case t.step == tConfirm:
			l1, l2 = "Enroll card?", "press OK/Cancel"
		case t.step == tDone && t.done == (tcos.Serial{}):
			l1, l2 = "", "press OK"
		case t.step == tDone && t.op == slotEnroll:
			l1, l2 = "Card enrolled", "press OK"
		case t.step == tDone:
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
	switch {
	case t.step == tConfirm && t.plan != nil && t.busy == "":
		body = append(body, planLines(t.plan)...)
	case t.listed:
		body = append(body, fmt.Sprintf("Enrolled user cards: %d of %d", len(t.cards), slotuser.MaxCards))
		if t.step != tDone {
			body = append(body, refusedLines("Records hsmcards will not use:", t.refused)...)
		}
	}
	if t.step == tLabel {
		body = append(body, "Label: "+string(t.label)+"_")
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
	recs    hsm.Records
	cursor  int
	confirm *slotuser.Plan // the revocation to confirm
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
	cards := t.recs.Cards
	if t.confirm != nil {
		switch s {
		case "enter":
			plan := t.confirm
			t.confirm = nil
			t.busy = fmt.Sprintf("revoking the card: renewing the slot's user PIN and wrapping it to %d cards", len(plan.Cards))
			return slotApplyCmd(t.slot, plan)
		case "esc":
			t.confirm = nil
			t.note = notice{lvInfo, "Nothing was revoked.", t.hint()}
		}
		return nil
	}
	switch s {
	case "up", "k":
		if len(cards) > 0 {
			t.cursor = (t.cursor + len(cards) - 1) % len(cards)
		}
	case "down", "j", "tab":
		if len(cards) > 0 {
			t.cursor = (t.cursor + 1) % len(cards)
		}
	case "enter", "r":
		if len(cards) == 0 {
			t.left = true
			return nil
		}
		serial := tcos.Serial(cards[t.cursor].Serial)
		plan, err := slotuser.PlanRevoke(t.recs, serial)
		if err != nil {
			t.note = notice{lvError, fmt.Sprintf("Card %s: %s.", serial, err.Error()), t.hint()}
			return nil
		}
		t.confirm = plan
		t.note = notice{lvWarn, fmt.Sprintf("Revoke card %s? It can no longer activate %s; its old PIN stops working. Check every card above: one you do not know was not enrolled by you.",
			serial, t.slot.SlotName()),
			"Press OK to revoke it, or Cancel to keep it."}
	case "esc":
		t.left = true
	}
	return nil
}

func (t *slotListTool) hint() string {
	if len(t.recs.Cards) == 0 {
		return "Press OK for the main menu."
	}
	return "↑/↓ choose a card · Enter revoke it · Esc main menu"
}

func (t *slotListTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case slotListMsg:
		t.busy = ""
		if msg.err != nil {
			t.recs = hsm.Records{}
			t.note = notice{lvError, "The slot cannot say which cards are enrolled: " + sentence(msg.err.Error()) + ".", "Press Esc for the main menu."}
			return nil
		}
		t.recs = msg.recs
		t.cursor = min(t.cursor, max(len(t.recs.Cards)-1, 0))
		if t.note.text == "" {
			t.note = notice{lvInfo, "", t.hint()}
		} else {
			t.note.next = t.hint()
		}
	case slotAppliedMsg:
		t.busy = ""
		serial := tcos.Serial(msg.plan.Revoking.Serial)
		out, detail := audit.OutcomeOK, "card revoked"
		var re *hsm.RecordsError
		switch {
		case errors.As(msg.err, &re):
			out, detail = audit.OutcomeRefused, "records did not match the slot's own list"
			t.note = recordsNotice(fmt.Sprintf("card %s was not revoked", serial), re)
		case msg.err != nil:
			out, detail = outcomeOf(msg.err), "not revoked"
			t.note = notice{lvError, fmt.Sprintf("Card %s was not revoked: %s.", serial, sentence(msg.err.Error())), t.hint()}
			if errors.Is(msg.err, hsm.ErrSOPINNeeded) {
				t.note.next = "Restart hsmcards with the SO PIN in $" + hsm.PKCS11SOPINEnv + " (or type it when asked)."
			}
		default:
			t.note = notice{lvGood, fmt.Sprintf("Card %s is revoked: it can no longer activate %s.", serial, t.slot.SlotName()) + removedText(msg.res.Removed), ""}
		}
		t.trail.record(audit.Event{Time: t.now, Operation: opRevoke, Step: audit.StepSummary, CardSerial: serial.String(),
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
	cards := t.recs.Cards
	pad := [2]string{"User cards", fmt.Sprintf("%d enrolled", len(cards))}
	if t.confirm != nil {
		pad = [2]string{"Revoke card?", "press OK/Cancel"}
	}
	side := []string{styleTitle.Render(fitWidth("PKCS#11 slot user cards", sideWidth)), fitWidth("Slot: "+t.slot.SlotName(), sideWidth), ""}
	switch {
	case t.busy != "":
		side = append(side, wrap("Working: "+t.busy+"…", sideWidth))
		pad = [2]string{"Please wait...", ""}
	case t.confirm != nil:
		side = append(side, planLines(t.confirm)...)
	case len(cards) == 0:
		side = append(side, "No user card is enrolled.")
		side = append(side, refusedLines("Records hsmcards will not use:", t.recs.Refused)...)
	default:
		side = append(side, fmt.Sprintf("%d of at most %d user cards:", len(cards), slotuser.MaxCards))
		for i, c := range cards {
			cur := "  "
			if i == t.cursor {
				cur = "> "
			}
			side = append(side, cardLine(cur, c))
		}
		side = append(side, refusedLines("Records hsmcards will not use:", t.recs.Refused)...)
	}
	if t.busy == "" {
		side = append(side, "")
		side = append(side, t.note.lines()...)
	}
	return pad, side
}
