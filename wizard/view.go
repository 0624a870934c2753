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
	levelTag = map[level]string{lvInfo: "", lvGood: "Done: ", lvWarn: "Attention: ", lvError: "Problem: "}
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
		b.WriteString("Secrets wiped from memory. Quitting…")
	}
	v := tea.NewView(b.String())
	v.AltScreen = true
	return v
}

// quitView asks whether to quit while a secret is held, or says that the
// wizard quits once the running step answers.
func (m *Model) quitView() string {
	if m.quitting {
		what := "Secrets in memory are wiped then."
		if m.quitLoss != "" && !m.quitShare {
			what = "The key is wiped from memory then."
		} else if m.quitLoss != "" {
			what = "The share is wiped from memory then."
		}
		return wrap("Quitting as soon as the running step ends: waiting for the card (or the HSM) to answer. "+what, 78) +
			"\n\n" + styleDim.Render(wrap("ctrl+c again quits at once, without waiting.", 78))
	}
	next := "Press OK (Enter) to quit and wipe the key from memory, or Cancel (Esc) to go back."
	if m.quitShare {
		next = "Press OK (Enter) to quit and wipe the share from memory, or Cancel (Esc) to go back."
	}
	return wrap(styleLevel[lvWarn].Render("Quit now?")+" "+m.quitLoss, 78) + "\n\n" + wrap(next, 78)
}

// lineWidth is how wide a header line may be: the console's width, at
// least the 78 cells of an 80x24 console's layout.
func (m *Model) lineWidth() int { return max(78, m.width-2) }

func (m *Model) header() string {
	w := m.lineWidth()
	var lines []string
	if m.cfg.Sim != nil {
		lines = append(lines, styleBanner.Render(fitWidth(" hsmcards · SIMULATION · simulated reader and cards, for training only ", 78)))
	} else {
		lines = append(lines, styleTitle.Render("hsmcards")+" · HSM appliance smart cards")
	}
	hsmLine := "HSM: " + m.hsmName() + " · "
	switch {
	case m.cfg.HSM == nil:
		hsmLine += "not logged in"
	case !m.hsmKnown:
		hsmLine += "asking…"
	case m.hsmInfo.err != nil:
		hsmLine += "cannot say which Backup Key it holds"
	case !m.hsmInfo.ok:
		hsmLine += "no Backup Key loaded"
	default:
		hsmLine += fmt.Sprintf("Backup Key %q, KCV %s", safetext.Clean(m.hsmInfo.info.Label), kcvString(m.hsmInfo.info.KCV))
	}
	lines = append(lines, fitWidth(hsmLine, w))
	lines = append(lines, fitWidth("Reader: "+m.readerLine(), w))
	if m.simSaid != "" {
		lines = append(lines, fitWidth(m.simSaid, w))
	}
	lines = append(lines, m.instructorStatus()...)
	if err := m.trailErr; err != nil {
		lines = append(lines, styleLevel[lvError].Render(fitWidth("Audit trail: not written (details: "+safetext.Clean(err.Error())+")", w)))
	}
	return strings.Join(lines, "\n")
}

func (m *Model) readerLine() string {
	if m.cfg.Reader == nil {
		return "not chosen yet"
	}
	s := safetext.Clean(m.cfg.Reader.Name())
	switch {
	case m.readerErr != nil:
		return s + " · " + classify(m.readerErr).says(0)
	case m.present && m.cfg.Sim != nil && m.simCard > 0:
		return fmt.Sprintf("%s · simulated card %d inserted (F12 takes it out)", s, m.simCard)
	case m.present:
		return s + " · card inserted"
	case m.cfg.Sim != nil:
		return fmt.Sprintf("%s · empty (%s insert simulated card 1–%d)", s, m.simKeysHelp(), m.deckSize)
	}
	return s + " · empty"
}

