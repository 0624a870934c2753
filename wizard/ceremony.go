package wizard

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// opKind is what a ceremony is for.
type opKind int

const (
	opInstall opKind = iota // seed "Step 1: Key generation" then "Step 2: Key Reading"
	opLoad                  // restore a backup, or a new cluster node
)

// phase is where a ceremony stands.
type phase int

const (
	phaseWrite phase = iota
	phaseRead
	phaseLoad
	phaseDone
)

// step is one PIN-pad prompt (or the wizard's own question) within a phase.
type step int

const (
	stStart     step = iota // "Write New Key" / "Read New Key", press OK/Cancel
	stInsert                // "Insert N. card", press OK/Cancel
	stPIN                   // "Enter PIN"
	stOverwrite             // the card holds something: overwrite it?
	stReplace               // the HSM holds another key: replace it?
	stRetryLoad             // the HSM failed: try loading again?
	stTimedOut              // the step ran out of time; OK tries it again
	stLeave                 // leave the ceremony?
	stDone
)

// PIN length bounds (DESIGN "Card profile": 6–15 ASCII digits).
const (
	minPIN = 6
	maxPIN = 15
)

// level grades what the side panel says.
type level int

const (
	lvInfo level = iota
	lvGood
	lvWarn
	lvError
)

// notice is the latest thing the operator must read: what happened and what
// to do next.
type notice struct {
	level      level
	text, next string
}

// ceremony is one install or load, from the first prompt to the key in the HSM.
type ceremony struct {
	cfg     Config
	trail   *trail
	kind    opKind
	scheme  quorum.Scheme
	label   string
	hsmKey  *hsmInfoMsg // the HSM's key when the ceremony started
	replace bool        // the operator agreed to replace the HSM's key

	newKey   *quorum.Key      // install: the generated key, until it is in the HSM
	records  []*quorum.Record // install: one share record per card
	written  []tcos.Serial    // install: serial of the card holding share i
	coll     *quorum.Collector
	read     []tcos.Serial // serials read in this run
	combined *quorum.Key   // the key rebuilt from the cards, until loaded
	set      *quorum.KeySet
	already  bool
	loaded   hsm.KeyInfo
	loadedOK bool
	other    hsm.KeyInfo // the different key the HSM holds (stReplace)

	phase       phase
	step        step
	leaveReturn step
	busy        string // what runs now; "" when idle
	oc          *openCard
	pin         []byte
	padCancel   context.CancelFunc
	existing    *quorum.Record
	existingErr error
	deadline    time.Time
	waitingFor  string
	now         time.Time
	present     bool
	note        notice
	left        bool
}

func newInstall(cfg Config, t *trail, s quorum.Scheme, label string, now time.Time, replace bool, hsmKey *hsmInfoMsg) (*ceremony, error) {
	key, recs, err := quorum.Generate(label, s, now)
	if err != nil {
		return nil, err
	}
	id := recs[0].KeySetID
	return &ceremony{
		cfg: cfg, trail: t, kind: opInstall, scheme: s, label: label, hsmKey: hsmKey, replace: replace,
		newKey: key, records: recs, coll: quorum.NewCollector(&id), phase: phaseWrite,
	}, nil
}

func newLoad(cfg Config, t *trail, hsmKey *hsmInfoMsg) *ceremony {
	return &ceremony{cfg: cfg, trail: t, kind: opLoad, hsmKey: hsmKey, coll: quorum.NewCollector(nil), phase: phaseRead}
}

func (c *ceremony) begin(now time.Time) tea.Cmd {
	c.now = now
	c.step = stStart
	if c.kind == opInstall {
		c.event(audit.StepGenerate, nil, audit.OutcomeOK, "label "+c.label, nil)
	} else {
		c.event(audit.StepStart, nil, audit.OutcomeOK, "", nil)
	}
	if c.kind == opInstall {
		c.note = notice{lvInfo, fmt.Sprintf("A new Backup Key for %q is in memory, to be split %d of %d.", c.label, c.scheme.K, c.scheme.N),
			"Have the cards ready. Press OK (Enter) to write the key to the cards."}
		if err := c.newKey.LockError(); err != nil {
			c.note.text += " Note: " + sentence(err.Error()) + "."
		}
	} else {
		c.note = notice{lvInfo, "The Backup Key will be read from a quorum of its share cards.",
			"Press OK (Enter) to start. Cards may be read in any order."}
	}
	return nil
}

