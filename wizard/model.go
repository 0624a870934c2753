// Package wizard is the terminal wizard (Bubble Tea) that walks an operator
// through the smart-card ceremonies of the appliance: a main menu, then one
// step per PIN-pad prompt of the appliance manual, Smart Card Handling
// (docs/wizard.md). Update and View do no I/O and take no locks: card,
// reader and HSM work runs in the tea.Cmds of commands.go. Each operation
// is a small state machine (op_*.go) composing card steps (cardstep.go) and
// the activity frame (activity.go); errors are classified once
// (problem.go).
package wizard

import (
	"context"
	"io"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
)

// Default timeouts of card insertion and PIN entry (docs/cli.md; the
// --insert-timeout and --pin-timeout flags change them).
const (
	DefaultInsertTimeout = 60 * time.Second
	DefaultPINTimeout    = 30 * time.Second
	// DefaultTick is the longest wait between two refreshes of a countdown.
	DefaultTick = 5 * time.Second
)

// FPS is the frame rate the wizard runs Bubble Tea's renderer at. The
// renderer wakes this often whether or not anything changed, which is
// most of an idle wizard's CPU: 60 (Bubble Tea's default) costs about
// 150 ms per 10 s; 6 keeps an idle wizard near 20 ms per 10 s, and a key's
// echo at most a sixth of a second behind (docs/wizard.md, "Idle").
const FPS = 6

// ProgramOptions are the Bubble Tea options the wizard runs with.
func ProgramOptions() []tea.ProgramOption { return []tea.ProgramOption{tea.WithFPS(FPS)} }

// Config is what the wizard runs against.
type Config struct {
	// Reader is the card reader. Sim is its deck when it is the simulated
	// one (F1–F9 insert a card, F12 takes it out), else nil.
	Reader cardio.Reader
	Sim    SimDeck
	// Instructor, when set, is the trainer's fault menu (ctrl+f) on the
	// simulated reader.
	Instructor Instructor
	// ReaderChoices, when Reader is nil, are the connected readers the
	// operator chooses from first; OpenReader opens the chosen one.
	ReaderChoices []string
	OpenReader    func(ctx context.Context, name string) (cardio.Reader, error)
	// Warnings are shown on the main menu (e.g. key memory cannot be locked).
	Warnings []string
	// HSM receives the Backup Key.
	HSM hsm.HSM
	// OpenHSM, when HSM is nil, opens the HSM with the token's user PIN the
	// operator types in the wizard (after the reader chooser, before the
	// menu) and soPIN, the SO PIN of the user card token when SOPINFor is
	// set (empty: activating only). The wizard wipes both after the call:
	// OpenHSM keeps no copy of pin (the user card slot may keep its own of
	// soPIN, to enroll).
	OpenHSM func(ctx context.Context, pin, soPIN []byte) (hsm.HSM, error)
	// HSMName names the HSM until it is open, e.g. "PKCS#11 token
	// appliance", and for good when the HSM is given here (HSM set, OpenHSM
	// nil): a name in the operator's language where the HSM's own Name is
	// not (the simulated HSM's).
	HSMName string
	// SOPINFor, if set, names the user card token whose SO PIN OpenHSM
	// also takes.
	SOPINFor string
	// APDULog, if set, receives the masked APDU log.
	APDULog io.Writer
	// InsertTimeout and PINTimeout bound the operator's steps.
	InsertTimeout, PINTimeout time.Duration
	// Tick bounds how long the wizard waits between two refreshes of a
	// countdown on screen (it wakes when the countdown's display changes);
	// 0 turns the ticker off (tests send tickMsg themselves). Nothing ticks
	// while no countdown shows.
	Tick time.Duration
	// Watch starts the reader watcher that shows cards coming and going.
	Watch bool
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Audit, if set, receives the audit trail (--audit).
	Audit *audit.Log
	// Printer says everything the wizard shows in the operator's language
	// (--lang or the locale, docs/i18n.md); nil says it in English. Its
	// language also chooses the prompts a PIN-pad reader shows on its own
	// display (wLangId). The audit trail stays English either way.
	Printer *i18n.Printer
}

// SimDeck is the simulated reader's deck of cards (*cardio.SimReader). Len
// is read once; Insert, Remove and Inserted may wait for the reader, so the
// wizard calls them only from commands.
type SimDeck interface {
	Len() int
	Insert(i int) error
	Remove()
	Inserted() int
}

