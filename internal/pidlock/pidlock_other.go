//go:build !unix

package pidlock

import (
	"errors"
	"fmt"
	"os"
	"runtime"
)

var errNoLock = fmt.Errorf("locking files on %s: %w", runtime.GOOS, errors.ErrUnsupported)

// Acquire would lock path; this system has no flock.
func Acquire(path string) (*Lock, error) { return nil, errNoLock }

// Hold would lock f; this system has no flock.
func Hold(f *os.File) error { return errNoLock }
