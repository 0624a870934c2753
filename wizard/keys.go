package wizard

import (
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"
)

// The wizard's keys (docs/wizard.md, "Keys"): Enter is the pad's green OK,
// Backspace its yellow Clear, Esc its red Cancel, digits the PIN; on the
// simulated reader F1–F9 insert a card and F12 takes it out; ctrl+c quits
// (asking first while a secret is in memory). Every screen matches keys
// through these bindings, and its help line is made from them.

// typingKey names no key: the bindings that stand for typing text use it.
const typingKey = "(typing)"

// keys are the wizard's key bindings.
var keys = struct {
	OK, Cancel, Clear, Digit     key.Binding
	Up, Down, Next, Quit         key.Binding
	Pick, Choose, Revoke, Other  key.Binding
	Insert, Remove, Instructor   key.Binding
	Type, Label, QuitNow, Delete key.Binding
}{
	OK:         key.NewBinding(key.WithKeys("enter"), key.WithHelp("Enter", "OK")),
	Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "back")),
	Clear:      key.NewBinding(key.WithKeys("backspace"), key.WithHelp("Bksp", "clear")),
	Digit:      key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
	Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "choose")),
	Down:       key.NewBinding(key.WithKeys("down", "j")),
	Next:       key.NewBinding(key.WithKeys("tab")),
	Quit:       key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit")),
	Pick:       key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b", "c", "q"), key.WithHelp("1–9, 0, a–c, q", "pick")),
	Choose:     key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", "choose the quorum")),
	Revoke:     key.NewBinding(key.WithKeys("enter", "r"), key.WithHelp("Enter", "revoke it")),
	Other:      key.NewBinding(key.WithKeys("tab", "up", "down"), key.WithHelp("Tab", "other field")),
	Insert:     key.NewBinding(key.WithKeys("f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"), key.WithHelp("F1–F9", "insert card")),
	Remove:     key.NewBinding(key.WithKeys("f12"), key.WithHelp("F12", "take it out")),
	Instructor: key.NewBinding(key.WithKeys("ctrl+f"), key.WithHelp("ctrl+f", "instructor")),
	// Type and Label only describe typing: their key is no key's name, so
	// they match nothing, but the help line shows them.
	Type:    key.NewBinding(key.WithKeys(typingKey), key.WithHelp("type", "the PIN")),
	Label:   key.NewBinding(key.WithKeys(typingKey), key.WithHelp("type", "the label")),
	QuitNow: key.NewBinding(key.WithKeys("esc"), key.WithHelp("Esc", "quit")),
	Delete:  key.NewBinding(key.WithKeys("backspace"), key.WithHelp("Bksp", "delete")),
}

// with is b with another help text.
func with(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

// helpLine renders a help line from bindings, cut to the console's width.
func helpLine(bindings ...key.Binding) string {
	h := help.New()
	h.ShortSeparator = " · "
	dim := lipgloss.NewStyle().Faint(true)
	h.Styles = help.Styles{ShortKey: dim, ShortDesc: dim, ShortSeparator: dim, Ellipsis: dim}
	h.SetWidth(78)
	return h.ShortHelpView(bindings)
}

// simKeys are the simulated reader's keys, naming the real deck size.
func (m *Model) simKeys() []key.Binding {
	if m.cfg.Sim == nil {
		return nil
	}
	out := []key.Binding{with(keys.Insert, m.simKeysHelp(), "insert card"), keys.Remove}
	if m.cfg.Instructor != nil {
		out = append(out, keys.Instructor)
	}
	return out
}

// simKeysHelp names the keys that insert the simulated deck's cards.
func (m *Model) simKeysHelp() string {
	if m.deckSize <= 1 {
		return "F1"
	}
	return fmt.Sprintf("F1–F%d", min(m.deckSize, 9))
}
