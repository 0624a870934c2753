package main

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safefile"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The simulator's state under --sim-dir has two parts, each locked for the
// life of the process that uses it (docs/cli.md, "One process per state"):
//
//   - the deck, DIR/cards: the wizard on the simulated reader, `hsmcards
//     vpcd` and `hsmcards inspect` on the simulated reader;
//   - the simulated HSM, DIR itself (hsm.json, card-sets.json,
//     slot-users.json): the wizard with --hsm sim.
//
// So `hsmcards vpcd 1` (the deck) runs beside `hsmcards --reader pcsc` (the
// HSM), as training on the real PC/SC stack needs, while a second wizard on
// the same deck or HSM is refused and told which process holds it.

// deckDir is the deck's directory under --sim-dir.
func deckDir(simDir string) string { return filepath.Join(simDir, "cards") }

// openDeck opens the simulated deck under simDir for this process alone,
// creating it (and cards up to n) unless existing is set, in which case a
// missing deck is an error and no card is added.
func openDeck(simDir string, n int, existing bool) (*simcard.Deck, func() error, error) {
	dir := deckDir(simDir)
	if existing {
		if _, err := os.Lstat(dir); errors.Is(err, fs.ErrNotExist) {
			return nil, nil, &hinted{fail(i18n.CLINoDeck{Dir: simDir}), i18n.HintMakeDeck}
		}
	}
	for _, d := range []string{simDir, dir} {
		if err := safefile.Dir(d); err != nil {
			return nil, nil, flagPathError("--sim-dir", err)
		}
	}
	l, err := pidlock.Acquire(dir)
	var held *pidlock.HeldError
	switch {
	case errors.As(err, &held):
		return nil, nil, &hinted{simDeckError(err), i18n.HintDeckHeld}
	case err != nil:
		return nil, nil, simDeckError(err)
	}
	if existing {
		n = 0
	}
	deck, err := simcard.OpenDeck(dir, n)
	if err != nil {
		l.Release()
		return nil, nil, failWith(err, func(c string) i18n.Message { return i18n.CLIOpenDeck{Cause: c} })
	}
	return deck, l.Release, nil
}

// lockSimHSM locks the simulated HSM's state in simDir for this process.
func lockSimHSM(simDir string) (func() error, error) {
	if err := safefile.Dir(simDir); err != nil {
		return nil, flagPathError("--sim-dir", err)
	}
	l, err := pidlock.Acquire(simDir)
	var held *pidlock.HeldError
	switch {
	case errors.As(err, &held):
		return nil, &hinted{simHSMError(err), i18n.HintSimHSMHeld}
	case err != nil:
		return nil, simHSMError(err)
	}
	return l.Release, nil
}

func simDeckError(err error) error {
	return failWith(err, func(c string) i18n.Message { return i18n.CLISimDeck{Cause: c} })
}

func simHSMError(err error) error {
	return failWith(err, func(c string) i18n.Message { return i18n.CLISimHSM{Cause: c} })
}
