package scenario

import (
	"fmt"
	"sync"

	"github.com/hsmcards/hsmcards/cardio"
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

	mu    sync.Mutex
	props map[int]string // what each swapped deck card is now
}

// NewInstructor gives the trainer control of sim, turning its fault layer on.
func NewInstructor(sim *cardio.SimReader) *Instructor {
	return &Instructor{sim: sim, f: sim.Faults(), props: map[int]string{}}
}

// action is one entry of the instructor's menu.
type action struct {
	key, help string
	do        func(in *Instructor) string
}

func actions() []action {
	arm := func(kind cardio.FaultKind, at, label string) func(*Instructor) string {
		return func(in *Instructor) string {
			in.f.Arm(cardio.Rule{Kind: kind, Match: Match(at), Label: label})
			return ""
		}
	}
	prop := func(fault, what string) func(*Instructor) string {
		return func(in *Instructor) string {
			i := in.sim.Inserted()
			if i == 0 {
				return "insert the card to replace first (F1–F9)"
			}
			sn, err := deckSerial(in.sim, i)
			if err != nil {
				return err.Error()
			}
			p, err := MakeProp(fault, sn)
			if err == nil {
				err = in.f.Substitute(i, p)
			}
			if err != nil {
				return err.Error()
			}
			in.mu.Lock()
			in.props[i] = what
			in.mu.Unlock()
			return ""
		}
	}
	return []action{
		{"p", "pull the card at the next command", arm(cardio.FaultPull, "any", "pull at the next command")},
		{"t", "pull the card halfway through the next share write", arm(cardio.FaultTear, "write", "tear at the next write")},
		{"u", "unplug the reader now / plug it back in", func(in *Instructor) string {
			if in.f.Unplugged() {
				in.f.Replug()
				return "reader plugged back in"
			}
			in.f.Unplug()
			return ""
		}},
		{"m", "the card in the reader stops answering (until taken out)", func(in *Instructor) string {
			if in.sim.Inserted() == 0 {
				in.f.Arm(cardio.Rule{Kind: cardio.FaultMute, Label: "mute at the next command"})
				return ""
			}
			in.f.Mute()
			return fmt.Sprintf("card %d is mute until it is taken out", in.sim.Inserted())
		}},
		{"w", "the next PIN reaches the card wrong (spends a try)", arm(cardio.FaultGarble, "verify", "wrong PIN at the next verify")},
		{"d", "the next share record read comes back damaged", arm(cardio.FaultNoise, "read", "damaged record at the next read")},
		{"x", "swap the inserted card for a foreign card", prop("foreign", "a foreign card")},
		{"b", "swap the inserted card for a twin with a blocked PIN", prop("blocked", "a twin with a blocked Backup Key PIN")},
		{"o", "swap the inserted card for a card of another key set", prop("other-key-set", "a card of another key set")},
		{"c", "clear: disarm faults, plug the reader in, put every card back", func(in *Instructor) string {
			in.f.Restore()
			in.mu.Lock()
			clear(in.props)
			in.mu.Unlock()
			return "all faults cleared"
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
			return a.help
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
		l := r.Label
		if l == "" {
			l = r.Kind.String() + " armed"
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
			what = "a training prop" // swapped by the scenario file
		}
		parts = append(parts, fmt.Sprintf("card %d is %s (F%d inserts it, c restores)", i, what, i))
	}
	if in.f.Unplugged() {
		parts = append(parts, "reader unplugged")
	}
	return parts
}

// deckSerial reads the serial of deck card i without changing what is in
// the reader: the blocked twin takes the card's serial.
func deckSerial(sim *cardio.SimReader, i int) (tcos.Serial, error) {
	c := sim.DeckCard(i)
	if c == nil {
		return tcos.Serial{}, fmt.Errorf("there is no simulated card %d", i)
	}
	if s, ok := c.(interface{ Serial() tcos.Serial }); ok {
		return s.Serial(), nil
	}
	return tcos.Serial{}, fmt.Errorf("card %d is already a prop: press c to restore the deck first", i)
}
