package wizard

import (
	"context"
	"errors"
	"runtime"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// This file holds every piece of I/O the wizard does. Each function returns a
// tea.Cmd that runs outside Update and reports back with a typed message;
// Update and View never touch a card, a reader or the HSM. A card or HSM
// command's message carries the ID of the step that asked.

// stepTimeout bounds card work that needs no human (select, read, write), so a
// mute card cannot hang the wizard.
const stepTimeout = 20 * time.Second

// keyGenTimeout bounds enrolling: a real card may take well over a minute to
// generate an RSA-2048 key pair.
const keyGenTimeout = 3 * time.Minute

// openCard is a connected card in the middle of one card step.
type openCard struct {
	card   cardio.Card
	sess   *tcos.Session
	serial tcos.Serial
	status tcos.PINStatus // the step's slot
	onPad  bool           // the reader's own keypad takes the PIN
	modify bool           // ... and can change PINs
	// What a probe (Inspect) learns without any PIN: the ATR, both slots'
	// PIN states, or why a slot has none.
	atr     []byte
	slots   [2]tcos.PINStatus
	slotErr [2]error
}

// resultMsg is a card or HSM command's answer: it names its step and what it
// brings back that must be released if nobody takes it (discard).
type resultMsg interface {
	stepID() stepID
}

// connectedMsg: a card was connected, identified and its slot PIN state
// asked. With err set the card is nil, or (a probe of a card that is not an
// appliance card, err matching tcos.ErrForeignCard) open with its ATR.
type connectedMsg struct {
	id   stepID
	at   time.Time
	card *openCard
	err  error
}

// cardResult is what a card command hands over.
type cardResult struct {
	pinOK  bool           // the slot PIN was verified
	rec    *quorum.Record // a share record read; its share is the step's to wipe
	recErr error          // why no record: quorum.ErrEmpty, ErrCorrupt, ErrUnknownVersion…
	// raw is EF 4B01 as the card holds it (rawLen bytes of a buffer of
	// tcos.ShareEFSize), for package cardset, which parses it itself: read
	// after the PIN (rawReadWork) or read back after a write (recordWork).
	// Outside the Go heap; the step's to destroy.
	raw    *secmem.Buffer
	rawLen int
	// An enrollment's plan for the security officer to confirm; what an
	// activation found of the slot's other records (auditErr: it could not
	// check them).
	plan     *slotuser.Plan
	disc     hsm.Discrepancies
	auditErr error
}

// workedMsg: a card command ended. pins are the PIN fields it was lent,
// back for the pool.
type workedMsg struct {
	id   stepID
	at   time.Time
	res  cardResult
	err  error
	pins []*secmem.Field
}

// loadedMsg: the key went into the HSM.
type loadedMsg struct {
	id      stepID
	at      time.Time
	already bool
	err     error
}

// slotListMsg: the slot's records, as anyone can read them.
type slotListMsg struct {
	id   stepID
	recs hsm.Records
	err  error
}

// slotAppliedMsg: a confirmed change of the slot's cards was made (or not).
type slotAppliedMsg struct {
	id   stepID
	at   time.Time
	plan *slotuser.Plan
	res  hsm.ChangeResult
	err  error
}

func (m connectedMsg) stepID() stepID   { return m.id }
func (m workedMsg) stepID() stepID      { return m.id }
func (m loadedMsg) stepID() stepID      { return m.id }
func (m slotListMsg) stepID() stepID    { return m.id }
func (m slotAppliedMsg) stepID() stepID { return m.id }

// discard releases what a result nobody takes brings back (its step ended
// before it came): a card left open, a share record, the PIN fields. It
// returns the command that closes the card.
func (e *env) discard(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case connectedMsg:
		if msg.card != nil && msg.card.card != nil {
			e.opened[msg.card] = true
			return closeCardCmd(msg.card)
		}
	case workedMsg:
		msg.res.wipe()
		e.pins.put(msg.pins...)
	case cardSetsMsg:
		if msg.verify != nil {
			msg.verify.Wipe()
		}
		if msg.reissue != nil {
			msg.reissue.Wipe()
		}
	case planMsg:
		msg.guard.abandon(msg.r)
	case commitMsg:
		msg.guard.abandon(msg.r)
	}
	return nil
}

