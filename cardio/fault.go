package cardio

import (
	"context"
	"fmt"
)

// This file is the simulated reader's fault layer, for training and for the
// wizard's fault matrix: a card pulled in the middle of a command, a reader
// unplugged, a card that stops answering, bytes spoilt in transit, and prop
// cards (a foreign card, a card of another key set) put in place of a deck
// card. It knows APDUs only as ISO 7816-4 byte strings (header, Lc, data).

// FaultKind is what goes wrong at a command.
type FaultKind int

// The faults a Rule can inject.
const (
	// FaultPull takes the card out just before the command reaches it: the
	// command is lost and Transmit fails with ErrCardRemoved.
	FaultPull FaultKind = iota + 1
	// FaultTear takes the card out while it works: only the first part of
	// the command's data reaches it (Rule.Keep bytes, by default a quarter:
	// an UPDATE BINARY of a padded share record lands cut inside the record,
	// a PIN arrives cut short), the answer is lost, Transmit fails with
	// ErrCardRemoved. Applies to commands with data.
	FaultTear
	// FaultUnplug unplugs the reader just before the command: every call fails
	// with ErrReaderGone until Replug.
	FaultUnplug
	// FaultMute makes the card stop answering until it is taken out: Transmit
	// waits for its ctx to end or the card to go (or returns at once when
	// Faults.MuteWaits is false), then fails with ErrCardMute.
	FaultMute
	// FaultGarble spoils the command's data in transit (every byte XOR 0x5A):
	// a PIN arrives wrong, a written record arrives damaged. Applies to
	// commands with data.
	FaultGarble
	// FaultNoise spoils the response's data (every byte XOR 0x5A): a record
	// read comes back damaged. Applies to responses with data.
	FaultNoise
)

var faultNames = map[FaultKind]string{
	FaultPull: "pull", FaultTear: "tear", FaultUnplug: "unplug",
	FaultMute: "mute", FaultGarble: "garble", FaultNoise: "noise",
}

// FaultKinds lists every kind, in a fixed order (for tests and menus).
func FaultKinds() []FaultKind {
	return []FaultKind{FaultPull, FaultTear, FaultUnplug, FaultMute, FaultGarble, FaultNoise}
}

// String is the kind's name as scenario files spell it.
func (k FaultKind) String() string {
	if s, ok := faultNames[k]; ok {
		return s
	}
	return fmt.Sprintf("fault(%d)", int(k))
}

// Rule arms one fault. It fires once, on the first command that goes to
// Card, satisfies Match, comes after After earlier matching commands (counted
// from when the rule was armed) and to which Kind applies.
type Rule struct {
	Kind FaultKind
	// Card is the 1-based deck card the command goes to; 0 means any card.
	Card int
	// Match selects commands (nil: every command).
	Match func(cmd []byte) bool
	// After is how many matching commands pass unharmed first.
	After int
	// Keep is how many data bytes a FaultTear lets through (0: a quarter,
	// at least one).
	Keep int
	// Label names the rule for the instructor's display ("pull card 2 at
	// write"); free text, never secret.
	Label string

	seen int
}

// Fired is a rule that went off.
type Fired struct {
	Rule  Rule
	Card  int // the deck card the command went to
	Index int // the command's index since the reader was made (0-based)
}

// Faults is a SimReader's fault layer; get it with SimReader.Faults.
type Faults struct {
	// MuteWaits makes a mute card block Transmit until its ctx ends or the
	// card is taken out, as a real one does. When false (tests), Transmit
	// fails with ErrCardMute at once, as if the deadline had passed.
	MuteWaits bool
	// Trace, if set, sees every command as it reaches a card (after any
	// fault changed it), with the 1-based deck card number. It is called with
	// the reader locked: it must not call back into the reader. The bytes may
	// hold a PIN: a trace must not keep or print them.
	Trace func(card int, cmd []byte)

	// guarded by the reader's mutex
	r         *SimReader
	rules     []*Rule
	fired     []Fired
	count     int
	unplugged bool
	muteGen   uint64 // the card generation that went mute; 0: none
	props     map[int]SimulatedCard
}

// Faults returns the reader's fault layer, creating it on first use.
func (r *SimReader) Faults() *Faults {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.faults == nil {
		r.faults = &Faults{r: r, MuteWaits: true}
	}
	return r.faults
}

