package wizard

import (
	"context"
	"crypto/subtle"
	"errors"
	"slices"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// keyReading is the Key Reading of the appliance manual: a quorum of share
// cards is read, one card step each and in any order, the Backup Key rebuilt
// from them and loaded into the HSM, which is asked first before another
// key it holds is replaced. Install (after writing the cards) and Load
// compose it.
type keyReading struct {
	f     *frame
	state readState
	step  *cardStep
	fresh bool // the key was just written (Install): "Read New Key"
	coll  *quorum.Collector
	want  *quorum.KeySetID // the key set to read (Install), nil: the first card's
	// written is the key Install generated: the key read back must be it.
	written *quorum.Key
	read    []tcos.Serial // serials read in this reading
	set     *quorum.KeySet
	key     *quorum.Key // the key rebuilt from the cards, until loaded
	// agreed is the KCV of the HSM key the operator agreed to replace, when
	// they did: a load replaces that key and no other without asking.
	agreed  *[3]byte
	other   hsm.KeyInfo // the different key the HSM holds (readReplace)
	loadID  stepID
	loaded  hsm.KeyInfo
	already bool
	// outcome is how the reading ended (readDone): ok, or refused when the
	// operator kept the HSM's key.
	outcome audit.Outcome
	// The card-set register (docs/lifecycle.md): a newer generation the
	// operator agreed to load, the rebuilt key's key check (for Adopt, once
	// the key is in the HSM), the cards Install wrote (known to hold the
	// set), and the update of the register after the load.
	newer   *quorum.KeySetID
	check   quorum.KeyCheck
	known   []tcos.Serial
	regID   stepID
	regNote string
}

// readState is where a Key Reading stands.
type readState int

const (
	readStart     readState = iota // "Read Key" / "Read New Key", press OK/Cancel
	readCard                       // a card step for the next share
	readLoading                    // the key goes into the HSM
	readReplace                    // the HSM holds another key: replace it?
	readRetry                      // the HSM did not take the key: try again?
	readRecording                  // the HSM's card-set register records the set
	readDone                       // loaded, or the operator kept the HSM's key
)

// readEvent is what a Key Reading tells its operation.
type readEvent int

const (
	readGoing readEvent = iota
	readLeave           // Cancel: the operator wants to leave
	readEnded           // readDone: the notice says how
)

func newKeyReading(f *frame, want *quorum.KeySetID, written *quorum.Key, agreed *[3]byte) *keyReading {
	return &keyReading{f: f, fresh: written != nil, want: want, written: written, agreed: agreed, coll: quorum.NewCollector(want)}
}

// cardNo is the number the pad shows in "Insert N. card".
func (r *keyReading) cardNo() int { return r.coll.Have() + 1 }

// hint says which card to present.
func (r *keyReading) hint() string { return r.f.t(r.hintMsg()) }

func (r *keyReading) hintMsg() i18n.Message {
	if n := r.coll.Need(); n > 0 {
		return i18n.WizReadHint{Card: r.cardNo(), Need: n}
	}
	return i18n.WizReadHintAny
}

// insert waits for the next card.
func (r *keyReading) insert() {
	r.state = readCard
	n := r.cardNo()
	r.step = r.f.newStep(tcos.SlotBackupKey, i18n.PadInsertNth{Card: n}, i18n.WizWaitInsertNth{Card: n}, r.hintMsg())
}

func (r *keyReading) update(msg tea.Msg) (readEvent, tea.Cmd) {
	if m, ok := msg.(loadedMsg); ok {
		if r.state != readLoading || m.id != r.loadID {
			return readGoing, nil
		}
		return r.loadedKey(m)
	}
	if m, ok := msg.(registeredMsg); ok {
		if r.state != readRecording || m.id != r.regID {
			return readGoing, nil
		}
		return r.recorded(m)
	}
	switch r.state {
	case readStart, readReplace, readRetry:
		k, ok := msg.(tea.KeyPressMsg)
		if !ok {
			return readGoing, r.f.env.discardIfResult(msg)
		}
		if key.Matches(k, keys.OK, keys.Cancel) {
			return r.answer(key.Matches(k, keys.OK))
		}
	case readCard:
		return r.cardUpdate(msg)
	default:
		return readGoing, r.f.env.discardIfResult(msg)
	}
	return readGoing, nil
}

// answer is OK (yes) or Cancel to the reading's question.
func (r *keyReading) answer(yes bool) (readEvent, tea.Cmd) {
	switch r.state {
	case readStart:
		if !yes {
			return readLeave, nil
		}
		r.insert()
		r.f.note = notice{level: lvInfo, next: r.hint()}
	case readReplace:
		if yes {
			kcv := r.other.KCV
			r.agreed = &kcv
			return readGoing, r.load(true)
		}
		r.f.event(audit.StepLoadHSM, nil, audit.OutcomeRefused, "the operator kept the HSM's key")
		r.state, r.outcome = readDone, audit.OutcomeRefused
		r.f.note = notice{level: lvWarn, text: r.f.t(i18n.WizKeptHSMKey{KCV: kcvString(r.other.KCV)})}
		return readEnded, r.wipe()
	case readRetry:
		if !yes {
			return readLeave, nil
		}
		return readGoing, r.load(false)
	}
	return readGoing, nil
}

func (r *keyReading) cardUpdate(msg tea.Msg) (readEvent, tea.Cmd) {
	s := r.step
	ev, cmd := s.update(msg)
	switch ev.kind {
	case evLeave:
		return readLeave, cmd
	case evConnected:
		return readGoing, r.identified()
	case evWrongPIN, evShortPIN:
		r.f.pinEvent(ev, s, pinBackupKey)
	case evTyped:
		return readGoing, s.send()
	case evWorked:
		return r.collect()
	case evAnswer:
		if !ev.yes {
			s.record(audit.StepReadCard, audit.OutcomeRefused, "the operator kept out a newer card set", nil, r.f.env.now())
			cmd := s.end()
			r.insert()
			r.f.note = notice{level: lvInfo, text: r.f.t(i18n.WizCardNotUsed), next: sentences(r.f.t(i18n.WizTakeItOut), r.hint())}
			return readGoing, cmd
		}
		set := s.res.rec.KeySet()
		r.newer = &set.ID
		return r.collect()
	case evEnded:
		r.f.stepEnded(ev, tcos.SlotBackupKey, r.hint(), r.heldWord())
		if r.f.mode == frameOn {
			r.insert()
		}
	}
	return readGoing, cmd
}

// heldWord is the secret still in memory during the reading.
func (r *keyReading) heldWord() holding {
	if r.written != nil {
		return holdsKey
	}
	return holdsNothing
}

// identified refuses a card read already or blocked, else asks its PIN.
func (r *keyReading) identified() tea.Cmd {
	s := r.step
	c := s.card
	if indexOf(r.read, c.serial) >= 0 {
		return r.refuseCard(r.f.env.say(i18n.WizAlreadyRead{Serial: c.serial.String()}), audit.OutcomeRefused)
	}
	if c.status.Blocked {
		return r.refuseCard(r.f.env.blocked(c.serial, tcos.SlotBackupKey), audit.OutcomeBlocked)
	}
	s.record(audit.StepIdentify, audit.OutcomeOK, "", audit.Tries(c.status.TriesLeft), r.f.env.now())
	r.f.note = s.pinNotice(pinBackupKey)
	return s.askPIN(verifyEntry, readWork(r.f.env.cfg.PINTimeout, c.onPad))
}

// refuseCard ends the card's step with a refusal and waits for another card.
func (r *keyReading) refuseCard(why said, out audit.Outcome) tea.Cmd {
	s := r.step
	s.record(audit.StepIdentify, out, why.trail, audit.Tries(s.card.status.TriesLeft), r.f.env.now())
	cmd := s.end()
	r.insert()
	r.f.note = notice{level: lvError, text: why.screen, next: sentences(r.f.t(i18n.WizTakeThisCardOut), r.hint())}
	return cmd
}

// collect takes the record the card handed over into the quorum (the
// collector keeps its own copy; the step wipes the card's at its end).
func (r *keyReading) collect() (readEvent, tea.Cmd) {
	s := r.step
	serial := s.card.serial
	rec, recErr := s.res.rec, s.res.recErr
	refuseSaid := func(w said) (readEvent, tea.Cmd) {
		s.record(audit.StepReadCard, audit.OutcomeRefused, w.trail, nil, r.f.env.now())
		cmd := s.end()
		r.insert()
		r.f.note = notice{level: lvError, text: w.screen, next: sentences(r.f.t(i18n.WizTakeThisCardOut), r.hint())}
		return readGoing, cmd
	}
	refuse := func(why i18n.Message) (readEvent, tea.Cmd) { return refuseSaid(r.f.env.say(why)) }
	ser := serial.String()
	switch {
	case errors.Is(recErr, quorum.ErrEmpty):
		return refuse(i18n.WizNoShare{Serial: ser})
	case errors.Is(recErr, quorum.ErrUnknownVersion):
		return refuse(i18n.WizUnknownFormatRead{Serial: ser})
	case recErr != nil:
		return refuse(i18n.WizDamagedRead{Serial: ser})
	}
	// The HSM's register says which card set counts: a card of another
	// generation is refused, a newer one (a re-issue elsewhere) only after
	// asking (docs/lifecycle.md, "Generations").
	if err := r.f.env.admit(rec.KeySet()); err != nil {
		p := classify(err)
		switch {
		case p.cause == causeNewer && r.newer != nil && *r.newer == rec.KeySetID:
		case p.cause == causeNewer && r.newer == nil && r.coll.Have() == 0:
			s.hold([2]string{r.f.t(i18n.PadTakeNewerSet), r.f.t(i18n.PadOKCancel)})
			r.f.note = notice{level: lvWarn, text: sentences(p.says(r.f.env.p, 0), r.f.t(i18n.WizNewerSetOnlyIf)),
				next: r.f.t(i18n.WizNewerSetNext)}
			return readGoing, nil
		case r.f.env.cardSets.regErr != nil:
			ev, cmd := refuseSaid(r.f.env.sayProblem(p, 0))
			r.f.note = r.f.env.registerRefusal()
			return ev, cmd
		default:
			return refuseSaid(r.f.env.sayProblem(p, 0))
		}
	}
	if err := r.coll.Add(rec); err != nil {
		switch {
		case errors.Is(err, quorum.ErrOtherKeySet):
			set, _ := r.coll.KeySet()
			if r.want != nil { // the set being read back is the one just written
				set = quorum.KeySet{Label: set.Label, KCV: set.KCV}
				if r.written != nil {
					set.KCV = r.written.KCV()
				}
			}
			ev, cmd := refuse(i18n.WizOtherKeySet{Serial: ser, Label: rec.Label, KCV: kcvString(rec.KCV), WantLabel: set.Label, WantKCV: kcvString(set.KCV)})
			if r.want == nil {
				// The first card read chose the key set; it may have been the
				// odd one out. Nothing is held yet, so starting over is free.
				r.f.note.next = sentences(r.f.note.next, r.f.t(i18n.WizStartOverWithout{Label: rec.Label, Other: set.Label}))
			}
			return ev, cmd
		case errors.Is(err, quorum.ErrDuplicateShare):
			return refuse(i18n.WizDuplicateShare{Serial: ser})
		}
		return refuse(i18n.WizShareDoesNotFit{Serial: ser})
	}
	r.read = append(r.read, serial)
	set, _ := r.coll.KeySet()
	r.set = &set
	s.record(audit.StepReadCard, audit.OutcomeOK, "", nil, r.f.env.now())
	cmd := s.end()
	if r.coll.Have() < r.coll.Need() {
		r.insert()
		r.f.note = notice{level: lvGood, text: r.f.t(i18n.WizCardRead{Serial: ser, Have: r.coll.Have(), Need: r.coll.Need()}),
			next: sentences(r.f.t(i18n.WizTakeCardOut), r.hint())}
		return readGoing, cmd
	}
	return readGoing, tea.Batch(cmd, r.combine())
}

// combine rebuilds the key from the shares read.
func (r *keyReading) combine() tea.Cmd {
	key, err := r.coll.Combine()
	if err == nil && r.written != nil && subtle.ConstantTimeCompare(key.Bytes(), r.written.Bytes()) != 1 {
		key.Wipe()
		err = errors.New("the key read back differs from the key written")
	}
	r.coll.Wipe() // the shares did their job, or failed to
	if err != nil {
		r.f.event(audit.StepReadCard, nil, audit.OutcomeError, "the key could not be rebuilt")
		// Start the reading over; in an install the generated key is still here.
		r.coll = quorum.NewCollector(r.want)
		r.read, r.set = nil, nil
		r.state = readStart
		r.f.note = notice{level: lvError, text: r.f.t(i18n.WizRebuildFailed), next: r.f.t(i18n.WizReadAgain)}
		return nil
	}
	set := *r.set
	if err := r.f.env.admitRebuilt(set, key.Check()); err != nil &&
		!(r.newer != nil && *r.newer == set.ID && classify(err).cause == causeNewer) {
		// A format 1 set of the HSM's key that the register does not list:
		// only the rebuilt key tells.
		key.Wipe()
		p := classify(err)
		r.f.event(audit.StepReadCard, nil, p.outcome(), safeDetail(err))
		r.coll = quorum.NewCollector(r.want)
		r.read, r.set = nil, nil
		r.state = readStart
		r.f.note = notice{level: lvError, text: sentences(r.f.t(i18n.WizNotCurrentSet), p.says(r.f.env.p, 0), r.f.t(i18n.WizNothingLoaded)),
			next: r.f.t(i18n.WizReadCurrentSet)}
		return nil
	}
	r.check = key.Check()
	r.key = key
	return r.load(false)
}

// load hands the rebuilt key to the HSM; replace only when the operator
// agreed to replace the key the HSM was seen to hold.
func (r *keyReading) load(replace bool) tea.Cmd {
	r.state = readLoading
	r.loadID = r.f.env.newID()
	e := r.f.env
	return loadCmd(e.ctx, r.loadID, e.cfg.HSM, r.key, r.keyInfo(), replace, e.now)
}

func (r *keyReading) keyInfo() hsm.KeyInfo {
	return hsm.KeyInfo{KeySetID: r.set.ID, Label: r.set.Label, KCV: r.set.KCV}
}

func (r *keyReading) loadedKey(msg loadedMsg) (readEvent, tea.Cmd) {
	var diff *hsm.DifferentKeyError
	at := msg.at
	switch {
	case errors.As(msg.err, &diff) && r.agreed != nil && *r.agreed == diff.Loaded.KCV:
		// The very key the operator agreed to replace: no second question.
		return readGoing, r.load(true)
	case errors.As(msg.err, &diff):
		r.f.record(audit.Event{Time: at, Step: audit.StepLoadHSM, Outcome: audit.OutcomeRefused, Detail: "the HSM holds a different Backup Key"}, nil)
		r.other = diff.Loaded
		r.state = readReplace
		r.f.note = notice{level: lvWarn, text: r.f.t(i18n.WizHSMDifferentKey{KCV: kcvString(diff.Loaded.KCV), Label: safetext.Clean(diff.Loaded.Label), CardsKCV: kcvString(r.set.KCV)}),
			next: r.f.t(i18n.WizReplaceNext)}
		return readGoing, nil
	case msg.err != nil:
		p := classifyHSM(msg.err)
		r.f.record(audit.Event{Time: at, Step: audit.StepLoadHSM, Outcome: p.outcome(), Detail: safeDetail(msg.err)}, nil)
		r.state = readRetry
		n := r.f.env.problemNotice(p, tcos.SlotBackupKey, r.f.t(i18n.WizFixHSMNext))
		n.text = sentences(r.f.t(i18n.WizHSMRefusedKey), n.text)
		r.f.note = n
		return readGoing, nil
	}
	r.already = msg.already
	r.loaded = r.keyInfo()
	detail := ""
	if msg.already {
		detail = "already loaded"
	}
	r.f.record(audit.Event{Time: at, Step: audit.StepLoadHSM, Outcome: audit.OutcomeOK, Detail: detail}, nil)
	name, kcv := r.f.env.hsmName(), kcvString(r.set.KCV)
	text := r.f.t(i18n.WizKeyLoaded{Label: r.set.Label, HSM: name, KCV: kcv})
	if msg.already {
		text = r.f.t(i18n.WizKeyAlreadyLoaded{HSM: name, Label: r.set.Label, KCV: kcv})
	}
	r.outcome = audit.OutcomeOK
	wipe := r.wipe()
	reg, ok := r.f.env.register()
	if !ok {
		r.state = readDone
		r.f.note = notice{level: lvGood, text: text}
		return readEnded, wipe
	}
	r.regNote = text
	r.f.note = notice{level: lvInfo, text: r.f.t(i18n.WizRecordingSet)}
	// The key is in the HSM: its register records the set as current
	// (a Newer one the operator agreed to supersedes the old).
	r.state = readRecording
	r.regID = r.f.env.newID()
	set, check, now := *r.set, r.check, r.f.env.now()
	serials := append(slices.Clone(r.known), r.read...)
	return readGoing, tea.Batch(wipe, registerCmd(r.f.env.ctx, r.regID, r.f.env.now, func(ctx context.Context) (hsm.CardSets, error) {
		return cardset.Adopt(ctx, reg, set, check, serials, now)
	}))
}

// recorded ends the reading once the register recorded the set.
func (r *keyReading) recorded(m registeredMsg) (readEvent, tea.Cmd) {
	r.state = readDone
	r.f.note = notice{level: lvGood, text: r.regNote}
	if m.err != nil {
		p := classifyHSM(m.err)
		r.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: p.outcome(), Detail: safeDetail(m.err)}, nil)
		r.f.note.level = lvWarn
		r.f.note.text = sentences(r.f.note.text, r.f.t(i18n.WizRegisterNotUpdated{Cause: p.says(r.f.env.p, 0)}))
		r.f.note.details = p.details()
		return readEnded, nil
	}
	r.f.record(audit.Event{Time: m.at, Step: audit.StepRegister, Outcome: audit.OutcomeOK}, nil)
	if cur := m.reg.Current; cur != nil {
		r.f.note.text = sentences(r.f.note.text, r.f.t(i18n.WizSetRecorded{Generation: int(cur.Generation), Cards: len(cur.Serials)}))
	}
	return readEnded, nil
}

