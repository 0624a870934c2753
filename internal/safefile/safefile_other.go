//go:build !unix

package safefile

import (
	"os"

	"github.com/hsmcards/hsmcards/internal/atomicfile"
)

// Dir creates path with mode 0700; this system's owners and modes are not
// checked.
func Dir(path string) error { return os.MkdirAll(path, DirMode) }

// OpenAppend opens path for appending and reading, creating it with mode
// 0600; this system's owners and modes are not checked.
func OpenAppend(path string) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE, FileMode)
}

// WriteFile replaces path with data, atomically.
func WriteFile(path string, data []byte) error { return atomicfile.Write(path, data) }
