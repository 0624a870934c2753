package wizard

import (
	"context"
	"fmt"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

// chooser lets the operator pick a reader when several are connected
// (--reader pcsc with more than one reader).
type chooser struct {
	names  []string
	cursor int
	err    error
	busy   bool
}

// readerOpenedMsg reports the reader the operator chose, opened.
type readerOpenedMsg struct {
	r   cardio.Reader
	err error
}

func openReaderCmd(open func(context.Context, string) (cardio.Reader, error), name string) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		r, err := open(ctx, name)
		return readerOpenedMsg{r: r, err: err}
	}
}

func (m *Model) chooserKey(k tea.KeyPressMsg) tea.Cmd {
	ch := &m.chooser
	if ch.busy {
		return nil
	}
	s := k.String()
	switch {
	case key.Matches(k, keys.Up):
		ch.cursor = (ch.cursor + len(ch.names) - 1) % len(ch.names)
	case key.Matches(k, keys.Down, keys.Next):
		ch.cursor = (ch.cursor + 1) % len(ch.names)
	case key.Matches(k, keys.OK):
		ch.busy, ch.err = true, nil
		return openReaderCmd(m.cfg.OpenReader, ch.names[ch.cursor])
	case key.Matches(k, keys.Cancel):
		return m.quit()
	default:
		if len(s) == 1 && s[0] >= '1' && int(s[0]-'0') <= len(ch.names) {
			ch.cursor = int(s[0] - '1')
		}
	}
	return nil
}

// readerOpened starts using the chosen reader.
func (m *Model) readerOpened(msg readerOpenedMsg) tea.Cmd {
	m.chooser.busy = false
	if msg.err != nil {
		m.chooser.err = msg.err
		return nil
	}
	m.cfg.Reader = msg.r
	m.screen = screenMenu
	return presentCmd(m.cfg.Reader)
}

func (m *Model) chooserView() string {
	ch := m.chooser
	var b strings.Builder
	t := m.env.t
	b.WriteString(styleTitle.Render(t(i18n.WizChooseReader)) + "\n\n")
	b.WriteString(wrap(t(i18n.WizChooseReaderIntro), 78) + "\n\n")
	for i, n := range ch.names {
		cur := "  "
		if i == ch.cursor {
			cur = "> "
		}
		// A reader's name comes from its driver: cleaned before it is drawn.
		fmt.Fprintf(&b, "%s%d  %s\n", cur, i+1, fitWidth(safetext.Clean(n), 70))
	}
	if ch.err != nil {
		n := m.env.problemNotice(classify(ch.err), 0, t(i18n.WizChooseReaderAgain))
		b.WriteString("\n" + styleLevel[lvError].Render(wrap(t(i18n.WizTagProblem{Text: n.text}), 78)) + "\n" + wrap(n.next, 78) + "\n")
		if n.details != "" {
			b.WriteString(styleDim.Render(wrap(t(i18n.WizDetails{Text: n.details}), 78)) + "\n")
		}
	}
	k := m.env.keys
	b.WriteString("\n" + helpLine(k.Up, k.OK, k.QuitNow))
	return b.String()
}
