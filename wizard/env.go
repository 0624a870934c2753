package wizard

import (
	"context"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// env is what every activity works with: the configuration, the clocks, the
// audit trail, the on-screen PIN fields and the wizard's context (which ends
// when the operator quits). One per wizard, shared by the activities it runs
// one after the other.
type env struct {
	cfg *Config // the model's: the reader chosen and the HSM opened in the wizard show here
	// p says the wizard's words (Config.Printer; nil: English). Every
	// operation and screen reaches it through its frame's env.
	p     *i18n.Printer
	keys  keyMap // the key bindings, their help in p's language
	ctx   context.Context
	trail *trail
	pins  *pinPool
	// tick is the time of the last tick, for countdowns; events in the
	// audit trail take cfg.Now when they happen.
	tick   time.Time
	nextID stepID
	// hsmKey is the HSM's Backup Key as last reported, nil when it holds
	// none or cannot say.
	hsmKey *hsmInfoMsg
	// cardSets is the HSM's card-set register as last reported (with
	// hasReg and regErr), for Load and Copy to admit cards by
	// (docs/lifecycle.md, "For the wizard"); the changes go to the HSM's
	// own register (register), which compares revisions.
	cardSets hsmInfoMsg
	// deckSize is the simulated deck's cards (0: a real reader), read once.
	deckSize int
	// opened are the cards a step connected that are not known to be
	// released yet: quitting releases every one (Close is idempotent).
	opened map[*openCard]bool
	// later are commands an activity asked for where it returns none (the
	// wait for the audit trail's head after a summary); Update runs them.
	later []tea.Cmd
}

// stepID names one card step (or HSM command). Every command's result
// carries the ID of the step that asked, as bubbles' timers carry theirs,
// so a late answer cannot drive a newer step: it is discarded.
type stepID uint64

// newID is a fresh step ID.
func (e *env) newID() stepID {
	e.nextID++
	return e.nextID
}

// register is the HSM's card-set register, if it keeps one.
func (e *env) register() (hsm.CardSetRegister, bool) { return hsm.CardSetsOf(e.cfg.HSM) }

// admitReg is the register to admit cards by: the one last read, empty
// when the HSM keeps none. A register that could not be read admits no
// card, and its error says why: it fails closed, since only the register
// tells a current card from a superseded one (docs/security.md).
func (e *env) admitReg() (hsm.CardSets, error) {
	switch {
	case !e.cardSets.hasReg:
		return hsm.CardSets{}, nil
	case e.cardSets.regErr != nil:
		return hsm.CardSets{}, e.cardSets.regErr
	}
	return e.cardSets.reg, nil
}

// registerRefusal is the notice for a card refused because the register
// cannot be read: every card is, so it does not ask for another one.
func (e *env) registerRefusal() notice {
	return e.problemNotice(classifyHSM(e.cardSets.regErr), 0, e.t(i18n.WizRegisterRefusesCards))
}

// admit is cardset.Admit by the register last read.
func (e *env) admit(set quorum.KeySet) error {
	reg, err := e.admitReg()
	if err != nil {
		return err
	}
	return cardset.Admit(reg, set)
}

// admitRebuilt is cardset.AdmitRebuilt by the register last read.
func (e *env) admitRebuilt(set quorum.KeySet, check quorum.KeyCheck) error {
	reg, err := e.admitReg()
	if err != nil {
		return err
	}
	return cardset.AdmitRebuilt(reg, set, check)
}

// t says m in the operator's language.
func (e *env) t(m i18n.Message) string { return e.p.T(m) }

// sessionOptions are the options of every card session the wizard opens:
// the masked APDU log, the PIN pad's timeout, and the language of the
// prompts a PIN-pad reader shows on its own display, the operator's (PC/SC
// part 10 wLangId, docs/i18n.md).
func (e *env) sessionOptions() tcos.Options {
	return tcos.Options{APDULog: e.cfg.APDULog, PINTimeout: e.cfg.PINTimeout, PadLangID: e.p.Lang().LangID()}
}

// now is the time an event happens.
func (e *env) now() time.Time { return e.cfg.Now() }

// stamp brings the countdowns' clock up to now, for a countdown that
// starts: ticks run only while a countdown shows, so the last one may be
// long ago.
func (e *env) stamp() time.Time {
	e.tick = e.now()
	return e.tick
}

// record writes one event to the audit trail, at the time it happened.
func (e *env) record(ev audit.Event) {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	e.trail.record(ev)
}

// said is a sentence twice: on screen in the operator's language, and in
// English for the audit trail's detail, whose words stay English whatever
// the operator reads (docs/i18n.md, "What stays English").
type said struct{ screen, trail string }

// say is m on screen and in the trail.
func (e *env) say(m i18n.Message) said {
	return said{screen: e.t(m), trail: i18n.For(i18n.English).T(m)}
}

// and is s with m's sentence after it, in both languages.
func (s said) and(e *env, m i18n.Message) said {
	return said{screen: sentences(s.screen, e.t(m)), trail: sentences(s.trail, i18n.For(i18n.English).T(m))}
}

// blocked says a slot is blocked and that nothing was sent to it.
func (e *env) blocked(serial tcos.Serial, slot tcos.Slot) said {
	en := i18n.For(i18n.English)
	return said{
		screen: e.t(i18n.WizSlotBlocked{Slot: slotName(e.p, slot), Serial: serial.String()}),
		trail:  en.T(i18n.WizSlotBlocked{Slot: slotName(en, slot), Serial: serial.String()}),
	}
}

// recordSealed records ev, an activity's summary, and has the trail's head
// after it come back as a sealedMsg with the ID it returns (0: there is no
// trail to seal).
func (e *env) recordSealed(ev audit.Event) stepID {
	if ev.Time.IsZero() {
		ev.Time = e.now()
	}
	ch := e.trail.recordHead(ev)
	if ch == nil {
		return 0
	}
	id := e.newID()
	e.later = append(e.later, e.trail.headCmd(id, ch))
	return id
}

// takeLater hands over the commands asked for since the last call.
func (e *env) takeLater() tea.Cmd {
	cmds := e.later
	e.later = nil
	return tea.Batch(cmds...)
}

// hsmName names the HSM on screen: Config.HSMName while it is not open, or
// when main opened it and gave it a name in the operator's language (the
// simulated HSM's own Name is English); else the HSM's Name.
func (e *env) hsmName() string {
	c := e.cfg
	switch {
	case c.HSMName != "" && (c.HSM == nil || c.OpenHSM == nil):
		return safetext.Clean(c.HSMName)
	case c.HSM != nil:
		return safetext.Clean(c.HSM.Name()) // a token's label, from outside
	}
	return e.t(i18n.WizHSMNotOpen)
}

// pinPool holds the on-screen PIN fields: secmem Fields of fixed capacity,
// outside the Go heap, allocated when the wizard starts (not in Update).
// A card step borrows them while a PIN is typed and hands them to the
// command that sends the PIN; the command's answer brings them back, and
// they are cleared before anyone types into them again. A field never
// grows, so no digit is left in an array it outgrew.
type pinPool struct {
	free []*secmem.Field
	err  error // why a field could not be allocated
}

// pinFieldsAtStart is how many fields the pool starts with: a PIN change
// types three at once, and a stalled command may still hold three.
const pinFieldsAtStart = 6

func newPinPool() *pinPool {
	p := &pinPool{}
	for range pinFieldsAtStart {
		f, err := secmem.NewField(tcos.MaxPINLen)
		if err != nil {
			p.err = err
			break
		}
		p.free = append(p.free, f)
	}
	return p
}

// get lends a cleared field; nil (with p.err set) only when none is free
// and no new one can be allocated.
func (p *pinPool) get() *secmem.Field {
	if n := len(p.free); n > 0 {
		f := p.free[n-1]
		p.free = p.free[:n-1]
		return f
	}
	f, err := secmem.NewField(tcos.MaxPINLen)
	if err != nil {
		p.err = err
		return nil
	}
	return f
}

// put takes a field back, cleared.
func (p *pinPool) put(fs ...*secmem.Field) {
	for _, f := range fs {
		if f != nil {
			f.Clear()
			p.free = append(p.free, f)
		}
	}
}