// holdsKey says whether leaving now would lose a key held in memory.
func (c *ceremony) holdsKey() bool {
	return c.phase != phaseDone && (c.newKey != nil || c.combined != nil)
}

// abandon wipes every secret and releases the card.
func (c *ceremony) abandon() tea.Cmd {
	if c.phase != phaseDone {
		c.summary(audit.OutcomeCancelled, "left by the operator")
	}
	c.wipeSecrets()
	if c.padCancel != nil {
		c.padCancel()
	}
	oc := c.oc
	c.oc = nil
	return closeCmd(oc)
}

func (c *ceremony) wipeSecrets() {
	wipe(c.pin)
	c.pin = nil
	if c.newKey != nil {
		c.newKey.Wipe()
		c.newKey = nil
	}
	if c.combined != nil {
		c.combined.Wipe()
		c.combined = nil
	}
	for _, r := range c.records {
		wipe(r.Share)
	}
	c.records = nil
}

// cardNo is the number the pad shows in "Insert N. card".
func (c *ceremony) finished() bool { return c.left }

func (c *ceremony) cardNo() int {
	if c.phase == phaseWrite {
		return len(c.written) + 1
	}
	return c.coll.Have() + 1
}

func (c *ceremony) need() int {
	if c.kind == opInstall {
		return c.scheme.K
	}
	return c.coll.Need()
}

// expect starts a step's countdown.
func (c *ceremony) expect(d time.Duration, what string) {
	c.deadline, c.waitingFor = c.now.Add(d), what
}

func (c *ceremony) toInsert() {
	c.step = stInsert
	c.expect(c.cfg.InsertTimeout, fmt.Sprintf("insert card %d and press OK", c.cardNo()))
}

// endCard forgets the open card and returns the command that closes it.
func (c *ceremony) endCard() tea.Cmd {
	wipe(c.pin)
	c.pin = nil
	oc := c.oc
	c.oc = nil
	c.existing, c.existingErr = nil, nil
	return closeCmd(oc)
}

func (c *ceremony) key(k tea.KeyPressMsg) tea.Cmd {
	s := k.String()
	if c.busy != "" {
		// Only a PIN typed on the reader's keypad can be cancelled from here.
		if s == "esc" && c.padCancel != nil {
			c.padCancel()
		}
		return nil
	}
	switch c.step {
	case stStart, stTimedOut:
		switch s {
		case "enter":
			c.toInsert()
			c.note = notice{lvInfo, "", c.insertHint()}
		case "esc":
			return c.askLeave()
		}
	case stInsert:
		switch s {
		case "enter":
			c.busy = "reading the card"
			return connectCmd(c.cfg.Reader, tcos.SlotBackupKey, c.cfg.APDULog, c.cfg.PINTimeout)
		case "esc":
			return c.askLeave()
		}
	case stPIN:
		return c.pinKey(s)
	case stOverwrite:
		switch s {
		case "enter":
			return c.write()
		case "esc":
			c.event(audit.StepWriteCard, &c.oc.serial, audit.OutcomeRefused, "the operator kept the card's content", nil)
			c.note = notice{lvInfo, "The card was not written.", "Take it out and insert another card, then press OK."}
			cmd := c.endCard()
			c.toInsert()
			return cmd
		}
	case stReplace:
		switch s {
		case "enter":
			c.busy = "loading the key into the HSM"
			return loadCmd(c.cfg.HSM, c.combined, c.keyInfo(), true)
		case "esc":
			c.event(audit.StepLoadHSM, nil, audit.OutcomeRefused, "the operator kept the HSM's key", nil)
			c.finish(audit.OutcomeRefused, notice{lvWarn, "Nothing was loaded: the HSM keeps its Backup Key " + kcvString(c.other.KCV) + ".",
				c.keptHint()})
		}
	case stRetryLoad:
		switch s {
		case "enter":
			c.busy = "loading the key into the HSM"
			return loadCmd(c.cfg.HSM, c.combined, c.keyInfo(), c.replace)
		case "esc":
			return c.askLeave()
		}
	case stLeave:
		switch s {
		case "enter":
			c.left = true
			return c.abandon()
		case "esc":
			c.step = c.leaveReturn
			if c.step == stInsert {
				c.toInsert() // a fresh countdown: the question stopped the old one
			}
		}
	case stDone:
		if s == "enter" || s == "esc" {
			c.left = true
		}
	}
	return nil
}

