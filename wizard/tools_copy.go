package wizard

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// copyTool copies a Backup Key share card one to one (seed "Make a one-to-one
// copy of a Backup Key share on a smart card"): the source card's record is
// read into memory, then written to the target card and read back. Copies
// carry the same share, so a Load counts a card and its copy once.
type copyTool struct {
	toolBase
	hsmKey *hsmInfoMsg // the HSM's key when the tool started

	src       *quorum.Record // the source's record, share included, until written
	srcSerial tcos.Serial
	target    targetContent
	copied    tcos.Serial
	gaveUp    bool // the copy replaced another share of the same key set
}

// targetContent is what the target card held before the copy, without its
// share bytes.
type targetContent struct {
	kind   targetKind
	set    quorum.KeySet
	serial tcos.Serial
}

type targetKind int

const (
	targetEmpty      targetKind = iota
	targetSame                  // already this very share: a copy of the source
	targetSibling               // another share of the source's key set
	targetOther                 // a share of another key set
	targetDamaged               // a damaged record
	targetUnknownFmt            // an intact record in a format this program does not know
)

func newCopyTool(m *Model) *copyTool {
	t := &copyTool{hsmKey: m.hsmLoaded()}
	t.init(m, t, "Copy a Backup Key share card")
	t.op, t.slot = audit.OpCopy, audit.SlotBackupKey
	t.setInsert("Insert source", "insert the source card and press OK", "Insert the SOURCE card (the one to copy) and press OK.")
	t.note = notice{lvInfo,
		"Copies the Backup Key share of one card onto another card, e.g. for the disaster-recovery site's second set. The share is held in memory only until it is written. Only the Backup Key share is copied: PKCS#11 slot user credentials cannot be copied.",
		t.insertHint}
	t.toInsert()
	return t
}

func (t *copyTool) connect() tea.Cmd {
	return connectCmd(t.ctx, t.cfg.Reader, tcos.SlotBackupKey, t.cfg.APDULog, t.cfg.PINTimeout)
}

// holdsKey: the source's share is in memory and not yet on a target card.
func (t *copyTool) holdsKey() bool { return t.src != nil }

func (t *copyTool) lossWarning() string {
	return fmt.Sprintf("The Backup Key share read from card %s is held in memory and was not copied yet. Leaving wipes it; card %s itself is unchanged.", t.srcSerial, t.srcSerial)
}

func (t *copyTool) wipeSecrets() {
	t.clearPIN()
	if t.src != nil {
		wipe(t.src.Share)
		t.src = nil
	}
}

func (t *copyTool) abandon() tea.Cmd {
	t.wipeSecrets()
	return t.endCard()
}

// answer: OK writes the copy over the target's content.
func (t *copyTool) answer(yes bool) tea.Cmd {
	if yes {
		t.busy = "writing the copy"
		t.deadline = time.Time{}
		return writeCmd(t.ctx, t.oc, t.src)
	}
	t.note = notice{lvInfo, "The target card was not written.", "Take it out. " + t.insertHint}
	cmd := t.endCard()
	t.toInsert()
	return cmd
}

func (t *copyTool) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case cardReadyMsg:
		t.busy = ""
		return t.cardReady(msg)
	case pinDoneMsg:
		t.busy = ""
		if cmd, done := t.pinFailed(msg.err, tcos.SlotBackupKey, t.askVerify); done {
			return cmd
		}
		if t.src == nil {
			return t.sourceRead(msg.rec, msg.recErr)
		}
		return t.targetRead(msg.rec, msg.recErr)
	case writtenMsg:
		t.busy = ""
		return t.written(msg.err)
	}
	return nil
}

func (t *copyTool) cardReady(msg cardReadyMsg) tea.Cmd {
	if msg.err != nil {
		return t.connectFailed(msg.err, tcos.SlotBackupKey)
	}
	t.oc = msg.oc
	switch {
	case t.src != nil && t.oc.serial == t.srcSerial:
		return t.refuse(fmt.Sprintf("This is the source card %s itself. A copy must go to another card.", t.srcSerial))
	case t.oc.status.Blocked:
		return t.refuse(blockedText(t.oc, tcos.SlotBackupKey))
	}
	return t.askVerify()
}

// sourceRead keeps the source's record in memory.
func (t *copyTool) sourceRead(rec *quorum.Record, recErr error) tea.Cmd {
	serial := t.oc.serial
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		return t.refuse(fmt.Sprintf("Card %s holds no Backup Key share: there is nothing to copy.", serial))
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		return t.refuse(fmt.Sprintf("Card %s holds a share in a format this hsmcards does not know; use a newer hsmcards to copy it.", serial))
	case recErr != nil:
		return t.refuse(fmt.Sprintf("Card %s holds a damaged share record: it cannot be copied.", serial))
	}
	t.src, t.srcSerial = rec, serial
	t.record(audit.StepReadCard, &serial, audit.OutcomeOK, "copy source", nil)
	cmd := t.endCard()
	t.setInsert("Insert target", "insert the target card and press OK", fmt.Sprintf("Insert the TARGET card (not card %s) and press OK.", serial))
	t.note = notice{lvGood, fmt.Sprintf("Share read from card %s: %s. It is held in memory.", serial, describeSet(setOf(rec))), "Take the card out. " + t.insertHint}
	t.toInsert()
	return cmd
}

