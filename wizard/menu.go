package wizard

import (
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// menuItem is one entry of the main menu: its group, title and help, said
// in the operator's language when drawn.
type menuItem struct {
	group, title, help i18n.ID
	start              func(m *Model) tea.Cmd
}

// menu is the main menu's state: the entry chosen.
type menu struct {
	cursor int
}

// Menu groups: the appliance manual's two card functions, the card set's
// life (docs/lifecycle.md), and what works on any card. The menu has two
// columns (an 80x24 console holds no more lines): the Backup Key and its
// card set on the left, the rest on the right.
const (
	groupBackupKey = i18n.MenuGroupBackupKey
	groupCardSet   = i18n.MenuGroupCardSet
	groupCard      = i18n.MenuGroupCard
	groupPKCS11    = i18n.MenuGroupPKCS11
)

// menuLeft are the groups of the menu's left column.
var menuLeft = map[i18n.ID]bool{groupBackupKey: true, groupCardSet: true}

func menuItems() []menuItem {
	return []menuItem{
		{groupBackupKey, i18n.MenuInstall, i18n.MenuInstallHelp,
			func(m *Model) tea.Cmd { m.setup = newSetup(); m.screen = screenSetup; return nil }},
		{groupBackupKey, i18n.MenuLoad, i18n.MenuLoadHelp,
			func(m *Model) tea.Cmd { return m.start(newLoad(m.env), nil) }},
		{groupBackupKey, i18n.MenuCopy, i18n.MenuCopyHelp,
			func(m *Model) tea.Cmd { return m.start(newCopy(m.env), nil) }},
		{groupBackupKey, i18n.MenuChangeSharePIN, i18n.MenuChangeSharePINHelp,
			func(m *Model) tea.Cmd { return m.start(newPINChange(m.env, tcos.SlotBackupKey), nil) }},
		{groupCardSet, i18n.MenuVerify, i18n.MenuVerifyHelp,
			func(m *Model) tea.Cmd { return m.start(newVerify(m.env)) }},
		{groupCardSet, i18n.MenuReissue, i18n.MenuReissueHelp,
			func(m *Model) tea.Cmd { return m.start(newReissue(m.env)) }},
		{groupCardSet, i18n.MenuErase, i18n.MenuEraseHelp,
			func(m *Model) tea.Cmd { return m.start(newErase(m.env)) }},
		{groupCard, i18n.MenuInspect, i18n.MenuInspectHelp,
			func(m *Model) tea.Cmd { return m.start(newInspect(m.env), nil) }},
		{groupPKCS11, i18n.MenuEnroll, i18n.MenuEnrollHelp,
			func(m *Model) tea.Cmd { return m.startSlotCard(slotEnroll) }},
		{groupPKCS11, i18n.MenuActivate, i18n.MenuActivateHelp,
			func(m *Model) tea.Cmd { return m.startSlotCard(slotActivate) }},
		{groupPKCS11, i18n.MenuSlotCards, i18n.MenuSlotCardsHelp,
			func(m *Model) tea.Cmd { return m.startSlotList() }},
		{groupPKCS11, i18n.MenuChangeSlotPIN, i18n.MenuChangeSlotPINHelp,
			func(m *Model) tea.Cmd { return m.start(newPINChange(m.env, tcos.SlotPKCS11), nil) }},
		{groupPKCS11, i18n.MenuCopySlotCard, i18n.MenuCopySlotCardHelp,
			func(m *Model) tea.Cmd { return m.start(newPKCS11CopyRefusal(m.env), nil) }},
		{"", i18n.MenuQuit, i18n.MenuQuitHelp, func(m *Model) tea.Cmd { return m.quit() }},
	}
}

// menuShortcut is the key that picks item i: 1–9, 0, then a, b, c…, and q
// for Quit (j and k move the cursor, so letters stop before them).
func menuShortcut(i, n int) string {
	switch {
	case i == n-1:
		return "q"
	case i < 9:
		return string(rune('1' + i))
	case i == 9:
		return "0"
	case i-10 < int('j'-'a'):
		return string(rune('a' + i - 10))
	}
	return " "
}

func (m *Model) menuKey(k tea.KeyPressMsg) tea.Cmd {
	items := menuItems()
	switch {
	case key.Matches(k, keys.Up):
		m.menu.cursor = (m.menu.cursor + len(items) - 1) % len(items)
	case key.Matches(k, keys.Down, keys.Next):
		m.menu.cursor = (m.menu.cursor + 1) % len(items)
	case key.Matches(k, keys.OK):
		return items[m.menu.cursor].start(m)
	case key.Matches(k, keys.Pick):
		for i := range items {
			if k.String() == menuShortcut(i, len(items)) {
				m.menu.cursor = i
			}
		}
	}
	return nil
}

// setup asks for the quorum and the label of a new Backup Key. The label
// field has the focus from the start (typing goes there, a space too);
// ↑/↓ choose the quorum.
type setup struct {
	scheme     int // index into schemes
	label      textinput.Model
	confirm    bool // the HSM holds a key: replace it?
	problem    string
	generating bool // the key is being generated
}

// schemes are the appliance manual's two quorum choices.
var schemes = []quorum.Scheme{quorum.TwoOfThree, quorum.ThreeOfFive}

// labelRule says what a label may be (quorum.ValidateLabel's rule).
var labelRule = i18n.WizSetupLabelRule{Max: quorum.MaxLabelLen}

// labelWidth is the label field's width on screen, in cells.
const labelWidth = 36

func newSetup() setup {
	return setup{label: newLabelInput(quorum.MaxLabelLen)} // runes: the one home of the bound
}

// newLabelInput is a focused text field for a label of up to limit
// characters.
func newLabelInput(limit int) textinput.Model {
	ti := textinput.New()
	ti.Prompt = ""
	ti.CharLimit = limit
	ti.SetWidth(min(labelWidth, limit+1))
	ti.KeyMap.Paste.SetEnabled(false) // no clipboard on the console; a terminal's paste still works
	ti.KeyMap.AcceptSuggestion.SetEnabled(false)
	st := ti.Styles()
	st.Cursor.Blink = false // no ticking while the operator thinks
	ti.SetStyles(st)
	ti.Focus()
	return ti
}

func (m *Model) setupKey(k tea.KeyPressMsg) tea.Cmd {
	st := &m.setup
	if st.generating {
		return nil
	}
	if st.confirm {
		switch {
		case key.Matches(k, keys.OK):
			return m.startInstall(true)
		case key.Matches(k, keys.Cancel):
			m.screen = screenMenu
		}
		return nil
	}
	switch {
	case key.Matches(k, keys.Choose):
		st.scheme = 1 - st.scheme
		return nil
	case key.Matches(k, keys.Cancel):
		m.screen = screenMenu
		return nil
	case key.Matches(k, keys.OK):
		label := strings.TrimSpace(st.label.Value())
		switch {
		case label == "":
			st.problem = m.env.t(i18n.WizSetupNoLabel)
			return nil
		case quorum.ValidateLabel(label) != nil:
			st.problem = m.env.t(labelRule)
			return nil
		}
		st.problem = ""
		if m.hsmLoaded() != nil {
			st.confirm = true
			return nil
		}
		return m.startInstall(false)
	}
	var cmd tea.Cmd
	st.label, cmd = st.label.Update(k)
	return cmd
}

// startInstall has the key generated, then starts the ceremony. replace says
// the operator already agreed to replace the HSM's current Backup Key.
func (m *Model) startInstall(replace bool) tea.Cmd {
	label := strings.TrimSpace(m.setup.label.Value())
	m.setup.generating = true
	return generateCmd(label, schemes[m.setup.scheme], m.env.now(), replace)
}

// keyMadeMsg: a new Backup Key was generated and split into share records.
type keyMadeMsg struct {
	key     *quorum.Key
	records []*quorum.Record
	err     error
	label   string
	scheme  quorum.Scheme
	replace bool
}

// generateCmd generates a Backup Key and its share records.
func generateCmd(label string, s quorum.Scheme, now time.Time, replace bool) tea.Cmd {
	return func() tea.Msg {
		key, recs, err := quorum.Generate(label, s, now)
		return keyMadeMsg{key: key, records: recs, err: err, label: label, scheme: s, replace: replace}
	}
}

// keyMade starts the install with the generated key, or wipes it when the
// operator has left the setup screen meanwhile.
func (m *Model) keyMade(msg keyMadeMsg) tea.Cmd {
	m.setup.generating = false
	if msg.err != nil {
		m.setup.problem = m.env.t(labelRule)
		return nil
	}
	if m.screen != screenSetup {
		msg.key.Wipe()
		for _, r := range msg.records {
			r.Wipe()
		}
		return nil
	}
	return m.start(newInstall(m.env, msg), nil)
}

// startSlotCard starts enrolling or activating, when the HSM has a slot
// for user cards.
func (m *Model) startSlotCard(op slotOp) tea.Cmd {
	slot, ok := hsm.UserSlotOf(m.cfg.HSM)
	if !ok {
		title := i18n.MenuEnroll
		if op == slotActivate {
			title = i18n.MenuActivate
		}
		return m.start(noSlotOp(m.env, title), nil)
	}
	return m.start(newSlotCard(m.env, op, slot))
}

// startSlotList lists the slot's user cards.
func (m *Model) startSlotList() tea.Cmd {
	slot, ok := hsm.UserSlotOf(m.cfg.HSM)
	if !ok {
		return m.start(noSlotOp(m.env, i18n.MenuSlotCards), nil)
	}
	return m.start(newSlotList(m.env, slot))
}

// start makes a the running activity; cmd is its first command.
func (m *Model) start(a activity, cmd tea.Cmd) tea.Cmd {
	m.act = a
	m.screen = screenActivity
	return cmd
}

// hsmLoaded is the HSM's current Backup Key, or nil.
func (m *Model) hsmLoaded() *hsmInfoMsg {
	if m.hsmKnown && m.hsmInfo.ok && m.hsmInfo.err == nil {
		h := m.hsmInfo
		return &h
	}
	return nil
}