// wipe wipes the share record and the raw record a card command handed
// over.
func (r *cardResult) wipe() {
	if r.rec != nil {
		r.rec.Wipe()
	}
	r.raw.Destroy()
	r.raw = nil
}

// rawBytes is the raw record, nil when there is none.
func (r *cardResult) rawBytes() []byte {
	if r.raw == nil {
		return nil
	}
	return r.raw.Bytes()[:r.rawLen]
}

// hsmInfoMsg reports the HSM's current Backup Key and its card-set
// register (docs/lifecycle.md): hasReg when the HSM keeps one, regErr when
// reading it failed.
type hsmInfoMsg struct {
	info   hsm.KeyInfo
	ok     bool
	err    error
	reg    hsm.CardSets
	hasReg bool
	regErr error
	notes  []hsm.CardSetsNote // what the register's backend found and did not count
}

// simMsg reports a simulated card insertion or removal.
type simMsg struct {
	inserted int
	err      error
	key      int // the card the F-key asked for (0: F12, take it out)
}

// presenceMsg reports a card coming or going, from the reader watcher.
type presenceMsg struct {
	present bool
	err     error
}

// readerMsg tells the activity that the reader failed (err) or answers
// again (nil), so its screen says so at once, not at the next OK.
type readerMsg struct{ err error }

// tickMsg drives the countdowns.
type tickMsg time.Time

// connectCmd connects to the card in the reader, identifies it and asks the
// PIN state of slot without spending a try (a probe asks both slots' and
// keeps the ATR); the session works with opts (the APDU log, the PIN pad's
// timeout and language). On success the card stays open for the step; on failure it
// is closed, except a probed foreign card (Inspect shows its ATR).
func connectCmd(ctx context.Context, id stepID, r cardio.Reader, slot tcos.Slot, probe bool, opts tcos.Options, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		c, err := r.Connect(ctx)
		if err != nil {
			return connectedMsg{id: id, at: now(), err: err}
		}
		pad := c.PINPad()
		oc := &openCard{card: c, sess: tcos.Open(c, opts),
			onPad: pad != nil, modify: pad != nil && pad.CanModify(), atr: c.ATR()}
		if oc.serial, err = oc.sess.Identify(ctx); err != nil {
			if probe && errors.Is(err, tcos.ErrForeignCard) {
				c.Close()
				return connectedMsg{id: id, at: now(), card: &openCard{atr: oc.atr}, err: err}
			}
			c.Close()
			return connectedMsg{id: id, at: now(), err: err}
		}
		if !probe {
			if oc.status, err = oc.sess.PINStatus(ctx, slot); err != nil {
				c.Close()
				return connectedMsg{id: id, at: now(), err: err}
			}
			return connectedMsg{id: id, at: now(), card: oc}
		}
		for i, s := range []tcos.Slot{tcos.SlotBackupKey, tcos.SlotPKCS11} {
			st, err := oc.sess.PINStatus(ctx, s)
			if err != nil && !errors.Is(err, tcos.ErrForeignCard) {
				c.Close()
				return connectedMsg{id: id, at: now(), err: err}
			}
			oc.slots[i], oc.slotErr[i] = st, err
		}
		oc.status = oc.slots[0]
		return connectedMsg{id: id, at: now(), card: oc}
	}
}

