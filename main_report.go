package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/protocol"
)

var reportCommand = &command{
	name:          "report",
	args:          "TRAIL",
	flagsSynopsis: "[-o FILE]",
	summary:       "print the protocol of the ceremonies in an audit trail (Markdown or PDF)",
	about: "Writes the key ceremony protocol of the audit trail TRAIL (--audit FILE of the wizard): every " +
		"ceremony it holds with its time, appliance label, key-set ID, quorum, KCV and cards, what went wrong " +
		"and what recovered it, a signature line for each card holder, the operator and a witness, and the " +
		"trail's final hash, which the signed paper seals. The trail must verify first (hsmcards audit verify). " +
		"With -o FILE.pdf it writes PDF, with -o FILE.md Markdown; without -o it prints Markdown. " +
		"The trail holds no PIN, share or key, and neither does the protocol.",
	defineFn: func(fs *flagSet) runFunc {
		var out string
		fs.str(&out, "output", "", "write the protocol to `FILE`: .pdf for PDF, .md for Markdown")
		fs.alias("o", "output")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return &usageError{cmd: "report", msg: "say which trail: hsmcards report [-o FILE] TRAIL"}
			}
			render := (*protocol.Protocol).WriteMarkdown
			switch ext := strings.ToLower(filepath.Ext(out)); {
			case out == "":
			case ext == ".pdf":
				render = (*protocol.Protocol).WritePDF
			case ext == ".md" || ext == ".markdown":
			default:
				return &usageError{cmd: "report", msg: fmt.Sprintf("-o %s: say .pdf for PDF or .md for Markdown", out)}
			}
			t, err := readTrail(args[0])
			if err != nil {
				return err
			}
			p := protocol.Build(t, filepath.Base(args[0]))
			var buf bytes.Buffer
			if err := render(p, &buf); err != nil {
				return err
			}
			if out == "" {
				_, err := e.stdout.Write(buf.Bytes())
				return err
			}
			if err := safefile.WriteFile(out, buf.Bytes()); err != nil {
				return flagPathError("-o", err)
			}
			fmt.Fprintf(e.stderr, "hsmcards: wrote the protocol of %s to %s (final hash %s)\n", args[0], out, t.Head.Short())
			return nil
		}
	},
}

// readTrail reads and verifies a trail for the report; a trail that does
// not verify gets no protocol.
func readTrail(path string) (*audit.Trail, error) {
	t, err := audit.ReadFile(path)
	var chain *audit.ChainError
	if errors.As(err, &chain) {
		return nil, &hinted{fmt.Errorf("%s does not verify: %w", path, err),
			"hsmcards audit verify " + path + " shows the line; no protocol is written for a trail that does not verify"}
	}
	return t, err
}

var verifyCommand = &command{
	name:    "audit verify",
	args:    "FILE",
	summary: "check an audit trail's hash chain",
	about: "Checks the hash chain of the audit trail FILE: the anchor first, every line numbered in order and " +
		"carrying the SHA-256 of the line before (docs/audit.md). Intact, it prints the number of lines and the " +
		"final hash, which must be the one on the signed protocol: a trail cut short or rewritten whole still " +
		"verifies, but ends in another hash. Otherwise it names the first line that does not fit.",
	exits: "1 also when the trail does not verify",
	defineFn: func(fs *flagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return &usageError{cmd: "audit verify", msg: "say which trail: hsmcards audit verify FILE"}
			}
			t, err := audit.ReadFile(args[0])
			var chain *audit.ChainError
			if errors.As(err, &chain) {
				fmt.Fprintf(e.stderr, "hsmcards: %s: NOT INTACT: %v\n", args[0], err)
				if chain.Text != "" {
					fmt.Fprintf(e.stderr, "line %d: %s\n", chain.Line, safetext.Clean(chain.Text))
				}
				return &exitError{code: exitFailure}
			}
			if err != nil {
				return err
			}
			first, last := t.Lines[0].Time, t.Lines[len(t.Lines)-1].Time
			fmt.Fprintf(e.stdout, "%s: intact: %d lines, trail %s, %s to %s\n", args[0], t.Head.Line, t.ID,
				first.UTC().Format("2006-01-02 15:04:05"), last.UTC().Format("2006-01-02 15:04:05 UTC"))
			fmt.Fprintf(e.stdout, "final hash (line %d): %s\n", t.Head.Line, t.Head)
			fmt.Fprintf(e.stdout, "short form: %s\n", t.Head.Short())
			return nil
		}
	},
}