// Arm adds a rule.
func (f *Faults) Arm(rule Rule) {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	rule.seen = 0
	f.rules = append(f.rules, &rule)
}

// Armed lists the rules that have not fired yet.
func (f *Faults) Armed() []Rule {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	out := make([]Rule, len(f.rules))
	for i, r := range f.rules {
		out[i] = *r
	}
	return out
}

// Fired lists the rules that went off, oldest first.
func (f *Faults) Fired() []Fired {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return append([]Fired(nil), f.fired...)
}

// Count is the number of commands sent to cards through the reader so far,
// faulted or not.
func (f *Faults) Count() int {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.count
}

// Disarm drops every rule that has not fired, and ends a mute card's silence.
func (f *Faults) Disarm() {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	f.rules = nil
	f.muteGen = 0
}

// Unplug unplugs the reader now: every call fails with an error matching
// ErrReaderGone until Replug. A card in it stays in it, powered down.
func (f *Faults) Unplug() {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	f.unplug()
}

func (f *Faults) unplug() {
	if f.unplugged {
		return
	}
	f.unplugged = true
	if f.r.inserted != 0 {
		f.r.cards[f.r.inserted-1].Reset()
	}
	f.r.notify()
}

// Replug plugs the reader back in.
func (f *Faults) Replug() {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	if !f.unplugged {
		return
	}
	f.unplugged = false
	f.r.notify()
}

// Unplugged reports whether the reader is unplugged.
func (f *Faults) Unplugged() bool {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	return f.unplugged
}

// Mute makes the card in the reader stop answering until it is taken out.
func (f *Faults) Mute() {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	if f.r.inserted != 0 {
		f.muteGen = f.r.gen
	}
}

// Substitute puts prop in the place of deck card i (1-based) until Restore:
// pressing that card's key then inserts the prop (a foreign card, a card of
// another key set, a blocked twin). Card i is taken out first if it is in.
func (f *Faults) Substitute(i int, prop SimulatedCard) error {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	if i < 1 || i > len(f.r.cards) {
		return fmt.Errorf("there is no simulated card %d", i)
	}
	if f.props == nil {
		f.props = map[int]SimulatedCard{}
	}
	if f.r.inserted == i {
		f.r.takeOut()
		f.r.notify()
	}
	if _, ok := f.props[i]; !ok {
		f.props[i] = f.r.cards[i-1]
	}
	f.r.cards[i-1] = prop
	return nil
}

// Substituted reports whether deck card i is replaced by a prop.
func (f *Faults) Substituted(i int) bool {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	_, ok := f.props[i]
	return ok
}

// Restore puts every deck card back in place of its prop (taking out a prop
// that is in the reader), replugs the reader and drops the armed rules.
func (f *Faults) Restore() {
	f.r.mu.Lock()
	defer f.r.mu.Unlock()
	changed := false
	for i, orig := range f.props {
		if f.r.inserted == i {
			f.r.takeOut()
			changed = true
		}
		f.r.cards[i-1] = orig
	}
	f.props = nil
	f.rules = nil
	f.muteGen = 0
	if f.unplugged {
		f.unplugged = false
		changed = true
	}
	if changed {
		f.r.notify()
	}
}

// gone is the error every reader call returns while the reader is closed or
// unplugged. Call with r.mu held.
func (r *SimReader) gone() error {
	switch {
	case r.closed:
		return errReaderClosed
	case r.faults != nil && r.faults.unplugged:
		return ErrReaderGone
	}
	return nil
}

// applies says whether kind can do its harm to cmd.
func applies(kind FaultKind, cmd []byte) bool {
	switch kind {
	case FaultTear, FaultGarble:
		_, ok := dataSpan(cmd)
		return ok
	}
	return true
}

// dataSpan is where a short APDU's command data lies: header CLA INS P1 P2,
// Lc, data (ISO 7816-4 case 3 and 4). Extended APDUs and commands without
// data report false.
func dataSpan(cmd []byte) (lc int, ok bool) {
	if len(cmd) < 6 || cmd[4] == 0 {
		return 0, false
	}
	lc = int(cmd[4])
	return lc, 5+lc <= len(cmd)
}

