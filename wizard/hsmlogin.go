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
	problem string        // why the last try failed, in plain words
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
		l.problem = "There is no memory to take the PIN in; press Esc to quit."
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

// hsmName names the HSM for the header, also before it is open.
func (m *Model) hsmName() string {
	switch {
	case m.cfg.HSM != nil:
		return safetext.Clean(m.cfg.HSM.Name()) // a token's label, from outside
	case m.cfg.HSMName != "":
		return safetext.Clean(m.cfg.HSMName)
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
			l.problem, l.detail = "Type the token's user PIN first.", ""
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
	help := []key.Binding{keys.Type, keys.Delete, keys.OK, keys.QuitNow}
	if m.cfg.SOPINFor != "" {
		help = []key.Binding{keys.Type, keys.Delete, keys.Other, keys.OK, keys.QuitNow}
	}
	b.WriteString("\n" + helpLine(help...))
	return b.String()
}
