// Command hsmcards is the terminal wizard for the smart cards of an HSM
// appliance: it installs the appliance's Backup Key k-of-n onto PIN-protected
// TCOS cards, loads it back into the HSM, and handles the cards' PINs. Without
// flags it runs on a simulated reader with a persistent training deck.
//
// Its other commands work without the wizard: `hsmcards vpcd` puts a
// simulated card into pcscd's virtual reader, `hsmcards inspect` reads a
// card without a PIN, `hsmcards report` prints the protocol of the ceremonies
// in an audit trail and `hsmcards audit verify` checks the trail's chain.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/wizard"
)

func main() {
	// Before any secret exists: a goroutine preempted by a signal leaves its
	// registers, a key's bytes among them, where no wipe reaches
	// (docs/security.md, "Secrets in memory"). This execs the program again
	// once, with signal-based preemption off.
	preemptErr := secmem.WithoutAsyncPreemption()
	e := &env{stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, preemptErr: preemptErr}
	os.Exit(exitCode(run(os.Args[1:], e), e))
}

// exitCode prints err, with its hint if it has one, in e's language, and
// says how the program ends (exitOK, exitFailure, exitUsage or a command's
// own code).
func exitCode(err error, e *env) int {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	code := exitFailure
	var usage *usageError
	var exit *exitError
	switch {
	case errors.As(err, &exit):
		code = exit.code
		if exit.err == nil {
			return code
		}
	case errors.As(err, &usage):
		code = exitUsage
	}
	fmt.Fprintf(e.stderr, "hsmcards: %s\n", describe(e.p, err))
	if h := hintOf(err); h != nil {
		fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIHint{Hint: e.p.T(h)}))
	}
	return code
}

// commandList holds hsmcards' commands, the wizard first. It is filled in
// init: the commands' own help and lookup refer back to it.
var commandList []*command

func init() {
	commandList = []*command{wizardCommand, vpcdCommand, inspectCommand, reportCommand, verifyCommand, helpCommand}
}

// commands are hsmcards' commands, the wizard first.
func commands() []*command { return commandList }

// run runs the command line args (without the program's name). It says
// its words in the language of --lang or else the locale's (e.getenv), and
// leaves that language's printer in e.p for exitCode.
func run(args []string, e *env) error {
	cmd, args := lookup(args)
	fs := newFlagSet(cmd.name)
	runFn := cmd.defineFn(fs)
	fs.defineLang()
	getenv := e.getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	lang := i18n.FromEnv(getenv)
	if l, ok := fs.lang(args); ok {
		lang = l
	}
	e.p = i18n.For(lang)
	rest, err := fs.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e, cmd)
		return err
	}
	if err != nil {
		return err
	}
	return runFn(e, rest)
}

// lookup finds the command args name; without one it is the wizard.
func lookup(args []string) (*command, []string) {
	for _, c := range commands() {
		words := strings.Fields(c.name)
		if len(words) > 0 && len(args) >= len(words) && strings.Join(args[:len(words)], " ") == c.name {
			return c, args[len(words):]
		}
	}
	return commands()[0], args
}

// printHelp writes cmd's help to e.stdout: synopsis, what it does, flags,
// exit codes; the wizard's also lists the other commands.
func printHelp(e *env, cmd *command) {
	w, p := e.stdout, e.p
	fs := newFlagSet(cmd.name)
	cmd.defineFn(fs)
	fs.defineLang()
	for _, l := range wrap(p.T(i18n.HelpUsage{Synopsis: synopsis(p, cmd, fs)}), helpWidth) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintln(w)
	for _, l := range wrap(p.T(cmd.about), helpWidth) {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "\n%s\n", p.T(i18n.HelpFlagsHeading))
	fs.printFlags(w, p)
	if cmd.name == "" {
		fmt.Fprintf(w, "\n%s\n", p.T(i18n.HelpCommandsHeading))
		const col = 16
		for _, c := range commands()[1:] {
			for i, l := range wrap(p.T(c.summary), helpWidth-col) {
				name := ""
				if i == 0 {
					name = c.name
				}
				fmt.Fprintf(w, "  %-*s%s\n", col-2, name, l)
			}
		}
		fmt.Fprintf(w, "\n%s\n", p.T(i18n.HelpMore))
	}
	if cmd.exits != "" {
		fmt.Fprintln(w)
		for _, l := range wrap(p.T(cmd.exits), helpWidth) {
			fmt.Fprintln(w, l)
		}
	}
}

