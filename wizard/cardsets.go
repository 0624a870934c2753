package wizard

// The card set's life in the wizard (docs/lifecycle.md): the commands that
// read and change the HSM's card-set register, and the words every
// operation uses for a card set, its generation and its standing. The
// rules are package cardset's; the register is the HSM's
// (hsm.CardSetsOf).

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// cardSetsMsg: the HSM's Backup Key and its card-set register, read when
// an operation of the card set's life starts, with the operation's
// cardset value made in the command (it allocates secret memory).
type cardSetsMsg struct {
	id      stepID
	key     *hsm.KeyInfo // nil: the HSM holds none
	reg     hsm.CardSets
	hasReg  bool // the HSM keeps a register
	notes   []hsm.CardSetsNote
	err     error
	verify  *cardset.Verify
	reissue *cardset.Reissue
}

// readRegister reads the register, with the notes of that read when its
// backend has any to give (hsm.CardSetsNoter: a PKCS#11 token).
func readRegister(ctx context.Context, r hsm.CardSetRegister) (hsm.CardSets, []hsm.CardSetsNote, error) {
	if n, ok := r.(hsm.CardSetsNoter); ok {
		return n.CardSetsWithNotes(ctx)
	}
	reg, err := r.CardSets(ctx)
	return reg, nil, err
}

// cardSetsWant is the cardset value a cardSetsCmd makes.
type cardSetsWant int

const (
	wantNothing cardSetsWant = iota
	wantVerify
	wantReissue // only when the HSM holds a key and keeps a register
)

// cardSetsCmd reads the HSM's key and register and makes what want says.
func cardSetsCmd(ctx context.Context, id stepID, h hsm.HSM, want cardSetsWant) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		msg := cardSetsMsg{id: id}
		info, ok, err := h.BackupKey(ctx)
		if err != nil {
			msg.err = err
			return msg
		}
		if ok {
			msg.key = &info
		}
		if reg, has := hsm.CardSetsOf(h); has {
			msg.hasReg = true
			if msg.reg, msg.notes, err = readRegister(ctx, reg); err != nil {
				msg.err = err
				return msg
			}
		}
		switch {
		case want == wantVerify:
			msg.verify, msg.err = cardset.NewVerify(msg.reg, msg.key)
		case want == wantReissue && msg.hasReg && msg.key != nil:
			msg.reissue, msg.err = cardset.NewReissue(msg.reg, msg.key)
		}
		return msg
	}
}

// guard hands a re-issue between the operation and a command that works on
// it (Plan, Commit: they touch the register). Whichever of the two lets go
// second wipes it: the operation when it ends after the command returned,
// the command when the operation ended while it ran (a quit does not wait
// for it). It takes no lock: Update never waits.
type guard struct{ state atomic.Int32 }

const (
	guardRunning int32 = iota
	guardReturned
	guardAbandoned
)

// returned is the command's, when it is done with r: false when the
// operation ended meanwhile, and r is then wiped.
func (g *guard) returned(r *cardset.Reissue) bool {
	if g.state.CompareAndSwap(guardRunning, guardReturned) {
		return true
	}
	r.Wipe()
	return false
}

// abandon is the operation's, when it ends (or drops the command's
// answer): r is wiped now, unless the command still works on it.
func (g *guard) abandon(r *cardset.Reissue) {
	if g == nil || !g.state.CompareAndSwap(guardRunning, guardAbandoned) {
		r.Wipe()
	}
}

// planMsg: a re-issue's Plan ran.
type planMsg struct {
	id    stepID
	at    time.Time
	r     *cardset.Reissue
	guard *guard
	plan  *cardset.Plan
	err   error
}

// planCmd splits the key anew and records the new set as uncommitted.
func planCmd(ctx context.Context, id stepID, g *guard, r *cardset.Reissue, reg hsm.CardSetRegister, p cardset.Params, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		plan, err := r.Plan(cctx, reg, p)
		if !g.returned(r) {
			return nil
		}
		return planMsg{id: id, at: now(), r: r, guard: g, plan: plan, err: err}
	}
}

// commitMsg: a re-issue's Commit ran.
type commitMsg struct {
	id    stepID
	at    time.Time
	r     *cardset.Reissue
	guard *guard
	done  *cardset.Committed
	err   error
}

// commitCmd makes the new set current.
func commitCmd(ctx context.Context, id stepID, g *guard, r *cardset.Reissue, reg hsm.CardSetRegister, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		cctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		done, err := r.Commit(cctx, reg, now())
		if !g.returned(r) {
			return nil
		}
		return commitMsg{id: id, at: now(), r: r, guard: g, done: done, err: err}
	}
}

// registeredMsg: the register was updated after a card changed (Adopt,
// Copied, Erased).
type registeredMsg struct {
	id  stepID
	at  time.Time
	reg hsm.CardSets
	err error
}

// registerCmd runs one update of the register.
func registerCmd(ctx context.Context, id stepID, now func() time.Time, update func(ctx context.Context) (hsm.CardSets, error)) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		reg, err := update(ctx)
		return registeredMsg{id: id, at: now(), reg: reg, err: err}
	}
}

func (m cardSetsMsg) stepID() stepID   { return m.id }
func (m planMsg) stepID() stepID       { return m.id }
func (m commitMsg) stepID() stepID     { return m.id }
func (m registeredMsg) stepID() stepID { return m.id }