// spoil XORs b with 0x5A, which turns ASCII digits into non-digits and any
// checksum into a wrong one.
func spoil(b []byte) {
	for i := range b {
		b[i] ^= 0x5A
	}
}

// next finds the rule that fires on cmd to deck card card, counts the
// command and records the firing. Call with r.mu held.
func (f *Faults) next(card int, cmd []byte) *Rule {
	idx := f.count
	f.count++
	hit := -1
	for i, r := range f.rules {
		if (r.Card != 0 && r.Card != card) || (r.Match != nil && !r.Match(cmd)) {
			continue
		}
		r.seen++
		if hit < 0 && r.seen > r.After && applies(r.Kind, cmd) {
			hit = i
		}
	}
	if hit < 0 {
		return nil
	}
	r := f.rules[hit]
	f.fired = append(f.fired, Fired{Rule: *r, Card: card, Index: idx})
	f.rules = append(f.rules[:hit:hit], f.rules[hit+1:]...)
	return r
}

// transmit is simCard.Transmit with the fault layer on. Call with r.mu held;
// it returns with r.mu held (a mute wait releases it meanwhile).
func (f *Faults) transmit(ctx context.Context, c *simCard, cmd []byte) ([]byte, error) {
	r := f.r
	card := r.inserted
	if f.muteGen == c.gen && c.gen != 0 {
		return f.mute(ctx, c)
	}
	rule := f.next(card, cmd)
	kind := FaultKind(0)
	if rule != nil {
		kind = rule.Kind
	}
	switch kind {
	case FaultPull:
		r.takeOut()
		r.notify()
		return nil, ErrCardRemoved
	case FaultUnplug:
		f.unplug()
		return nil, ErrReaderGone
	case FaultMute:
		f.muteGen = c.gen
		return f.mute(ctx, c)
	case FaultTear:
		lc, _ := dataSpan(cmd)
		keep := max(lc/4, 1)
		if rule.Keep > 0 {
			keep = min(rule.Keep, lc)
		}
		torn := append(append([]byte(nil), cmd[:4]...), byte(keep))
		torn = append(torn, cmd[5:5+keep]...)
		f.trace(card, torn)
		resp := c.card.Process(torn)
		clear(resp)
		clear(torn)
		r.takeOut()
		r.notify()
		return nil, ErrCardRemoved
	case FaultGarble:
		lc, _ := dataSpan(cmd)
		spoil(cmd[5 : 5+lc])
	}
	f.trace(card, cmd)
	resp, err := c.process(cmd)
	if err != nil {
		return nil, err
	}
	if kind == FaultNoise && len(resp) > 2 {
		spoil(resp[:len(resp)-2])
	} else if kind == FaultNoise {
		// Nothing to spoil in this answer: keep the rule for the next one.
		f.fired = f.fired[:len(f.fired)-1]
		f.rules = append(f.rules, rule)
	}
	return resp, nil
}

func (f *Faults) trace(card int, cmd []byte) {
	if f.Trace != nil {
		f.Trace(card, cmd)
	}
}

// mute waits, without the reader lock, for ctx to end or the card to leave,
// then reports the card mute. Call with r.mu held.
func (f *Faults) mute(ctx context.Context, c *simCard) ([]byte, error) {
	r := f.r
	if !f.MuteWaits {
		return nil, ErrCardMute
	}
	for r.gen == c.gen && !r.closed {
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
		}
		r.mu.Lock()
		if ctx.Err() != nil {
			break
		}
	}
	switch {
	case r.closed:
		return nil, errReaderClosed
	case r.gen != c.gen:
		return nil, ErrCardRemoved
	}
	return nil, fmt.Errorf("%w (%w)", ErrCardMute, context.Cause(ctx))
}

// FaultLayer returns the reader's fault layer, or nil when nobody asked for
// one (the wizard shows its instructor keys only when there is one).
func (r *SimReader) FaultLayer() *Faults {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.faults
}

// DeckCard is the card now in deck place i (1-based; a prop while
// substituted), or nil.
func (r *SimReader) DeckCard(i int) SimulatedCard {
	r.mu.Lock()
	defer r.mu.Unlock()
	if i < 1 || i > len(r.cards) {
		return nil
	}
	return r.cards[i-1]
}