// loadedOK says whether the key is in the HSM.
func (r *keyReading) loadedOK() bool { return r.state == readDone && r.outcome == audit.OutcomeOK }

// holds says whether the reading holds the rebuilt key.
func (r *keyReading) holds() bool { return r.key != nil }

// wipe wipes the rebuilt key, the shares collected and the card's step.
func (r *keyReading) wipe() tea.Cmd {
	if r.key != nil {
		r.key.Wipe()
		r.key = nil
	}
	r.coll.Wipe()
	if r.step != nil {
		return r.step.end()
	}
	return nil
}

// pad is the reading's display.
func (r *keyReading) pad() [2]string {
	t := r.f.t
	okCancel := t(i18n.PadOKCancel)
	switch r.state {
	case readStart:
		if r.fresh {
			return [2]string{t(i18n.PadReadNewKey), okCancel}
		}
		return [2]string{t(i18n.PadReadKey), okCancel}
	case readCard:
		return r.step.pad()
	case readLoading:
		return [2]string{t(i18n.PadWait), ""}
	case readReplace:
		return [2]string{t(i18n.PadReplaceKey), okCancel}
	case readRetry:
		return [2]string{t(i18n.PadLoadFailed), okCancel}
	case readRecording:
		return [2]string{t(i18n.PadWait), ""}
	}
	if r.loadedOK() {
		return [2]string{t(i18n.PadKeyLoaded), t(i18n.PadOK)}
	}
	return [2]string{t(i18n.PadKeyNotLoaded), t(i18n.PadOK)}
}

