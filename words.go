package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safefile"
)

// What the command line says about an error comes from one classification
// (describe, hintOf): main's own errors carry their catalog message; the
// lower layers' errors it knows (a refused path, a held lock, a trail that
// does not verify, PC/SC's service and readers, a missing file) are worded
// from their types and fields; any other is shown as the lower layer
// wrote it, in English (docs/i18n.md, "What stays English").

// failure is an error in main's own words: msg, or when it wraps a cause,
// say with the cause's words.
type failure struct {
	msg i18n.Message
	say func(cause string) i18n.Message
	err error // the cause, for errors.Is and errors.As
}

// fail is an error that says m.
func fail(m i18n.Message) error { return &failure{msg: m} }

// failWith wraps err: say puts its words into a sentence.
func failWith(err error, say func(cause string) i18n.Message) error {
	return &failure{say: say, err: err}
}

func (f *failure) Error() string { return describe(nil, f) }
func (f *failure) Unwrap() error { return f.err }

// describe says err in p's language.
func describe(p *i18n.Printer, err error) string {
	switch e := err.(type) {
	case nil:
		return ""
	case *failure:
		if e.say != nil {
			return p.T(e.say(describe(p, e.err)))
		}
		return p.T(e.msg)
	case *usageError:
		return describe(p, e.err)
	case *hinted:
		return describe(p, e.err)
	case *exitError:
		if e.err == nil {
			return fmt.Sprintf("exit status %d", e.code)
		}
		return describe(p, e.err)
	}
	if m := lowerLayer(err); m != nil {
		return p.T(m)
	}
	return err.Error()
}

// lowerLayer words the lower layers' errors main knows, or returns nil. Typed
// errors are found wherever they are wrapped (their fields say all there is);
// sentinels only as they are, so that added detail is not lost.
func lowerLayer(err error) i18n.Message {
	var (
		unsafe  *safefile.UnsafeError
		held    *pidlock.HeldError
		chain   *audit.ChainError
		several *pcsc.MultipleReadersError
		path    *fs.PathError
	)
	switch {
	case errors.As(err, &unsafe):
		return unsafeWords(unsafe)
	case errors.As(err, &held):
		if held.PID == 0 {
			return i18n.CLIHeld{Path: held.Path}
		}
		return i18n.CLIHeldBy{Path: held.Path, PID: held.PID}
	case errors.As(err, &chain):
		return i18n.CLIChainError{Line: chain.Line, Reason: chain.Reason}
	case errors.As(err, &several):
		return i18n.CLIMultipleReaders{Count: len(several.Names), Names: strings.Join(several.Names, ", ")}
	case errors.Is(err, cardio.ErrNoService):
		return i18n.CLINoPCSCService
	case err == cardio.ErrNoReader:
		return i18n.CLINoReader
	case err == pcsc.ErrNotBuilt:
		return i18n.CLINoPCSCSupport
	case errors.As(err, &path) && errors.Is(path.Err, fs.ErrNotExist):
		return i18n.CLINotFound{Path: path.Path}
	case errors.As(err, &path) && errors.Is(path.Err, fs.ErrPermission):
		return i18n.CLIPermission{Path: path.Path}
	}
	return nil
}

// unsafeWords says why safefile refused a path.
func unsafeWords(u *safefile.UnsafeError) i18n.Message {
	switch u.Kind {
	case safefile.Symlink:
		return i18n.CLIUnsafeSymlink{Path: u.Path}
	case safefile.NotRegular:
		return i18n.CLIUnsafeNotRegular{Path: u.Path}
	case safefile.NotDir:
		return i18n.CLIUnsafeNotDir{Path: u.Path}
	case safefile.TooOpen:
		return i18n.CLIUnsafeTooOpen{Path: u.Path, Mode: fmt.Sprintf("%04o", u.Mode.Perm())}
	case safefile.ParentNotDir:
		return i18n.CLIUnsafeParentNotDir{Path: u.Path}
	case safefile.ParentOpen:
		return i18n.CLIUnsafeParentOpen{Path: u.Path, Mode: fmt.Sprintf("%04o", u.Mode.Perm()), Name: u.Child}
	case safefile.OtherOwner:
		return i18n.CLIUnsafeOwner{Path: u.Path, Owner: u.Owner, Me: u.Me}
	}
	return i18n.Verbatim{Text: u.Error()}
}

// unsafeHint says how to fix a refused path.
func unsafeHint(u *safefile.UnsafeError) i18n.Message {
	switch u.Kind {
	case safefile.Symlink:
		return i18n.HintUnsafeSymlink
	case safefile.NotRegular:
		return i18n.HintUnsafeNotRegular
	case safefile.NotDir:
		return i18n.HintUnsafeNotDir
	case safefile.TooOpen:
		return i18n.HintChmod{Mode: fmt.Sprintf("%o", u.Want.Perm()), Path: u.Path}
	case safefile.ParentNotDir:
		return i18n.HintUnsafeParentNotDir
	case safefile.ParentOpen:
		return i18n.HintUnsafeParentOpen
	case safefile.OtherOwner:
		return i18n.HintUnsafeOwner
	}
	return i18n.Verbatim{Text: u.Hint()}
}

// hintOf is the first hint on err's chain, outermost first, or nil.
func hintOf(err error) i18n.Message {
	for e := err; e != nil; e = errors.Unwrap(e) {
		switch e := e.(type) {
		case *usageError:
			return e.hint()
		case *hinted:
			return e.hint
		case *safefile.UnsafeError:
			return unsafeHint(e)
		}
	}
	if errors.Is(err, cardio.ErrNoService) {
		return i18n.HintStartPCSCD
	}
	if err == pcsc.ErrNotBuilt {
		return nil // CLINoPCSCSupport says how to build it
	}
	if h := cardio.Hint(err); h != "" {
		return i18n.Verbatim{Text: h} // a reader's hint the catalogs do not word yet
	}
	return nil
}
