// Command hsmcards is the terminal wizard for the smart cards of an HSM
// appliance: it installs the appliance's Backup Key k-of-n onto PIN-protected
// TCOS cards, loads it back into the HSM, and handles the cards' PINs. Without
// flags it runs on a simulated reader with a persistent training deck.
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
	"strings"
	"syscall"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/wizard"
)

func main() {
	err := run(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return // the usage was the answer
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "hsmcards: %v\n", err)
		var hint interface{ Hint() string }
		if errors.As(err, &hint) {
			fmt.Fprintf(os.Stderr, "hsmcards: hint: %s\n", hint.Hint())
		}
		os.Exit(1)
	}
}

// options are the command line (DESIGN "Command line").
type options struct {
	reader                    string
	simDir                    string
	simCards                  int
	apduLog                   string
	audit                     string
	insertTimeout, pinTimeout flagDuration
	hsm                       string
	pkcs11Module              string
	pkcs11Token               string
	pkcs11UserToken           string
	scenario                  string
}

func parseFlags(name string, args []string, out io.Writer) (*options, *flag.FlagSet, error) {
	o := &options{insertTimeout: flagDuration(wizard.DefaultInsertTimeout), pinTimeout: flagDuration(wizard.DefaultPINTimeout)}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprintf(out, "usage: hsmcards [flags]\n       hsmcards vpcd [flags] CARD [HOST:PORT]   serve a simulated card to pcscd's vpcd\n\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.reader, "reader", "sim", "card reader: sim, pcsc (the only reader) or pcsc:NAME")
	fs.StringVar(&o.simDir, "sim-dir", defaultSimDir(), "where the simulated cards and simulated HSM keep their state")
	fs.IntVar(&o.simCards, "sim-cards", 5, "number of cards in a new simulated deck")
	fs.StringVar(&o.apduLog, "apdu-log", "", "append every APDU to this file (PINs and key material masked)")
	fs.StringVar(&o.scenario, "scenario", "", scenarioUsage)
	fs.StringVar(&o.audit, "audit", "", "append the audit trail to this file, one JSON object per event")
	fs.Var(&o.insertTimeout, "insert-timeout", "time allowed to insert a card and press OK")
	fs.Var(&o.pinTimeout, "pin-timeout", "time allowed to enter a PIN")
	fs.StringVar(&o.hsm, "hsm", "sim", "where the Backup Key goes: sim or pkcs11")
	fs.StringVar(&o.pkcs11Module, "pkcs11-module", "", "PKCS#11 module for --hsm pkcs11")
	fs.StringVar(&o.pkcs11Token, "pkcs11-token", "", "PKCS#11 token label (or slot:N) for --hsm pkcs11")
	fs.StringVar(&o.pkcs11UserToken, "pkcs11-user-token", "", "PKCS#11 token label (or slot:N) whose user PIN the slot user cards hold, for --hsm pkcs11")
	err := fs.Parse(args)
	return o, fs, err
}

func run(args []string, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "vpcd" {
		return runVPCD(args[1:], stderr)
	}
	o, fs, err := parseFlags("hsmcards", args, stderr)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (the only subcommand is vpcd)", fs.Arg(0))
	}
	if o.scenario != "" && o.reader != "sim" {
		return errScenarioNeedsSim
	}
	var warnings []string
	// A core dump of this process could hold the Backup Key.
	if err := secmem.DisableCoreDumps(); err != nil {
		warnings = append(warnings, "core dumps could not be turned off: "+err.Error())
	}
	cfg := wizard.Config{
		InsertTimeout: o.insertTimeout.d(),
		PINTimeout:    o.pinTimeout.d(),
		Tick:          wizard.DefaultTick,
		Watch:         true,
	}
	switch {
	case o.reader == "sim":
		deck, err := simcard.OpenDeck(filepath.Join(o.simDir, "cards"), o.simCards)
		if err != nil {
			return fmt.Errorf("opening the simulated deck: %w", err)
		}
		sim := cardio.NewSimReader(simulated(deck.Cards()))
		cfg.Reader, cfg.Sim = sim, sim
		if err := startTraining(sim, deck.Cards(), o.scenario); err != nil {
			return err
		}
	case o.reader == "pcsc" || strings.HasPrefix(o.reader, "pcsc:"):
		r, err := pcsc.Open(context.Background(), strings.TrimPrefix(strings.TrimPrefix(o.reader, "pcsc"), ":"))
		var several *pcsc.MultipleReadersError
		switch {
		case errors.As(err, &several):
			// The operator chooses in the wizard.
			cfg.ReaderChoices, cfg.OpenReader = several.Names, pcsc.Open
		case err != nil:
			return err
		default:
			cfg.Reader = r
		}
	default:
		return fmt.Errorf("unknown reader %q: use sim, pcsc or pcsc:NAME", o.reader)
	}
	defer func() {
		if cfg.Reader != nil {
			cfg.Reader.Close()
		}
	}()

	if err := configureHSM(&cfg, o); err != nil {
		return err
	}
	defer func() {
		if cfg.HSM != nil {
			cfg.HSM.Close()
		}
	}()

	if o.apduLog != "" {
		f, err := os.OpenFile(o.apduLog, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("opening the APDU log: %w", err)
		}
		defer f.Close()
		cfg.APDULog = f
	}

	if o.audit != "" {
		l, err := audit.Open(o.audit)
		if err != nil {
			return fmt.Errorf("opening the audit log: %w", err)
		}
		defer l.Close()
		cfg.Audit = l
	}
	cfg.Warnings = warnings

	m := wizard.New(cfg)
	_, err = tea.NewProgram(m).Run()
	cfg.Reader = m.Reader() // the one chosen in the wizard, if so, is closed too
	cfg.HSM = m.HSM()       // and so is the HSM opened in the wizard
	if errors.Is(err, tea.ErrInterrupted) {
		return nil
	}
	return err
}

// simulated hands the deck's cards to the simulated reader.
func simulated(cards []*simcard.Card) []cardio.SimulatedCard {
	out := make([]cardio.SimulatedCard, len(cards))
	for i, c := range cards {
		out[i] = c
	}
	return out
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

// interrupted returns a context that ends on SIGINT/SIGTERM (for subcommands
// without a terminal UI).
func interrupted() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}
