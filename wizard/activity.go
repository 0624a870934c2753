package wizard

// The activity framework: what every menu operation is to the root model
// (activity), and the frame each one composes for what they all show and
// record — the title, the latest notice, the audit events, the question
// before leaving with a secret in memory, the blank pad after a timeout,
// the result screen.

import (
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/tcos"
)

// activity is one menu operation in progress. It gets every key, tick,
// card presence change and command result while it runs; the root model
// keeps the global keys (ctrl+c, the simulated reader's F-keys) and builds
// the view around its panel.
type activity interface {
	update(msg tea.Msg) tea.Cmd
	// view is the activity's part of the screen: the pad's two lines and
	// the side panel.
	view() panel
	// status says whether a command runs, whether the operator is done,
	// and what leaving now would lose.
	status() actStatus
	// end wipes every secret, closes the operation in the audit trail (as
	// cancelled unless it ended already) and returns the command that
	// releases the card.
	end() tea.Cmd
}

// panel is an activity's screen: the pad's display and the side panel.
type panel struct {
	pad  [2]string
	side []string
}

// holding is a secret an activity holds that leaving would lose.
type holding int

const (
	holdsNothing holding = iota
	holdsKey             // a Backup Key (generated, or rebuilt from the cards)
	holdsShare           // one card's share, read for a copy
)

// actStatus is what the root model needs to know of an activity.
type actStatus struct {
	busy  bool
	done  bool
	holds holding
	loss  string // what leaving loses, for the quit and leave questions
	// countdown says a countdown shows, and next how soon it changes: the
	// wizard ticks only then.
	countdown bool
	next      time.Duration
}

// level grades what the side panel says.
type level int

const (
	lvInfo level = iota
	lvGood
	lvWarn
	lvError
)

// notice is the latest thing the operator must read: what happened, what
// to do next, and a lower layer's own words when the wizard has none.
type notice struct {
	level      level
	text, next string
	details    string
}

// frameMode is what the frame shows over the operation.
type frameMode int

const (
	frameOn       frameMode = iota // the operation's own screens
	frameTimedOut                  // a step ran out of time: the pad is blank, OK tries again
	frameLeaving                   // leave with a secret in memory?
	frameDone                      // the result: OK returns to the menu
)

// frameEvent is what the frame tells the operation after a message.
type frameEvent int

const (
	framePass  frameEvent = iota // not the frame's: the operation handles the message
	frameTaken                   // the frame handled it
	frameAgain                   // OK after a timeout: start the step again
	frameStay                    // the operator stays after the leave question
	frameLeave                   // the operator leaves (or is done)
)

// frame is the part every activity composes.
type frame struct {
	env   *env
	title string
	// op names the activity in the audit trail ("" records nothing), slot
	// the card slot it works on; keySet adds what the activity knows of the
	// key set to each event.
	op     audit.Operation
	slot   audit.Slot
	keySet func(*audit.Event)
	// what names the activity in the leave question ("this ceremony").
	what   string
	note   notice
	mode   frameMode
	back   frameMode // the mode the leave question returns to
	loss   string    // what the leave question says is lost
	closed bool      // the summary is recorded
	left   bool      // the operator left: back to the menu
	// reader is what is wrong with the reader now, shown above the notice
	// until it answers again.
	reader *problem
}

func newFrame(e *env, title string, op audit.Operation, slot audit.Slot) frame {
	what := "this tool"
	if op == audit.OpInstall || op == audit.OpLoad {
		what = "this ceremony"
	}
	return frame{env: e, title: title, op: op, slot: slot, what: what}
}

// update handles the frame's own screens: the timed-out pad, the leave
// question, the result. holds is what leaving would lose now.
func (f *frame) update(msg tea.Msg, st actStatus) (frameEvent, tea.Cmd) {
	if r, ok := msg.(readerMsg); ok {
		f.reader = nil
		if r.err != nil {
			p := classify(r.err)
			f.reader = &p
		}
		return frameTaken, nil
	}
	k, isKey := msg.(tea.KeyPressMsg)
	if f.mode == frameOn {
		return framePass, nil
	}
	if !isKey {
		if _, ok := msg.(resultMsg); ok {
			return framePass, nil // a late answer: the operation's step releases it
		}
		return frameTaken, nil
	}
	switch f.mode {
	case frameTimedOut:
		switch {
		case key.Matches(k, keys.OK):
			f.mode = frameOn
			return frameAgain, nil
		case key.Matches(k, keys.Cancel):
			return f.askLeave(st), nil
		}
	case frameLeaving:
		switch {
		case key.Matches(k, keys.OK):
			f.left = true
			return frameLeave, nil
		case key.Matches(k, keys.Cancel):
			f.mode = f.back
			if f.mode == frameOn {
				return frameStay, nil
			}
		}
	case frameDone:
		if key.Matches(k, keys.OK, keys.Cancel) {
			f.left = true
			return frameLeave, nil
		}
	}
	return frameTaken, nil
}