type screen int

const (
	screenMenu screen = iota
	screenSetup
	screenActivity // a ceremony or a card tool
	screenQuit     // asking whether to quit while a key is in memory
	screenReader   // choosing among several readers
	screenHSMPIN   // the HSM token's PIN, before the HSM is open (hsmpin.go)
	screenGone     // quitting: secrets wiped, the program ends
)

// Model is the root model; it alone builds the view.
type Model struct {
	cfg    Config
	env    *env
	cancel context.CancelFunc
	width  int
	height int

	screen  screen
	menu    menu
	setup   setup
	act     activity
	chooser chooser
	login   login

	// what the reader and HSM look like, for the status lines
	present   bool
	readerErr error
	hsmInfo   hsmInfoMsg
	hsmKnown  bool
	simCard   int // the simulated card in the reader, 0: none
	deckSize  int // the simulated deck's cards (F1…Fn)
	// simPending counts F-key insertions not done yet; keys pressed
	// meanwhile wait in held, so that F3 then OK reads card 3.
	simPending int
	held       []tea.KeyPressMsg
	simSaid    string // why the last F-key did nothing, until the next one
	quitReturn screen
	quitting   bool // quit once the running step is done
	// ticking says a tick is on its way: ticks run only while a countdown
	// shows (an idle wizard wakes for nothing).
	ticking bool
	// quitLoss is what the quit question said leaving would lose, and
	// quitShare whether that is a share (not the key).
	quitLoss  string
	quitShare bool
	trailErr  error      // the audit trail's last write failure
	instr     instructor // the trainer's fault menu (instructor.go)
}

// New builds the wizard. It allocates the on-screen PIN fields (outside the
// Go heap), so Update never has to.
func New(cfg Config) *Model {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.InsertTimeout <= 0 {
		cfg.InsertTimeout = DefaultInsertTimeout
	}
	if cfg.PINTimeout <= 0 {
		cfg.PINTimeout = DefaultPINTimeout
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &Model{cfg: cfg, cancel: cancel, width: 80, height: 24, instr: newInstructor(cfg.Instructor)}
	m.env = &env{cfg: &m.cfg, p: cfg.Printer, keys: newKeys(cfg.Printer), ctx: ctx, trail: newTrail(cfg.Audit), pins: newPinPool(), tick: cfg.Now(),
		opened: map[*openCard]bool{}}
	if cfg.Sim != nil {
		m.deckSize = cfg.Sim.Len()
		m.env.deckSize = m.deckSize
	}
	if cfg.HSM == nil {
		m.screen = screenHSMPIN
		m.login = newLogin()
	}
	if cfg.Reader == nil {
		m.screen = screenReader
		m.chooser = chooser{names: cfg.ReaderChoices}
	}
	return m
}

// Reader is the reader in use: Config.Reader, or the one the operator chose.
func (m *Model) Reader() cardio.Reader { return m.cfg.Reader }

// Init starts the ticker, asks the HSM what it holds (if it is open yet),
// and starts watching the reader.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.askHSMCmd()}
	if m.cfg.Instructor != nil {
		m.instr.pending = true
		cmds = append(cmds, m.instructorCmd(""))
	}
	if m.cfg.Reader != nil {
		cmds = append(cmds, presentCmd(m.cfg.Reader))
	}
	return tea.Batch(cmds...)
}

// Update handles one message. A quit asked for while a step runs happens
// once the step's result is in: the card or HSM command must not find its
// state wiped under it.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	cmd := tea.Batch(m.handle(msg), m.refreshInstructor(msg), m.nextTick(), m.env.takeLater())
	if err := m.env.trail.failure(); err != nil {
		m.trailErr = err
	}
	if !m.quitting {
		return m, cmd
	}
	if m.busy() && !stepResult(msg) {
		return m, cmd
	}
	// The step answered: what the activity would do next (another command)
	// is dropped, not run; quitting releases every card still open.
	m.quitting = false
	return m, m.quitNow()
}

// nextTick schedules the next tick while a countdown shows on screen, and
// only then.
func (m *Model) nextTick() tea.Cmd {
	if m.ticking || m.cfg.Tick <= 0 || m.screen == screenGone || m.act == nil {
		return nil
	}
	st := m.act.status()
	if !st.countdown {
		return nil
	}
	m.ticking = true
	// At the countdown's next change, a little after (never before: the
	// display is rounded up), and at least every Config.Tick.
	return tickCmd(min(st.next+10*time.Millisecond, m.cfg.Tick))
}