// cardWork is a command a card step runs on its open card: after the PIN
// (pins are the PINs typed on screen, or nil when the reader's keypad takes
// them) or on its own. run bounds its own phases; ctx ends when the step is
// stopped or the operator quits.
type cardWork struct {
	what i18n.Message // for the screen: what runs ("checking the PIN")
	// pad says the reader's keypad takes the PIN now, for padTime (the
	// countdown shown).
	pad     bool
	padTime time.Duration
	// bound is how long the card may take to answer, for the countdown
	// shown while it works (0: stepTimeout).
	bound time.Duration
	// pinStep is the audit step a PIN of this work is recorded as
	// (verify_pin or change_pin), "" for work without a PIN.
	pinStep audit.Step
	run     func(ctx context.Context, c *openCard, pins [][]byte) (cardResult, error)
}

// workCmd runs w with the PIN fields pins (nil: none), which go back in the
// answer.
func workCmd(ctx context.Context, cancel context.CancelFunc, id stepID, c *openCard, w cardWork, pins []*secmem.Field, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		defer cancel()
		var typed [][]byte
		for _, f := range pins {
			typed = append(typed, f.Bytes())
		}
		res, err := w.run(ctx, c, typed)
		for _, f := range pins {
			f.Clear() // sent: wiped before it travels back
		}
		if ctx.Err() != nil {
			// Stopped or quitting: nobody takes the answer, so what it
			// brings back is wiped here (the program may end first).
			res.wipe()
		}
		return workedMsg{id: id, at: now(), res: res, err: err, pins: pins}
	}
}

// verify verifies the slot PIN typed on screen (pin), or on the reader's
// keypad when pin is nil, within its own bound.
func verify(ctx context.Context, c *openCard, slot tcos.Slot, pin []byte, padTime time.Duration) error {
	if pin == nil {
		ctx, cancel := context.WithTimeout(ctx, padTime+5*time.Second)
		defer cancel()
		return c.sess.VerifyPINOnPad(ctx, slot)
	}
	ctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return c.sess.VerifyPIN(ctx, slot, pin)
}

// firstPIN is the one PIN of a verify, or nil (on the pad).
func firstPIN(pins [][]byte) []byte {
	if len(pins) == 0 {
		return nil
	}
	return pins[0]
}

// readWork verifies the Backup Key PIN and reads the share record.
func readWork(padTime time.Duration, onPad bool) cardWork {
	w := cardWork{what: i18n.WorkReadingShare, pad: onPad, padTime: padTime, pinStep: audit.StepVerifyPIN}
	if onPad {
		w.what = i18n.WorkWaitingPadPIN
	}
	w.run = func(ctx context.Context, c *openCard, pins [][]byte) (cardResult, error) {
		if err := verify(ctx, c, tcos.SlotBackupKey, firstPIN(pins), padTime); err != nil {
			return cardResult{}, err
		}
		rctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		raw, err := c.sess.ReadShareRecord(rctx)
		if err != nil {
			return cardResult{pinOK: true}, err
		}
		defer secmem.Wipe(raw)
		rec, recErr := quorum.Parse(raw)
		return cardResult{pinOK: true, rec: rec, recErr: recErr}, nil
	}
	return w
}

// rawReadWork verifies the Backup Key PIN and reads the share record as the
// card holds it, for package cardset (Verify, Re-issue, Erase): into secret
// memory, with the heap's copy wiped at once. The buffer has room for a
// whole EF, so that a re-issue writes its new record through it.
func rawReadWork(padTime time.Duration, onPad bool) cardWork {
	w := readWork(padTime, onPad)
	w.run = func(ctx context.Context, c *openCard, pins [][]byte) (cardResult, error) {
		if err := verify(ctx, c, tcos.SlotBackupKey, firstPIN(pins), padTime); err != nil {
			return cardResult{}, err
		}
		rctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		raw, err := c.sess.ReadShareRecord(rctx)
		defer secmem.Wipe(raw)
		if err != nil {
			return cardResult{pinOK: true}, err
		}
		buf, err := secmem.NewBuffer(tcos.ShareEFSize)
		if err != nil {
			return cardResult{pinOK: true}, err
		}
		return cardResult{pinOK: true, raw: buf, rawLen: secmem.Copy(buf.Bytes(), raw)}, nil
	}
	return w
}

