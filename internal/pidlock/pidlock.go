// Package pidlock keeps a piece of state to one process at a time: a lock on
// a file or directory, held for as long as the process keeps it open, and
// released by the kernel when the process ends however it ends (no stale
// lock files after a crash). A second process is told which process holds
// the lock, so the operator knows what to stop.
package pidlock

import (
	"fmt"
)

// HeldError is what Acquire returns when another process holds the lock. PID
// is that process, or 0 when the kernel does not say (systems without
// /proc/locks, another PID namespace).
type HeldError struct {
	Path string
	PID  int
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("%s is in use by another process", e.Path)
	}
	return fmt.Sprintf("%s is in use by process %d", e.Path, e.PID)
}

// Lock is a held lock; Release or the end of the process lets it go.
type Lock struct {
	release func() error
}

// Release lets the lock go; releasing twice does nothing.
func (l *Lock) Release() error {
	if l == nil || l.release == nil {
		return nil
	}
	r := l.release
	l.release = nil
	return r()
}