// askLeave leaves at once, unless a secret in memory would be lost: then it
// asks first.
func (f *frame) askLeave(st actStatus) frameEvent {
	if st.holds == holdsNothing {
		f.left = true
		return frameLeave
	}
	f.back, f.mode, f.loss = f.mode, frameLeaving, st.loss
	return frameTaken
}

// finish shows the result; OK then returns to the menu.
func (f *frame) finish(n notice) {
	f.mode, f.note = frameDone, n
}

// record writes one event of the activity to the audit trail: what
// happened and to which card, never a PIN, share or key.
func (f *frame) record(e audit.Event, serial *tcos.Serial) {
	if f.op == "" {
		return
	}
	e.Operation, e.Slot = f.op, f.slot
	if serial != nil {
		e.CardSerial = serial.String()
	}
	if f.keySet != nil {
		f.keySet(&e)
	}
	f.env.record(e)
}

// event is a shorthand for record.
func (f *frame) event(step audit.Step, serial *tcos.Serial, out audit.Outcome, detail string) {
	f.record(audit.Event{Step: step, Outcome: out, Detail: detail}, serial)
}

// summary closes the activity in the audit trail, once; fill adds the cards
// written and read.
func (f *frame) summary(out audit.Outcome, detail string, fill func(*audit.Summary)) {
	if f.op == "" || f.closed {
		return
	}
	f.closed = true
	s := audit.Summary{Operation: f.op, Outcome: out, Detail: detail}
	if fill != nil {
		fill(&s)
	}
	e := s.Event()
	e.Time = f.env.now()
	e.Slot = f.slot
	if f.keySet != nil {
		f.keySet(&e)
	}
	f.env.record(e)
}

// stepEnded says why a card step ended on its own — a timeout, a pulled
// card, a cancelled PIN, Cancel while the card worked, a failure — with
// next, the operation's hint for the card it wants. A timeout blanks the
// pad until OK. held names what is still in memory ("" for nothing).
func (f *frame) stepEnded(ev stepEvent, slot tcos.Slot, next, held string) {
	switch ev.end {
	case endTimeout:
		var text string
		switch ev.was {
		case stepInsert:
			text = fmt.Sprintf("Timeout: No card was presented within %s.", ev.length)
		case stepPIN:
			text = fmt.Sprintf("Timeout: The PIN was not entered within %s; the card was not used and no PIN try was spent.", ev.length)
		default:
			text = fmt.Sprintf("Timeout: No answer within %s; the card was released and nothing was written to it.", ev.length)
		}
		then := "Press OK to try this step again, or Cancel to leave."
		if held != "" {
			then = fmt.Sprintf("The %s is still in memory. Press OK to try this step again, or Cancel to leave.", held)
		}
		f.note = notice{level: lvWarn, text: text, next: then}
		f.mode = frameTimedOut
	case endRemoved:
		f.note = notice{level: lvError, text: "The card was taken out before its step was done; nothing was written to it.", next: next}
	case endCancelled:
		f.note = notice{level: lvInfo, text: "PIN entry cancelled; the card was not used.", next: next}
	case endStopped:
		f.note = notice{level: lvWarn, text: "Stopped waiting for the card: its answer will not be used.", next: "Take the card out. " + next}
	case endFailed:
		f.note = problemNotice(ev.prob, slot, next)
	}
}

// problemNotice puts a problem in words, with next after its advice.
func problemNotice(p problem, slot tcos.Slot, next string) notice {
	n := notice{level: lvError, text: p.says(slot), details: p.details()}
	switch p.cause {
	case causeNoCard, causeReset, causePadTimeout, causePadCancelled, causePadMismatch, causePadLength:
		n.level = lvWarn
	}
	n.next = next
	if a := p.advice(); a != "" {
		n.next = a + " " + next
	}
	return n
}