// pinKey is the on-screen PIN pad: digits, Clear, OK, Cancel (seed "Entering
// the PIN").
func (c *ceremony) pinKey(s string) tea.Cmd {
	switch {
	case len(s) == 1 && s[0] >= '0' && s[0] <= '9':
		if c.oc != nil && !c.oc.onPad && len(c.pin) < maxPIN {
			c.pin = append(c.pin, s[0])
		}
	case s == "backspace":
		wipe(c.pin)
		c.pin = c.pin[:0]
	case s == "enter":
		if c.oc == nil || c.oc.onPad {
			return nil
		}
		if len(c.pin) < minPIN {
			c.note = notice{lvWarn, fmt.Sprintf("A PIN has %d to %d digits.", minPIN, maxPIN), "Type the PIN again and press OK."}
			return nil
		}
		pin := append([]byte(nil), c.pin...)
		wipe(c.pin)
		c.pin = c.pin[:0]
		c.busy = "checking the PIN"
		return verifyCmd(context.Background(), c.oc, pin)
	case s == "esc":
		c.event(audit.StepVerifyPIN, &c.oc.serial, audit.OutcomeCancelled, "PIN entry cancelled", nil)
		c.note = notice{lvInfo, "PIN entry cancelled; the card was not used.", c.insertHint()}
		cmd := c.endCard()
		c.toInsert()
		return cmd
	}
	return nil
}

func (c *ceremony) askLeave() tea.Cmd {
	if !c.holdsKey() {
		c.left = true
		return c.abandon()
	}
	c.leaveReturn, c.step = c.step, stLeave
	return nil
}

// tick advances the countdown; a step that runs out of time ends alone.
func (c *ceremony) tick(now time.Time) tea.Cmd {
	c.now = now
	if c.busy != "" || c.deadline.IsZero() || now.Before(c.deadline) {
		return nil
	}
	switch c.step {
	case stInsert:
		c.event(audit.StepIdentify, nil, audit.OutcomeTimeout, "no card presented", nil)
		c.timedOut(fmt.Sprintf("No card was presented within %s.", c.cfg.InsertTimeout))
	case stPIN:
		c.event(audit.StepVerifyPIN, &c.oc.serial, audit.OutcomeTimeout, "no PIN entered", nil)
		c.timedOut(fmt.Sprintf("The PIN was not entered within %s; the card was not used and no PIN try was spent.", c.cfg.PINTimeout))
		return c.endCard()
	}
	return nil
}

func (c *ceremony) timedOut(text string) {
	c.step = stTimedOut
	c.deadline = time.Time{}
	next := "Press OK to try this step again, or Cancel to leave."
	if c.holdsKey() {
		next = "The key is still in memory. " + next
	}
	c.note = notice{lvWarn, "Timeout: " + text, next}
}

// presence reacts to a card coming or going.
func (c *ceremony) presence(present bool) tea.Cmd {
	c.present = present
	if present || c.oc == nil || c.busy != "" {
		return nil
	}
	// Pulled while the wizard waited for its PIN or an answer.
	c.event(audit.StepVerifyPIN, &c.oc.serial, audit.OutcomeRemoved, "card taken out", nil)
	c.note = notice{lvError, "The card was taken out before its step was done; nothing was written to it.", c.insertHint()}
	cmd := c.endCard()
	c.toInsert()
	return cmd
}

