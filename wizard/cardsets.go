package wizard

// The card set's life in the wizard (docs/lifecycle.md): the commands that
// read and change the HSM's card-set register, and the words every
// operation uses for a card set, its generation and its standing. The
// rules are package cardset's; the register is the HSM's
// (hsm.CardSetsOf).

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
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
func generationWord(p *i18n.Printer, s quorum.KeySet) string {
	if s.Format == quorum.Format1 {
		return p.T(i18n.WizGenerationFormat1)
	}
	return p.T(i18n.WizGeneration{Generation: int(s.Generation)})
}

// standingWords says what a card's set is to the HSM's register, in a
// clause: "the current card set", "superseded on 2026-01-12 by generation
// 2".
func standingWords(p *i18n.Printer, h cardset.Holding) string {
	switch h.Standing {
	case cardset.Current:
		return p.T(i18n.WizStandingCurrent)
	case cardset.Superseded:
		return p.T(i18n.WizStandingSuperseded{On: dayString(p, h.Refused.On), By: int(h.Refused.By)})
	case cardset.Stale:
		return p.T(i18n.WizStandingStale{By: int(h.Refused.By)})
	case cardset.Uncommitted:
		return p.T(i18n.WizStandingUncommitted{On: dayString(p, h.Refused.On)})
	case cardset.Newer:
		return p.T(i18n.WizStandingNewer{By: int(h.Refused.By)})
	}
	return p.T(i18n.WizStandingUnknown)
}

// standingWord is a standing in one word, for the side panel's short
// lines.
func standingWord(p *i18n.Printer, s cardset.Standing) string {
	return p.T(map[cardset.Standing]i18n.ID{
		cardset.Unrecorded: i18n.WizWordUnrecorded, cardset.Current: i18n.WizWordCurrent, cardset.Superseded: i18n.WizWordSuperseded, cardset.Stale: i18n.WizWordStale,
		cardset.Uncommitted: i18n.WizWordUncommitted, cardset.Newer: i18n.WizWordNewer,
	}[s])
}

// holdWord names what a card holds in a word or two: blank, damaged
// record, unknown record, share.
func holdWord(p *i18n.Printer, k cardset.HoldKind) string {
	return p.T(map[cardset.HoldKind]i18n.ID{
		cardset.Blank: i18n.WizHoldBlank, cardset.DamagedRecord: i18n.WizHoldDamaged, cardset.UnknownRecord: i18n.WizHoldUnknown, cardset.Share: i18n.WizHoldShare,
	}[k])
}

// describeHolding says what a card's share slot holds, for the questions
// before it is overwritten or erased: its set, generation and standing.
func describeHolding(p *i18n.Printer, serial tcos.Serial, h cardset.Holding) string {
	sn := serial.String()
	switch h.Kind {
	case cardset.Blank:
		return p.T(i18n.WizHoldsBlank{Serial: sn})
	case cardset.DamagedRecord:
		return p.T(i18n.WizHoldsDamaged{Serial: sn})
	case cardset.UnknownRecord:
		return p.T(i18n.WizHoldsUnknown{Serial: sn})
	}
	return p.T(i18n.WizHoldsShare{Serial: sn, X: int(h.X), Set: describeSet(p, *h.Set), Standing: standingWords(p, h)})
}

// outstandingLines lists the superseded sets' cards still to collect, one
// set per line and its serials after, for a side panel of width w.
func outstandingLines(p *i18n.Printer, reg hsm.CardSets, w int) []string {
	var out []string
	for _, s := range cardset.Outstanding(reg) {
		head := p.T(i18n.WizOutstanding{Generation: int(s.Generation), On: dayString(p, s.On), Count: len(s.Serials)})
		var serials []string
		for _, sn := range s.Serials {
			serials = append(serials, tcos.Serial(sn).String())
		}
		out = append(out, wrap(head, w), wrap("  "+strings.Join(serials, p.T(i18n.ListSeparator)), w))
	}
	return out
}

// cardSetLine is the menu's line about the HSM's card set: its generation,
// quorum and known cards, and how many superseded cards are still to
// collect; "" when the register records none (or another key).
func cardSetLine(p *i18n.Printer, reg hsm.CardSets, key *hsmInfoMsg) string {
	cur := reg.Current
	if cur == nil || key == nil || reg.KCV != key.info.KCV {
		return ""
	}
	line := p.T(i18n.WizCardSetLine{Label: safetext.Clean(cur.Label), Generation: int(cur.Generation), K: cur.K, N: cur.N, Cards: len(cur.Serials)})
	collect := 0
	for _, s := range cardset.Outstanding(reg) {
		collect += len(s.Serials)
	}
	if collect > 0 {
		line = sentences(line, p.T(i18n.WizCardsToCollect{Count: collect}))
	}
	return line
}

// noteWords says a note of the register's backend in p's language: on
// screen the operator's, in the audit trail English (docs/lifecycle.md,
// "Where the generation lives").
func noteWords(p *i18n.Printer, n hsm.CardSetsNote) string {
	switch n.Kind {
	case hsm.NotePublic:
		return p.T(i18n.WizNotePublic{Count: n.Objects})
	case hsm.NoteLeftover:
		return p.T(i18n.WizNoteLeftover{Count: n.Objects})
	case hsm.NoteOtherKey:
		return p.T(i18n.WizNoteOtherKey{KCV: kcvString(n.KCV), HSMKCV: kcvString(n.HSMKCV)})
	}
	return p.T(i18n.WizNoteOther{Kind: int(n.Kind)})
}

// registerNotes writes the register's notes to the audit trail, one event
// each, when an operation of the card set's life starts.
func (f *frame) registerNotes(notes []hsm.CardSetsNote) {
	for _, n := range notes {
		f.event(audit.StepRegister, nil, audit.OutcomeOK, "note: "+noteWords(nil, n))
	}
}

// cardSetsFailed records that the HSM could not say what it holds when an
// operation of the card set's life opened, and gives the operation's
// result: its outcome, the trail's detail and the notice.
func (f *frame) cardSetsFailed(err error) (audit.Outcome, string, notice) {
	p := classifyHSM(err)
	f.event(audit.StepStart, nil, p.outcome(), safeDetail(err))
	return audit.OutcomeError, "the HSM could not say what it holds", f.env.problemNotice(p, 0, f.t(i18n.WizBackToMenu))
}
