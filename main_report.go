package main

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/protocol"
)

var reportCommand = &command{
	name:          "report",
	args:          i18n.HelpReportArgs,
	flagsSynopsis: i18n.HelpReportFlagsSynopsis,
	summary:       i18n.HelpReportSummary,
	about:         i18n.HelpReportAbout,
	defineFn: func(fs *flagSet) runFunc {
		var out string
		fs.str(&out, "output", "", i18n.HelpFlagReportOutput)
		fs.alias("o", "output")
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return usage("report", i18n.CLIReportWhichTrail)
			}
			render := (*protocol.Protocol).WriteMarkdown
			switch ext := strings.ToLower(filepath.Ext(out)); {
			case out == "":
			case ext == ".pdf":
				render = (*protocol.Protocol).WritePDF
			case ext == ".md" || ext == ".markdown":
			default:
				return usage("report", i18n.CLIReportFormat{Path: out})
			}
			t, err := readTrail(args[0])
			if err != nil {
				return err
			}
			p := protocol.Build(t, filepath.Base(args[0]))
			var buf bytes.Buffer
			if err := render(p, &buf, e.p); err != nil {
				return err
			}
			if out == "" {
				_, err := e.stdout.Write(buf.Bytes())
				return err
			}
			if err := safefile.WriteFile(out, buf.Bytes()); err != nil {
				return flagPathError("-o", err)
			}
			fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIReportWrote{Trail: args[0], Out: out, Hash: t.Head.Short()}))
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
		return nil, &hinted{failWith(err, func(c string) i18n.Message { return i18n.CLITrailNotVerified{Path: path, Cause: c} }),
			i18n.HintVerifyFirst{Path: path}}
	}
	return t, err
}

var verifyCommand = &command{
	name:    "audit verify",
	args:    i18n.HelpVerifyArgs,
	summary: i18n.HelpVerifySummary,
	about:   i18n.HelpVerifyAbout,
	exits:   i18n.HelpVerifyExits,
	defineFn: func(fs *flagSet) runFunc {
		return func(e *env, args []string) error {
			if len(args) != 1 {
				return usage("audit verify", i18n.CLIVerifyWhichTrail)
			}
			t, err := audit.ReadFile(args[0])
			var chain *audit.ChainError
			if errors.As(err, &chain) {
				fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIVerifyNotIntact{Path: args[0], Cause: describe(e.p, err)}))
				if chain.Text != "" {
					fmt.Fprintln(e.stderr, e.p.T(i18n.CLIVerifyLine{Line: chain.Line, Text: safetext.Clean(chain.Text)}))
				}
				return &exitError{code: exitFailure}
			}
			if err != nil {
				return err
			}
			first, last := t.Lines[0].Time, t.Lines[len(t.Lines)-1].Time
			fmt.Fprintln(e.stdout, e.p.T(i18n.CLIVerifyIntact{Path: args[0], Count: t.Head.Line, ID: t.ID,
				From: e.p.DateTime(first.UTC()), To: e.p.DateTime(last.UTC())}))
			fmt.Fprintln(e.stdout, e.p.T(i18n.CLIVerifyFinalHash{Line: t.Head.Line, Hash: t.Head.String()}))
			fmt.Fprintln(e.stdout, e.p.T(i18n.CLIVerifyShortForm{Hash: t.Head.Short()}))
			return nil
		}
	},
}
