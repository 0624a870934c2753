//go:build !unix

package secmem

import (
	"errors"
	"fmt"
	"runtime"
)

var errNoLock = fmt.Errorf("locking memory on %s: %w", runtime.GOOS, errors.ErrUnsupported)

func mlock([]byte) error   { return errNoLock }
func munlock([]byte) error { return errNoLock }

// alloc falls back to the Go heap where there is no mmap: still wiped on
// Destroy, but not proof against copies.
func alloc(n int) ([]byte, error) { return make([]byte, n), nil }

func free([]byte) error { return nil }
