package wizard

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/secmem"
)

// maxTokenPIN bounds a typed token or SO PIN in bytes. The PINs are typed
// into secmem Fields of this capacity, allocated when the wizard starts:
// they never grow, so typing leaves no stale copy of a PIN behind, and they
// live outside the Go heap.
const maxTokenPIN = 128

// login asks the HSM token's user PIN (and the user card token's SO PIN,
// when Config.SOPINFor is set) when Config.HSM is nil, and opens the HSM
// with Config.OpenHSM.
type login struct {
	pin, so *secmem.Field // typed so far; never shown, only counted; nil while OpenHSM holds them
	field   int           // 0 the token PIN, 1 the SO PIN
	busy    bool          // OpenHSM runs
	problem i18n.Message  // why the last try failed, in plain words
	says    problem       // ... when the HSM said why (problem is nil then)
	detail  string        // what the HSM said, for the operator who knows the token
}

// hsmOpenedMsg reports the HSM opened with the PINs typed in the wizard,
// and brings their fields back, wiped.
type hsmOpenedMsg struct {
	h       hsm.HSM
	err     error
	pin, so *secmem.Field
}

func newLogin() login {
	var l login
	var err error
	if l.pin, err = secmem.NewField(maxTokenPIN); err == nil {
		l.so, err = secmem.NewField(maxTokenPIN)
	}
	if err != nil {
		l.problem = i18n.WizLoginNoMemory
	}
	return l
}

// wipe clears both PIN fields.
func (l *login) wipe() {
	for _, f := range []*secmem.Field{l.pin, l.so} {
		if f != nil {
			f.Clear()
		}
	}
}