// recordWork writes the first n bytes of buf, a share record, to the card
// (its PIN verified in this step) and reads it back into buf: the buffer
// goes with the command and comes back with the read-back (or wiped, after
// a failure), the step's to destroy. The record never aliases memory the
// operation may wipe meanwhile.
func recordWork(buf *secmem.Buffer, n int, what i18n.Message) cardWork {
	return cardWork{what: what, run: func(ctx context.Context, c *openCard, _ [][]byte) (cardResult, error) {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		back, err := c.sess.WriteShareRecordReadBack(ctx, buf.Bytes()[:n])
		defer secmem.Wipe(back)
		secmem.Wipe(buf.Bytes())
		if err != nil {
			return cardResult{raw: buf}, err
		}
		return cardResult{raw: buf, rawLen: secmem.Copy(buf.Bytes(), back)}, nil
	}}
}

// eraseWork clears the Backup Key share slot (its PIN verified in this
// step) and reads it back.
func eraseWork() cardWork {
	return cardWork{what: i18n.WorkErasing, run: func(ctx context.Context, c *openCard, _ [][]byte) (cardResult, error) {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		return cardResult{}, c.sess.EraseShareRecord(ctx)
	}}
}

// writeWork writes a share record to the card (its PIN verified in this
// step) and reads it back.
func writeWork(rec *quorum.Record, what i18n.Message) cardWork {
	return cardWork{what: what, run: func(ctx context.Context, c *openCard, _ [][]byte) (cardResult, error) {
		b, err := rec.Marshal()
		if err != nil {
			return cardResult{}, err
		}
		defer secmem.Wipe(b)
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		return cardResult{}, c.sess.WriteShareRecord(ctx, b)
	}}
}

// changeWork changes the slot PIN: typed on screen (current, new, new
// again), or all on the reader's keypad.
func changeWork(slot tcos.Slot, padTime time.Duration, onPad bool) cardWork {
	// A change verifies the current PIN alone first (docs/security.md,
	// "Changing a PIN"): a wrong one is a failed verify.
	w := cardWork{what: i18n.WorkChangingPIN, pad: onPad, padTime: 3 * padTime, pinStep: audit.StepVerifyPIN}
	if onPad {
		w.what = i18n.WorkWaitingPadPINs
	}
	w.run = func(ctx context.Context, c *openCard, pins [][]byte) (cardResult, error) {
		if pins == nil {
			ctx, cancel := context.WithTimeout(ctx, 3*padTime+5*time.Second)
			defer cancel()
			return cardResult{}, c.sess.ChangePINOnPad(ctx, slot)
		}
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		return cardResult{}, c.sess.ChangePIN(ctx, slot, pins[0], pins[1], pins[2])
	}
	return w
}

// slotOp is what a slot user card activity does with the card.
type slotOp int

const (
	slotEnroll slotOp = iota
	slotActivate
)

// slotWork verifies the card's PKCS#11 slot user PIN, then prepares the
// card's enrollment under label (nothing is stored: the security officer
// confirms the plan first) or activates the slot with it. The slot's user
// PIN exists only inside slotuser and the slot, for the moment it is wrapped
// or handed to C_Login.
func slotWork(op slotOp, slot hsm.UserSlot, padTime time.Duration, onPad bool, label string, now func() time.Time) cardWork {
	w := cardWork{pad: onPad, padTime: padTime, pinStep: audit.StepVerifyPIN, what: i18n.WorkActivating}
	switch {
	case onPad:
		w.what = i18n.WorkWaitingPadPIN
	case op == slotEnroll:
		w.what = i18n.WorkEnrolling
	}
	if op == slotEnroll {
		w.bound = keyGenTimeout
	}
	w.run = func(ctx context.Context, c *openCard, pins [][]byte) (cardResult, error) {
		if err := verify(ctx, c, tcos.SlotPKCS11, firstPIN(pins), padTime); err != nil {
			return cardResult{}, err
		}
		if op == slotEnroll {
			ctx, cancel := context.WithTimeout(ctx, keyGenTimeout)
			defer cancel()
			plan, err := slotuser.PrepareEnroll(ctx, slot, c.serial, c.sess, label, now())
			return cardResult{pinOK: true, plan: plan}, err
		}
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		d, err := slotuser.Activate(ctx, slot, c.serial, c.sess)
		var unchecked *slotuser.AuditError
		if errors.As(err, &unchecked) {
			// Active: only the check of the other records failed.
			return cardResult{pinOK: true, auditErr: err}, nil
		}
		return cardResult{pinOK: true, disc: d}, err
	}
	return w
}

