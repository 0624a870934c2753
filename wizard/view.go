package wizard

import (
	"fmt"
	"regexp"
	"strings"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

// Layout for an 80x24 console: the appliance console is plain text
// (docs/wizard.md).
const (
	padInner  = 16 // the reader's display is 2x16 characters
	padOuter  = padInner + 2
	sideWidth = 80 - padOuter - 3
	// menuColumn is the width of the main menu's left column.
	menuColumn = 38
	// consoleRows is the console's height.
	consoleRows = 24
)

var (
	styleTitle  = lipgloss.NewStyle().Bold(true)
	styleBanner = lipgloss.NewStyle().Bold(true).Reverse(true)
	styleDim    = lipgloss.NewStyle().Faint(true)
	stylePad    = lipgloss.NewStyle().Border(lipgloss.NormalBorder()).Width(padOuter)
	styleLevel  = map[level]lipgloss.Style{
		lvInfo:  lipgloss.NewStyle(),
		lvGood:  lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		lvWarn:  lipgloss.NewStyle().Foreground(lipgloss.Color("3")).Bold(true),
		lvError: lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
	}
)

// View renders the whole screen.
func (m *Model) View() tea.View {
	var b strings.Builder
	b.WriteString(m.header())
	b.WriteString("\n\n")
	if menu := m.instructorMenu(); menu != "" && m.screen != screenGone {
		b.WriteString(menu)
		v := tea.NewView(b.String())
		v.AltScreen = true
		return v
	}
	switch m.screen {
	case screenMenu:
		b.WriteString(m.menuView())
	case screenReader:
		b.WriteString(m.chooserView())
	case screenHSMPIN:
		b.WriteString(m.loginView())
	case screenSetup:
		b.WriteString(m.setupView())
	case screenActivity:
		if m.act != nil {
			p := m.act.view()
			b.WriteString(m.padView(p.pad, p.side))
		}
	case screenQuit:
		b.WriteString(m.quitView())
	case screenGone:
		b.WriteString(m.env.t(i18n.WizQuitting))
	}
	v := tea.NewView(b.String())
	v.AltScreen = true
	return v
}

// quitView asks whether to quit while a secret is held, or says that the
// wizard quits once the running step answers.
func (m *Model) quitView() string {
	t := m.env.t
	if m.quitting {
		wait := i18n.WizQuitWaitSecrets
		if m.quitLoss != "" && !m.quitShare {
			wait = i18n.WizQuitWaitKey
		} else if m.quitLoss != "" {
			wait = i18n.WizQuitWaitShare
		}
		return wrap(t(wait), 78) + "\n\n" + styleDim.Render(wrap(t(i18n.WizQuitAgain), 78))
	}
	next := i18n.WizQuitKeyNext
	if m.quitShare {
		next = i18n.WizQuitShareNext
	}
	return wrap(styleLevel[lvWarn].Render(t(i18n.WizQuitAsk))+" "+m.quitLoss, 78) + "\n\n" + wrap(t(next), 78)
}

// lineWidth is how wide a header line may be: the console's width, at
// least the 78 cells of an 80x24 console's layout.
func (m *Model) lineWidth() int { return max(78, m.width-2) }

func (m *Model) header() string {
	t := m.env.t
	w := m.lineWidth()
	var lines []string
	if m.cfg.Sim != nil {
		lines = append(lines, styleBanner.Render(fitWidth(" "+t(i18n.WizBannerSim)+" ", 78)))
	} else {
		lines = append(lines, styleTitle.Render("hsmcards")+" · "+t(i18n.WizBannerTitle))
	}
	var state string
	switch {
	case m.cfg.HSM == nil:
		state = t(i18n.WizHSMNotLoggedIn)
	case !m.hsmKnown:
		state = t(i18n.WizHSMAsking)
	case m.hsmInfo.err != nil:
		state = t(i18n.WizHSMCannotSay)
	case !m.hsmInfo.ok:
		state = t(i18n.WizHSMNoKey)
	default:
		state = t(i18n.WizHSMHolds{Label: safetext.Clean(m.hsmInfo.info.Label), KCV: kcvString(m.hsmInfo.info.KCV)})
	}
	lines = append(lines, fitWidth(t(i18n.WizHeaderHSM{Name: m.env.hsmName(), State: state}), w))
	lines = append(lines, fitWidth(m.readerLine(), w))
	if m.simSaid != "" {
		lines = append(lines, fitWidth(m.simSaid, w))
	}
	lines = append(lines, m.instructorStatus()...)
	if err := m.trailErr; err != nil {
		lines = append(lines, styleLevel[lvError].Render(fitWidth(t(i18n.WizTrailNotWritten{Details: safetext.Clean(err.Error())}), w)))
	}
	return strings.Join(lines, "\n")
}

// readerLine is the header line of the reader: its name and what is in it.
func (m *Model) readerLine() string {
	t := m.env.t
	if m.cfg.Reader == nil {
		return t(i18n.WizReaderNotChosen)
	}
	s := safetext.Clean(m.cfg.Reader.Name())
	if any(m.cfg.Reader) == any(m.cfg.Sim) {
		s = t(i18n.WizSimReaderName) // the simulated reader's own name is English
	}
	switch {
	case m.readerErr != nil:
		return t(i18n.WizReaderProblem{Name: s, Problem: classify(m.readerErr).says(m.env.p, 0)})
	case m.present && m.cfg.Sim != nil && m.simCard > 0:
		return t(i18n.WizReaderSimCard{Name: s, Card: m.simCard})
	case m.present:
		return t(i18n.WizReaderCard{Name: s})
	case m.cfg.Sim != nil:
		return t(i18n.WizReaderSimEmpty{Name: s, Keys: m.simKeysHelp(), Cards: m.deckSize})
	}
	return t(i18n.WizReaderEmpty{Name: s})
}

func (m *Model) menuView() string {
	t := m.env.t
	var b strings.Builder
	b.WriteString(styleTitle.Render(t(i18n.MenuTitle)) + "\n")
	for _, w := range m.cfg.Warnings {
		b.WriteString(styleLevel[lvWarn].Render(wrap(t(i18n.WizTagAttention{Text: w}), 78)) + "\n")
	}
	items := menuItems()
	var cols [2][]string
	group := i18n.ID("-")
	for i, it := range items {
		col := 1
		if menuLeft[it.group] {
			col = 0
		}
		if it.group != group {
			group = it.group
			if group != "" {
				cols[col] = append(cols[col], styleDim.Render(t(group)))
			}
		}
		cur := "  "
		if i == m.menu.cursor {
			cur = "> "
		}
		cols[col] = append(cols[col], fmt.Sprintf("%s%s  %s", cur, menuShortcut(i, len(items)), t(it.title)))
	}
	for i := range cols[0] {
		cols[0][i] = fitWidth(cols[0][i], menuColumn)
	}
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(cols[0], "\n"), "  ", strings.Join(cols[1], "\n")) + "\n")
	// The card set and the register's notes, below the entries.
	type styled struct {
		text  string
		style lipgloss.Style
	}
	var extra []styled
	add := func(text string, st lipgloss.Style) {
		for _, l := range strings.Split(wrap(text, 78), "\n") {
			extra = append(extra, styled{strings.TrimRight(l, " "), st})
		}
	}
	if line := cardSetLine(m.env.p, m.env.cardSets.reg, m.hsmLoaded()); line != "" {
		add("", styleLevel[lvInfo])
		add(line, styleLevel[lvInfo])
	} else if m.env.cardSets.regErr != nil {
		add("", styleLevel[lvInfo])
		add(t(i18n.WizTagAttention{Text: t(i18n.WizRegisterUnreadable{Cause: classify(m.env.cardSets.regErr).says(m.env.p, 0)})}), styleLevel[lvWarn])
	}
	for _, n := range m.env.cardSets.notes {
		add(noteWords(m.env.p, n), styleLevel[lvWarn])
	}
	// What the chosen entry does, on one line, and the keys.
	k := m.env.keys
	bottom := "\n" + styleDim.Render(fitWidth(t(items[m.menu.cursor].help), 78)) + "\n\n" + helpLine(k.Up, k.OK, k.Pick, k.Quit)
	// The menu fills an 80x24 console: what does not fit of the card set's
	// lines is cut (the notes are in the audit trail in full when an
	// operation of the card set's life starts).
	room := consoleRows - lineCount(m.header()) - 1 - lineCount(b.String()) - lineCount(bottom)
	if len(extra) > room {
		extra = extra[:max(room, 0)]
		if n := len(extra); n > 0 {
			extra[n-1].text = ansi.Truncate(extra[n-1].text, 77, "") + "…"
		}
	}
	for _, l := range extra {
		b.WriteString(l.style.Render(l.text) + "\n")
	}
	b.WriteString(bottom)
	return b.String()
}

