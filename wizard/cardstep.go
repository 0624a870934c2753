package wizard

import (
	"context"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// The card step: one card's turn in an operation, from "Insert card" to the
// card released. It owns the card's whole life — insert, connect, tries
// left, the PIN on the on-screen pad or the reader's keypad, the commands,
// a question asked while the card is held, the countdowns, a pulled card —
// and, whatever way it ends, it releases the card and wipes what it read
// and what was typed. Operations compose it: they start a step, react to
// the events its update returns (stepEvent) and tell it what to do next.
// The pad prompts and the flow are described in docs/wizard.md.

// stepState is where a card step stands.
type stepState int

const (
	stepInsert     stepState = iota // waiting for the card and OK
	stepConnecting                  // connecting, identifying, asking the PIN state
	stepOpen                        // connected: the operation decides what comes next
	stepPIN                         // the PIN is typed on the on-screen pad
	stepRunning                     // a command runs on the card (the reader's keypad may take the PIN)
	stepHolding                     // the card is held while the operator answers a question
	stepEnded                       // the card is released; the step is over
)

// eventKind is what a card step reports to its operation.
type eventKind int

const (
	evNone      eventKind = iota
	evLeave               // Cancel while waiting for the card: the operator wants to leave
	evConnected           // the card is open: its serial and PIN state are known
	evField               // a PIN field was typed in full; another follows
	evTyped               // every PIN field is typed: send, or ask again
	evWrongPIN            // a wrong PIN, tries left: the PIN is asked again on the same card
	evShortPIN            // OK on a PIN too short: it is asked again
	evWorked              // the command ran without error
	evAnswer              // OK (yes) or Cancel to the question asked while holding
	evEnded               // the step is over and the card released
)

// endReason says how a card step ended.
type endReason int

const (
	endDone      endReason = iota // the operation ended it
	endTimeout                    // a countdown ran out
	endRemoved                    // the card was taken out while it was open
	endCancelled                  // Cancel during PIN entry
	endFailed                     // a command failed (the problem says why)
	endStopped                    // Cancel while a command ran: its answer is not awaited
)

// stepEvent is one report of a card step.
type stepEvent struct {
	kind   eventKind
	yes    bool      // evAnswer
	field  int       // evField: the field typed
	end    endReason // evEnded
	prob   problem   // evEnded with endFailed, evWrongPIN
	pinOK  bool      // evEnded with endFailed: the PIN was right, the command after it failed
	was    stepState // evEnded with endTimeout: what timed out
	length time.Duration
	at     time.Time
}

// pinEntry is what the on-screen pad asks: one field per PIN typed (a
// verify has one, a change three), each with its prompt on the pad and the
// countdown's words.
type pinEntry []pinField

type pinField struct{ prompt, waiting i18n.ID }

var verifyEntry = pinEntry{{i18n.PadEnterPIN, i18n.WizWaitPIN}}

// cardStep is one card's step. Its ID tags every command it starts.
type cardStep struct {
	f      *frame
	id     stepID
	slot   tcos.Slot
	probe  bool // connect asks both slots and keeps the ATR (Inspect)
	state  stepState
	prompt string // the pad's first line while waiting for the card
	hint   string // what to do to present the card the step wants
	card   *openCard
	// The PIN entry: its prompts, the fields lent by the pool, the field
	// being typed, and the command the PINs are for.
	entry  pinEntry
	fields []*secmem.Field
	field  int
	work   cardWork
	// res is what the card handed over, the step's until it ends (then its
	// share is wiped) or the operation takes the record.
	res cardResult
	// question is the pad while holding.
	question [2]string
	deadline time.Time
	waiting  i18n.Message // what the countdown waits for
	length   time.Duration
	cancel   context.CancelFunc // of the running command
	busy     string
}

// newStep starts a card step for slot: the pad shows prompt until the card
// is in and OK pressed; what is the countdown's words, hint the full
// sentence of what to do. The step says them in the operator's language.
func (f *frame) newStep(slot tcos.Slot, prompt, what, hint i18n.Message) *cardStep {
	s := &cardStep{f: f, id: f.env.newID(), slot: slot, prompt: f.t(prompt), hint: f.t(hint)}
	s.expect(f.env.cfg.InsertTimeout, what)
	return s
}

// expect starts a countdown.
func (s *cardStep) expect(d time.Duration, what i18n.Message) {
	s.deadline, s.waiting, s.length = s.f.env.stamp().Add(d), what, d
}

// resume restarts the insert countdown (after a question of the frame); a
// nil step (none open) has nothing to resume.
func (s *cardStep) resume() {
	if s != nil && s.state == stepInsert {
		s.expect(s.length, s.waiting)
	}
}

// serial is the open card's serial, nil before one is known.
func (s *cardStep) serial() *tcos.Serial {
	if s.card == nil || s.card.serial == (tcos.Serial{}) {
		return nil
	}
	return &s.card.serial
}

// record writes an event of this step to the audit trail.
func (s *cardStep) record(step audit.Step, out audit.Outcome, detail string, tries *int, at time.Time) {
	s.f.record(audit.Event{Time: at, Step: step, Outcome: out, Detail: detail, TriesLeft: tries}, s.serial())
}

// update handles a message for the step. Results of another step (a late
// answer) are released.
func (s *cardStep) update(msg tea.Msg) (stepEvent, tea.Cmd) {
	if r, ok := msg.(resultMsg); ok && r.stepID() != s.id {
		return stepEvent{}, s.f.env.discard(msg)
	}
	switch msg := msg.(type) {
	case tea.KeyPressMsg:
		return s.key(msg)
	case tickMsg:
		return s.tick()
	case cardGoneMsg:
		return s.gone()
	case connectedMsg:
		return s.connected(msg)
	case workedMsg:
		return s.worked(msg)
	}
	return stepEvent{}, nil
}

func (s *cardStep) key(k tea.KeyPressMsg) (stepEvent, tea.Cmd) {
	switch s.state {
	case stepInsert:
		switch {
		case key.Matches(k, keys.OK):
			s.state, s.busy = stepConnecting, s.f.t(i18n.WorkReadingCard)
			s.expect(stepTimeout, i18n.WizWaitCard)
			e := s.f.env
			return stepEvent{}, connectCmd(e.ctx, s.id, e.cfg.Reader, s.slot, s.probe, e.sessionOptions(), e.now)
		case key.Matches(k, keys.Cancel):
			return stepEvent{kind: evLeave}, nil
		}
	case stepConnecting, stepRunning:
		if key.Matches(k, keys.Cancel) {
			// The card does not answer, or the operator stops waiting for
			// the reader's keypad: its answer is no longer awaited.
			s.record(audit.StepEnd, audit.OutcomeCancelled, "the operator stopped waiting for the card", nil, s.f.env.now())
			return stepEvent{kind: evEnded, end: endStopped}, s.end()
		}
	case stepPIN:
		return s.pinKey(k)
	case stepHolding:
		if key.Matches(k, keys.OK, keys.Cancel) {
			return stepEvent{kind: evAnswer, yes: key.Matches(k, keys.OK)}, nil
		}
	}
	return stepEvent{}, nil
}

// pinKey is the on-screen pad: digits, Clear (Backspace) restarts the
// field, OK (Enter) takes it, Cancel (Esc) ends the step unused (the
// appliance manual, Smart Card Handling, "Entering the PIN").
func (s *cardStep) pinKey(k tea.KeyPressMsg) (stepEvent, tea.Cmd) {
	f := s.fields[s.field]
	switch {
	case key.Matches(k, keys.Digit):
		f.Append(k.String()[0]) // refused beyond tcos.MaxPINLen
	case key.Matches(k, keys.Clear):
		f.Clear()
	case key.Matches(k, keys.Cancel):
		s.record(s.work.pinStep, audit.OutcomeCancelled, "PIN entry cancelled", nil, s.f.env.now())
		return stepEvent{kind: evEnded, end: endCancelled}, s.end()
	case key.Matches(k, keys.OK):
		if f.Len() < tcos.MinPINLen {
			f.Clear()
			return stepEvent{kind: evShortPIN}, nil
		}
		if s.field < len(s.entry)-1 {
			s.field++
			s.expect(s.f.env.cfg.PINTimeout, s.entry[s.field].waiting)
			return stepEvent{kind: evField, field: s.field - 1}, nil
		}
		return stepEvent{kind: evTyped}, nil
	}
	return stepEvent{}, nil
}

// tick ends the step when its countdown runs out (never while a command
// runs: the command has its own bound).
func (s *cardStep) tick() (stepEvent, tea.Cmd) {
	now := s.f.env.tick
	if s.deadline.IsZero() || now.Before(s.deadline) {
		return stepEvent{}, nil
	}
	at := s.f.env.now()
	switch s.state {
	case stepInsert:
		s.record(audit.StepIdentify, audit.OutcomeTimeout, "no card presented", nil, at)
	case stepPIN:
		s.record(s.work.pinStep, audit.OutcomeTimeout, "no PIN entered", nil, at)
	case stepHolding:
		s.record(audit.StepEnd, audit.OutcomeTimeout, "no answer", nil, at)
	default:
		return stepEvent{}, nil
	}
	ev := stepEvent{kind: evEnded, end: endTimeout, was: s.state, length: s.length, at: at}
	return ev, s.end()
}

// cardGoneMsg says the card in the reader left (or was swapped for
// another): a step holding it open ends.
type cardGoneMsg struct{}

func (s *cardStep) gone() (stepEvent, tea.Cmd) {
	if s.card == nil || s.card.card == nil {
		return stepEvent{}, nil
	}
	switch s.state {
	case stepOpen, stepPIN, stepHolding:
		s.record(audit.StepVerifyPIN, audit.OutcomeRemoved, "card taken out", nil, s.f.env.now())
		return stepEvent{kind: evEnded, end: endRemoved}, s.end()
	}
	return stepEvent{}, nil // a running command fails on its own
}

func (s *cardStep) connected(msg connectedMsg) (stepEvent, tea.Cmd) {
	if s.state != stepConnecting {
		return stepEvent{}, s.f.env.discard(msg)
	}
	s.busy = ""
	s.card = msg.card
	if msg.card != nil && msg.card.card != nil {
		s.f.env.opened[msg.card] = true
	}
	if msg.err != nil {
		p := classify(msg.err)
		s.record(audit.StepIdentify, p.outcome(), safeDetail(msg.err), nil, msg.at)
		cmd := s.end()
		return stepEvent{kind: evEnded, end: endFailed, prob: p, at: msg.at}, cmd
	}
	s.state = stepOpen
	s.deadline = time.Time{}
	return stepEvent{kind: evConnected, at: msg.at}, nil
}

// askPIN asks the PIN for w: on the reader's keypad when it has one (w runs
// at once), else on the on-screen pad, one field per prompt of entry.
func (s *cardStep) askPIN(entry pinEntry, w cardWork) tea.Cmd {
	s.entry, s.work = entry, w
	if w.pad {
		return s.start(w, nil, w.padTime)
	}
	s.returnFields()
	for range entry {
		fld := s.f.env.pins.get()
		if fld == nil {
			p := classify(s.f.env.pins.err)
			s.record(w.pinStep, p.outcome(), "no memory for the PIN", nil, s.f.env.now())
			return s.end()
		}
		s.fields = append(s.fields, fld)
	}
	s.field = 0
	s.state = stepPIN
	s.expect(s.f.env.cfg.PINTimeout, entry[0].waiting)
	return nil
}

// retype clears the PIN fields from field i on and asks them again.
func (s *cardStep) retype(i int) {
	for _, f := range s.fields[i:] {
		f.Clear()
	}
	s.field = i
	s.state = stepPIN
	s.expect(s.f.env.cfg.PINTimeout, s.entry[i].waiting)
}

// send runs the PIN's command with what was typed; the fields go with it.
func (s *cardStep) send() tea.Cmd {
	pins := s.fields
	s.fields = nil
	return s.start(s.work, pins, 0)
}

// run runs w on the open card, without a PIN.
func (s *cardStep) run(w cardWork) tea.Cmd {
	s.work = w
	return s.start(w, nil, 0)
}

// start runs w; countdown, when set, is shown while it runs (the reader's
// keypad waits that long for the PIN).
func (s *cardStep) start(w cardWork, pins []*secmem.Field, countdown time.Duration) tea.Cmd {
	s.state, s.busy = stepRunning, s.f.t(w.what)
	s.deadline = time.Time{}
	switch {
	case countdown > 0:
		s.expect(countdown, i18n.WizWaitPadPIN)
	case w.bound > 0:
		s.expect(w.bound, i18n.WizWaitCard)
	default:
		s.expect(stepTimeout, i18n.WizWaitCard)
	}
	ctx, cancel := context.WithCancel(s.f.env.ctx)
	s.cancel = cancel
	return workCmd(ctx, cancel, s.id, s.card, w, pins, s.f.env.now)
}

func (s *cardStep) worked(msg workedMsg) (stepEvent, tea.Cmd) {
	s.f.env.pins.put(msg.pins...)
	if s.state != stepRunning {
		msg.res.wipe()
		return stepEvent{}, nil
	}
	s.busy, s.cancel = "", nil
	s.deadline = time.Time{}
	if msg.res.pinOK && s.work.pinStep != "" {
		s.record(s.work.pinStep, audit.OutcomeOK, "", nil, msg.at)
	}
	if msg.err == nil {
		s.wipeResult()
		s.res = msg.res
		s.state = stepOpen
		return stepEvent{kind: evWorked, at: msg.at}, nil
	}
	msg.res.wipe()
	p := classify(msg.err)
	if !msg.res.pinOK && s.work.pinStep != "" {
		var tries *int
		if p.cause == causeWrongPIN {
			tries = audit.Tries(p.tries)
		}
		s.record(s.work.pinStep, p.outcome(), safeDetail(msg.err), tries, msg.at)
		if p.retry() == retryPIN {
			s.card.status.TriesLeft = p.tries
			cmd := s.askPIN(s.entry, s.work)
			return stepEvent{kind: evWrongPIN, prob: p, at: msg.at}, cmd
		}
	}
	cmd := s.end()
	return stepEvent{kind: evEnded, end: endFailed, prob: p, pinOK: msg.res.pinOK, at: msg.at}, cmd
}

// hold keeps the card open while the operator answers a question shown on
// the pad as question; the countdown is the card insertion's.
func (s *cardStep) hold(question [2]string) {
	s.state, s.question = stepHolding, question
	s.expect(s.f.env.cfg.InsertTimeout, i18n.WizWaitAnswer)
}

// takeRecord hands the record over to the operation, which wipes it from
// then on.
func (s *cardStep) takeRecord() *quorum.Record {
	r := s.res.rec
	s.res.rec = nil
	return r
}

// takeRaw hands the raw record over to the operation, which destroys it
// from then on (a re-issue writes its new record through it).
func (s *cardStep) takeRaw() *secmem.Buffer {
	b := s.res.raw
	s.res.raw = nil
	return b
}

func (s *cardStep) wipeResult() {
	s.res.wipe()
	s.res = cardResult{}
}

func (s *cardStep) returnFields() {
	s.f.env.pins.put(s.fields...)
	s.fields = nil
}

// end is the step's end, however it comes: a running command is stopped,
// what was read and typed is wiped, the card released. It returns the
// command that releases the card.
func (s *cardStep) end() tea.Cmd {
	if s.state == stepEnded {
		return nil
	}
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.wipeResult()
	s.returnFields()
	s.state, s.busy = stepEnded, ""
	s.deadline = time.Time{}
	c := s.card
	if c != nil && c.card == nil {
		return nil // a probe that found no appliance card: closed already
	}
	return closeCardCmd(c)
}

// ended reports whether the step is over.
func (s *cardStep) ended() bool { return s == nil || s.state == stepEnded }

// running reports whether a command of the step runs.
func (s *cardStep) running() bool {
	return s != nil && (s.state == stepRunning || s.state == stepConnecting)
}

// pad is what the reader's 2x16 display shows during the step.
func (s *cardStep) pad() [2]string {
	t := s.f.t
	switch s.state {
	case stepInsert:
		return [2]string{s.prompt, t(i18n.PadOKCancel)}
	case stepPIN:
		return [2]string{t(s.entry[s.field].prompt), strings.Repeat("*", s.fields[s.field].Len())}
	case stepRunning:
		if s.work.pad {
			return [2]string{t(i18n.PadEnterPIN), t(i18n.PadOnReader)}
		}
		return [2]string{t(i18n.PadWait), ""}
	case stepConnecting:
		return [2]string{t(i18n.PadWait), ""}
	case stepHolding:
		return s.question
	}
	return [2]string{"", ""} // the display turns blank (the appliance manual)
}

// countdown is the line under the title while a countdown runs.
func (s *cardStep) countdown() string {
	if s == nil || s.deadline.IsZero() {
		return ""
	}
	left := shownLeft(s.deadline.Sub(s.f.env.tick))
	clock := fmt.Sprintf("%d:%02d", int(left.Minutes()), int(left.Seconds())%60)
	if s.state == stepConnecting || s.state == stepRunning && !s.work.pad {
		return s.f.t(i18n.WizCountdownCard{Clock: clock})
	}
	return s.f.t(i18n.WizCountdown{Clock: clock, What: s.f.t(s.waiting)})
}

// Countdowns show the time left in steps of countdownStep while more than
// countdownFine is left, then second by second, so that the wizard wakes
// for a countdown a few times a minute, not every second (docs/wizard.md,
// "Idle").
const (
	countdownStep = 5 * time.Second
	countdownFine = 15 * time.Second
)

// shownLeft is the time left as a countdown shows it: rounded up to the
// step (or the second), so it never shows less than is left.
func shownLeft(left time.Duration) time.Duration {
	left = max(left, 0)
	unit := time.Second
	if left > countdownFine {
		unit = countdownStep
	}
	return (left + unit - 1) / unit * unit
}

// untilChange is how long until a countdown with left to go shows another
// value (or runs out).
func untilChange(left time.Duration) time.Duration {
	if left <= 0 {
		return 0
	}
	unit := time.Second
	if left > countdownFine {
		unit = countdownStep
	}
	return left - (shownLeft(left) - unit)
}

// nextChange is how long until the step's countdown shows another value,
// false when it shows none.
func (s *cardStep) nextChange() (time.Duration, bool) {
	if s == nil || s.state == stepEnded || s.deadline.IsZero() {
		return 0, false
	}
	return untilChange(s.deadline.Sub(s.f.env.stamp())), true
}

// triesLeft says how many PIN tries the open card's slot has.
func triesLeft(p *i18n.Printer, n int) string { return p.T(i18n.WizTriesLeft{Count: n}) }

// pinKind is the PIN a step asks for, for the words that ask it.
type pinKind int

const (
	pinBackupKey pinKind = iota // the Backup Key PIN of this card
	pinCurrent                  // the CURRENT PIN of this slot (a change)
	pinPKCS11                   // the PKCS#11 slot user PIN of this card
)

// typePIN says where and how to type the PIN of kind: on screen or on the
// reader's keypad.
var typePIN = map[pinKind][2]i18n.ID{
	pinBackupKey: {i18n.WizTypePINBackupKey, i18n.WizPadPINBackupKey},
	pinCurrent:   {i18n.WizTypePINCurrent, i18n.WizPadPINCurrent},
	pinPKCS11:    {i18n.WizTypePINPKCS11, i18n.WizPadPINPKCS11},
}

// pinNotice shows the tries left before a PIN of kind is asked for.
func (s *cardStep) pinNotice(kind pinKind) notice {
	p := s.f.env.p
	where := typePIN[kind][0]
	if s.card.onPad {
		where = typePIN[kind][1]
	}
	t := s.card.status.TriesLeft
	serial := s.card.serial.String()
	if t == 1 {
		return notice{level: lvWarn, text: p.T(i18n.WizLastTry{Serial: serial, Slot: slotName(p, s.slot)}), next: p.T(where)}
	}
	return notice{level: lvInfo, text: p.T(i18n.WizCardTries{Serial: serial, Slot: slotName(p, s.slot), Tries: triesLeft(p, t)}), next: p.T(where)}
}

// slotName is how the wizard names a slot to the operator.
func slotName(p *i18n.Printer, s tcos.Slot) string {
	if s == tcos.SlotPKCS11 {
		return p.T(i18n.WizSlotPKCS11)
	}
	return p.T(i18n.WizSlotBackupKey)
}

// auditSlot names a card slot in the audit trail.
func auditSlot(s tcos.Slot) audit.Slot {
	if s == tcos.SlotPKCS11 {
		return audit.SlotPKCS11User
	}
	return audit.SlotBackupKey
}
