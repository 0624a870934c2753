package wizard

// The card tools of the seed's "WebConf Smart Card Handling Tools": copy a
// Backup Key share card, change a slot PIN, inspect a card, and the refusal
// to copy PKCS#11 slot user credentials. They share toolBase: insert a card,
// connect, type a PIN on the on-screen pad (or the reader's), countdowns,
// a pulled card, leaving with a secret in memory.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/tcos"
)

// tstep is where a card tool stands. Not every tool uses every step.
type tstep int

const (
	tInsert      tstep = iota // "Insert card", press OK/Cancel
	tPIN                      // a PIN on the on-screen pad (current PIN for a change)
	tNewPIN                   // change PIN: the new PIN
	tNewPINAgain              // change PIN: the new PIN again
	tConfirm                  // the tool's question about the open card (overwrite? show the share? the factory PIN?)
	tLabel                    // a slot user card: the label of the card to enroll
	tTimedOut                 // the step ran out of time; OK tries it again
	tLeave                    // leave with a secret in memory?
	tDone                     // the result; OK returns to the menu
)

// toolHooks is what toolBase needs from the tool that embeds it.
type toolHooks interface {
	// connect starts connecting to the card in the reader for the tool's
	// current insert step.
	connect() tea.Cmd
	holdsKey() bool
	abandon() tea.Cmd
	// answer is OK (yes) or Cancel to the tool's question in tConfirm.
	answer(yes bool) tea.Cmd
	// toInsert waits for the card the tool wants next (toolBase.toInsert,
	// unless the tool says which card on the pad).
	toInsert()
}

// toolBase is the state and behaviour the card tools share.
type toolBase struct {
	cfg   Config
	hooks toolHooks
	title string

	step        tstep
	leaveReturn tstep
	now         time.Time
	present     bool
	busy        string // what runs now; "" when idle
	oc          *openCard
	pin         pinEntry
	padCancel   context.CancelFunc
	deadline    time.Time
	waitingFor  string
	stepLen     time.Duration // how long the step with the deadline lasts
	insertPad   string        // the pad's first line in tInsert
	insertWhat  string        // the countdown's words in tInsert
	insertHint  string        // what to do to present the card the step wants
	note        notice
	left        bool

	// The audit trail: op names the activity in it; decorate adds what the
	// activity knows (e.g. the key set) to each event.
	trail    *trail
	op       audit.Operation
	slot     audit.Slot
	decorate func(*audit.Event)
	// secret names what holdsKey guards ("share", "key"), leaveWhat what the
	// operator would leave ("this tool").
	secret, leaveWhat string
}

func (b *toolBase) init(m *Model, hooks toolHooks, title string) {
	b.cfg, b.hooks, b.title = m.cfg, hooks, title
	b.now, b.present = m.now, m.present
	b.trail = m.trail
	b.secret, b.leaveWhat = "share", "this tool"
}

// record writes one event of the activity to the audit trail: what happened
// and to which card, never a PIN, share or key.
func (b *toolBase) record(step audit.Step, serial *tcos.Serial, out audit.Outcome, detail string, tries *int) {
	if b.op == "" {
		return
	}
	e := audit.Event{Time: b.now, Operation: b.op, Step: step, Slot: b.slot, Outcome: out, Detail: detail, TriesLeft: tries}
	if serial != nil {
		e.CardSerial = serial.String()
	}
	if b.decorate != nil {
		b.decorate(&e)
	}
	b.trail.record(e)
}

// startTool makes a card tool the running activity.
func (m *Model) startTool(a activity) tea.Cmd { return m.start(a, nil) }

// pinEntry is the PIN being typed on the on-screen pad. Its bytes are wiped
// whenever they are cleared or taken.
type pinEntry []byte

// pinKey applies one key of the on-screen PIN pad (seed "Entering the PIN":
// digits, Clear, OK). submit is true when OK was pressed on a PIN of a valid
// length; a PIN too short sets a notice instead.
func (b *toolBase) pinKey(s string) (submit bool) {
	switch {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		if len(b.pin) < maxPIN {
			b.pin = append(b.pin, s[0])
		}
	case s == "backspace":
		b.clearPIN()
	case s == "enter":
		if len(b.pin) < minPIN {
			b.note = notice{lvWarn, fmt.Sprintf("A PIN has %d to %d digits.", minPIN, maxPIN), "Type the PIN again and press OK."}
			b.clearPIN()
			return false
		}
		return true
	}
	return false
}

func (b *toolBase) clearPIN() {
	wipe(b.pin)
	b.pin = b.pin[:0]
}

// takePIN hands over a copy of the typed PIN and wipes the entry.
func (b *toolBase) takePIN() []byte {
	p := append([]byte(nil), b.pin...)
	b.clearPIN()
	return p
}

