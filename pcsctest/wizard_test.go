//go:build pcsc

package pcsctest

import (
	"context"
	"fmt"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/wizard"
)

// driver runs the wizard at the Update level on the real PC/SC stack: every
// tea.Cmd runs at once and its message goes back in, as the program would.
type driver struct {
	t *testing.T
	m tea.Model
}

func (d *driver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	default:
		var next tea.Cmd
		d.m, next = d.m.Update(msg)
		d.run(next)
	}
}

// keys presses Enter/Esc by name, anything else as typed characters.
func (d *driver) keys(ks ...string) {
	for _, k := range ks {
		switch k {
		case "enter":
			d.press(tea.KeyPressMsg{Code: tea.KeyEnter})
		case "esc":
			d.press(tea.KeyPressMsg{Code: tea.KeyEscape})
		default:
			for _, c := range k {
				d.press(tea.KeyPressMsg{Code: c, Text: string(c)})
			}
		}
	}
}

func (d *driver) press(k tea.KeyPressMsg) {
	var cmd tea.Cmd
	d.m, cmd = d.m.Update(k)
	d.run(cmd)
}

func (d *driver) expect(want string) {
	d.t.Helper()
	screen := ansi.Strip(d.m.View().Content)
	if !strings.Contains(strings.Join(strings.Fields(screen), " "), want) {
		d.t.Fatalf("screen lacks %q:\n%s", want, screen)
	}
}

// TestWizardInstallOverPCSC is the wizard's 2-of-3 Install Backup Key through
// ebfe/scard → pcscd → vpcd → simulated cards, card 2 pulled while its share
// is written: the wizard says so, the same card goes back in and is written
// again, and the key is read back from cards 3 and 1.
func TestWizardInstallOverPCSC(t *testing.T) {
	r := openReader(t)
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	d := &driver{t: t, m: wizard.New(wizard.Config{Reader: r, HSM: h})}
	d.run(d.m.Init())
	cards := []*simcard.Card{simcard.New(serial(41)), simcard.New(serial(42)), simcard.New(serial(43))}

	d.keys("1", "enter", "enter", "pcsc-wizard", "enter") // Install, 2 of 3, label
	d.expect("Write New Key")
	d.keys("enter")

	in := waitIn(t, r, cards[0])
	d.keys("enter", "123456", "enter")
	d.expect("Share 1 written")
	waitOut(t, r, in)

	// Card 2 is pulled as its share is written.
	pullCtx, pull := context.WithCancel(context.Background())
	flaky := &pullOnWrite{Card: cards[1], pull: pull}
	flaky.armed.Store(true)
	in = insertUntil(t, pullCtx, pull, flaky)
	if err := r.WaitForCard(within(t, stepTimeout)); err != nil {
		t.Fatal(err)
	}
	d.keys("enter", "123456", "enter")
	d.expect("The share was not written completely")
	d.expect("Insert 2. card")
	waitOut(t, r, in)
	in = waitIn(t, r, cards[1])
	d.keys("enter", "123456", "enter")
	if strings.Contains(ansi.Strip(d.m.View().Content), "Overwrite card?") {
		d.expect("already holds a share of this new key") // the write landed before the pull
		d.keys("enter")
	}
	d.expect("Share 2 written")
	waitOut(t, r, in)

	in = waitIn(t, r, cards[2])
	d.keys("enter", "123456", "enter")
	d.expect("All 3 shares are written")
	d.keys("enter")
	d.keys("enter", "123456", "enter") // card 3, still in the reader, is read first
	d.expect("share 1 of the 2 needed")
	waitOut(t, r, in)
	in = waitIn(t, r, cards[0])
	d.keys("enter", "123456", "enter")
	d.expect("loaded into the simulated HSM")
	waitOut(t, r, in)

	info, ok, err := h.BackupKey(context.Background())
	if err != nil || !ok || info.Label != "pcsc-wizard" {
		t.Fatalf("HSM: %+v %v %v", info, ok, err)
	}
	d.expect(fmt.Sprintf("KCV %X", info.KCV[:]))
}