// progress is the reading's lines of the side panel: the cards read, each
// by the end of its serial, and the load.
func (r *keyReading) progress(k int) []string {
	p := r.f.env.p
	need := r.coll.Need()
	if k > 0 {
		need = k
	}
	var items []string
	for i := 0; i < max(need, len(r.read)); i++ {
		var s *tcos.Serial
		if i < len(r.read) {
			s = &r.read[i]
		}
		items = append(items, progressItem(p, i+1, s, i == len(r.read) && r.state == readCard))
	}
	if need == 0 {
		items = append(items, p.T(i18n.WizProgressFromFirst))
	}
	load := "-"
	switch {
	case r.state == readLoading:
		load = p.T(i18n.WizProgressNow)
	case r.outcome == audit.OutcomeOK && (r.state == readDone || r.state == readRecording) && r.already:
		load = p.T(i18n.WizLoadDoneAlready{KCV: kcvString(r.loaded.KCV)})
	case r.outcome == audit.OutcomeOK && (r.state == readDone || r.state == readRecording):
		load = p.T(i18n.WizLoadDone{KCV: kcvString(r.loaded.KCV)})
	}
	return []string{p.T(i18n.WizProgressRead{Items: joinItems(items)}), p.T(i18n.WizProgressLoad{State: load})}
}

// busy says whether a command of the reading runs.
func (r *keyReading) busy() bool {
	return r.state == readLoading || r.state == readRecording || (r.state == readCard && r.step.running())
}