// synopsis is the command line's form: "hsmcards report [-o FILE] TRAIL".
// Its parts are words of their own (a command name, "[flags]", a
// metavariable), not parts of a sentence.
func synopsis(p *i18n.Printer, cmd *command, fs *flagSet) string {
	parts := []string{"hsmcards"}
	if cmd.name != "" {
		parts = append(parts, cmd.name)
	}
	switch {
	case cmd.flagsSynopsis != "":
		parts = append(parts, p.T(cmd.flagsSynopsis))
	case len(fs.order) > 0:
		parts = append(parts, p.T(i18n.HelpFlagsSynopsis))
	}
	if cmd.args != "" {
		parts = append(parts, p.T(cmd.args))
	}
	return strings.Join(parts, " ")
}

var helpCommand = &command{
	name:    "help",
	args:    i18n.HelpHelpArgs,
	summary: i18n.HelpHelpSummary,
	about:   i18n.HelpHelpAbout,
	defineFn: func(fs *flagSet) runFunc {
		return func(e *env, args []string) error {
			cmd, rest := lookup(args)
			if len(args) > 0 && args[0] == "audit" && cmd.name == "" {
				cmd, rest = verifyCommand, args[1:] // "help audit": its only command
			}
			if len(args) > 0 && cmd.name == "" || len(rest) > 0 {
				return usage("help", i18n.CLINoCommand{Name: strings.Join(args, " ")})
			}
			printHelp(e, cmd)
			return nil
		}
	},
}

// options are the wizard's flags (configureHSM and the training set-up read them too).
type options struct {
	reader                    string
	simDir                    string
	simCards                  flagDeckSize
	simPace                   flagPace
	apduLog                   string
	audit                     string
	insertTimeout, pinTimeout flagDuration
	hsm                       string
	pkcs11Module              string
	pkcs11Token               string
	pkcs11UserToken           string
	scenario                  string
	// p says main's words that the wizard shows (warnings, the token's
	// name); nil: English.
	p *i18n.Printer
}

// defaultDeck is the size of a new simulated deck.
const defaultDeck = 5

var wizardCommand = &command{
	about: i18n.HelpWizardAbout,
	defineFn: func(fs *flagSet) runFunc {
		o := &options{simCards: defaultDeck, simPace: 1,
			insertTimeout: flagDuration(wizard.DefaultInsertTimeout), pinTimeout: flagDuration(wizard.DefaultPINTimeout)}
		fs.str(&o.reader, "reader", "sim", i18n.HelpFlagReader)
		defineSimDir(fs, &o.simDir)
		fs.value(&o.simCards, "sim-cards", i18n.HelpFlagSimCards)
		fs.value(&o.simPace, "sim-pace", i18n.HelpFlagSimPace)
		fs.str(&o.apduLog, "apdu-log", "", i18n.HelpFlagAPDULog)
		fs.str(&o.audit, "audit", "", i18n.HelpFlagAudit)
		fs.value(&o.insertTimeout, "insert-timeout", i18n.HelpFlagInsertTimeout)
		fs.value(&o.pinTimeout, "pin-timeout", i18n.HelpFlagPINTimeout)
		fs.str(&o.hsm, "hsm", "sim", i18n.HelpFlagHSM)
		fs.str(&o.pkcs11Module, "pkcs11-module", "", i18n.HelpFlagPKCS11Module)
		fs.str(&o.pkcs11Token, "pkcs11-token", "", i18n.HelpFlagPKCS11Token)
		fs.str(&o.pkcs11UserToken, "pkcs11-user-token", "", i18n.HelpFlagPKCS11UserToken)
		fs.str(&o.scenario, "scenario", "", i18n.HelpFlagScenario)
		return func(e *env, args []string) error { return runWizard(e, o, args) }
	},
}

