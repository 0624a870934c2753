package wizard

import (
	"context"
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/hsm"
)

// maxTokenPIN bounds a typed token or SO PIN in bytes. The buffers are
// allocated at this capacity once and never grow, so appending a character
// leaves no stale copy of the PIN behind in memory the wizard cannot wipe.
const maxTokenPIN = 128

// login asks the HSM token's user PIN (and the user card token's SO PIN,
// when Config.SOPINFor is set) when Config.HSM is nil, and opens the HSM
// with Config.OpenHSM.
type login struct {
	pin, so []byte // typed so far; never shown, only counted
	field   int    // 0 the token PIN, 1 the SO PIN
	busy    bool   // OpenHSM runs
	problem string // why the last try failed, in plain words
	detail  string // what the HSM said, for the operator who knows the token
}

// hsmOpenedMsg reports the HSM opened with the PINs typed in the wizard.
type hsmOpenedMsg struct {
	h   hsm.HSM
	err error
}

func newLogin() login {
	return login{pin: make([]byte, 0, maxTokenPIN), so: make([]byte, 0, maxTokenPIN)}
}

// wipe clears both PIN buffers, whole capacity included.
func (l *login) wipe() {
	clear(l.pin[:cap(l.pin)])
	clear(l.so[:cap(l.so)])
	l.pin, l.so = l.pin[:0], l.so[:0]
}

// openHSMCmd opens the HSM and then wipes pin and soPIN, which it owns.
func openHSMCmd(open func(context.Context, []byte, []byte) (hsm.HSM, error), pin, soPIN []byte) tea.Cmd {
	return func() tea.Msg {
		defer clear(pin[:cap(pin)])
		defer clear(soPIN[:cap(soPIN)])
		if open == nil {
			return hsmOpenedMsg{err: errors.New("no way to open the HSM is configured")}
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		h, err := open(ctx, pin, soPIN)
		return hsmOpenedMsg{h: h, err: err}
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

// hsmName names the HSM for the header, also before it is open.
func (m *Model) hsmName() string {
	switch {
	case m.cfg.HSM != nil:
		return m.cfg.HSM.Name()
	case m.cfg.HSMName != "":
		return m.cfg.HSMName
	}
	return "not open"
}

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
	if k.String() == "esc" {
		l.wipe()
		return m.quit()
	}
	if l.busy {
		return nil
	}
	buf := &l.pin
	if l.field == 1 {
		buf = &l.so
	}
	switch k.String() {
	case "backspace":
		if len(*buf) > 0 {
			_, n := utf8.DecodeLastRune(*buf)
			clear((*buf)[len(*buf)-n:])
			*buf = (*buf)[:len(*buf)-n]
		}
	case "tab", "up", "down":
		if m.cfg.SOPINFor != "" {
			l.field = 1 - l.field
		}
	case "enter":
		if l.field == 0 && len(l.pin) == 0 {
			l.problem, l.detail = "Type the token's user PIN first.", ""
			return nil
		}
		if l.field == 0 && m.cfg.SOPINFor != "" {
			l.field = 1
			return nil
		}
		// The command owns the typed PINs from here and wipes them; the
		// screen starts over with empty buffers.
		pin, so := l.pin, l.so
		*l = newLogin()
		l.busy = true
		return openHSMCmd(m.cfg.OpenHSM, pin, so)
	default:
		for _, r := range k.Text {
			if !unicode.IsPrint(r) || len(*buf)+utf8.RuneLen(r) > maxTokenPIN {
				continue
			}
			*buf = utf8.AppendRune(*buf, r) // within capacity: no reallocation
		}
	}
	return nil
}

// hsmOpened starts using the HSM, or says why it did not open.
func (m *Model) hsmOpened(msg hsmOpenedMsg) tea.Cmd {
	m.login.busy = false
	if msg.err != nil {
		m.login.problem, m.login.detail = loginProblem(msg.err)
		return nil
	}
	m.cfg.HSM = msg.h
	if m.quitting {
		return nil // the HSM is kept for the caller to close; nothing more runs
	}
	m.screen = screenMenu
	return m.askHSMCmd()
}

// loginProblem says in plain words why the HSM did not open and what to do,
// and the token's own words when the wizard has none.
func loginProblem(err error) (text, details string) {
	p := classifyHSM(err)
	if p.cause == causeHSMFailed {
		return "The HSM could not be opened. Try again, or press Esc to quit.", p.details()
	}
	return strings.TrimSpace(p.says(0) + " " + p.advice()), p.details()
}

func (m *Model) loginView() string {
	l := m.login
	var b strings.Builder
	b.WriteString(styleTitle.Render("Log in to the HSM") + "\n\n")
	b.WriteString(wrap("The Backup Key goes into the "+m.hsmName()+". Type the token's user PIN; it is not shown, and it is never written to the screen, a log or the audit trail.", 78) + "\n\n")
	field := func(i int, name string, buf []byte) {
		cur := "  "
		if i == l.field && !l.busy {
			cur = "> "
		}
		// One star per character: the operator sees how much was typed,
		// never what.
		stars := strings.Repeat("*", utf8.RuneCount(buf))
		if i == l.field && !l.busy {
			stars += "_"
		}
		b.WriteString(cur + name + ": " + stars + "\n")
	}
	field(0, "Token user PIN", l.pin)
	if m.cfg.SOPINFor != "" {
		b.WriteString("\n" + wrap("To enroll and revoke slot user cards, also the SO PIN of the "+m.cfg.SOPINFor+"; leave it empty to only activate.", 78) + "\n")
		field(1, "SO PIN (may be empty)", l.so)
	}
	switch {
	case m.quitting:
		b.WriteString("\n" + wrap("Quitting as soon as the HSM answers; ctrl+c again quits at once.", 78) + "\n")
	case l.busy:
		b.WriteString("\n" + wrap("Logging in to the token…", 78) + "\n")
	case l.problem != "":
		b.WriteString("\n" + styleLevel[lvError].Render(wrap("Problem: "+l.problem, 78)) + "\n")
		if l.detail != "" {
			b.WriteString(styleDim.Render(wrap("Details: "+l.detail, 78)) + "\n")
		}
	}
	help := "type the PIN · Backspace delete · Enter OK · Esc quit"
	if m.cfg.SOPINFor != "" {
		help = "type the PIN · Backspace delete · Tab other field · Enter OK · Esc quit"
	}
	b.WriteString("\n" + styleDim.Render(help))
	return b.String()
}
