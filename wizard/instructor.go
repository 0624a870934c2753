package wizard

import (
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/i18n"
)

// The instructor's keys: on the simulated reader, ctrl+f opens a menu of
// faults the trainer triggers live. The menu's keys are letters, which the
// operator never needs at a card prompt, and ctrl+f itself is none of the
// operator's keys (docs/wizard.md, Keys). F1–F9 and F12 keep working while
// the menu is open.

// Instructor is the trainer's fault menu on the simulated reader; main hands
// in the training package's (scenario.Instructor). Keys and Help are fixed
// and read once; Do and Status may wait for the reader, so the wizard calls
// them only from commands.
type Instructor interface {
	// Keys are the menu's keys, in menu order; Help says what each does.
	Keys() []string
	Help(key string) string
	// Do runs the action of key and says what it did when Status does not
	// show it, or why it could not ("" otherwise).
	Do(key string) string
	// Status is what the trainer has set up now: armed faults, swapped
	// cards, an unplugged reader.
	Status() []string
}

// instructor is the trainer's menu state, from what the Instructor's
// commands reported.
type instructor struct {
	keys    []string
	help    map[string]string
	open    bool
	said    string   // what the last action did, until the next card comes or goes
	status  []string // the trainer's set-up, as last reported
	pending bool     // a status report is on its way
}

func newInstructor(in Instructor) instructor {
	if in == nil {
		return instructor{}
	}
	st := instructor{keys: in.Keys(), help: map[string]string{}}
	for _, k := range st.keys {
		st.help[k] = in.Help(k)
	}
	return st
}

// instructorMsg reports an instructor action or the trainer's set-up, and
// the simulated card in the reader afterwards.
type instructorMsg struct {
	did      bool // an action ran, and said is what it said
	said     string
	status   []string
	inserted int
}

// instructorCmd runs the instructor's action of key (key "" only asks the
// set-up) and reports.
func (m *Model) instructorCmd(key string) tea.Cmd {
	in, sim := m.cfg.Instructor, m.cfg.Sim
	return func() tea.Msg {
		msg := instructorMsg{did: key != ""}
		if msg.did {
			msg.said = in.Do(key)
		}
		msg.status = in.Status()
		if sim != nil {
			msg.inserted = sim.Inserted()
		}
		return msg
	}
}

// instructorReport takes in what an instructor command reported.
func (m *Model) instructorReport(msg instructorMsg) tea.Cmd {
	m.instr.pending = false
	m.instr.status = msg.status
	if !msg.did {
		return nil
	}
	m.instr.said = msg.said
	m.simCard = msg.inserted
	if !m.cfg.Watch && m.cfg.Reader != nil {
		return presentCmd(m.cfg.Reader)
	}
	return nil
}

// refreshInstructor asks for the trainer's set-up after anything that may
// have changed it: a card command (a fault fires), a card coming or going.
func (m *Model) refreshInstructor(msg tea.Msg) tea.Cmd {
	if m.cfg.Instructor == nil || m.instr.pending || m.screen == screenGone {
		return nil
	}
	switch msg.(type) {
	case presenceMsg, simMsg:
	default:
		if !stepResult(msg) {
			return nil
		}
	}
	m.instr.pending = true
	return m.instructorCmd("")
}

// instructorKey handles the instructor's keys; ok is false for keys it
// leaves to the wizard.
func (m *Model) instructorKey(k tea.KeyPressMsg) (cmd tea.Cmd, ok bool) {
	if m.cfg.Instructor == nil {
		return nil, false
	}
	if key.Matches(k, keys.Instructor) {
		m.instr.open = !m.instr.open
		return nil, true
	}
	if !m.instr.open {
		return nil, false
	}
	if _, isSim := simKey(k); isSim {
		return nil, false
	}
	if key.Matches(k, keys.Cancel) {
		m.instr.open = false
		return nil, true
	}
	s := k.String()
	if _, ok := m.instr.help[s]; ok {
		m.instr.open = false
		m.instr.pending = true
		return m.instructorCmd(s), true
	}
	return nil, true // the menu is modal: nothing reaches the ceremony
}

// instructorHelp is the instructor's menu's help line in p's language;
// sim names the deck's F-keys.
func instructorHelp(p *i18n.Printer, sim string) string {
	return helpLine(with(keys.Insert, sim+"/F12", p.T(i18n.KeyHelpInstructorInsert)),
		with(keys.Cancel, p.T(i18n.KeyNameInstructorClose), p.T(i18n.KeyHelpInstructorClose)))
}

// instructorMenu is the open menu, or "".
func (m *Model) instructorMenu() string {
	if !m.instr.open || m.cfg.Instructor == nil {
		return ""
	}
	var b strings.Builder
	t := m.env.t
	b.WriteString(styleBanner.Render(" "+t(i18n.WizInstructorBanner)+" ") + "\n\n")
	for _, k := range m.instr.keys {
		fmt.Fprintf(&b, "  %s  %s\n", k, m.instr.help[k])
	}
	b.WriteString("\n" + instructorHelp(m.env.p, m.simKeysHelp()))
	if st := m.instructorStatus(); len(st) > 0 {
		b.WriteString("\n\n" + strings.Join(st, "\n"))
	}
	return b.String()
}

// instructorStatus is what the trainer did and has set up, for header lines:
// empty when nothing is.
func (m *Model) instructorStatus() []string {
	var out []string
	if m.instr.said != "" {
		out = append(out, fitWidth(m.env.t(i18n.WizInstructorSaid{Text: m.instr.said}), 78))
	}
	if len(m.instr.status) > 0 {
		out = append(out, fitWidth(m.env.t(i18n.WizTrainingFaults{List: strings.Join(m.instr.status, " · ")}), 78))
	}
	return out
}