// defineSimDir is --sim-dir, which the wizard, vpcd and inspect share.
func defineSimDir(fs *flagSet, p *string) {
	fs.str(p, "sim-dir", defaultSimDir(), i18n.HelpFlagSimDir)
}

func runWizard(e *env, o *options, args []string) error {
	if len(args) > 0 {
		if args[0] == "audit" {
			return usage("audit verify", i18n.CLIAuditOneCommand)
		}
		if c, _ := lookup(args); c.name != "" {
			return usage("", i18n.CLICommandFirst{Arg: args[0], Command: c.name})
		}
		return usage("", i18n.CLIUnexpectedArgWizard{Arg: args[0]})
	}
	if o.scenario != "" && o.reader != "sim" {
		return errScenarioNeedsSim
	}
	o.p = e.p
	var warnings []string
	// A core dump of this process could hold the Backup Key.
	if err := secmem.DisableCoreDumps(); err != nil {
		warnings = append(warnings, e.p.T(i18n.CLICoreDumps{Cause: describe(e.p, err)}))
	}
	if e.preemptErr != nil {
		warnings = append(warnings, e.p.T(i18n.CLIPreemption{Cause: describe(e.p, e.preemptErr)}))
	}
	s, err := prepareWizard(o)
	if s != nil {
		defer s.close()
	}
	if err != nil {
		return err
	}
	s.cfg.Warnings = append(warnings, s.cfg.Warnings...)
	m := wizard.New(s.cfg)
	_, err = tea.NewProgram(m, wizard.ProgramOptions()...).Run()
	s.cfg.Reader = m.Reader() // the one chosen in the wizard, if so, is closed too
	s.cfg.HSM = m.HSM()       // and so is the HSM opened in the wizard
	if errors.Is(err, tea.ErrInterrupted) {
		err = nil
	}
	if err != nil && s.cfg.Audit != nil {
		// The error's words stay out of the trail: a recovered panic says
		// whatever the code that panicked held.
		s.endOutcome, s.endDetail = audit.OutcomeError, "the wizard stopped on an error"
	}
	return err
}

// session is what the wizard runs against, and what to close after it.
type session struct {
	cfg     wizard.Config
	closers []func() error
	// endOutcome and endDetail close the audit trail's session (ok when
	// empty).
	endOutcome audit.Outcome
	endDetail  string
}