func (c *ceremony) insertHint() string {
	if c.phase == phaseWrite {
		return fmt.Sprintf("Insert card %d of %d and press OK.", c.cardNo(), c.scheme.N)
	}
	if n := c.need(); n > 0 {
		return fmt.Sprintf("Insert card %d of the %d needed (any card of the set, in any order) and press OK.", c.cardNo(), n)
	}
	return "Insert any card of the set and press OK."
}

// update handles the results of card and HSM work.
func (c *ceremony) update(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case cardReadyMsg:
		c.busy = ""
		return c.cardReady(msg)
	case pinDoneMsg:
		c.busy = ""
		c.padCancel = nil
		return c.pinDone(msg)
	case writtenMsg:
		c.busy = ""
		return c.written1(msg)
	case loadedMsg:
		c.busy = ""
		return c.loadedKey(msg)
	}
	return nil
}

func (c *ceremony) cardReady(msg cardReadyMsg) tea.Cmd {
	if msg.err != nil {
		c.event(audit.StepIdentify, serialOf(msg.oc), outcomeOf(msg.err), msg.err.Error(), nil)
		c.note = c.cardProblem(msg.err, msg.oc)
		c.toInsert()
		return nil
	}
	oc := msg.oc
	c.oc = oc
	refuse := func(text string) tea.Cmd {
		out := audit.OutcomeRefused
		if oc.status.Blocked {
			out = audit.OutcomeBlocked
		}
		c.event(audit.StepIdentify, &oc.serial, out, text, audit.Tries(oc.status.TriesLeft))
		c.note = notice{lvError, text, "Take this card out. " + c.insertHint()}
		cmd := c.endCard()
		c.toInsert()
		return cmd
	}
	if c.phase == phaseWrite {
		if i := indexOf(c.written, oc.serial); i >= 0 {
			return refuse(fmt.Sprintf("Card %s already holds share %d of this new key: it was written a moment ago.", oc.serial, i+1))
		}
	} else if indexOf(c.read, oc.serial) >= 0 {
		return refuse(fmt.Sprintf("Card %s was already read in this run; each share counts once.", oc.serial))
	}
	if oc.status.Blocked {
		return refuse(fmt.Sprintf("The Backup Key PIN of card %s is blocked after three wrong PINs: this card cannot be used here. No PIN was sent to it.", oc.serial))
	}
	c.event(audit.StepIdentify, &oc.serial, audit.OutcomeOK, "", audit.Tries(oc.status.TriesLeft))
	c.step = stPIN
	c.pin = c.pin[:0]
	c.expect(c.cfg.PINTimeout, "enter the PIN and press OK")
	c.note = c.pinNotice()
	if oc.onPad {
		return c.padVerify()
	}
	return nil
}

func (c *ceremony) pinNotice() notice {
	where := "Type the PIN of this card (digits), then press OK. Backspace clears, Esc cancels."
	if c.oc.onPad {
		where = "Type the PIN on the reader's keypad and press its green OK key."
	}
	t := c.oc.status.TriesLeft
	if t == 1 {
		return notice{lvWarn, fmt.Sprintf("Card %s: LAST TRY. One more wrong PIN blocks this card's Backup Key slot for good.", c.oc.serial), where}
	}
	return notice{lvInfo, fmt.Sprintf("Card %s: %d PIN tries left.", c.oc.serial, t), where}
}

func (c *ceremony) padVerify() tea.Cmd {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.PINTimeout+5*time.Second)
	c.padCancel = cancel
	c.busy = "waiting for the PIN on the reader"
	return verifyCmd(ctx, c.oc, nil)
}