// busy says whether a card, reader or HSM command of the wizard runs now.
func (m *Model) busy() bool {
	return (m.act != nil && m.act.status().busy) || m.login.busy || m.setup.generating
}

// stepResult says whether msg is the answer of a card, reader or HSM
// command the wizard waits for.
func stepResult(msg tea.Msg) bool {
	switch msg.(type) {
	case resultMsg, hsmOpenedMsg, keyMadeMsg:
		return true
	}
	return false
}

func (m *Model) handle(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return nil
	case tickMsg:
		m.ticking = false
		m.env.tick = time.Time(msg)
		return m.toActivity(msg)
	case hsmInfoMsg:
		m.hsmInfo, m.hsmKnown = msg, true
		m.env.hsmKey = m.hsmLoaded()
		m.env.cardSets = msg
		return nil
	case presenceMsg:
		return m.presence(msg)
	case readerOpenedMsg:
		cmd := m.readerOpened(msg)
		if m.screen == screenMenu {
			m.screen = m.afterReader()
		}
		return cmd
	case hsmOpenedMsg:
		return m.hsmOpened(msg)
	case instructorMsg:
		return m.instructorReport(msg)
	case keyMadeMsg:
		return m.keyMade(msg)
	case cardClosedMsg:
		delete(m.env.opened, msg.card)
		return nil
	case simMsg:
		return m.simInserted(msg)
	case tea.KeyPressMsg:
		return m.key(msg)
	case loadedMsg:
		// Show what the HSM itself now says it holds.
		return tea.Batch(m.toActivity(msg), m.askHSMCmd())
	}
	return m.toActivity(msg)
}

// toActivity hands msg to the running activity (a result nobody waits for
// any more is released) and returns to the menu once the operator is done.
func (m *Model) toActivity(msg tea.Msg) tea.Cmd {
	if m.act == nil {
		return m.env.discardIfResult(msg)
	}
	cmd := m.act.update(msg)
	if m.act.status().done {
		m.act = nil
		if m.screen == screenActivity {
			m.screen = screenMenu
		}
		return tea.Batch(cmd, m.askHSMCmd())
	}
	return cmd
}

// simInserted records a simulated card put in or taken out with an F-key.
// Putting a card in takes out the one in the reader first: a card step
// holding that card ends, even where the watcher sees only a card present.
func (m *Model) simInserted(msg simMsg) tea.Cmd {
	var cmds []tea.Cmd
	m.simPending = max(m.simPending-1, 0)
	m.simSaid = ""
	if msg.err != nil {
		switch p := classify(msg.err); {
		case p.cause == causeUnplugged && m.cfg.Instructor != nil:
			m.simSaid = m.env.t(i18n.WizSimStaysOutUnplugged{Key: msg.key, Card: msg.key})
		default:
			m.simSaid = sentences(m.env.t(i18n.WizSimStaysOut{Key: msg.key, Card: msg.key}), p.says(m.env.p, 0))
		}
	} else {
		// Putting a card in takes the one in the reader out first; the
		// watcher may see only "a card is present" throughout.
		if m.present {
			cmds = append(cmds, m.toActivity(cardGoneMsg{}))
		}
		m.simCard = msg.inserted
		m.present = msg.inserted != 0
		m.instr.said = "" // it was about the card that came or went
	}
	// The watcher reports the change itself; without one, ask.
	if !m.cfg.Watch {
		cmds = append(cmds, presentCmd(m.cfg.Reader))
	}
	if m.simPending == 0 {
		held := m.held
		m.held = nil
		for _, k := range held {
			cmds = append(cmds, m.key(k))
		}
	}
	return tea.Batch(cmds...)
}