// expect starts a step's countdown.
func (b *toolBase) expect(d time.Duration, what string) {
	b.deadline, b.waitingFor, b.stepLen = b.now.Add(d), what, d
}

// toInsert waits for the card the tool wants, with the pad line and hint set
// by setInsert.
func (b *toolBase) toInsert() {
	b.step = tInsert
	b.expect(b.cfg.InsertTimeout, b.insertWhat)
}

// setInsert sets what the insert step shows: the pad's first line, the
// countdown's few words and the full hint.
func (b *toolBase) setInsert(pad, what, hint string) {
	b.insertPad, b.insertWhat, b.insertHint = pad, what, hint
}

// endCard forgets the open card and returns the command that closes it.
func (b *toolBase) endCard() tea.Cmd {
	b.clearPIN()
	if w, ok := b.hooks.(interface{ wipeStep() }); ok {
		w.wipeStep() // PINs a tool keeps beside the pad entry
	}
	if b.padCancel != nil {
		b.padCancel()
		b.padCancel = nil
	}
	oc := b.oc
	b.oc = nil
	return closeCmd(oc)
}

// connectFailed ends an insert step whose card could not be used, and waits
// for the card again.
func (b *toolBase) connectFailed(err error, slot tcos.Slot) tea.Cmd {
	b.record(audit.StepIdentify, nil, outcomeOf(err), err.Error(), nil)
	b.note = b.cardProblem(err, slot)
	b.hooks.toInsert()
	return nil
}

// refuse ends the card's step with a problem and waits for another card.
func (b *toolBase) refuse(text string) tea.Cmd {
	b.note = notice{lvError, text, "Take this card out. " + b.insertHint}
	cmd := b.endCard()
	b.hooks.toInsert()
	return cmd
}

// commonKey handles the keys every tool treats alike. done is false when the
// tool must handle the key itself.
func (b *toolBase) commonKey(s string) (cmd tea.Cmd, done bool) {
	if b.busy != "" {
		// Only a PIN typed on the reader's keypad can be cancelled from here.
		if s == "esc" && b.padCancel != nil {
			b.padCancel()
		}
		return nil, true
	}
	switch b.step {
	case tInsert:
		switch s {
		case "enter":
			b.busy = "reading the card"
			return b.hooks.connect(), true
		case "esc":
			return b.askLeave(), true
		}
		return nil, true
	case tTimedOut:
		switch s {
		case "enter":
			b.hooks.toInsert()
			b.note = notice{lvInfo, "", b.insertHint}
		case "esc":
			return b.askLeave(), true
		}
		return nil, true
	case tLeave:
		switch s {
		case "enter":
			b.left = true
			return b.hooks.abandon(), true
		case "esc":
			b.step = b.leaveReturn
			if b.step == tInsert {
				b.hooks.toInsert()
			}
		}
		return nil, true
	case tDone:
		if s == "enter" || s == "esc" {
			b.left = true
			return b.hooks.abandon(), true
		}
		return nil, true
	}
	return nil, false
}

// key handles a key for the tools that ask the Backup Key PIN (copy,
// inspect): the common steps, the PIN pad, and the tool's question.
func (b *toolBase) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	if cmd, done := b.commonKey(s); done {
		return cmd
	}
	switch b.step {
	case tPIN:
		return b.verifyKey(s)
	case tConfirm:
		if s == "enter" || s == "esc" {
			return b.hooks.answer(s == "enter")
		}
	}
	return nil
}

// askLeave leaves at once, unless a secret in memory would be lost: then it
// asks first.
func (b *toolBase) askLeave() tea.Cmd {
	if !b.hooks.holdsKey() {
		b.left = true
		return b.hooks.abandon()
	}
	b.leaveReturn, b.step = b.step, tLeave
	b.deadline = time.Time{}
	return nil
}

// cancelPIN is Cancel during PIN entry: the card is released unused.
func (b *toolBase) cancelPIN() tea.Cmd {
	b.record(audit.StepVerifyPIN, serialOf(b.oc), audit.OutcomeCancelled, "PIN entry cancelled", nil)
	b.note = notice{lvInfo, "PIN entry cancelled; the card was not used.", b.insertHint}
	cmd := b.endCard()
	b.hooks.toInsert()
	return cmd
}

func (b *toolBase) finished() bool { return b.left }

func (b *toolBase) working() bool { return b.busy != "" }