func (c *ceremony) pinDone(msg pinDoneMsg) tea.Cmd {
	var wrong *tcos.WrongPINError
	var tries *int
	if errors.As(msg.err, &wrong) {
		tries = audit.Tries(wrong.TriesLeft)
	}
	detail := ""
	if msg.err != nil {
		detail = msg.err.Error()
	}
	c.event(audit.StepVerifyPIN, serialOf(c.oc), outcomeOf(msg.err), detail, tries)
	switch {
	case errors.As(msg.err, &wrong) && wrong.TriesLeft > 0:
		c.oc.status.TriesLeft = wrong.TriesLeft
		c.expect(c.cfg.PINTimeout, "enter the PIN and press OK")
		c.note = c.pinNotice()
		c.note.text = "Wrong PIN. " + c.note.text
		c.note.level = lvWarn
		if c.oc.onPad {
			return c.padVerify()
		}
		return nil
	case isPadRetry(msg.err):
		c.note = notice{lvWarn, sentence(msg.err.Error()) + ".", "No PIN try was spent. " + c.insertHint()}
		cmd := c.endCard()
		c.toInsert()
		return cmd
	case msg.err != nil:
		// The command closed the card.
		c.note = c.cardProblem(msg.err, c.oc)
		c.oc = nil
		c.toInsert()
		return nil
	}
	if c.phase == phaseWrite {
		c.existing, c.existingErr = msg.rec, msg.recErr
		if errors.Is(msg.recErr, quorum.ErrEmpty) {
			return c.write()
		}
		c.step = stOverwrite
		c.deadline = time.Time{}
		c.note = c.overwriteNotice()
		return nil
	}
	return c.collect(msg.rec, msg.recErr)
}

func (c *ceremony) overwriteNotice() notice {
	var what string
	switch {
	case c.existingErr != nil:
		what = "This card holds a damaged share record (an interrupted write leaves one)."
	case c.existing.KeySetID == c.records[0].KeySetID:
		what = "This card already holds a share of this new key."
	default:
		r := c.existing
		what = fmt.Sprintf("This card holds a Backup Key share: %q, created %s, %d of %d, KCV %s.",
			r.Label, r.Created.UTC().Format("2006-01-02 15:04 MST"), r.Scheme.K, r.Scheme.N, kcvString(r.KCV))
		if c.hsmKey != nil && c.hsmKey.info.KCV == r.KCV {
			what += " It is a share of the Backup Key LOADED IN THE HSM NOW."
		}
		what += " Overwriting it is irreversible: that share is lost for good."
	}
	return notice{lvWarn, what, "Press OK to overwrite it, or Cancel to keep it and use another card."}
}

func (c *ceremony) write() tea.Cmd {
	c.busy = "writing the share"
	return writeCmd(c.oc, c.records[len(c.written)])
}

func (c *ceremony) written1(msg writtenMsg) tea.Cmd {
	oc := c.oc
	c.oc = nil
	c.existing, c.existingErr = nil, nil
	c.event(audit.StepWriteCard, serialOf(oc), outcomeOf(msg.err), errText(msg.err), nil)
	if msg.err != nil {
		p := c.cardProblem(msg.err, oc)
		p.text = "The share was not written completely: " + p.text
		p.next = "Insert this card again (or another) and press OK: it will be written again. " + p.next
		c.note = p
		c.toInsert()
		return nil
	}
	c.written = append(c.written, oc.serial)
	if len(c.written) < c.scheme.N {
		c.note = notice{lvGood, fmt.Sprintf("Share %d written to card %s and read back.", len(c.written), oc.serial),
			"Take the card out. " + c.insertHint()}
		c.toInsert()
		return nil
	}
	c.phase, c.step = phaseRead, stStart
	c.deadline = time.Time{}
	c.note = notice{lvGood, fmt.Sprintf("All %d shares are written.", c.scheme.N),
		fmt.Sprintf("Now the key is read back: press OK, then present any %d of the %d cards, in any order.", c.scheme.K, c.scheme.N)}
	return nil
}

