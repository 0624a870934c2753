package wizard

import (
	"fmt"
	"strings"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
)

// The instructor's keys (issue 6 "train for it"): on the simulated reader,
// ctrl+f opens a menu of faults the trainer triggers live. The menu's keys are
// letters, which the operator never needs (DESIGN "Keys in the wizard":
// Enter, Backspace, Esc, digits, F1–F9, F12, ctrl+c), and ctrl+f itself is
// none of those. F1–F9 and F12 keep working while the menu is open.

// instructorToggle opens and closes the instructor menu.
const instructorToggle = "ctrl+f"

// instructor is the trainer's menu state.
type instructor struct {
	open bool
	said string // what the last instructor key did, or why it could not
}

// instructorAction is one entry of the menu.
type instructorAction struct {
	key, help string
	do        func(m *Model, f *cardio.Faults) (string, tea.Cmd)
}

func instructorActions() []instructorAction {
	arm := func(kind cardio.FaultKind, at, label string) func(*Model, *cardio.Faults) (string, tea.Cmd) {
		return func(_ *Model, f *cardio.Faults) (string, tea.Cmd) {
			f.Arm(cardio.Rule{Kind: kind, Match: scenario.Match(at), Label: label})
			return "armed: " + label, nil
		}
	}
	prop := func(fault, what string) func(*Model, *cardio.Faults) (string, tea.Cmd) {
		return func(m *Model, f *cardio.Faults) (string, tea.Cmd) {
			i := m.cfg.Sim.Inserted()
			if i == 0 {
				return "insert the card to replace first (F1–F9)", nil
			}
			sn, err := deckSerial(m.cfg.Sim, i)
			if err != nil {
				return err.Error(), nil
			}
			p, err := scenario.MakeProp(fault, sn)
			if err == nil {
				err = f.Substitute(i, p)
			}
			if err != nil {
				return err.Error(), nil
			}
			return fmt.Sprintf("card %d is now %s (press F%d to insert it; c restores)", i, what, i), simStateCmd(m.cfg.Sim)
		}
	}
	return []instructorAction{
		{"p", "pull the card at the next command", arm(cardio.FaultPull, "any", "pull at the next command")},
		{"t", "pull the card halfway through the next share write", arm(cardio.FaultTear, "write", "tear at the next write")},
		{"u", "unplug the reader now / plug it back in", func(m *Model, f *cardio.Faults) (string, tea.Cmd) {
			if f.Unplugged() {
				f.Replug()
				return "reader plugged back in", simStateCmd(m.cfg.Sim)
			}
			f.Unplug()
			return "reader unplugged (u plugs it back in)", simStateCmd(m.cfg.Sim)
		}},
		{"m", "the card in the reader stops answering (until taken out)", func(m *Model, f *cardio.Faults) (string, tea.Cmd) {
			if m.cfg.Sim.Inserted() == 0 {
				f.Arm(cardio.Rule{Kind: cardio.FaultMute, Label: "mute at the next command"})
				return "armed: mute at the next command", nil
			}
			f.Mute()
			return "the card in the reader is mute until it is taken out", nil
		}},
		{"w", "the next PIN reaches the card wrong (spends a try)", arm(cardio.FaultGarble, "verify", "wrong PIN at the next verify")},
		{"d", "the next share record read comes back damaged", arm(cardio.FaultNoise, "read", "damaged record at the next read")},
		{"x", "swap the inserted card for a foreign card", prop("foreign", "a foreign card")},
		{"b", "swap the inserted card for a twin with a blocked PIN", prop("blocked", "a twin with a blocked Backup Key PIN")},
		{"o", "swap the inserted card for a card of another key set", prop("other-key-set", "a card of another key set")},
		{"c", "clear: disarm faults, plug the reader in, put every card back", func(m *Model, f *cardio.Faults) (string, tea.Cmd) {
			f.Restore()
			return "all faults cleared", simStateCmd(m.cfg.Sim)
		}},
	}
}

// deckSerial reads the serial of deck card i as the wizard would, without
// changing what is in the reader: the blocked twin takes the card's serial.
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

// simStateCmd reports the simulated reader's state after an instructor
// action, so the reader line and the activity hear of it.
func simStateCmd(sim *cardio.SimReader) tea.Cmd {
	return func() tea.Msg { return simMsg{inserted: sim.Inserted()} }
}

// instructorKey handles the instructor's keys; ok is false for keys it leaves
// to the wizard.
func (m *Model) instructorKey(s string) (cmd tea.Cmd, ok bool) {
	if m.cfg.Sim == nil {
		return nil, false
	}
	f := m.cfg.Sim.FaultLayer()
	if f == nil {
		return nil, false
	}
	if s == instructorToggle {
		m.instr.open = !m.instr.open
		return nil, true
	}
	if !m.instr.open {
		return nil, false
	}
	if _, isSim := simKey(s); isSim {
		return nil, false
	}
	if s == "esc" {
		m.instr.open = false
		return nil, true
	}
	for _, a := range instructorActions() {
		if a.key == s {
			m.instr.said, cmd = a.do(m, f)
			m.instr.open = false
			return cmd, true
		}
	}
	return nil, true // the menu is modal: nothing reaches the ceremony
}

// instructorMenu is the open menu, or "".
func (m *Model) instructorMenu() string {
	if !m.instr.open || m.cfg.Sim == nil || m.cfg.Sim.FaultLayer() == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(styleBanner.Render(" Instructor: make something go wrong ") + "\n\n")
	for _, a := range instructorActions() {
		fmt.Fprintf(&b, "  %s  %s\n", a.key, a.help)
	}
	b.WriteString("\n" + styleDim.Render("F1–F9/F12 still insert and remove cards · Esc or ctrl+f closes this menu"))
	if st := m.instructorStatus(); len(st) > 0 {
		b.WriteString("\n\n" + strings.Join(st, "\n"))
	}
	return b.String()
}

// instructorStatus is what the trainer has set up, for a header line: armed
// faults, props, an unplugged reader. Empty when nothing is.
func (m *Model) instructorStatus() []string {
	if m.cfg.Sim == nil {
		return nil
	}
	f := m.cfg.Sim.FaultLayer()
	if f == nil {
		return nil
	}
	var parts []string
	for _, r := range f.Armed() {
		parts = append(parts, r.Label)
	}
	for i := 1; i <= m.cfg.Sim.Len(); i++ {
		if f.Substituted(i) {
			parts = append(parts, fmt.Sprintf("card %d swapped", i))
		}
	}
	if f.Unplugged() {
		parts = append(parts, "reader unplugged")
	}
	var out []string
	if m.instr.said != "" {
		out = append(out, fitWidth("Instructor: "+m.instr.said, 78))
	}
	if len(parts) > 0 {
		out = append(out, fitWidth("Instructor armed: "+strings.Join(parts, " · "), 78))
	}
	return out
}

// instructorHint is the help-line entry for the instructor's key, shown only
// when training with a fault layer.
func (m *Model) instructorHint() string {
	if m.cfg.Sim == nil || m.cfg.Sim.FaultLayer() == nil {
		return ""
	}
	return instructorToggle + " instructor · "
}