// targetRead shows what the target holds and asks before overwriting it.
func (t *copyTool) targetRead(rec *quorum.Record, recErr error) tea.Cmd {
	tc := targetContent{serial: t.oc.serial}
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		tc.kind = targetEmpty
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		tc.kind = targetUnknownFmt
	case recErr != nil:
		tc.kind = targetDamaged
	default:
		tc.set = setOf(rec)
		switch {
		case rec.KeySetID != t.src.KeySetID:
			tc.kind = targetOther
		case subtle.ConstantTimeCompare(rec.Share, t.src.Share) == 1:
			tc.kind = targetSame
		default:
			tc.kind = targetSibling
		}
		wipe(rec.Share)
	}
	t.target = tc
	t.step = tConfirm
	t.expect(t.cfg.InsertTimeout, "answer OK or Cancel")
	t.note = t.overwriteNotice()
	return nil
}

// overwriteNotice says what the target holds and what overwriting it gives
// up.
func (t *copyTool) overwriteNotice() notice {
	tc, src := t.target, setOf(t.src)
	next := "Press OK to overwrite it with the copy, or Cancel to keep it and use another card."
	var what string
	switch tc.kind {
	case targetEmpty:
		return notice{lvInfo, fmt.Sprintf("Target card %s is empty: it holds no Backup Key share.", tc.serial),
			"Press OK to write the copy to it, or Cancel."}
	case targetSame:
		return notice{lvInfo, fmt.Sprintf("Target card %s already holds this very share: it is a copy of card %s. Writing again changes nothing.", tc.serial, t.srcSerial),
			"Press OK to write it again anyway, or Cancel."}
	case targetSibling:
		// The seed's "2 out of 2": copying card 2 over card 3.
		k, n := src.Scheme.K, src.Scheme.N
		others := fmt.Sprintf("%d of the set's other %d cards", k-1, n-2)
		switch {
		case n-2 == 1 && k-1 == 1:
			others = "the set's remaining card"
		case k-1 == n-2:
			others = fmt.Sprintf("all %d other cards of the set", n-2)
		}
		what = fmt.Sprintf("Card %s holds ANOTHER share of this same Backup Key (%d of %d). Overwriting it destroys that share for good: the set then has %d different shares instead of %d, and cards %s and %s carry the same share, which a Load counts once. To rebuild the key you then need card %s or %s, plus %s.",
			tc.serial, k, n, n-1, n, t.srcSerial, tc.serial, t.srcSerial, tc.serial, others)
	case targetOther:
		what = fmt.Sprintf("Card %s holds a share of a DIFFERENT Backup Key: %s.", tc.serial, describeSet(tc.set))
		if t.hsmKey != nil && t.hsmKey.info.KCV == tc.set.KCV {
			what += " It is a share of the Backup Key LOADED IN THE HSM NOW."
		}
		what += " Overwriting it destroys that share for good."
	case targetUnknownFmt:
		what = fmt.Sprintf("Card %s holds a share record in a format this hsmcards does not know (probably newer). Overwriting it destroys it for good.", tc.serial)
	default:
		what = fmt.Sprintf("Card %s holds a damaged share record (an interrupted write leaves one).", tc.serial)
	}
	return notice{lvWarn, what, next}
}

func (t *copyTool) written(err error) tea.Cmd {
	serial := t.oc.serial
	t.oc = nil // writeCmd closed it
	t.record(audit.StepWriteCard, &serial, outcomeOf(err), errText(err), nil)
	if err != nil {
		p := describe(err, t.insertHint)
		p.text = "The copy was not written completely: " + lowerFirst(p.text) + " The share is still in memory."
		p.next = "Insert the target card again (or another) and press OK: it will be written again. " + p.next
		t.note = p
		t.toInsert()
		return nil
	}
	src := setOf(t.src)
	t.record(audit.StepSummary, &serial, audit.OutcomeOK, "copy of the source card written", nil)
	t.wipeSecrets()
	t.copied, t.gaveUp = serial, t.target.kind == targetSibling
	t.step, t.deadline = tDone, time.Time{}
	text := fmt.Sprintf("Copy written to card %s and read back: it now holds the same share as card %s (%s).", serial, t.srcSerial, describeSet(src))
	if t.gaveUp {
		text += fmt.Sprintf(" Its former share is gone: this key set now has %d different shares.", src.Scheme.N-1)
	}
	t.note = notice{lvGood, text,
		"The share was wiped from memory. In a Load a card and its copy count once: keep the copy apart from the original. Press OK for the main menu."}
	return nil
}

func (t *copyTool) screen() ([2]string, []string) {
	l1, l2, ok := t.display()
	if !ok {
		switch t.step {
		case tConfirm:
			l1, l2 = "Overwrite card?", "press OK/Cancel"
			if t.target.kind == targetEmpty {
				l1 = "Write copy?"
			}
		case tDone:
			l1, l2 = "Card copied", "press OK"
		}
	}
	src, dst := "Source now", "Target -"
	if t.src != nil || t.copied != (tcos.Serial{}) {
		src = "Source " + t.srcSerial.String() + ", read"
	}
	switch {
	case t.copied != (tcos.Serial{}):
		dst = "Target " + t.copied.String() + ", written and checked"
	case t.src != nil:
		dst = "Target now"
	}
	return [2]string{l1, l2}, t.side([]string{src, dst}, t.lossWarning())
}

// setOf is what a record says about its key set, without the share.
func setOf(r *quorum.Record) quorum.KeySet {
	return quorum.KeySet{ID: r.KeySetID, Label: r.Label, Created: r.Created, Scheme: r.Scheme, KCV: r.KCV}
}

// describeSet names a key set the way the cards are known: label, creation
// date, quorum and KCV.
func describeSet(s quorum.KeySet) string {
	return fmt.Sprintf("%q, created %s, %d of %d, KCV %s", s.Label, s.Created.UTC().Format("2006-01-02 15:04 MST"), s.Scheme.K, s.Scheme.N, kcvString(s.KCV))
}

// holdsShare: what the copy tool holds is one card's share.
func (t *copyTool) holdsShare() bool { return true }
