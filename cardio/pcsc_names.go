package cardio

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNoPCSCSupport is what the PC/SC entry points return in a build without
// the pcsc tag (the default, so that `go run .` needs only Go).
var ErrNoPCSCSupport = errors.New("this build has no PC/SC support; build with -tags pcsc (needs libpcsclite-dev)")

// This file holds the parts of the PC/SC reader that need no pcsc-lite, so the
// wizard can name them in every build and they are tested without the tag.

// MultipleReadersError is what OpenPCSC returns when it was asked to pick the
// only reader (or a reader by a name that fits several) and there are more
// than one: the wizard lets the operator choose from Names and opens that one.
type MultipleReadersError struct {
	Names []string
}

func (e *MultipleReadersError) Error() string {
	return fmt.Sprintf("%d smart card readers are connected (%s): choose one with --reader pcsc:NAME",
		len(e.Names), strings.Join(e.Names, ", "))
}

// pickReader chooses among the connected readers: with want empty the only
// one; otherwise the one named exactly want, else the only one whose name
// contains want ignoring case (so "pcsc:cyberJack" is enough).
func pickReader(names []string, want string) (string, error) {
	if len(names) == 0 {
		return "", ErrNoReader
	}
	if want == "" {
		if len(names) == 1 {
			return names[0], nil
		}
		return "", &MultipleReadersError{Names: names}
	}
	var fits []string
	for _, n := range names {
		if n == want {
			return n, nil
		}
		if strings.Contains(strings.ToLower(n), strings.ToLower(want)) {
			fits = append(fits, n)
		}
	}
	switch len(fits) {
	case 0:
		return "", fmt.Errorf("%w: no reader named %q among %s", ErrNoReader, want, strings.Join(names, ", "))
	case 1:
		return fits[0], nil
	}
	return "", &MultipleReadersError{Names: fits}
}