// tick advances the countdown; a step that runs out of time ends alone and
// releases the card.
func (b *toolBase) tick(now time.Time) tea.Cmd {
	b.now = now
	if b.busy != "" || b.deadline.IsZero() || now.Before(b.deadline) {
		return nil
	}
	var text string
	switch b.step {
	case tInsert:
		text = fmt.Sprintf("No card was presented within %s.", b.stepLen)
		b.record(audit.StepIdentify, nil, audit.OutcomeTimeout, "no card presented", nil)
	case tPIN, tNewPIN, tNewPINAgain:
		text = fmt.Sprintf("The PIN was not entered within %s; the card was not used and no PIN try was spent.", b.stepLen)
		b.record(audit.StepVerifyPIN, serialOf(b.oc), audit.OutcomeTimeout, "no PIN entered", nil)
	case tConfirm:
		text = fmt.Sprintf("No answer within %s; the card was released and nothing was written to it.", b.stepLen)
		b.record(audit.StepEnd, serialOf(b.oc), audit.OutcomeTimeout, "no answer", nil)
	default:
		return nil
	}
	b.step = tTimedOut
	b.deadline = time.Time{}
	next := "Press OK to try this step again, or Cancel to leave."
	if b.hooks.holdsKey() {
		next = "The " + b.secret + " is still in memory. " + next
	}
	b.note = notice{lvWarn, "Timeout: " + text, next}
	return b.endCard()
}

// presence reacts to a card coming or going.
func (b *toolBase) presence(present bool) tea.Cmd {
	b.present = present
	if present || b.oc == nil || b.busy != "" {
		return nil
	}
	b.record(audit.StepVerifyPIN, serialOf(b.oc), audit.OutcomeRemoved, "card taken out", nil)
	b.note = notice{lvError, "The card was taken out before its step was done; nothing was written to it.", b.insertHint}
	cmd := b.endCard()
	b.hooks.toInsert()
	return cmd
}

// cardProblem turns a card error into words and the next step; a blocked
// slot is named, whichever it is.
func (b *toolBase) cardProblem(err error, slot tcos.Slot) notice {
	if errors.Is(err, tcos.ErrBlocked) { // 6983, or 63C0 on the last try
		return notice{lvError, fmt.Sprintf("Three wrong PINs: the %s PIN of this card is now blocked and cannot be used.", slotName(slot)),
			"Take this card out. " + b.insertHint}
	}
	return describe(err, b.insertHint)
}

// blockedText says a slot is blocked and that nothing was sent to it.
func blockedText(oc *openCard, slot tcos.Slot) string {
	return fmt.Sprintf("The %s PIN of card %s is blocked after three wrong PINs: this slot cannot be used. No PIN was sent to it.", slotName(slot), oc.serial)
}

// pinNotice shows the tries left before a PIN is asked for.
func (b *toolBase) pinNotice(slot tcos.Slot, what string) notice {
	where := "Type " + what + " (digits), then press OK. Backspace clears, Esc cancels."
	if b.oc.onPad {
		where = "Type " + what + " on the reader's keypad and press its green OK key."
	}
	t := b.oc.status.TriesLeft
	if t == 1 {
		return notice{lvWarn, fmt.Sprintf("Card %s: LAST TRY. One more wrong PIN blocks the %s PIN of this card for good.", b.oc.serial, slotName(slot)), where}
	}
	return notice{lvInfo, fmt.Sprintf("Card %s, %s: %s.", b.oc.serial, slotName(slot), triesLeft(t)), where}
}

// askVerify asks the Backup Key slot PIN of the open card, on screen or on
// the reader's keypad; verifyCmd then reads the share record.
func (b *toolBase) askVerify() tea.Cmd {
	b.step = tPIN
	b.clearPIN()
	b.expect(b.cfg.PINTimeout, "enter the PIN and press OK")
	b.note = b.pinNotice(tcos.SlotBackupKey, "the Backup Key PIN of this card")
	if b.oc.onPad {
		return b.padVerify()
	}
	return nil
}

func (b *toolBase) padVerify() tea.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PINTimeout+5*time.Second)
	b.padCancel = cancel
	b.busy = "waiting for the PIN on the reader"
	return verifyCmd(ctx, b.oc, nil)
}

// verifyKey is the on-screen pad of askVerify.
func (b *toolBase) verifyKey(s string) tea.Cmd {
	if s == "esc" {
		return b.cancelPIN()
	}
	if b.oc == nil || b.oc.onPad || !b.pinKey(s) {
		return nil
	}
	b.busy = "checking the PIN"
	return verifyCmd(context.Background(), b.oc, b.takePIN())
}

