package wizard

// The activity framework: what every menu operation is to the root model
// (activity), and the frame each one composes for what they all show and
// record — the title, the latest notice, the audit events, the question
// before leaving with a secret in memory, the blank pad after a timeout,
// the result screen.

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
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
	// leave is the leave question ("Leave this ceremony?").
	leave  i18n.ID
	note   notice
	mode   frameMode
	back   frameMode // the mode the leave question returns to
	loss   string    // what the leave question says is lost
	closed bool      // the summary is recorded
	left   bool      // the operator left: back to the menu
	// reader is what is wrong with the reader now, shown above the notice
	// until it answers again.
	reader *problem
	// sealID tags the request for the audit trail's head after the
	// summary; seal is that head once the trail wrote it (sealed).
	sealID stepID
	seal   *audit.Head
}

// newFrame is the frame of an activity titled title (said already).
func newFrame(e *env, title string, op audit.Operation, slot audit.Slot) frame {
	leave := i18n.WizLeaveTool
	if op == audit.OpInstall || op == audit.OpLoad {
		leave = i18n.WizLeaveCeremony
	}
	return frame{env: e, title: title, op: op, slot: slot, leave: leave}
}

// t says m in the operator's language.
func (f *frame) t(m i18n.Message) string { return f.env.t(m) }

// update handles the frame's own screens: the timed-out pad, the leave
// question, the result. holds is what leaving would lose now.
func (f *frame) update(msg tea.Msg, st actStatus) (frameEvent, tea.Cmd) {
	if m, ok := msg.(sealedMsg); ok {
		f.sealed(m)
		return frameTaken, nil
	}
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
// written and read. The trail's head after the summary line comes back as
// a sealedMsg, for the result screen (issue of the printed protocol:
// docs/wizard.md, "The audit trail's seal").
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
	f.sealID, f.seal = f.env.recordSealed(e), nil
}

// sealed takes in the trail's head after this activity's summary.
func (f *frame) sealed(m sealedMsg) {
	if m.id != 0 && m.id == f.sealID {
		h := m.head
		f.seal = &h
	}
}

// stepEnded says why a card step ended on its own — a timeout, a pulled
// card, a cancelled PIN, Cancel while the card worked, a failure — with
// next, the operation's hint for the card it wants. A timeout blanks the
// pad until OK. held is what is still in memory.
func (f *frame) stepEnded(ev stepEvent, slot tcos.Slot, next string, held holding) {
	switch ev.end {
	case endTimeout:
		length := durationWords(f.env.p, ev.length)
		var text string
		switch ev.was {
		case stepInsert:
			text = f.t(i18n.WizTimeoutInsert{Length: length})
		case stepPIN:
			text = f.t(i18n.WizTimeoutPIN{Length: length})
		default:
			text = f.t(i18n.WizTimeoutAnswer{Length: length})
		}
		then := i18n.WizTimeoutNext
		switch held {
		case holdsKey:
			then = i18n.WizTimeoutKeyHeld
		case holdsShare:
			then = i18n.WizTimeoutShareHeld
		}
		f.note = notice{level: lvWarn, text: text, next: f.t(then)}
		f.mode = frameTimedOut
	case endRemoved:
		f.note = notice{level: lvError, text: f.t(i18n.WizCardPulled), next: next}
	case endCancelled:
		f.note = notice{level: lvInfo, text: f.t(i18n.WizPINCancelled), next: next}
	case endStopped:
		f.note = notice{level: lvWarn, text: f.t(i18n.WizStoppedWaiting), next: sentences(f.t(i18n.WizTakeCardOut), next)}
	case endFailed:
		f.note = f.env.problemNotice(ev.prob, slot, next)
	}
}

// durationWords is a time limit in words: whole minutes, else seconds.
func durationWords(p *i18n.Printer, d time.Duration) string {
	if d >= time.Minute && d%time.Minute == 0 {
		return p.T(i18n.WizMinutes{Count: int(d / time.Minute)})
	}
	return p.T(i18n.WizSeconds{Count: int((d + time.Second - 1) / time.Second)})
}

// problemNotice puts a problem in words, with next after its advice.
func (e *env) problemNotice(p problem, slot tcos.Slot, next string) notice {
	n := notice{level: lvError, text: p.says(e.p, slot), details: p.details()}
	switch p.cause {
	case causeNoCard, causeReset, causePadTimeout, causePadCancelled, causePadMismatch, causePadLength:
		n.level = lvWarn
	}
	n.next = sentences(p.advice(e.p), next)
	return n
}

// side builds the side panel: the title, the activity's own lines, the
// countdown, then what runs, the leave question or the latest notice.
func (f *frame) side(body []string, s *cardStep) []string {
	p := f.env.p
	side := []string{styleTitle.Render(fitWidth(f.title, sideWidth))}
	side = append(side, body...)
	running := s != nil && s.busy != ""
	if cd := s.countdown(); cd != "" && f.mode == frameOn {
		side = append(side, styleLevel[lvWarn].Render(wrap(cd, sideWidth)))
	}
	side = append(side, "")
	switch {
	case running && f.mode == frameOn:
		side = append(side, wrap(f.t(i18n.WizWorking{What: s.busy}), sideWidth))
	case f.mode == frameLeaving:
		side = append(side, styleLevel[lvWarn].Render(wrap(sentences(f.t(f.leave), f.loss), sideWidth)),
			wrap(f.t(i18n.WizLeaveNext), sideWidth))
	default:
		if f.reader != nil && f.reader.says(p, 0) != f.note.text {
			side = append(side, f.env.problemNotice(*f.reader, 0, "").lines(p)...)
		}
		side = append(side, f.note.lines(p)...)
		if f.mode == frameDone && f.seal != nil {
			side = append(side, styleTitle.Render(wrap(f.t(i18n.WizSeal{Line: f.seal.Line, Hash: f.seal.Short()}), sideWidth)))
		}
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
		return [2]string{f.t(i18n.PadLeave), f.t(i18n.PadOKCancel)}, true
	}
	return pad, false
}

// safeDetail is an error's text for the audit trail's detail: cleaned, as
// it may come from a token or a file.
func safeDetail(err error) string {
	if err == nil {
		return ""
	}
	// errors.Join puts its errors on lines of their own; one line here.
	return safetext.Clean(strings.ReplaceAll(err.Error(), "\n", "; "))
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
	t := &infoOp{f: newFrame(e, e.t(i18n.MenuCopySlotCard), "", ""), pad: e.t(i18n.PadCannotCopy)}
	t.f.finish(notice{level: lvWarn, text: e.t(i18n.WizPKCS11NoCopy), next: e.t(i18n.WizPKCS11NoCopyNext)})
	return t
}

// noSlotOp says that the HSM has no slot for user cards.
func noSlotOp(e *env, title i18n.ID) *infoOp {
	t := &infoOp{f: newFrame(e, e.t(title), "", ""), pad: e.t(i18n.PadNoSlot)}
	t.f.finish(notice{level: lvWarn, text: e.t(i18n.WizNoSlot), next: e.t(i18n.WizNoSlotNext)})
	return t
}

func (t *infoOp) update(msg tea.Msg) tea.Cmd {
	t.f.update(msg, actStatus{})
	return nil
}
func (t *infoOp) status() actStatus { return actStatus{done: t.f.left} }
func (t *infoOp) end() tea.Cmd      { return nil }
func (t *infoOp) view() panel {
	return panel{pad: [2]string{t.pad, t.f.t(i18n.PadOK)}, side: t.f.side(nil, nil)}
}