// presence records a card coming or going and re-arms the watcher.
func (m *Model) presence(msg presenceMsg) tea.Cmd {
	if msg.err != nil {
		if m.env.ctx.Err() != nil {
			return nil
		}
		m.readerErr = msg.err
		m.toActivity(readerMsg{err: msg.err})
		if m.cfg.Watch {
			// Back off, then ask the reader once; the problem stays on
			// screen until the reader answers.
			r := m.cfg.Reader
			return tea.Tick(2*time.Second, func(time.Time) tea.Msg { return presentCmd(r)() })
		}
		return nil
	}
	if m.readerErr != nil {
		m.readerErr = nil
		m.toActivity(readerMsg{})
	}
	changed := msg.present != m.present
	m.present = msg.present
	var cmd tea.Cmd
	if changed {
		m.instr.said = "" // it was about the card that came or went
		if !msg.present {
			cmd = m.toActivity(cardGoneMsg{})
		}
	}
	if m.cfg.Watch {
		return tea.Batch(cmd, watchCmd(m.env.ctx, m.cfg.Reader, m.present))
	}
	return cmd
}

// key handles the keys that work everywhere, then hands the key to the
// current screen.
func (m *Model) key(k tea.KeyPressMsg) tea.Cmd {
	if m.screen == screenGone {
		return nil // the wizard is ending
	}
	if key.Matches(k, keys.Quit) {
		switch {
		case m.quitting:
			// A second ctrl+c while a step runs: the card or HSM may never
			// answer (a stalled reader), so quit now.
			return m.quitNow()
		case m.screen == screenQuit:
			return m.quit()
		case m.act != nil && m.act.status().holds != holdsNothing:
			m.askQuit()
			return nil
		}
		return m.quit()
	}
	if cmd, ok := m.instructorKey(k); ok {
		return cmd
	}
	if m.cfg.Sim != nil {
		if i, ok := simKey(k); ok {
			m.simPending++
			return simInsertCmd(m.cfg.Sim, i)
		}
		if m.simPending > 0 {
			// A card is going in: the key is for the card that is coming.
			m.held = append(m.held, k)
			return nil
		}
	}
	switch m.screen {
	case screenQuit:
		switch {
		case key.Matches(k, keys.OK):
			return m.quit()
		case key.Matches(k, keys.Cancel):
			if !m.quitting {
				m.screen = m.quitReturn
			}
		}
		return nil
	case screenMenu:
		return m.menuKey(k)
	case screenReader:
		return m.chooserKey(k)
	case screenHSMPIN:
		return m.loginKey(k)
	case screenSetup:
		return m.setupKey(k)
	case screenActivity:
		return m.toActivity(k)
	}
	return nil
}

// askQuit asks whether to quit while the activity holds a secret.
func (m *Model) askQuit() {
	st := m.act.status()
	m.quitReturn, m.screen = m.screen, screenQuit
	m.quitLoss, m.quitShare = st.loss, st.holds == holdsShare
}

// quit wipes what is in memory and ends the program; while a step runs it
// only says so, and Update quits when the step is done (or at a second
// ctrl+c).
func (m *Model) quit() tea.Cmd {
	if m.busy() {
		m.quitting = true
		if m.screen == screenActivity {
			m.quitReturn, m.screen = m.screen, screenQuit
		}
		return nil
	}
	return m.quitNow()
}

// releaseWait bounds how long quitting waits for a card to be released: a
// stalled reader must not hold the quit for ever.
const releaseWait = 2 * time.Second

// quitNow wipes every secret, records how the activity ended, releases
// every card still open and ends the program. The wipe comes first, in
// Update itself.
func (m *Model) quitNow() tea.Cmd {
	if m.act != nil {
		m.act.end() // its card is among those released below
		m.act = nil
	}
	m.login.wipe()
	m.quitting = false
	m.screen = screenGone
	m.instr.open = false
	m.cancel()
	var cards []*openCard
	for c := range m.env.opened {
		cards = append(cards, c)
	}
	clear(m.env.opened)
	// Release the cards and write the audit trail out before the program
	// ends, not beside it.
	t := m.env.trail
	return func() tea.Msg {
		done := make(chan struct{})
		go func() {
			defer close(done)
			for _, c := range cards {
				c.card.Close()
			}
		}()
		select {
		case <-done:
		case <-time.After(releaseWait):
		}
		t.close()
		return tea.QuitMsg{}
	}
}

// simKey maps F1–F9 to simulated cards 1–9 and F12 to taking the card out
// (docs/wizard.md, Keys).
func simKey(k tea.KeyPressMsg) (int, bool) {
	switch {
	case key.Matches(k, keys.Remove):
		return 0, true
	case key.Matches(k, keys.Insert):
		return int(k.String()[1] - '0'), true
	}
	return 0, false
}
