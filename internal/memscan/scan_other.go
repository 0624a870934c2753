//go:build !linux

package memscan

import (
	"errors"
	"fmt"
	"runtime"
)

// Scan needs /proc/self/mem: Linux only.
func Scan(needles ...Needle) ([]Hit, error) {
	return nil, fmt.Errorf("memscan on %s: %w", runtime.GOOS, errors.ErrUnsupported)
}
