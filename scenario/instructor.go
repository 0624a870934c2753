package scenario

import (
	"sync"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/tcos"
)

// Instructor is the trainer's control of the simulated reader while a
// trainee works: the wizard's instructor menu (ctrl+f) lists Keys with their
// Help, runs Do for the key pressed and shows Status. Do and Status take the
// reader's lock, which a running card command holds: call them outside the
// UI's update loop (the wizard calls them from its commands).
//
// Its keys are letters, which the operator never needs at a card prompt
// (docs/wizard.md, Keys).
type Instructor struct {
	sim *cardio.SimReader
	f   *cardio.Faults
	p   *i18n.Printer // the menu's language

	mu    sync.Mutex
	props map[int]string // what each swapped deck card is now
}

// NewInstructor gives the trainer control of sim, turning its fault layer
// on; the menu speaks p's language (nil: English).
func NewInstructor(sim *cardio.SimReader, p *i18n.Printer) *Instructor {
	return &Instructor{sim: sim, f: sim.Faults(), p: p, props: map[int]string{}}
}

// action is one entry of the instructor's menu.
type action struct {
	key  string
	help i18n.ID
	do   func(in *Instructor) string
}

func actions() []action {
	arm := func(kind cardio.FaultKind, at string, label i18n.ID) func(*Instructor) string {
		return func(in *Instructor) string {
			in.f.Arm(cardio.Rule{Kind: kind, Match: Match(at), Label: in.p.T(label)})
			return ""
		}
	}
	prop := func(fault string, what i18n.ID) func(*Instructor) string {
		return func(in *Instructor) string {
			i := in.sim.Inserted()
			if i == 0 {
				return in.p.T(i18n.InstrInsertFirst)
			}
			sn, m := deckSerial(in.sim, i)
			if m != nil {
				return in.p.T(m)
			}
			p, err := MakeProp(fault, sn)
			if err == nil {
				err = in.f.Substitute(i, p)
			}
			if err != nil {
				return err.Error()
			}
			in.mu.Lock()
			in.props[i] = in.p.T(what)
			in.mu.Unlock()
			return ""
		}
	}
	return []action{
		{"p", i18n.InstrPull, arm(cardio.FaultPull, "any", i18n.InstrPullArmed)},
		{"t", i18n.InstrTear, arm(cardio.FaultTear, "write", i18n.InstrTearArmed)},
		{"u", i18n.InstrUnplug, func(in *Instructor) string {
			if in.f.Unplugged() {
				in.f.Replug()
				return in.p.T(i18n.InstrReplugged)
			}
			in.f.Unplug()
			return ""
		}},
		{"m", i18n.InstrMute, func(in *Instructor) string {
			if in.sim.Inserted() == 0 {
				in.f.Arm(cardio.Rule{Kind: cardio.FaultMute, Label: in.p.T(i18n.InstrMuteArmed)})
				return ""
			}
			in.f.Mute()
			return in.p.T(i18n.InstrMuted{Card: in.sim.Inserted()})
		}},
		{"w", i18n.InstrGarble, arm(cardio.FaultGarble, "verify", i18n.InstrGarbleArmed)},
		{"d", i18n.InstrNoise, arm(cardio.FaultNoise, "read", i18n.InstrNoiseArmed)},
		{"x", i18n.InstrForeign, prop("foreign", i18n.InstrForeignProp)},
		{"b", i18n.InstrBlocked, prop("blocked", i18n.InstrBlockedProp)},
		{"o", i18n.InstrOtherSet, prop("other-key-set", i18n.InstrOtherSetProp)},
		{"c", i18n.InstrClear, func(in *Instructor) string {
			in.f.Restore()
			in.mu.Lock()
			clear(in.props)
			in.mu.Unlock()
			return in.p.T(i18n.InstrCleared)
		}},
	}
}

// Keys are the instructor's keys, in menu order.
func (in *Instructor) Keys() []string {
	var ks []string
	for _, a := range actions() {
		ks = append(ks, a.key)
	}
	return ks
}

// Help says what key does ("" for a key that is not the instructor's).
func (in *Instructor) Help(key string) string {
	for _, a := range actions() {
		if a.key == key {
			return in.p.T(a.help)
		}
	}
	return ""
}

// Do runs the action of key and says what it did, when Status does not show
// it, or why it could not ("" otherwise).
func (in *Instructor) Do(key string) string {
	for _, a := range actions() {
		if a.key == key {
			return a.do(in)
		}
	}
	return ""
}

// Status is what the trainer has set up now: armed faults, swapped cards, an
// unplugged reader. Empty when nothing is.
func (in *Instructor) Status() []string {
	var parts []string
	for _, r := range in.f.Armed() {
		l := r.Label // the menu's words, or the scenario file's statement
		if l == "" {
			l = in.p.T(i18n.InstrArmed{Fault: r.Kind.String()})
		}
		parts = append(parts, l)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	for i := 1; i <= in.sim.Len(); i++ {
		if !in.f.Substituted(i) {
			continue
		}
		what := in.props[i]
		if what == "" {
			what = in.p.T(i18n.InstrProp) // swapped by the scenario file
		}
		parts = append(parts, in.p.T(i18n.InstrSwapped{Card: i, What: what}))
	}
	if in.f.Unplugged() {
		parts = append(parts, in.p.T(i18n.InstrUnplugged))
	}
	return parts
}

// deckSerial reads the serial of deck card i without changing what is in
// the reader (the blocked twin takes the card's serial), or says why not.
func deckSerial(sim *cardio.SimReader, i int) (tcos.Serial, i18n.Message) {
	c := sim.DeckCard(i)
	if c == nil {
		return tcos.Serial{}, i18n.InstrNoCard{Card: i}
	}
	if s, ok := c.(interface{ Serial() tcos.Serial }); ok {
		return s.Serial(), nil
	}
	return tcos.Serial{}, i18n.InstrAlreadyProp{Card: i}
}
