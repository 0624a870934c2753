package main

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hsmcards/hsmcards/i18n"
)

// The command line has one convention (docs/cli.md): `hsmcards [flags]` is
// the wizard, `hsmcards COMMAND [flags] ARGS` the other commands, each with
// its own flags and its own help (`hsmcards help COMMAND`, `hsmcards
// COMMAND --help`). Flags are written with two dashes (one works too), may
// come before or after the arguments, and `--` ends them.

// command is one of hsmcards' commands. Its words are the catalogs'
// (package i18n), said in the language of the command line.
type command struct {
	name string  // "vpcd", "audit verify"; "" for the wizard
	args i18n.ID // what follows the flags in the synopsis, e.g. "CARD [HOST:PORT]"
	// flagsSynopsis stands for the flags in the synopsis ("[flags]" when empty).
	flagsSynopsis i18n.ID
	summary       i18n.ID // one line for the list of commands
	about         i18n.ID // what it does, for its own help
	exits         i18n.ID // its exit status line, for its help, when it has codes beyond 0, 1 and 2
	defineFn      func(fs *flagSet) runFunc
}

// runFunc runs a command with the arguments left after its flags.
type runFunc func(e *env, args []string) error

// env is where a command writes: stdout for its answer (a report, JSON),
// stderr for messages; getenv reads the locale (nil: none is set); p says
// the words, in the language run chose.
type env struct {
	stdout, stderr io.Writer
	getenv         func(string) string
	p              *i18n.Printer
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

func (e *exitError) Error() string { return describe(nil, e) }

func (e *exitError) Unwrap() error { return e.err }

// usageError is a command line that cannot be run; its hint points at the
// command's help.
type usageError struct {
	cmd string // the command's name, "" for the wizard
	err error  // what is wrong, a *failure
}

// usage is the command line error m of command cmd.
func usage(cmd string, m i18n.Message) error { return &usageError{cmd: cmd, err: fail(m)} }

func (e *usageError) Error() string { return describe(nil, e) }
func (e *usageError) Unwrap() error { return e.err }

// hint names the help to read.
func (e *usageError) hint() i18n.Message {
	switch e.cmd {
	case "":
		return i18n.HintHelpWizard
	case "help":
		return i18n.HintHelpList
	}
	return i18n.HintHelpCommand{Command: e.cmd}
}

// hinted adds a hint to an error, without rewriting it.
type hinted struct {
	err  error
	hint i18n.Message
}

func (h *hinted) Error() string { return describe(nil, h) }
func (h *hinted) Unwrap() error { return h.err }

// flagSet is a flag.FlagSet that remembers the order its flags were defined
// in, their words and their one-letter aliases, for the help text.
type flagSet struct {
	fs    *flag.FlagSet
	cmd   string
	order []string
	words map[string]i18n.ID // long name → its help
	short map[string]string  // long name → one-letter alias
}

func newFlagSet(cmd string) *flagSet {
	fs := flag.NewFlagSet("hsmcards "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // every message is ours
	return &flagSet{fs: fs, cmd: cmd, words: map[string]i18n.ID{}, short: map[string]string{}}
}

// str defines a string flag. A `word` in backquotes in its words names the
// value in the help, as the flag package does.
func (f *flagSet) str(p *string, name, value string, words i18n.ID) {
	f.fs.StringVar(p, name, value, string(words))
	f.add(name, words)
}

// boolean defines a flag that needs no value.
func (f *flagSet) boolean(p *bool, name string, words i18n.ID) {
	f.fs.BoolVar(p, name, false, string(words))
	f.add(name, words)
}

// value defines a flag of a type of its own.
func (f *flagSet) value(v flag.Value, name string, words i18n.ID) {
	f.fs.Var(v, name, string(words))
	f.add(name, words)
}

func (f *flagSet) add(name string, words i18n.ID) {
	f.order = append(f.order, name)
	f.words[name] = words
}

// alias makes -x mean --name.
func (f *flagSet) alias(x, name string) {
	fl := f.fs.Lookup(name)
	f.fs.Var(fl.Value, x, fl.Usage)
	f.short[name] = x
}

// defineLang is --lang, which every command has.
func (f *flagSet) defineLang() {
	var l flagLang
	f.value(&l, "lang", i18n.HelpFlagLang)
}

// lang is the language the command line asks for with --lang, if it does:
// the flags are read as parse reads them, without setting any, so that
// parse's own errors are said in that language too.
func (f *flagSet) lang(args []string) (i18n.Lang, bool) {
	var last string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		if len(a) < 2 || a[0] != '-' {
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimPrefix(a[1:], "-"), "=")
		fl := f.fs.Lookup(name)
		if fl == nil || isBool(fl) {
			continue
		}
		if !hasValue {
			if i+1 == len(args) {
				break
			}
			i++
			value = args[i]
		}
		if f.long(name) == "lang" {
			last = value
		}
	}
	l, err := i18n.ParseLang(last)
	return l, err == nil
}

func isBool(fl *flag.Flag) bool {
	b, ok := fl.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
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
			return nil, usage(f.cmd, i18n.CLINotAFlag{Arg: a})
		}
		if name == "h" || name == "help" {
			return nil, flag.ErrHelp
		}
		fl := f.fs.Lookup(name)
		if fl == nil {
			return nil, usage(f.cmd, i18n.CLIUnknownFlag{Name: name})
		}
		if isBool(fl) {
			if !hasValue {
				value = "true"
			}
		} else if !hasValue {
			if i+1 == len(args) {
				return nil, usage(f.cmd, i18n.CLIFlagNeedsValue{Name: f.long(name)})
			}
			i++
			value = args[i]
		}
		if err := f.fs.Set(name, value); err != nil {
			if isBool(fl) {
				err = fail(i18n.CLINotBool) // the flag package's own is "parse error"
			}
			long := f.long(name)
			return nil, &usageError{cmd: f.cmd, err: failWith(err, func(problem string) i18n.Message {
				return i18n.CLIFlagBadValue{Name: long, Value: value, Problem: problem}
			})}
		}
	}
	return rest, nil
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
func (f *flagSet) printFlags(w io.Writer, p *i18n.Printer) {
	const col = 28 // where the words start
	for _, name := range f.order {
		fl := f.fs.Lookup(name)
		value, words := unquote(p.T(f.words[name]))
		head := "  --" + name
		if x, ok := f.short[name]; ok {
			head = "  -" + x + ", --" + name
		}
		if value != "" {
			head += " " + value
		}
		if d := fl.DefValue; d != "" && d != "false" && d != "0" {
			words = p.T(i18n.HelpDefault{Usage: words, Default: d})
		}
		lines := wrap(words, helpWidth-col)
		if utf8.RuneCountInString(head) >= col-1 {
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

// unquote finds the `name` of a flag's value in its words, as
// flag.UnquoteUsage does, and returns it and the words without the quotes.
func unquote(words string) (name, rest string) {
	before, after, ok := strings.Cut(words, "`")
	if !ok {
		return "", words
	}
	name, after, ok = strings.Cut(after, "`")
	if !ok {
		return "", words
	}
	return name, before + name + after
}

// wrap breaks s into lines of at most width characters, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		switch {
		case line == "":
			line = word
		case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width:
			lines = append(lines, line)
			line = word
		default:
			line += " " + word
		}
	}
	return append(lines, line)
}

