package wizard

import (
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/lipgloss/v2"

	"github.com/hsmcards/hsmcards/i18n"
)

// The wizard's keys (docs/wizard.md, "Keys"): Enter is the pad's green OK,
// Backspace its yellow Clear, Esc its red Cancel, digits the PIN; on the
// simulated reader F1–F9 insert a card and F12 takes it out; ctrl+c quits
// (asking first while a secret is in memory). Every screen matches keys
// through these bindings, and its help line is made from them.

// typingKey names no key: the bindings that stand for typing text use it.
const typingKey = "(typing)"

// keyMap is the wizard's key bindings, their help in one language.
type keyMap struct {
	OK, Cancel, Clear, Digit     key.Binding
	Up, Down, Next, Quit         key.Binding
	Pick, Choose, Revoke, Other  key.Binding
	Insert, Remove, Instructor   key.Binding
	Type, Label, QuitNow, Delete key.Binding
}

// keys are the bindings the screens match keys with: the keys are the same
// in every language. Help lines take env.keys, whose help is in the
// operator's.
var keys = newKeys(nil)

// newKeys are the key bindings with their help in p's language.
func newKeys(p *i18n.Printer) keyMap {
	t := p.T
	enter, esc, bksp := t(i18n.KeyNameEnter), t(i18n.KeyNameEsc), t(i18n.KeyNameBackspace)
	return keyMap{
		OK:         key.NewBinding(key.WithKeys("enter"), key.WithHelp(enter, t(i18n.KeyHelpOK))),
		Cancel:     key.NewBinding(key.WithKeys("esc"), key.WithHelp(esc, t(i18n.KeyHelpBack))),
		Clear:      key.NewBinding(key.WithKeys("backspace"), key.WithHelp(bksp, t(i18n.KeyHelpClear))),
		Digit:      key.NewBinding(key.WithKeys("0", "1", "2", "3", "4", "5", "6", "7", "8", "9")),
		Up:         key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", t(i18n.KeyHelpChoose))),
		Down:       key.NewBinding(key.WithKeys("down", "j")),
		Next:       key.NewBinding(key.WithKeys("tab")),
		Quit:       key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp(t(i18n.KeyNameQuit), t(i18n.KeyHelpQuit))),
		Pick:       key.NewBinding(key.WithKeys("1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "a", "b", "c", "q"), key.WithHelp("1–9, 0, a–c, q", t(i18n.KeyHelpPick))),
		Choose:     key.NewBinding(key.WithKeys("up", "down"), key.WithHelp("↑/↓", t(i18n.KeyHelpChooseQuorum))),
		Revoke:     key.NewBinding(key.WithKeys("enter", "r"), key.WithHelp(enter, t(i18n.KeyHelpRevoke))),
		Other:      key.NewBinding(key.WithKeys("tab", "up", "down"), key.WithHelp("Tab", t(i18n.KeyHelpOtherField))),
		Insert:     key.NewBinding(key.WithKeys("f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9"), key.WithHelp("F1–F9", t(i18n.KeyHelpInsert))),
		Remove:     key.NewBinding(key.WithKeys("f12"), key.WithHelp("F12", t(i18n.KeyHelpRemove))),
		Instructor: key.NewBinding(key.WithKeys("ctrl+f"), key.WithHelp(t(i18n.KeyNameInstructor), t(i18n.KeyHelpInstructor))),
		// Type and Label only describe typing: their key is no key's name,
		// so they match nothing, but the help line shows them.
		Type:    key.NewBinding(key.WithKeys(typingKey), key.WithHelp(t(i18n.KeyNameTypePIN), t(i18n.KeyHelpTypePIN))),
		Label:   key.NewBinding(key.WithKeys(typingKey), key.WithHelp(t(i18n.KeyNameTypeLabel), t(i18n.KeyHelpTypeLabel))),
		QuitNow: key.NewBinding(key.WithKeys("esc"), key.WithHelp(esc, t(i18n.KeyHelpQuit))),
		Delete:  key.NewBinding(key.WithKeys("backspace"), key.WithHelp(bksp, t(i18n.KeyHelpDelete))),
	}
}

// with is b with another help text.
func with(b key.Binding, k, desc string) key.Binding {
	b.SetHelp(k, desc)
	return b
}

// helpWidth is how wide a help line may be: an 80x24 console's layout.
const helpWidth = 78

// helpLine renders a help line from bindings, cut to the console's width.
func helpLine(bindings ...key.Binding) string {
	h := help.New()
	h.ShortSeparator = " · "
	dim := lipgloss.NewStyle().Faint(true)
	h.Styles = help.Styles{ShortKey: dim, ShortDesc: dim, ShortSeparator: dim, Ellipsis: dim}
	h.SetWidth(helpWidth)
	return h.ShortHelpView(bindings)
}

// simKeys are the simulated reader's keys, naming the real deck size.
func (m *Model) simKeys() []key.Binding {
	if m.cfg.Sim == nil {
		return nil
	}
	k := m.env.keys
	out := []key.Binding{with(k.Insert, m.simKeysHelp(), k.Insert.Help().Desc), k.Remove}
	if m.cfg.Instructor != nil {
		out = append(out, k.Instructor)
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
