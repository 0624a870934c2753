// Package pcsc is cardio's PC/SC reader: a card reader that pcsc-lite's
// daemon (pcscd) drives, reached through github.com/ebfe/scard. It needs cgo
// and libpcsclite, so the reader itself is built only with the build tag
// pcsc; without it Open and List say so (ErrNotBuilt), and `go run .` needs
// nothing but Go. docs/pcsc.md has the PC/SC facts the code relies on.
//
// This file holds what needs no pcsc-lite: choosing a reader by name, and
// the errors, so they are tested in every build.
package pcsc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

// ErrNotBuilt is what Open and List return in a build without the pcsc tag.
var ErrNotBuilt error = &hinted{
	err:  errors.New("this build has no PC/SC support"),
	hint: "build with: go build -tags pcsc (needs the Debian packages libpcsclite-dev and pkg-config)",
}

// hinted is an error with a hint (cardio.Hint finds it): Error in a few
// words, Hint what to do.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Hint() string  { return e.hint }
func (e *hinted) Unwrap() error { return e.err }

// MultipleReadersError is what Open returns when it was asked for the only
// reader (or a reader by a name that fits several) and there are more than
// one: the wizard lets the operator choose from Names and opens that one.
type MultipleReadersError struct {
	// Names are the readers' names as List gives them (cleaned, unique).
	Names []string
}

func (e *MultipleReadersError) Error() string {
	return fmt.Sprintf("%d smart card readers are connected", len(e.Names))
}

// Hint names the readers and how to choose one.
func (e *MultipleReadersError) Hint() string {
	return "choose one with --reader pcsc:NAME; connected: " + strings.Join(e.Names, ", ")
}

// noSuchReaderError is a reader asked for by a name that none has.
type noSuchReaderError struct {
	want  string
	names []string
}

func (e *noSuchReaderError) Error() string {
	return fmt.Sprintf("no smart card reader is named %q", e.want)
}

func (e *noSuchReaderError) Hint() string {
	return "connected: " + strings.Join(e.names, ", ")
}

func (e *noSuchReaderError) Unwrap() error { return cardio.ErrNoReader }

// shownNames turns the names pcscd reports into names that are safe to print
// and tell the readers apart. A reader names itself (its USB descriptor, its
// driver's configuration), so a name may carry escape sequences that would
// rewrite the operator's screen or the audit trail: safetext.Clean drops them.
// Two names that clean to the same text get " #2", " #3" appended in pcscd's
// order, so the name still picks one reader. shown[i] is raw[i]'s name.
func shownNames(raw []string) []string {
	shown := make([]string, len(raw))
	used := make(map[string]bool, len(raw))
	for i, n := range raw {
		base := safetext.Clean(n)
		if strings.TrimSpace(base) == "" {
			base = "unnamed reader"
		}
		s := base
		for k := 2; used[s]; k++ {
			s = fmt.Sprintf("%s #%d", base, k)
		}
		used[s] = true
		shown[i] = s
	}
	return shown
}

// pickReader chooses among the connected readers by their shown names: with
// want empty the only one; otherwise the one named exactly want, else the
// only one whose name contains want ignoring case (so "pcsc:cyberJack" is
// enough). It returns the index into names.
func pickReader(names []string, want string) (int, error) {
	if len(names) == 0 {
		return 0, cardio.ErrNoReader
	}
	if want == "" {
		if len(names) == 1 {
			return 0, nil
		}
		return 0, &MultipleReadersError{Names: names}
	}
	var fits []int
	for i, n := range names {
		if n == want {
			return i, nil
		}
		if strings.Contains(strings.ToLower(n), strings.ToLower(want)) {
			fits = append(fits, i)
		}
	}
	switch len(fits) {
	case 0:
		return 0, &noSuchReaderError{want: safetext.Clean(want), names: names}
	case 1:
		return fits[0], nil
	}
	several := make([]string, len(fits))
	for i, f := range fits {
		several[i] = names[f]
	}
	return 0, &MultipleReadersError{Names: several}
}