// flagLang is --lang: run has read it already (flagSet.lang); parsing only
// refuses what is no language.
type flagLang string

func (f *flagLang) String() string { return string(*f) }

func (f *flagLang) Set(s string) error {
	if _, err := i18n.ParseLang(s); err != nil {
		return fail(i18n.CLILangValue)
	}
	*f = flagLang(s)
	return nil
}

// flagDuration is a time.Duration flag that refuses zero and negative values.
type flagDuration time.Duration

func (f *flagDuration) String() string { return time.Duration(*f).String() }

func (f *flagDuration) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fail(i18n.CLINotDuration)
	}
	if d <= 0 {
		return fail(i18n.CLIPositive)
	}
	*f = flagDuration(d)
	return nil
}

func (f flagDuration) d() time.Duration { return time.Duration(f) }

// maxDeck is the largest simulated deck: F1–F9 insert its cards.
const maxDeck = 9

// flagDeckSize is --sim-cards: 1 to maxDeck cards.
type flagDeckSize int

func (f *flagDeckSize) String() string { return strconv.Itoa(int(*f)) }

func (f *flagDeckSize) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDeck {
		return fail(i18n.CLIDeckSize{Max: maxDeck})
	}
	*f = flagDeckSize(n)
	return nil
}

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
		return fail(i18n.CLIPace{Max: maxPace})
	}
	*f = flagPace(v)
	return nil
}

// flagCard is a card number in the simulated deck, 1 to maxDeck.
type flagCard int

func (f *flagCard) String() string { return strconv.Itoa(int(*f)) }

func (f *flagCard) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxDeck {
		return fail(i18n.CLICardNumber{Max: maxDeck})
	}
	*f = flagCard(n)
	return nil
}