// collect takes the record read from a card into the quorum.
func (c *ceremony) collect(rec *quorum.Record, recErr error) tea.Cmd {
	oc := c.oc
	cmd := c.endCard()
	refuse := func(text string) tea.Cmd {
		c.event(audit.StepReadCard, &oc.serial, audit.OutcomeRefused, text, nil)
		c.note = notice{lvError, text, "Take this card out. " + c.insertHint()}
		c.toInsert()
		return cmd
	}
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		return refuse(fmt.Sprintf("Card %s holds no Backup Key share.", oc.serial))
	case recErr != nil:
		return refuse(fmt.Sprintf("Card %s holds a damaged share record; it cannot be used.", oc.serial))
	}
	if err := c.coll.Add(rec); err != nil {
		switch {
		case errors.Is(err, quorum.ErrOtherKeySet):
			set, _ := c.coll.KeySet()
			cmd := refuse(fmt.Sprintf("Card %s holds a share of a different Backup Key (%q, KCV %s), not of %q (KCV %s).",
				oc.serial, rec.Label, kcvString(rec.KCV), set.Label, kcvString(set.KCV)))
			if c.kind == opLoad {
				// The first card read chose the key set; it may have been the
				// odd one out. Nothing is held yet, so starting over is free.
				c.note.next += fmt.Sprintf(" If %q is the key to load, press Cancel (Esc) and start Load Backup Key again without the card(s) of %q.", rec.Label, set.Label)
			}
			return cmd
		case errors.Is(err, quorum.ErrDuplicateShare):
			return refuse(fmt.Sprintf("Card %s holds a share that was already read (it is a copy of a card read before); each share counts once.", oc.serial))
		}
		return refuse(fmt.Sprintf("Card %s: %s.", oc.serial, sentence(err.Error())))
	}
	c.read = append(c.read, oc.serial)
	set, _ := c.coll.KeySet()
	c.set = &set
	c.event(audit.StepReadCard, &oc.serial, audit.OutcomeOK, "", nil)
	if c.coll.Have() < c.coll.Need() {
		c.note = notice{lvGood, fmt.Sprintf("Card %s read: share %d of the %d needed.", oc.serial, c.coll.Have(), c.coll.Need()),
			"Take the card out. " + c.insertHint()}
		c.toInsert()
		return cmd
	}
	return tea.Batch(cmd, c.combine())
}

func (c *ceremony) combine() tea.Cmd {
	key, err := c.coll.Combine()
	if err == nil && c.newKey != nil && subtle.ConstantTimeCompare(key.Bytes(), c.newKey.Bytes()) != 1 {
		key.Wipe()
		err = errors.New("the key read back differs from the key written")
	}
	if err != nil {
		c.event(audit.StepReadCard, nil, audit.OutcomeError, "the key could not be rebuilt: "+err.Error(), nil)
		// Start the reading over; in an install the generated key is still here.
		c.coll = quorum.NewCollector(c.wantSet())
		c.read = nil
		c.note = notice{lvError, "The Backup Key could not be rebuilt: " + sentence(err.Error()) + ". Nothing was loaded.",
			"Press OK to read the cards again."}
		c.step = stStart
		c.deadline = time.Time{}
		return nil
	}
	c.combined = key
	c.phase = phaseLoad
	c.deadline = time.Time{}
	c.busy = "loading the key into the HSM"
	return loadCmd(c.cfg.HSM, key, c.keyInfo(), c.replace)
}

func (c *ceremony) wantSet() *quorum.KeySetID {
	if c.kind == opInstall {
		id := c.records[0].KeySetID
		return &id
	}
	return nil
}

func (c *ceremony) keyInfo() hsm.KeyInfo {
	return hsm.KeyInfo{KeySetID: c.set.ID, Label: c.set.Label, KCV: c.set.KCV}
}