// lineCount is how many lines s takes on screen: a string ending in a
// newline ends its last line.
func lineCount(s string) int {
	return strings.Count(strings.TrimSuffix(s, "\n"), "\n") + 1
}

func (m *Model) setupView() string {
	t := m.env.t
	st := m.setup
	var b strings.Builder
	b.WriteString(styleTitle.Render(t(i18n.MenuInstall)) + "\n\n")
	b.WriteString(wrap(t(i18n.WizSetupIntro), 78) + "\n\n")
	for i, s := range schemes {
		mark := "( )"
		if i == st.scheme {
			mark = "(•)"
		}
		fmt.Fprintf(&b, "  %s %s\n", mark, t(i18n.WizSetupScheme{K: s.K, N: s.N}))
	}
	if n := m.deckSize; n > 0 && n < schemes[st.scheme].N {
		b.WriteString(styleLevel[lvWarn].Render(wrap("  "+t(i18n.WizSetupFewCards{Cards: n, Need: schemes[st.scheme].N}), 78)) + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  %s %s\n", t(i18n.WizSetupLabel), st.label.View())
	if st.problem != "" {
		b.WriteString("\n" + styleLevel[lvWarn].Render(wrap(st.problem, 78)) + "\n")
	}
	if st.generating {
		b.WriteString("\n" + t(i18n.WizSetupGenerating) + "\n")
	}
	b.WriteString("\n")
	if st.confirm {
		h := m.hsmLoaded()
		b.WriteString(styleLevel[lvWarn].Render(wrap(t(i18n.WizSetupReplace{Label: safetext.Clean(h.info.Label), KCV: kcvString(h.info.KCV)}), 78)))
		b.WriteString("\n\n" + wrap(t(i18n.WizSetupReplaceNext), 78))
		return b.String()
	}
	k := m.env.keys
	b.WriteString(helpLine(k.Choose, k.Label, k.OK, k.Cancel))
	return b.String()
}

// padView lays out the drawn PIN pad (2x16 display, OK/Clear/Cancel keys) on
// the left and side, what the pad cannot show, on the right.
func (m *Model) padView(pad [2]string, side []string) string {
	box := stylePad.Render(fitWidth(pad[0], padInner) + "\n" + fitWidth(pad[1], padInner))
	left := box + "\n" + padKeyLabels(m.env.p)
	body := lipgloss.JoinHorizontal(lipgloss.Top, left, "   ", strings.Join(side, "\n"))
	// The pad's keys are labelled under it; the line says the rest.
	return body + "\n\n" + helpLine(append(m.simKeys(), m.env.keys.Quit)...)
}

// padKeyLabels are the labels under the drawn pad: its keys and the
// keyboard's keys that press them, each line indented by one cell.
func padKeyLabels(p *i18n.Printer) string {
	lines := strings.Split(p.T(i18n.WizPadKeyLabels), "\n")
	for i, l := range lines {
		lines[i] = " " + l
	}
	return strings.Join(lines, "\n")
}

// lines renders a notice for the side panel, in p's language.
func (n notice) lines(p *i18n.Printer) []string {
	var out []string
	if n.text != "" {
		text := n.text
		switch n.level {
		case lvGood:
			text = p.T(i18n.WizTagDone{Text: text})
		case lvWarn:
			text = p.T(i18n.WizTagAttention{Text: text})
		case lvError:
			text = p.T(i18n.WizTagProblem{Text: text})
		}
		out = append(out, styleLevel[n.level].Render(wrap(text, sideWidth)))
	}
	if n.next != "" {
		out = append(out, wrap(n.next, sideWidth))
	}
	if n.details != "" {
		out = append(out, styleDim.Render(wrap(p.T(i18n.WizDetails{Text: n.details}), sideWidth)))
	}
	return out
}

// sentences joins whole sentences (each said in full by the catalogs) into
// one text, leaving out empty ones: a translation never gets a sentence
// part to fit in.
func sentences(s ...string) string {
	var out []string
	for _, x := range s {
		if x != "" {
			out = append(out, x)
		}
	}
	return strings.Join(out, " ")
}

// wrap wraps s to w cells. The wrapper breaks lines at every hyphen, so a
// hyphen between digits (a date: 2026-01-12) is kept from it.
func wrap(s string, w int) string {
	s = digitHyphen.ReplaceAllString(s, "$1"+keptHyphen+"$2")
	return strings.ReplaceAll(lipgloss.NewStyle().Width(w).Render(s), keptHyphen, "-")
}

// digitHyphen is a hyphen between digits; keptHyphen stands in for it while
// wrapping (a non-breaking hyphen, one cell wide, never on screen).
var digitHyphen = regexp.MustCompile(`([0-9])-([0-9])`)

const keptHyphen = "\u2011"

// fitWidth cuts (with an ellipsis) or pads s to exactly w terminal cells:
// a CJK character takes two.
func fitWidth(s string, w int) string {
	if ansi.StringWidth(s) > w {
		s = ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", max(w-ansi.StringWidth(s), 0))
}
