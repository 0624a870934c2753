//go:build !pcsc

package pcsc

import (
	"context"

	"github.com/hsmcards/hsmcards/cardio"
)

// Supported reports whether this build can talk to pcsc-lite.
const Supported = false

// Open would open a PC/SC reader; this build has none (ErrNotBuilt).
func Open(ctx context.Context, name string) (cardio.Reader, error) { return nil, ErrNotBuilt }

// List would list the PC/SC readers; this build has none (ErrNotBuilt).
func List(ctx context.Context) ([]string, error) { return nil, ErrNotBuilt }
