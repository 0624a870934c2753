package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The command line has one convention (docs/cli.md): `hsmcards [flags]` is
// the wizard, `hsmcards COMMAND [flags] ARGS` the other commands, each with
// its own flags and its own help (`hsmcards help COMMAND`, `hsmcards
// COMMAND --help`). Flags are written with two dashes (one works too), may
// come before or after the arguments, and `--` ends them.

// command is one of hsmcards' commands.
type command struct {
	name string // "vpcd", "audit verify"; "" for the wizard
	args string // what follows the flags in the synopsis, e.g. "CARD [HOST:PORT]"
	// flagsSynopsis stands for the flags in the synopsis ("[flags]" when empty).
	flagsSynopsis string
	summary       string // one line for the list of commands
	about         string // what it does, for its own help
	exits         string // its exit codes beyond 0, 1 and 2, for its help, e.g. "3 no card"
	defineFn      func(fs *flagSet) runFunc
}

// runFunc runs a command with the arguments left after its flags.
type runFunc func(e *env, args []string) error

// env is where a command writes: stdout for its answer (a report, JSON),
// stderr for messages.
type env struct {
	stdout, stderr io.Writer
}

// Exit codes every command shares.
const (
	exitOK      = 0
	exitFailure = 1 // it did not work, and the message says why
	exitUsage   = 2 // the command line was wrong
)

// exitError ends the program with a code of the command's own (inspect's
// "no card", "foreign card"...), after the message, if any.
type exitError struct {
	code int
	err  error // nil: the command has said all there is to say
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit status %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// usageError is a command line that cannot be run; its hint points at the
// command's help.
type usageError struct {
	cmd string // the command's name, "" for the wizard
	msg string
}

func (e *usageError) Error() string { return e.msg }

// Hint names the help to read.
func (e *usageError) Hint() string {
	switch e.cmd {
	case "":
		return "hsmcards --help lists the flags and commands"
	case "help":
		return "hsmcards help lists the commands"
	}
	return "hsmcards " + e.cmd + " --help says how to use it"
}

// hinted adds a hint to an error from a lower layer, without rewriting it.
type hinted struct {
	err  error
	hint string
}

func (h *hinted) Error() string { return h.err.Error() }
func (h *hinted) Unwrap() error { return h.err }

// Hint says what to do about it.
func (h *hinted) Hint() string { return h.hint }

// flagSet is a flag.FlagSet that remembers the order its flags were defined
// in and their one-letter aliases, for the help text.
type flagSet struct {
	fs    *flag.FlagSet
	cmd   string
	order []string
	short map[string]string // long name → one-letter alias
}

func newFlagSet(cmd string) *flagSet {
	fs := flag.NewFlagSet("hsmcards "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // every message is ours
	return &flagSet{fs: fs, cmd: cmd, short: map[string]string{}}
}

// str defines a string flag. A `word` in backquotes in usage names the value
// in the help, as the flag package does.
func (f *flagSet) str(p *string, name, value, usage string) {
	f.fs.StringVar(p, name, value, usage)
	f.order = append(f.order, name)
}

// boolean defines a flag that needs no value.
func (f *flagSet) boolean(p *bool, name, usage string) {
	f.fs.BoolVar(p, name, false, usage)
	f.order = append(f.order, name)
}

// value defines a flag of a type of its own.
func (f *flagSet) value(v flag.Value, name, usage string) {
	f.fs.Var(v, name, usage)
	f.order = append(f.order, name)
}

// alias makes -x mean --name.
func (f *flagSet) alias(x, name string) {
	fl := f.fs.Lookup(name)
	f.fs.Var(fl.Value, x, fl.Usage)
	f.short[name] = x
}

// parse reads flags and arguments in any order, up to "--"; it returns the
// arguments. --help and -h return flag.ErrHelp.
func (f *flagSet) parse(args []string) ([]string, error) {
	var rest []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(rest, args[i+1:]...), nil
		}
		if len(a) < 2 || a[0] != '-' {
			rest = append(rest, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		if name == "" || name[0] == '-' {
			return nil, f.usage("%q is not a flag", a)
		}
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		fl := f.fs.Lookup(name)
		if fl == nil {
			return nil, f.usage("unknown flag --%s", name)
		}
		if b, ok := fl.Value.(interface{ IsBoolFlag() bool }); ok && b.IsBoolFlag() {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, f.usage("--%s needs a value", f.long(name))
			}
			i++
			value = args[i]
		}
		if err := f.fs.Set(name, value); err != nil {
			return nil, f.usage("--%s %s: %v", f.long(name), value, err)
		}
	}
	return rest, nil
}

func (f *flagSet) usage(format string, a ...any) error {
	return &usageError{cmd: f.cmd, msg: fmt.Sprintf(format, a...)}
}

// long is the long name of a flag given by its alias.
func (f *flagSet) long(name string) string {
	for long, x := range f.short {
		if x == name {
			return long
		}
	}
	return name
}

// helpWidth is the width the help text is wrapped to: an 80-column console.
const helpWidth = 80

// printFlags writes one entry per flag, in the order they were defined:
//
//	-o, --output FILE   write the protocol to FILE
func (f *flagSet) printFlags(w io.Writer) {
	const col = 28 // where the words start
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		value, usage := flag.UnquoteUsage(fl)
		head := "  --" + name
		if x, ok := f.short[name]; ok {
			head = "  -" + x + ", --" + name
		}
		if value != "" {
			head += " " + value
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" {
			usage += " (default " + d + ")"
		}
		lines := wrap(usage, helpWidth-col)
		if len(head) >= col-1 {
			fmt.Fprintln(w, head)
		} else {
			fmt.Fprintf(w, "%-*s%s\n", col, head, lines[0])
			lines = lines[1:]
		}
		for _, l := range lines {
			fmt.Fprintf(w, "%*s%s\n", col, "", l)
		}
	}
}

