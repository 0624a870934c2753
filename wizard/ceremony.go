package wizard

import (
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

// question is what the ceremony asks in tConfirm.
type question int

const (
	qStart     question = iota // "Write New Key" / "Read New Key", press OK/Cancel
	qOverwrite                 // the card holds something: overwrite it?
	qReplace                   // the HSM holds another key: replace it?
	qRetryLoad                 // the HSM failed: try loading again?
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

// ceremony is one install or load, from the first prompt to the key in the
// HSM. The insert → PIN → countdown → pulled-card machinery is toolBase's,
// shared with the card tools; the ceremony adds the phases and questions.
type ceremony struct {
	toolBase
	kind   opKind
	scheme quorum.Scheme
	label  string
	hsmKey *hsmInfoMsg // the HSM's key when the ceremony started
	// agreed is the KCV of the HSM key the operator agreed to replace, when
	// they did: a load replaces that key and no other without asking.
	agreed *[3]byte

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
	other    hsm.KeyInfo // the different key the HSM holds (qReplace)

	phase       phase
	question    question
	existing    *quorum.Record
	existingErr error
}

func newInstall(m *Model, s quorum.Scheme, label string, replace bool) (*ceremony, error) {
	key, recs, err := quorum.Generate(label, s, m.now)
	if err != nil {
		return nil, err
	}
	id := recs[0].KeySetID
	var agreed *[3]byte
	if h := m.hsmLoaded(); replace && h != nil {
		agreed = &h.info.KCV // the key the setup screen showed
	}
	c := &ceremony{kind: opInstall, scheme: s, label: label, hsmKey: m.hsmLoaded(),
		newKey: key, records: recs, coll: quorum.NewCollector(&id), phase: phaseWrite, agreed: agreed}
	c.setup(m)
	return c, nil
}

func newLoad(m *Model) *ceremony {
	c := &ceremony{kind: opLoad, hsmKey: m.hsmLoaded(), coll: quorum.NewCollector(nil), phase: phaseRead}
	c.setup(m)
	return c
}

func (c *ceremony) setup(m *Model) {
	c.init(m, c, "")
	c.op, c.slot = c.auditOp(), audit.SlotBackupKey
	c.decorate = c.keySet
	c.secret, c.leaveWhat = "key", "this ceremony"
	c.retitle()
}

func (c *ceremony) begin() tea.Cmd {
	c.ask(qStart)
	if c.kind == opInstall {
		c.record(audit.StepGenerate, nil, audit.OutcomeOK, "label "+c.label, nil)
	} else {
		c.record(audit.StepStart, nil, audit.OutcomeOK, "", nil)
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
	return c.endCard()
}

func (c *ceremony) wipeSecrets() {
	c.clearPIN()
	if c.newKey != nil {
		c.newKey.Wipe()
		c.newKey = nil
	}
	if c.combined != nil {
		c.combined.Wipe()
		c.combined = nil
	}
	for _, r := range c.records {
		r.Wipe()
	}
	c.records = nil
	c.coll.Wipe()
	c.forgetExisting()
}

// forgetExisting drops what the card being written held before; its share
// may belong to a key still in use, so it is wiped.
func (c *ceremony) forgetExisting() {
	if c.existing != nil {
		c.existing.Wipe()
	}
	c.existing, c.existingErr = nil, nil
}

// cardNo is the number the pad shows in "Insert N. card".
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

// toInsert asks for the next card, with its number on the pad.
func (c *ceremony) toInsert() {
	c.setInsert(fmt.Sprintf("Insert %d. card", c.cardNo()), fmt.Sprintf("insert card %d and press OK", c.cardNo()), c.insertHint())
	c.toolBase.toInsert()
}

// endCard releases the open card and forgets what it held.
func (c *ceremony) endCard() tea.Cmd {
	c.forgetExisting()
	return c.toolBase.endCard()
}

// ask puts a question to the operator; only overwriting has a countdown, as
// it holds the card.
func (c *ceremony) ask(q question) {
	c.step, c.question = tConfirm, q
	c.deadline = time.Time{}
	if q == qOverwrite {
		c.expect(c.cfg.InsertTimeout, "answer OK or Cancel")
	}
}

// asking says whether the ceremony waits for the answer to q.
func (c *ceremony) asking(q question) bool { return c.step == tConfirm && c.question == q }

func (c *ceremony) connect() tea.Cmd {
	return connectCmd(c.cfg.Reader, tcos.SlotBackupKey, c.cfg.APDULog, c.cfg.PINTimeout)
}

// answer is OK (yes) or Cancel to the ceremony's question.
func (c *ceremony) answer(yes bool) tea.Cmd {
	switch c.question {
	case qStart:
		if !yes {
			return c.askLeave()
		}
		c.toInsert()
		c.note = notice{lvInfo, "", c.insertHint()}
	case qOverwrite:
		if yes {
			return c.write()
		}
		c.record(audit.StepWriteCard, serialOf(c.oc), audit.OutcomeRefused, "the operator kept the card's content", nil)
		c.note = notice{lvInfo, "The card was not written.", "Take it out and insert another card, then press OK."}
		cmd := c.endCard()
		c.toInsert()
		return cmd
	case qReplace:
		if yes {
			kcv := c.other.KCV
			c.agreed = &kcv
			return c.load(true)
		}
		c.record(audit.StepLoadHSM, nil, audit.OutcomeRefused, "the operator kept the HSM's key", nil)
		c.finish(audit.OutcomeRefused, notice{lvWarn, "Nothing was loaded: the HSM keeps its Backup Key " + kcvString(c.other.KCV) + ".",
			c.keptHint()})
	case qRetryLoad:
		if !yes {
			return c.askLeave()
		}
		return c.load(false)
	}
	return nil
}

// load hands the rebuilt key to the HSM; replace only when the operator
// agreed to replace the key the HSM was seen to hold.
func (c *ceremony) load(replace bool) tea.Cmd {
	c.busy = "loading the key into the HSM"
	return loadCmd(c.cfg.HSM, c.combined, c.keyInfo(), replace)
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
		return c.connectFailed(msg.err, tcos.SlotBackupKey)
	}
	oc := msg.oc
	c.oc = oc
	refuse := func(text string) tea.Cmd {
		out := audit.OutcomeRefused
		if oc.status.Blocked {
			out = audit.OutcomeBlocked
		}
		c.record(audit.StepIdentify, &oc.serial, out, text, audit.Tries(oc.status.TriesLeft))
		return c.refuse(text)
	}
	if c.phase == phaseWrite {
		if i := indexOf(c.written, oc.serial); i >= 0 {
			return refuse(fmt.Sprintf("Card %s already holds share %d of this new key: it was written a moment ago.", oc.serial, i+1))
		}
	} else if indexOf(c.read, oc.serial) >= 0 {
		return refuse(fmt.Sprintf("Card %s was already read in this run; each share counts once.", oc.serial))
	}
	if oc.status.Blocked {
		return refuse(blockedText(oc, tcos.SlotBackupKey))
	}
	c.record(audit.StepIdentify, &oc.serial, audit.OutcomeOK, "", audit.Tries(oc.status.TriesLeft))
	return c.askVerify()
}

func (c *ceremony) pinDone(msg pinDoneMsg) tea.Cmd {
	if cmd, done := c.pinFailed(msg.err, tcos.SlotBackupKey, c.askVerify); done {
		return cmd
	}
	c.record(audit.StepVerifyPIN, serialOf(c.oc), audit.OutcomeOK, "", nil)
	if c.phase == phaseWrite {
		c.existing, c.existingErr = msg.rec, msg.recErr
		if errors.Is(msg.recErr, quorum.ErrEmpty) {
			return c.write()
		}
		c.ask(qOverwrite)
		c.note = c.overwriteNotice()
		return nil
	}
	return c.collect(msg.rec, msg.recErr)
}

func (c *ceremony) overwriteNotice() notice {
	var what string
	switch {
	case errors.Is(c.existingErr, quorum.ErrUnknownVersion):
		what = "This card holds a Backup Key share in a format this hsmcards does not know (made by a newer version?). Overwriting it is irreversible: that share is lost for good."
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
	c.forgetExisting()
	c.record(audit.StepWriteCard, serialOf(oc), outcomeOf(msg.err), errText(msg.err), nil)
	if msg.err != nil {
		p := c.cardProblem(msg.err, tcos.SlotBackupKey)
		p.text = "The share was not written completely: " + lowerFirst(p.text)
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
	c.phase = phaseRead
	c.ask(qStart)
	c.note = notice{lvGood, fmt.Sprintf("All %d shares are written.", c.scheme.N),
		fmt.Sprintf("Now the key is read back: press OK, then present any %d of the %d cards, in any order.", c.scheme.K, c.scheme.N)}
	return nil
}

// collect takes the record read from a card into the quorum.
func (c *ceremony) collect(rec *quorum.Record, recErr error) tea.Cmd {
	if rec != nil {
		defer rec.Wipe() // the Collector keeps its own copy
	}
	oc := c.oc
	cmd := c.endCard()
	refuse := func(text string) tea.Cmd {
		c.record(audit.StepReadCard, &oc.serial, audit.OutcomeRefused, text, nil)
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
			if c.kind == opInstall { // the set being read back is the one just written
				set = quorum.KeySet{Label: c.label, KCV: c.records[0].KCV}
			}
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
	c.retitle()
	c.record(audit.StepReadCard, &oc.serial, audit.OutcomeOK, "", nil)
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
		c.record(audit.StepReadCard, nil, audit.OutcomeError, "the key could not be rebuilt: "+err.Error(), nil)
		// Start the reading over; in an install the generated key is still here.
		c.coll.Wipe()
		c.coll = quorum.NewCollector(c.wantSet())
		c.read = nil
		c.ask(qStart)
		c.note = notice{lvError, "The Backup Key could not be rebuilt: " + sentence(err.Error()) + ". Nothing was loaded.",
			"Press OK to read the cards again."}
		return nil
	}
	c.combined = key
	c.coll.Wipe() // the shares did their job
	c.phase = phaseLoad
	c.deadline = time.Time{}
	return c.load(false)
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
	case errors.As(msg.err, &diff) && c.agreed != nil && *c.agreed == diff.Loaded.KCV:
		return c.load(true) // the very key the operator agreed to replace
	case errors.As(msg.err, &diff):
		c.record(audit.StepLoadHSM, nil, audit.OutcomeRefused, "the HSM holds a different Backup Key", nil)
		c.other = diff.Loaded
		c.ask(qReplace)
		c.note = notice{lvWarn, fmt.Sprintf("The HSM already holds a different Backup Key (KCV %s, %q). The cards hold KCV %s. Replacing it makes every backup made with the old key unreadable on this HSM.",
			kcvString(diff.Loaded.KCV), diff.Loaded.Label, kcvString(c.set.KCV)),
			"Press OK to replace it with the cards' key, or Cancel to keep the HSM's key."}
		return nil
	case msg.err != nil:
		c.record(audit.StepLoadHSM, nil, audit.OutcomeError, msg.err.Error(), nil)
		c.ask(qRetryLoad)
		c.note = notice{lvError, "The HSM did not take the key: " + sentence(msg.err.Error()) + ". The key is still in memory.",
			"Fix the HSM, then press OK to try loading again, or Cancel to give up."}
		return nil
	}
	c.already = msg.already
	c.loaded, c.loadedOK = c.keyInfo(), true
	if msg.already {
		c.record(audit.StepLoadHSM, nil, audit.OutcomeOK, "already loaded", nil)
	} else {
		c.record(audit.StepLoadHSM, nil, audit.OutcomeOK, "", nil)
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
	c.phase, c.step = phaseDone, tDone
	c.deadline = time.Time{}
	c.note = n
}

// summary closes the ceremony in the audit trail.
func (c *ceremony) summary(out audit.Outcome, detail string) {
	s := audit.Summary{Operation: c.op, Outcome: out, Detail: detail}
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
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", r.KeySetID[:]), kcvString(r.KCV), r.Scheme.String(), r.Label
	case c.set != nil:
		e.KeySetID, e.KCV, e.Scheme, e.Label = fmt.Sprintf("%X", c.set.ID[:]), kcvString(c.set.KCV), c.set.Scheme.String(), c.set.Label
	}
}

func (c *ceremony) auditOp() audit.Operation {
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
