//go:build !pcsc

package cardio

import "context"

// PCSCSupported reports whether this build can talk to pcsc-lite.
const PCSCSupported = false

// OpenPCSC would open a PC/SC reader; this build has none.
func OpenPCSC(ctx context.Context, name string) (Reader, error) { return nil, ErrNoPCSCSupport }

// ListPCSCReaders would list the PC/SC readers; this build has none.
func ListPCSCReaders(ctx context.Context) ([]string, error) { return nil, ErrNoPCSCSupport }