// wrap breaks s into lines of at most width bytes, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case len(line)+1+len(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}

// flagDuration is a time.Duration flag that refuses zero and negative values.
type flagDuration time.Duration

func (f *flagDuration) String() string { return time.Duration(*f).String() }

func (f *flagDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return errNotDuration
	}
	if d <= 0 {
		return errPositive
	}
	*f = flagDuration(d)
	return nil
}

func (f flagDuration) d() time.Duration { return time.Duration(f) }

var (
	errNotDuration = errors.New("not a duration: use a number and a unit, e.g. 30s, 90s or 2m")
	errPositive    = errors.New("must be more than zero")
)

// maxDeck is the largest simulated deck: F1–F9 insert its cards.
const maxDeck = 9

// flagDeckSize is --sim-cards: 1 to maxDeck cards.
type flagDeckSize int

func (f *flagDeckSize) String() string { return strconv.Itoa(int(*f)) }

func (f *flagDeckSize) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDeck {
		return errDeckSize
	}
	*f = flagDeckSize(n)
	return nil
}

var errDeckSize = fmt.Errorf("a simulated deck has 1 to %d cards (F1 to F%d insert them)", maxDeck, maxDeck)

// maxPace bounds --sim-pace: a hundred times a real card's pace is already
// minutes per card.
const maxPace = 100

// flagPace is --sim-pace: the simulated cards' pace, 0 (none) to maxPace
// times a real TCOS 3.0 card's (docs/tcos.md "Pace").
type flagPace float64

func (f *flagPace) String() string { return strconv.FormatFloat(float64(*f), 'g', -1, 64) }

func (f *flagPace) Set(s string) error {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || !(v >= 0 && v <= maxPace) { // NaN too
		return errPace
	}
	*f = flagPace(v)
	return nil
}

var errPace = fmt.Errorf("give a factor from 0 (no time) to %d: 1 is a real card's pace, 2 twice as slow", maxPace)

// flagCard is a card number in the simulated deck, 1 to maxDeck.
type flagCard int

func (f *flagCard) String() string { return strconv.Itoa(int(*f)) }

func (f *flagCard) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDeck {
		return errCardNumber
	}
	*f = flagCard(n)
	return nil
}

var errCardNumber = fmt.Errorf("a simulated card is numbered 1 to %d", maxDeck)
