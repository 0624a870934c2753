//go:build !linux

package secmem

import (
	"errors"
	"fmt"
	"runtime"
)

// DisableCoreDumps is implemented on Linux only; elsewhere it does nothing
// and returns an error wrapping errors.ErrUnsupported.
func DisableCoreDumps() error {
	return fmt.Errorf("cannot disable core dumps on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}

func excludeFromCoreDump([]byte) {}