func (m *Model) menuView() string {
	var b strings.Builder
	b.WriteString(styleTitle.Render(m.env.t(i18n.MenuTitle)) + "\n")
	for _, w := range m.cfg.Warnings {
		b.WriteString(styleLevel[lvWarn].Render(wrap("Attention: "+w, 78)) + "\n")
	}
	items := menuItems()
	var cols [2][]string
	group := "-"
	for i, it := range items {
		col := 1
		if menuLeft[it.group] {
			col = 0
		}
		if it.group != group {
			group = it.group
			if group != "" {
				cols[col] = append(cols[col], styleDim.Render(group))
			}
		}
		cur := "  "
		if i == m.menu.cursor {
			cur = "> "
		}
		cols[col] = append(cols[col], fmt.Sprintf("%s%s  %s", cur, menuShortcut(i, len(items)), it.title))
	}
	for i := range cols[0] {
		cols[0][i] = fitWidth(cols[0][i], menuColumn)
	}
	b.WriteString(lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(cols[0], "\n"), "  ", strings.Join(cols[1], "\n")) + "\n")
	if line := cardSetLine(m.env.cardSets.reg, m.hsmLoaded()); line != "" {
		b.WriteString("\n" + wrap(line, 78) + "\n")
	} else if m.env.cardSets.regErr != nil {
		b.WriteString("\n" + styleLevel[lvWarn].Render(wrap("Attention: the HSM's record of the card sets cannot be read: "+classify(m.env.cardSets.regErr).says(0), 78)) + "\n")
	}
	if notes := m.env.cardSets.notes; len(notes) > 0 {
		b.WriteString(styleLevel[lvWarn].Render(strings.Join(notesLines(notes, 78), "\n")) + "\n")
	}
	// What the chosen entry does, on one line: the menu fills an 80x24
	// console.
	b.WriteString("\n" + styleDim.Render(fitWidth(items[m.menu.cursor].help, 78)) + "\n")
	b.WriteString("\n" + helpLine(keys.Up, keys.OK, keys.Pick, keys.Quit))
	return b.String()
}

func (m *Model) setupView() string {
	st := m.setup
	var b strings.Builder
	b.WriteString(styleTitle.Render("Install Backup Key") + "\n\n")
	b.WriteString(wrap("A new 32-byte AES Backup Key is generated in memory and split with Shamir's secret sharing: any k of the n cards rebuild it. Any Backup Key share already on the cards you use is overwritten (you are asked first).", 78) + "\n\n")
	for i, s := range schemes {
		mark := "( )"
		if i == st.scheme {
			mark = "(•)"
		}
		fmt.Fprintf(&b, "  %s %d out of %d\n", mark, s.K, s.N)
	}
	if n := m.deckSize; n > 0 && n < schemes[st.scheme].N {
		b.WriteString(styleLevel[lvWarn].Render(wrap(fmt.Sprintf("  Attention: the simulated deck has %d cards, fewer than the %d this quorum writes; start hsmcards with --sim-cards %d for more.",
			n, schemes[st.scheme].N, schemes[st.scheme].N), 78)) + "\n")
	}
	b.WriteString("\n")
	fmt.Fprintf(&b, "  Label (appliance or cluster name): %s\n", st.label.View())
	if st.problem != "" {
		b.WriteString("\n" + styleLevel[lvWarn].Render(wrap(st.problem, 78)) + "\n")
	}
	if st.generating {
		b.WriteString("\nGenerating the Backup Key…\n")
	}
	b.WriteString("\n")
	if st.confirm {
		h := m.hsmLoaded()
		b.WriteString(styleLevel[lvWarn].Render(wrap(fmt.Sprintf(
			"The HSM already holds Backup Key %q (KCV %s). A new key replaces it when it is read back, and every backup encrypted with the old key can then no longer be restored on this HSM.",
			safetext.Clean(h.info.Label), kcvString(h.info.KCV)), 78)))
		b.WriteString("\n\n" + wrap("Press OK (Enter) to generate a new key anyway, or Cancel (Esc).", 78))
		return b.String()
	}
	b.WriteString(helpLine(keys.Choose, keys.Label, keys.OK, keys.Cancel))
	return b.String()
}

// padView lays out the drawn PIN pad (2x16 display, OK/Clear/Cancel keys) on
// the left and side, what the pad cannot show, on the right.
func (m *Model) padView(pad [2]string, side []string) string {
	box := stylePad.Render(fitWidth(pad[0], padInner) + "\n" + fitWidth(pad[1], padInner))
	left := box + "\n OK   Clear Cancel\n Enter Bksp  Esc"
	body := lipgloss.JoinHorizontal(lipgloss.Top, left, "   ", strings.Join(side, "\n"))
	// The pad's keys are labelled under it; the line says the rest.
	return body + "\n\n" + helpLine(append(m.simKeys(), keys.Quit)...)
}

// lines renders a notice for the side panel.
func (n notice) lines() []string {
	var out []string
	if n.text != "" {
		out = append(out, styleLevel[n.level].Render(wrap(levelTag[n.level]+n.text, sideWidth)))
	}
	if n.next != "" {
		out = append(out, wrap(n.next, sideWidth))
	}
	if n.details != "" {
		out = append(out, styleDim.Render(wrap("Details: "+n.details, sideWidth)))
	}
	return out
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