// openHSMCmd opens the HSM with what was typed into pin and so, then wipes
// them and sends them back.
func openHSMCmd(open func(context.Context, []byte, []byte) (hsm.HSM, error), pin, so *secmem.Field) tea.Cmd {
	return func() tea.Msg {
		defer pin.Clear()
		defer so.Clear()
		if open == nil {
			return hsmOpenedMsg{err: errors.New("no way to open the HSM is configured"), pin: pin, so: so}
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		h, err := open(ctx, pin.Bytes(), so.Bytes())
		return hsmOpenedMsg{h: h, err: err, pin: pin, so: so}
	}
}

// askHSMCmd asks the HSM which Backup Key it holds, once it is open.
func (m *Model) askHSMCmd() tea.Cmd {
	if m.cfg.HSM == nil {
		return nil
	}
	return hsmInfoCmd(m.cfg.HSM)
}

// HSM is the HSM in use: Config.HSM, or the one opened in the wizard; nil
// until it is open.
func (m *Model) HSM() hsm.HSM { return m.cfg.HSM }

// afterReader is the screen that follows the reader chooser: the token PIN
// while the HSM is not open, else the menu.
func (m *Model) afterReader() screen {
	if m.cfg.HSM == nil {
		return screenHSMPIN
	}
	return screenMenu
}

func (m *Model) loginKey(k tea.KeyPressMsg) tea.Cmd {
	l := &m.login
	if key.Matches(k, keys.Cancel) {
		l.wipe()
		return m.quit()
	}
	if l.busy || l.pin == nil {
		return nil
	}
	f := l.pin
	if l.field == 1 {
		f = l.so
	}
	switch {
	case key.Matches(k, keys.Delete):
		if b := f.Bytes(); len(b) > 0 {
			_, n := utf8.DecodeLastRune(b)
			for range n {
				f.Backspace()
			}
		}
	case key.Matches(k, keys.Other):
		if m.cfg.SOPINFor != "" {
			l.field = 1 - l.field
		}
	case key.Matches(k, keys.OK):
		if l.field == 0 && l.pin.Len() == 0 {
			l.problem, l.says, l.detail = i18n.WizLoginPINFirst, problem{}, ""
			return nil
		}
		if l.field == 0 && m.cfg.SOPINFor != "" {
			l.field = 1
			return nil
		}
		// The command holds the typed PINs from here, wipes them and sends
		// the fields back; the screen starts over empty.
		pin, so := l.pin, l.so
		*l = login{busy: true}
		return openHSMCmd(m.cfg.OpenHSM, pin, so)
	default:
		for _, r := range k.Text {
			if !unicode.IsPrint(r) || f.Len()+utf8.RuneLen(r) > f.Cap() {
				continue
			}
			var enc [utf8.UTFMax]byte
			for _, c := range enc[:utf8.EncodeRune(enc[:], r)] {
				f.Append(c)
			}
			secmem.Wipe(enc[:])
		}
	}
	return nil
}

// hsmOpened starts using the HSM, or says why it did not open.
func (m *Model) hsmOpened(msg hsmOpenedMsg) tea.Cmd {
	m.login.busy = false
	m.login.pin, m.login.so = msg.pin, msg.so
	if msg.err != nil {
		m.login.problem, m.login.says, m.login.detail = nil, classifyHSM(msg.err), ""
		if m.login.says.cause == causeHSMFailed {
			m.login.problem = i18n.WizLoginFailed
		}
		m.login.detail = m.login.says.details()
		return nil
	}
	m.cfg.HSM = msg.h
	if m.quitting {
		return nil // the HSM is kept for the caller to close; nothing more runs
	}
	m.screen = screenMenu
	return m.askHSMCmd()
}

// problemText says in plain words why the HSM did not open and what to do.
func (l login) problemText(p *i18n.Printer) string {
	if l.problem != nil {
		return p.T(l.problem)
	}
	if l.says.cause == causeNone {
		return ""
	}
	return sentences(l.says.says(p, 0), l.says.advice(p))
}

func (m *Model) loginView() string {
	t := m.env.t
	l := m.login
	var b strings.Builder
	b.WriteString(styleTitle.Render(t(i18n.WizLoginTitle)) + "\n\n")
	b.WriteString(wrap(t(i18n.WizLoginIntro{HSM: m.env.hsmName()}), 78) + "\n\n")
	field := func(i int, name string, buf *secmem.Field) {
		cur := "  "
		if i == l.field && !l.busy {
			cur = "> "
		}
		// One star per character: the operator sees how much was typed,
		// never what.
		typed := 0
		if buf != nil {
			typed = utf8.RuneCount(buf.Bytes())
		}
		stars := strings.Repeat("*", typed)
		if i == l.field && !l.busy {
			stars += "_"
		}
		b.WriteString(cur + name + ": " + stars + "\n")
	}
	field(0, t(i18n.WizLoginTokenPIN), l.pin)
	if m.cfg.SOPINFor != "" {
		b.WriteString("\n" + wrap(t(i18n.WizLoginSOIntro{Token: safetext.Clean(m.cfg.SOPINFor)}), 78) + "\n")
		field(1, t(i18n.WizLoginSOPIN), l.so)
	}
	problem := l.problemText(m.env.p)
	switch {
	case m.quitting:
		b.WriteString("\n" + wrap(t(i18n.WizLoginQuitting), 78) + "\n")
	case l.busy:
		b.WriteString("\n" + wrap(t(i18n.WizLoggingIn), 78) + "\n")
	case problem != "":
		b.WriteString("\n" + styleLevel[lvError].Render(wrap(t(i18n.WizTagProblem{Text: problem}), 78)) + "\n")
		if l.detail != "" {
			b.WriteString(styleDim.Render(wrap(t(i18n.WizDetails{Text: l.detail}), 78)) + "\n")
		}
	}
	k := m.env.keys
	help := []key.Binding{k.Type, k.Delete, k.OK, k.QuitNow}
	if m.cfg.SOPINFor != "" {
		help = []key.Binding{k.Type, k.Delete, k.Other, k.OK, k.QuitNow}
	}
	b.WriteString("\n" + helpLine(help...))
	return b.String()
}