// generationWord names a set's generation: format 1 records carry none.
func generationWord(s quorum.KeySet) string {
	if s.Format == quorum.Format1 {
		return "generation 1 (format 1)"
	}
	return fmt.Sprintf("generation %d", s.Generation)
}

// standingWords says what a card's set is to the HSM's register, in a
// clause: "the current card set", "superseded on 2026-01-12 by generation
// 2".
func standingWords(h cardset.Holding) string {
	switch h.Standing {
	case cardset.Current:
		return "the CURRENT card set"
	case cardset.Superseded:
		return fmt.Sprintf("superseded on %s by generation %d", dayString(h.Refused.On), h.Refused.By)
	case cardset.Stale:
		return fmt.Sprintf("no longer current (the HSM's current card set is generation %d)", h.Refused.By)
	case cardset.Uncommitted:
		return fmt.Sprintf("from a re-issue begun on %s that never counted", dayString(h.Refused.On))
	case cardset.Newer:
		return fmt.Sprintf("newer than the HSM's current generation %d: made by a re-issue elsewhere", h.Refused.By)
	}
	return "a card set the HSM does not record"
}

// describeHolding says what a card's share slot holds, for the questions
// before it is overwritten or erased: its set, generation and standing.
func describeHolding(serial tcos.Serial, h cardset.Holding) string {
	switch h.Kind {
	case cardset.Blank:
		return fmt.Sprintf("Card %s is empty: it holds no Backup Key share.", serial)
	case cardset.DamagedRecord:
		return fmt.Sprintf("Card %s holds a damaged share record (an interrupted write leaves one).", serial)
	case cardset.UnknownRecord:
		return fmt.Sprintf("Card %s holds a share record in a format this hsmcards does not know (made by a newer version?).", serial)
	}
	return fmt.Sprintf("Card %s holds share %d of %s: %s.", serial, h.X, describeSet(*h.Set), standingWords(h))
}

// outstandingLines lists the superseded sets' cards still to collect, one
// set per line and its serials after, for a side panel of width w.
func outstandingLines(reg hsm.CardSets, w int) []string {
	var out []string
	for _, s := range cardset.Outstanding(reg) {
		n := len(s.Serials)
		head := fmt.Sprintf("Generation %d (superseded on %s): %d cards to collect and erase:", s.Generation, dayString(s.On), n)
		if n == 1 {
			head = fmt.Sprintf("Generation %d (superseded on %s): 1 card to collect and erase:", s.Generation, dayString(s.On))
		}
		var serials []string
		for _, sn := range s.Serials {
			serials = append(serials, tcos.Serial(sn).String())
		}
		out = append(out, wrap(head, w), wrap("  "+strings.Join(serials, ", "), w))
	}
	return out
}

// cardSetLine is the menu's line about the HSM's card set: its generation,
// quorum and known cards, and how many superseded cards are still to
// collect; "" when the register records none (or another key).
func cardSetLine(reg hsm.CardSets, key *hsmInfoMsg) string {
	cur := reg.Current
	if cur == nil || key == nil || reg.KCV != key.info.KCV {
		return ""
	}
	line := fmt.Sprintf("Card set: %q, generation %d, %d of %d, %d cards known.", safetext.Clean(cur.Label), cur.Generation, cur.K, cur.N, len(cur.Serials))
	collect := 0
	for _, s := range cardset.Outstanding(reg) {
		collect += len(s.Serials)
	}
	switch collect {
	case 0:
	case 1:
		line += " 1 superseded card to collect and erase."
	default:
		line += fmt.Sprintf(" %d superseded cards to collect and erase.", collect)
	}
	return line
}

// noteWords says a note of the register's backend on screen and in the
// audit trail (docs/lifecycle.md, "Where the generation lives").
func noteWords(n hsm.CardSetsNote) string {
	switch n.Kind {
	case hsm.NotePublic:
		if n.Objects == 1 {
			return "The HSM's token holds 1 public object under the name of the card-set register, which anyone can write; it is ignored and the next update removes it."
		}
		return fmt.Sprintf("The HSM's token holds %d public objects under the name of the card-set register, which anyone can write; they are ignored and the next update removes them.", n.Objects)
	case hsm.NoteLeftover:
		if n.Objects == 1 {
			return "An interrupted update left 1 older revision of the card-set register; the newest counts and the next update removes it."
		}
		return fmt.Sprintf("An interrupted update left %d older revisions of the card-set register; the newest counts and the next update removes them.", n.Objects)
	case hsm.NoteOtherKey:
		return fmt.Sprintf("The card-set register is about another Backup Key (KCV %X) than the HSM holds (KCV %X); the next load or re-issue starts a new one.", n.KCV, n.HSMKCV)
	}
	return fmt.Sprintf("The card-set register has a note of kind %d.", int(n.Kind))
}

// registerNotes writes the register's notes to the audit trail, one event
// each, when an operation of the card set's life starts.
func (f *frame) registerNotes(notes []hsm.CardSetsNote) {
	for _, n := range notes {
		f.event(audit.StepRegister, nil, audit.OutcomeOK, "note: "+noteWords(n))
	}
}

// notesLines shows the register's notes, each wrapped to w cells.
func notesLines(notes []hsm.CardSetsNote, w int) []string {
	var out []string
	for _, n := range notes {
		out = append(out, wrap(noteWords(n), w))
	}
	return out
}