// side builds the side panel: the title, the activity's own lines, the
// countdown, then what runs, the leave question or the latest notice.
func (f *frame) side(body []string, s *cardStep) []string {
	side := []string{styleTitle.Render(fitWidth(f.title, sideWidth))}
	side = append(side, body...)
	running := s != nil && s.busy != ""
	if cd := s.countdown(); cd != "" && f.mode == frameOn {
		side = append(side, styleLevel[lvWarn].Render(wrap(cd, sideWidth)))
	}
	side = append(side, "")
	switch {
	case running && f.mode == frameOn:
		side = append(side, wrap("Working: "+s.busy+"… keep the card in the reader.", sideWidth))
	case f.mode == frameLeaving:
		side = append(side, styleLevel[lvWarn].Render(wrap("Leave "+f.what+"? "+f.loss, sideWidth)),
			wrap("Press OK to leave and wipe it, Cancel to stay.", sideWidth))
	default:
		if f.reader != nil && f.reader.says(0) != f.note.text {
			side = append(side, problemNotice(*f.reader, 0, "").lines()...)
		}
		side = append(side, f.note.lines()...)
	}
	return side
}

// counting says whether step s shows a countdown now.
func (f *frame) counting(s *cardStep) bool {
	return f.mode == frameOn && s != nil && s.state != stepEnded && !s.deadline.IsZero()
}

// withCountdown fills in the countdown of step s, when it shows one.
func (f *frame) withCountdown(st actStatus, s *cardStep) actStatus {
	if !f.counting(s) {
		return st
	}
	st.next, st.countdown = s.nextChange()
	return st
}

// pad is the frame's display when it shows a screen of its own; ok is
// false when the operation's pad shows.
func (f *frame) pad() (pad [2]string, ok bool) {
	switch f.mode {
	case frameTimedOut:
		return [2]string{"", ""}, true // the display turns blank (the appliance manual)
	case frameLeaving:
		return [2]string{"Leave?", "press OK/Cancel"}, true
	}
	return pad, false
}

// safeDetail is an error's text for the audit trail's detail: cleaned, as
// it may come from a token or a file.
func safeDetail(err error) string {
	if err == nil {
		return ""
	}
	return safetext.Clean(err.Error())
}

// infoOp is a menu entry that only explains: copying PKCS#11 slot user
// credentials, which cannot be done, or an HSM without a slot for user
// cards.
type infoOp struct {
	f   frame
	pad string
}

// newPKCS11CopyRefusal explains why a PKCS#11 slot user card cannot be
// copied: its key pair is made on the card and its private key never
// leaves it (the appliance manual, Smart Card Handling; docs/tcos.md).
func newPKCS11CopyRefusal(e *env) *infoOp {
	t := &infoOp{f: newFrame(e, "Copy a PKCS#11 slot user card", "", ""), pad: "Cannot copy"}
	t.f.finish(notice{level: lvWarn,
		text: "PKCS#11 slot user credentials cannot be copied. The credential is a key pair generated on the card itself; its private key never leaves the card, so there is nothing that could be read out and written to another card.",
		next: "To give another person (or a spare card) access to the slot, enroll another card for the PKCS#11 slot instead. Press OK for the main menu."})
	return t
}

// noSlotOp says that the HSM has no slot for user cards.
func noSlotOp(e *env, title string) *infoOp {
	t := &infoOp{f: newFrame(e, title, "", ""), pad: "No slot"}
	t.f.finish(notice{level: lvWarn, text: "This HSM has no PKCS#11 slot for user cards configured.",
		next: "Start hsmcards with --pkcs11-user-token LABEL (or slot:N) to choose the token whose user cards are handled. Press OK for the main menu."})
	return t
}

func (t *infoOp) update(msg tea.Msg) tea.Cmd {
	t.f.update(msg, actStatus{})
	return nil
}
func (t *infoOp) status() actStatus { return actStatus{done: t.f.left} }
func (t *infoOp) end() tea.Cmd      { return nil }
func (t *infoOp) view() panel {
	return panel{pad: [2]string{t.pad, "press OK"}, side: t.f.side(nil, nil)}
}