// close closes the reader, the HSM, the files and the locks, the last
// opened first.
func (s *session) close() {
	if s.cfg.Reader != nil {
		closeWithin(closeWait, s.cfg.Reader)
	}
	if s.cfg.HSM != nil {
		closeWithin(closeWait, s.cfg.HSM)
	}
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

func (s *session) onClose(f func() error) { s.closers = append(s.closers, f) }

// prepareWizard opens what the wizard needs: the reader, the HSM, the
// simulator's state under --sim-dir (locked for this process), the APDU log
// and the audit trail. The session is to be closed even with an error.
func prepareWizard(o *options) (*session, error) {
	s := &session{cfg: wizard.Config{
		InsertTimeout: o.insertTimeout.d(),
		PINTimeout:    o.pinTimeout.d(),
		Tick:          wizard.DefaultTick,
		Watch:         true,
		Printer:       o.p,
	}}
	switch {
	case o.reader == "sim":
		deck, release, err := openDeck(o.simDir, int(o.simCards), false)
		if err != nil {
			return s, err
		}
		s.onClose(release)
		sim := cardio.NewSimReader(deck.SimulatedCards())
		if o.simPace > 0 {
			sim.SetPace(simcard.NewPace(float64(o.simPace)))
		}
		s.cfg.Reader, s.cfg.Sim = sim, sim
		if err := startTraining(sim, deck.Cards(), o.scenario); err != nil {
			return s, err
		}
		s.cfg.Instructor = scenario.NewInstructor(sim, o.p)
	case o.reader == "pcsc" || strings.HasPrefix(o.reader, "pcsc:"):
		r, err := pcsc.Open(context.Background(), strings.TrimPrefix(strings.TrimPrefix(o.reader, "pcsc"), ":"))
		var several *pcsc.MultipleReadersError
		switch {
		case errors.As(err, &several):
			// The operator chooses in the wizard.
			s.cfg.ReaderChoices, s.cfg.OpenReader = several.Names, pcsc.Open
		case err != nil:
			return s, err
		default:
			s.cfg.Reader = r
		}
	default:
		return s, usage("", i18n.CLIUnknownReader{Reader: o.reader})
	}
	if o.hsm == "sim" {
		release, err := lockSimHSM(o.simDir)
		if err != nil {
			return s, err
		}
		s.onClose(release)
	}
	if err := configureHSM(&s.cfg, o); err != nil {
		return s, err
	}
	if o.apduLog != "" {
		f, err := safefile.OpenAppend(o.apduLog)
		if err != nil {
			return s, flagPathError("--apdu-log", err)
		}
		s.onClose(f.Close)
		s.cfg.APDULog = f
	}
	if o.audit != "" {
		l, err := openTrail(o.audit)
		if err != nil {
			return s, err
		}
		s.onClose(func() error {
			if s.endOutcome != "" {
				return l.CloseWith(s.endOutcome, s.endDetail)
			}
			return l.Close()
		})
		s.cfg.Audit = l
	}
	return s, nil
}

// closeWait bounds how long quitting waits for the reader or the HSM to
// close: one stalled in a command (the operator quit with a second ctrl+c)
// must not keep the program from ending.
const closeWait = 2 * time.Second

// closeWithin closes c, giving up after d.
func closeWithin(d time.Duration, c io.Closer) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		c.Close()
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// openTrail opens the audit trail of --audit.
func openTrail(path string) (*audit.Log, error) {
	l, err := audit.OpenOptions(path, audit.Options{Version: programVersion()})
	var chain *audit.ChainError
	var held *pidlock.HeldError
	switch {
	case err == nil:
		return l, nil
	case errors.As(err, &chain):
		return nil, &hinted{failWith(chain, func(cause string) i18n.Message {
			return i18n.CLITrailNotVerified{Path: path, Cause: cause}
		}), i18n.HintChain{Path: path}}
	case errors.As(err, &held):
		return nil, &hinted{failWith(held, func(cause string) i18n.Message {
			return i18n.CLIAuditTrail{Cause: cause}
		}), i18n.HintTrailHeld}
	}
	return nil, flagPathError("--audit", err)
}

// flagPathError says which flag named a path that was refused.
func flagPathError(flagName string, err error) error {
	return failWith(err, func(cause string) i18n.Message { return i18n.CLIFlagPath{Flag: flagName, Cause: cause} })
}

// version is the program's version; a release build sets it with
// -ldflags "-X main.version=v1.2.3".
var version = ""

// programVersion is what the audit trail records as the program's version.
func programVersion() string {
	v := version
	if v == "" {
		v = "devel"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return v + " (" + runtime.Version() + ")"
}

// defaultSimDir is the training deck's home under the XDG state directory.
func defaultSimDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "hsmcards", "sim")
	}
	if h, err := os.UserHomeDir(); err == nil {
		return filepath.Join(h, ".local", "state", "hsmcards", "sim")
	}
	return filepath.Join(os.TempDir(), "hsmcards-sim")
}

// interrupted returns a context that ends on SIGINT/SIGTERM (for commands
// without a terminal UI).
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