// cardClosedMsg: a card was reset and released.
type cardClosedMsg struct{ card *openCard }

// closeCardCmd ends a card's step: the card is reset and released.
func closeCardCmd(c *openCard) tea.Cmd {
	if c == nil || c.card == nil {
		return nil
	}
	return func() tea.Msg {
		c.card.Close()
		return cardClosedMsg{c}
	}
}

// loadCmd loads the rebuilt key into the HSM. The key stays the caller's to
// wipe: a refused replace must leave it in memory for the operator's answer.
func loadCmd(ctx context.Context, id stepID, h hsm.HSM, key *quorum.Key, info hsm.KeyInfo, replace bool, now func() time.Time) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		already, err := h.LoadBackupKey(ctx, key.Bytes(), info, replace)
		runtime.KeepAlive(key) // its memory is unmapped once it is unreachable
		return loadedMsg{id: id, at: now(), already: already, err: err}
	}
}

// hsmInfoCmd asks the HSM which Backup Key it holds, and its card-set
// register.
func hsmInfoCmd(h hsm.HSM) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		info, ok, err := h.BackupKey(ctx)
		msg := hsmInfoMsg{info: info, ok: ok, err: err}
		if reg, has := hsm.CardSetsOf(h); has {
			msg.hasReg = true
			msg.reg, msg.notes, msg.regErr = readRegister(ctx, reg)
		}
		return msg
	}
}

func slotListCmd(ctx context.Context, id stepID, slot hsm.UserSlot) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		recs, err := slotuser.List(ctx, slot)
		return slotListMsg{id: id, recs: recs, err: err}
	}
}

// slotApplyCmd makes the change plan says, as the security officer
// confirmed it; no card is needed.
func slotApplyCmd(ctx context.Context, id stepID, slot hsm.UserSlot, plan *slotuser.Plan) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(ctx, stepTimeout)
		defer cancel()
		res, err := slotuser.Apply(ctx, slot, plan)
		return slotAppliedMsg{id: id, at: time.Now(), plan: plan, res: res, err: err}
	}
}

// simInsertCmd puts simulated card i into the simulated reader (0 takes the
// card out).
func simInsertCmd(sim SimDeck, i int) tea.Cmd {
	return func() tea.Msg {
		if i == 0 {
			sim.Remove()
			return simMsg{}
		}
		err := sim.Insert(i)
		return simMsg{inserted: sim.Inserted(), err: err, key: i}
	}
}

// watchCmd waits for the reader's card presence to change from present.
func watchCmd(ctx context.Context, r cardio.Reader, present bool) tea.Cmd {
	return func() tea.Msg {
		var err error
		if present {
			err = r.WaitForRemoval(ctx)
		} else {
			err = r.WaitForCard(ctx)
		}
		if err != nil {
			return presenceMsg{present: present, err: err}
		}
		return presenceMsg{present: !present}
	}
}

// presentCmd asks once whether a card is in the reader.
func presentCmd(r cardio.Reader) tea.Cmd {
	return func() tea.Msg {
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		p, err := r.Present(ctx)
		return presenceMsg{present: p, err: err}
	}
}

func tickCmd(every time.Duration) tea.Cmd {
	if every <= 0 {
		return nil
	}
	return tea.Tick(every, func(t time.Time) tea.Msg { return tickMsg(t) })
}
