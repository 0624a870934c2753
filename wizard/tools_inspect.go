package wizard

import (
	"errors"
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// inspectTool shows what a card is: its serial, whether it is a TCOS 3.0 card
// with the appliance profile, each slot's PIN state (from the status query,
// which spends no try) and, only after the Backup Key PIN, what its share
// record says — never the share itself.
type inspectTool struct {
	toolBase
	rep *probeMsg // the latest card's answers, nil before one
	set *quorum.KeySet
	rec string // what the share slot holds, once read
}

func newInspectTool(m *Model) *inspectTool {
	t := &inspectTool{}
	t.init(m, t, "Inspect a card")
	t.op, t.slot = audit.OpInspect, audit.SlotBackupKey
	t.setInsert("Insert card", "insert the card and press OK", "Insert the card to inspect and press OK.")
	t.note = notice{lvInfo, "Shows the card's serial number, whether it is an appliance card, and the PIN state of each slot, without spending a PIN try. The share's details need the Backup Key PIN.",
		t.insertHint}
	t.toInsert()
	return t
}

func (t *inspectTool) connect() tea.Cmd {
	t.rep, t.set, t.rec = nil, nil, ""
	return probeCmd(t.ctx, t.cfg.Reader, t.cfg.APDULog, t.cfg.PINTimeout)
}

func (t *inspectTool) holdsKey() bool      { return false }
func (t *inspectTool) lossWarning() string { return "" }
func (t *inspectTool) abandon() tea.Cmd    { return t.endCard() }

// answer: OK asks the Backup Key PIN to show the share's details.
func (t *inspectTool) answer(yes bool) tea.Cmd {
	if yes {
		return t.askVerify()
	}
	t.done("The share's details were not read.")
	return t.endCard()
}

func (t *inspectTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case probeMsg:
		t.busy = ""
		return t.probed(msg)
	case pinDoneMsg:
		t.busy = ""
		if errors.Is(msg.err, tcos.ErrBlocked) {
			t.rep.slots[0] = tcos.PINStatus{Blocked: true}
		}
		if cmd, done := t.pinFailed(msg.err, tcos.SlotBackupKey, t.askVerify); done {
			if t.oc != nil {
				t.rep.slots[0] = t.oc.status
			}
			return cmd
		}
		t.shareRead(msg.rec, msg.recErr)
		return t.endCard()
	}
	return nil
}

func (t *inspectTool) probed(msg probeMsg) tea.Cmd {
	if msg.err != nil && !errors.Is(msg.err, tcos.ErrForeignCard) {
		t.note = describe(msg.err, t.insertHint)
		t.toInsert()
		return nil
	}
	t.rep = &msg
	t.record(audit.StepIdentify, serialOf(msg.oc), outcomeOf(msg.err), errText(msg.err), nil)
	switch {
	case msg.err != nil:
		t.done("This card is not an appliance smart card. Nothing was written to it.")
		return nil
	case msg.slotErr[0] != nil:
		t.done("This card lacks the Backup Key share slot; it holds no share.")
		return nil
	case msg.slots[0].Blocked:
		t.done("The Backup Key PIN is blocked: the share's details cannot be read.")
		return nil
	}
	t.oc = msg.oc
	t.step = tConfirm
	t.expect(t.cfg.InsertTimeout, "answer OK or Cancel")
	t.note = notice{lvInfo, "The PIN states were read with the status query only: no PIN try was spent.",
		"Press OK to enter the Backup Key PIN and show the share's details, or Cancel to finish."}
	return nil
}

// shareRead keeps what the record says about its key set and wipes the
// share at once.
func (t *inspectTool) shareRead(rec *quorum.Record, recErr error) {
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		t.rec = "none: the slot is empty"
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		t.rec = "in a format this hsmcards does not know (newer?)"
	case recErr != nil:
		t.rec = "a damaged record (an interrupted write leaves one)"
	default:
		set := setOf(rec)
		wipe(rec.Share)
		t.set, t.rec = &set, fmt.Sprintf("%q", set.Label)
	}
	t.done("The share's details are shown; the share itself never is.")
}

func (t *inspectTool) done(text string) {
	t.step, t.deadline = tDone, time.Time{}
	t.note = notice{lvGood, text, "Take the card out. Press OK for the main menu."}
}

// report is the card's description for the side panel.
func (t *inspectTool) report() []string {
	if t.rep == nil {
		return nil
	}
	r := t.rep
	if r.err != nil {
		lines := []string{"Not an appliance card: " + sentenceTail(r.err)}
		if len(r.atr) > 0 {
			lines = append(lines, strings.Split(wrap(fmt.Sprintf("ATR % X", r.atr), sideWidth), "\n")...)
		}
		return lines
	}
	lines := []string{"Card " + r.oc.serial.String()}
	if r.slotErr[0] != nil || r.slotErr[1] != nil {
		lines = append(lines, "TCOS 3.0, but NOT the appliance profile")
	} else {
		lines = append(lines, "TCOS 3.0 card with the appliance profile")
	}
	for i, slot := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
		state := triesLeft(r.slots[i].TriesLeft)
		switch {
		case r.slotErr[i] != nil:
			state = "missing"
		case r.slots[i].Blocked:
			state = "BLOCKED"
		}
		lines = append(lines, fmt.Sprintf("%-22s %s", slotName(slot)+":", state))
	}
	lines = append(lines, "(status query only: no PIN try spent)")
	switch {
	case t.set != nil:
		s := t.set
		lines = append(lines,
			"Share: "+t.rec,
			fmt.Sprintf("  %d of %d, created %s", s.Scheme.K, s.Scheme.N, s.Created.UTC().Format("2006-01-02 15:04 MST")),
			fmt.Sprintf("  key set %X", s.ID[:]),
			"  KCV "+kcvString(s.KCV))
	case t.rec != "":
		lines = append(lines, "Share: "+t.rec)
	}
	return lines
}

func (t *inspectTool) screen() ([2]string, []string) {
	l1, l2, ok := t.display()
	if !ok {
		switch t.step {
		case tConfirm:
			l1, l2 = "Show share?", "press OK/Cancel"
		case tDone:
			l1, l2 = "Card inspected", "press OK"
		}
	}
	return [2]string{l1, l2}, t.side(t.report(), "")
}

func (t *inspectTool) holdsShare() bool { return false }