func (c *ceremony) loadedKey(msg loadedMsg) tea.Cmd {
	var diff *hsm.DifferentKeyError
	switch {
	case errors.As(msg.err, &diff):
		c.event(audit.StepLoadHSM, nil, audit.OutcomeRefused, "the HSM holds a different Backup Key", nil)
		c.other = diff.Loaded
		c.step = stReplace
		c.note = notice{lvWarn, fmt.Sprintf("The HSM already holds a different Backup Key (KCV %s, %q). The cards hold KCV %s. Replacing it makes every backup made with the old key unreadable on this HSM.",
			kcvString(diff.Loaded.KCV), diff.Loaded.Label, kcvString(c.set.KCV)),
			"Press OK to replace it with the cards' key, or Cancel to keep the HSM's key."}
		return nil
	case msg.err != nil:
		c.event(audit.StepLoadHSM, nil, audit.OutcomeError, msg.err.Error(), nil)
		c.step = stRetryLoad
		c.note = notice{lvError, "The HSM did not take the key: " + sentence(msg.err.Error()) + ". The key is still in memory.",
			"Fix the HSM, then press OK to try loading again, or Cancel to give up."}
		return nil
	}
	c.already = msg.already
	c.loaded, c.loadedOK = c.keyInfo(), true
	if msg.already {
		c.event(audit.StepLoadHSM, nil, audit.OutcomeOK, "already loaded", nil)
	} else {
		c.event(audit.StepLoadHSM, nil, audit.OutcomeOK, "", nil)
	}
	text := fmt.Sprintf("Backup Key %q loaded into the %s. KCV %s, equal to the KCV on the cards.", c.set.Label, c.cfg.HSM.Name(), kcvString(c.set.KCV))
	if msg.already {
		text = fmt.Sprintf("The %s already holds this Backup Key %q: KCV %s, equal to the KCV on the cards.", c.cfg.HSM.Name(), c.set.Label, kcvString(c.set.KCV))
	}
	next := "Press OK for the main menu."
	if c.kind == opInstall {
		next = "Change each card's PIN now (seed advice), store the cards apart, and make copies for the recovery site. " + next
	}
	c.finish(audit.OutcomeOK, notice{lvGood, text, next})
	return nil
}

func (c *ceremony) keptHint() string {
	if c.kind == opInstall {
		return "The new shares on the cards belong to a key no HSM holds; they can be loaded later with Load Backup Key. Press OK for the main menu."
	}
	return "Press OK for the main menu."
}

func (c *ceremony) finish(out audit.Outcome, n notice) {
	c.summary(out, "")
	c.wipeSecrets()
	c.phase, c.step = phaseDone, stDone
	c.deadline = time.Time{}
	c.note = n
}

// cardProblem turns a card error into words and the next thing to do.
func (c *ceremony) cardProblem(err error, oc *openCard) notice {
	return describe(err, c.insertHint())
}

// event records one step of the ceremony in the audit trail: what happened
// and to which card, never a PIN, share or key.
func (c *ceremony) event(step audit.Step, serial *tcos.Serial, out audit.Outcome, detail string, tries *int) {
	e := audit.Event{Time: c.now, Operation: c.op(), Step: step, Slot: audit.SlotBackupKey,
		Outcome: out, Detail: detail, TriesLeft: tries}
	if serial != nil {
		e.CardSerial = serial.String()
	}
	c.keySet(&e)
	c.trail.record(e)
}

// summary closes the ceremony in the audit trail.
func (c *ceremony) summary(out audit.Outcome, detail string) {
	s := audit.Summary{Operation: c.op(), Outcome: out, Detail: detail}
	for _, x := range c.written {
		s.CardsWritten = append(s.CardsWritten, x.String())
	}
	for _, x := range c.read {
		s.CardsRead = append(s.CardsRead, x.String())
	}
	e := s.Event()
	e.Time = c.now
	c.keySet(&e)
	c.trail.record(e)
}

// keySet fills in which Backup Key the event is about, once known.
func (c *ceremony) keySet(e *audit.Event) {
	switch {
	case len(c.records) > 0:
		r := c.records[0]
		e.KeySetID, e.KCV, e.Scheme = fmt.Sprintf("%X", r.KeySetID[:]), kcvString(r.KCV), r.Scheme.String()
	case c.set != nil:
		e.KeySetID, e.KCV, e.Scheme = fmt.Sprintf("%X", c.set.ID[:]), kcvString(c.set.KCV), c.set.Scheme.String()
	}
}

func (c *ceremony) op() audit.Operation {
	if c.kind == opInstall {
		return audit.OpInstall
	}
	return audit.OpLoad
}

func serialOf(oc *openCard) *tcos.Serial {
	if oc == nil || oc.serial == (tcos.Serial{}) {
		return nil
	}
	return &oc.serial
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func indexOf(list []tcos.Serial, s tcos.Serial) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func kcvString(k [3]byte) string { return fmt.Sprintf("%X", k[:]) }
