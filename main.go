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

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/wizard"
)

func main() {
	os.Exit(exitCode(run(os.Args[1:], &env{stdout: os.Stdout, stderr: os.Stderr}), os.Stderr))
}

// exitCode prints err, with its hint if it has one, and says how the program
// ends (exitOK, exitFailure, exitUsage or a command's own code).
func exitCode(err error, stderr io.Writer) int {
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
	fmt.Fprintf(stderr, "hsmcards: %v\n", err)
	var hint interface{ Hint() string }
	if errors.As(err, &hint) {
		fmt.Fprintf(stderr, "hsmcards: hint: %s\n", hint.Hint())
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

// run runs the command line args (without the program's name).
func run(args []string, e *env) error {
	cmd, args := lookup(args)
	fs := newFlagSet(cmd.name)
	runFn := cmd.defineFn(fs)
	rest, err := fs.parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(e.stdout, cmd)
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

// printHelp writes cmd's help: synopsis, what it does, flags, exit codes;
// the wizard's also lists the other commands.
func printHelp(w io.Writer, cmd *command) {
	fs := newFlagSet(cmd.name)
	cmd.defineFn(fs)
	fmt.Fprintf(w, "usage: %s\n\n", synopsis(cmd, fs))
	for _, l := range wrap(cmd.about, helpWidth) {
		fmt.Fprintln(w, l)
	}
	if len(fs.order) > 0 {
		fmt.Fprintf(w, "\nflags:\n")
		fs.printFlags(w)
	}
	if cmd.name == "" {
		fmt.Fprintf(w, "\ncommands:\n")
		const col = 16
		for _, c := range commands()[1:] {
			for i, l := range wrap(c.summary, helpWidth-col) {
				name := ""
				if i == 0 {
					name = c.name
				}
				fmt.Fprintf(w, "  %-*s%s\n", col-2, name, l)
			}
		}
		fmt.Fprintf(w, "\n\"hsmcards help COMMAND\" or \"hsmcards COMMAND --help\" says more about each.\n")
	}
	if cmd.exits != "" {
		fmt.Fprintln(w)
		for _, l := range wrap("exit status: 0 done, 1 failed, 2 wrong command line, "+cmd.exits+".", helpWidth) {
			fmt.Fprintln(w, l)
		}
	}
}

func synopsis(cmd *command, fs *flagSet) string {
	s := "hsmcards"
	if cmd.name != "" {
		s += " " + cmd.name
	}
	switch {
	case cmd.flagsSynopsis != "":
		s += " " + cmd.flagsSynopsis
	case len(fs.order) > 0:
		s += " [flags]"
	}
	if cmd.args != "" {
		s += " " + cmd.args
	}
	return s
}

var helpCommand = &command{
	name:    "help",
	args:    "[COMMAND]",
	summary: "say how to use hsmcards or one of its commands",
	about:   "Says how to use hsmcards, or the command COMMAND (vpcd, inspect, report, audit verify).",
	defineFn: func(fs *flagSet) runFunc {
		return func(e *env, args []string) error {
			cmd, rest := lookup(args)
			if len(args) > 0 && args[0] == "audit" && cmd.name == "" {
				cmd, rest = verifyCommand, args[1:] // "help audit": its only command
			}
			if len(args) > 0 && cmd.name == "" || len(rest) > 0 {
				return &usageError{cmd: "help", msg: fmt.Sprintf("there is no command %q", strings.Join(args, " "))}
			}
			printHelp(e.stdout, cmd)
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
}

// defaultDeck is the size of a new simulated deck.
const defaultDeck = 5

var wizardCommand = &command{
	about: "Runs the wizard: install the Backup Key k-of-n onto share cards, load it into the HSM, " +
		"copy share cards, change PINs, and handle PKCS#11 slot user cards. Without flags it runs " +
		"on a simulated reader with a persistent training deck and a simulated HSM.",
	defineFn: func(fs *flagSet) runFunc {
		o := &options{simCards: defaultDeck, simPace: 1,
			insertTimeout: flagDuration(wizard.DefaultInsertTimeout), pinTimeout: flagDuration(wizard.DefaultPINTimeout)}
		fs.str(&o.reader, "reader", "sim", "the card reader `READER`: sim, pcsc (the only one, or choose in the wizard) or pcsc:NAME")
		defineSimDir(fs, &o.simDir)
		fs.value(&o.simCards, "sim-cards", "`N` cards (1 to 9) in a new simulated deck")
		fs.value(&o.simPace, "sim-pace", "the simulated cards take `FACTOR` times a real TCOS 3.0 card's time: 1 a real card's pace, 0 none")
		fs.str(&o.apduLog, "apdu-log", "", "append every APDU to `FILE` (PINs and key material masked)")
		fs.str(&o.audit, "audit", "", "append the audit trail to `FILE`, one JSON object per line, hash-chained (docs/audit.md)")
		fs.value(&o.insertTimeout, "insert-timeout", "allow `TIME` to insert a card and press OK")
		fs.value(&o.pinTimeout, "pin-timeout", "allow `TIME` to enter a PIN")
		fs.str(&o.hsm, "hsm", "sim", "where the Backup Key goes, `HSM`: sim or pkcs11")
		fs.str(&o.pkcs11Module, "pkcs11-module", "", "the PKCS#11 module `PATH` for --hsm pkcs11")
		fs.str(&o.pkcs11Token, "pkcs11-token", "", "the token that receives the Backup Key, by `LABEL` or slot:N")
		fs.str(&o.pkcs11UserToken, "pkcs11-user-token", "", "the token whose user PIN the PKCS#11 slot user cards hold, by `LABEL` or slot:N")
		fs.str(&o.scenario, "scenario", "", scenarioUsage)
		return func(e *env, args []string) error { return runWizard(e, o, args) }
	},
}

// defineSimDir is --sim-dir, which the wizard, vpcd and inspect share.
func defineSimDir(fs *flagSet, p *string) {
	fs.str(p, "sim-dir", defaultSimDir(), "the simulated cards and simulated HSM keep their state in `DIR`, for training only")
}

func runWizard(e *env, o *options, args []string) error {
	if len(args) > 0 {
		if args[0] == "audit" {
			return &usageError{cmd: "audit verify", msg: "audit has one command: hsmcards audit verify FILE"}
		}
		if c, _ := lookup(args); c.name != "" {
			return &usageError{msg: fmt.Sprintf("%q is a command: put it first (hsmcards %s [flags])", args[0], c.name)}
		}
		return &usageError{msg: fmt.Sprintf("unexpected argument %q (the commands are vpcd, inspect, report, audit verify and help)", args[0])}
	}
	if o.scenario != "" && o.reader != "sim" {
		return errScenarioNeedsSim
	}
	var warnings []string
	// A core dump of this process could hold the Backup Key.
	if err := secmem.DisableCoreDumps(); err != nil {
		warnings = append(warnings, "core dumps could not be turned off: "+err.Error())
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
	_, err = tea.NewProgram(m).Run()
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
		s.cfg.Reader.Close()
	}
	if s.cfg.HSM != nil {
		s.cfg.HSM.Close()
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
	case o.reader == "pcsc" || strings.HasPrefix(o.reader, "pcsc:"):
		r, err := cardio.OpenPCSC(context.Background(), strings.TrimPrefix(strings.TrimPrefix(o.reader, "pcsc"), ":"))
		var several *cardio.MultipleReadersError
		switch {
		case errors.As(err, &several):
			// The operator chooses in the wizard.
			s.cfg.ReaderChoices, s.cfg.OpenReader = several.Names, cardio.OpenPCSC
		case err != nil:
			return s, err
		default:
			s.cfg.Reader = r
		}
	default:
		return s, &usageError{msg: fmt.Sprintf("unknown reader %q: use sim, pcsc or pcsc:NAME", o.reader)}
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

// openTrail opens the audit trail of --audit.
func openTrail(path string) (*audit.Log, error) {
	l, err := audit.OpenOptions(path, audit.Options{Version: programVersion()})
	var chain *audit.ChainError
	var held *pidlock.HeldError
	switch {
	case err == nil:
		return l, nil
	case errors.As(err, &chain):
		return nil, &hinted{err, fmt.Sprintf("keep %s as it is for whoever investigates (hsmcards audit verify %s names the line) and start a new trail: --audit NEWFILE", path, path)}
	case errors.As(err, &held):
		return nil, &hinted{err, "one program at a time writes a trail: finish the other hsmcards, or give this one its own --audit FILE"}
	}
	return nil, flagPathError("--audit", err)
}

// flagPathError says which flag named a path that was refused.
func flagPathError(flagName string, err error) error {
	return fmt.Errorf("%s: %w", flagName, err)
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