// pinFailed handles a PIN step that did not succeed. It reports whether it
// handled msg; a wrong PIN with tries left asks again on the same card.
func (b *toolBase) pinFailed(err error, slot tcos.Slot, again func() tea.Cmd) (tea.Cmd, bool) {
	if b.padCancel != nil {
		b.padCancel() // the pad's command is done: release its timer
		b.padCancel = nil
	}
	var wrong *tcos.WrongPINError
	if err != nil {
		var tries *int
		if errors.As(err, &wrong) {
			tries = audit.Tries(wrong.TriesLeft)
		}
		b.record(audit.StepVerifyPIN, serialOf(b.oc), outcomeOf(err), err.Error(), tries)
	}
	switch {
	case err == nil:
		return nil, false
	case errors.As(err, &wrong) && wrong.TriesLeft > 0:
		b.oc.status.TriesLeft = wrong.TriesLeft
		cmd := again()
		b.note.text = "Wrong PIN. " + b.note.text
		b.note.level = lvWarn
		return cmd, true
	case isPadRetry(err):
		b.note = notice{lvWarn, sentence(err.Error()) + ".", "No PIN try was spent. " + b.insertHint}
		cmd := b.endCard()
		b.hooks.toInsert()
		return cmd, true
	}
	// The command closed the card.
	b.note = b.cardProblem(err, slot)
	b.oc = nil
	b.hooks.toInsert()
	return nil, true
}

// screen builds the side panel: title, the tool's own lines, countdown, then
// what runs, the leave question or the latest notice.
func (b *toolBase) side(body []string, loss string) []string {
	side := []string{styleTitle.Render(fitWidth(b.title, sideWidth))}
	side = append(side, body...)
	if cd := b.countdown(); cd != "" {
		side = append(side, styleLevel[lvWarn].Render(wrap(cd, sideWidth)))
	}
	side = append(side, "")
	switch {
	case b.busy != "":
		side = append(side, wrap("Working: "+b.busy+"… keep the card in the reader.", sideWidth))
	case b.step == tLeave:
		side = append(side, styleLevel[lvWarn].Render(wrap("Leave "+b.leaveWhat+"? "+loss, sideWidth)),
			wrap("Press OK to leave and wipe it, Cancel to stay.", sideWidth))
	default:
		side = append(side, b.note.lines()...)
	}
	return side
}

func (b *toolBase) countdown() string {
	if b.deadline.IsZero() || (b.busy != "" && !(b.oc != nil && b.oc.onPad)) {
		return ""
	}
	left := max(b.deadline.Sub(b.now), 0).Round(time.Second)
	return fmt.Sprintf("Timeout in %d:%02d: %s", int(left.Minutes()), int(left.Seconds())%60, b.waitingFor)
}

// display is the pad's two lines for the steps every tool has; ok is false
// for the tool's own steps.
func (b *toolBase) display() (l1, l2 string, ok bool) {
	const okCancel = "press OK/Cancel"
	if b.busy != "" {
		if b.oc != nil && b.oc.onPad {
			return "Enter PIN", "on the reader", true
		}
		return "Please wait...", "", true
	}
	switch b.step {
	case tInsert:
		return b.insertPad, okCancel, true
	case tPIN:
		return "Enter PIN", strings.Repeat("*", len(b.pin)), true
	case tTimedOut:
		return "", "", true // the display turns blank (seed)
	case tLeave:
		return "Leave?", okCancel, true
	}
	return "", "", false
}

// infoTool is a menu entry that only explains: copying PKCS#11 slot user
// credentials, which cannot be done.
type infoTool struct {
	title, pad string
	note       notice
	left       bool
}

// newPKCS11CopyRefusal explains why a PKCS#11 slot user card cannot be
// copied (DESIGN profile: the key pair is generated on the card and its
// private key can never be read out).
func newPKCS11CopyRefusal() *infoTool {
	return &infoTool{
		title: "Copy a PKCS#11 slot user card",
		pad:   "Cannot copy",
		note: notice{lvWarn,
			"PKCS#11 slot user credentials cannot be copied. The credential is a key pair generated on the card itself; its private key never leaves the card, so there is nothing that could be read out and written to another card.",
			"To give another person (or a spare card) access to the slot, enrol another card for the PKCS#11 slot instead. Press OK for the main menu."},
	}
}

func (t *infoTool) key(k tea.KeyPressMsg) tea.Cmd {
	if s := k.String(); s == "enter" || s == "esc" {
		t.left = true
	}
	return nil
}
func (t *infoTool) update(tea.Msg) tea.Cmd { return nil }
func (t *infoTool) tick(time.Time) tea.Cmd { return nil }
func (t *infoTool) presence(bool) tea.Cmd  { return nil }
func (t *infoTool) holdsKey() bool         { return false }
func (t *infoTool) lossWarning() string    { return "" }
func (t *infoTool) abandon() tea.Cmd       { return nil }
func (t *infoTool) finished() bool         { return t.left }
func (t *infoTool) working() bool          { return false }
func (t *infoTool) screen() ([2]string, []string) {
	side := append([]string{styleTitle.Render(fitWidth(t.title, sideWidth)), ""}, t.note.lines()...)
	return [2]string{t.pad, "press OK"}, side
}
