// Package hsm is where the Backup Key goes: the appliance's HSM. The simulated
// HSM keeps its state under --sim-dir; the PKCS#11 backend (hsm/pkcs11)
// talks to a token.
package hsm

import (
	"context"
	"errors"
	"fmt"
)

// KeySize is the Backup Key's length: an AES-256 key (the appliance manual,
// Smart Card Handling: "a 32 bytes long AES key").
const KeySize = 32

// KeyInfo describes a loaded Backup Key, never its bytes.
type KeyInfo struct {
	KeySetID [16]byte
	Label    string
	KCV      [3]byte
}

// HSM holds the appliance's Backup Key.
type HSM interface {
	// Name says which HSM this is, for the screen.
	Name() string
	// BackupKey reports the loaded Backup Key; ok is false when none is.
	BackupKey(ctx context.Context) (info KeyInfo, ok bool, err error)
	// LoadBackupKey loads key. When a different key is loaded it fails with a
	// *DifferentKeyError unless replace is true; loading the same key again is
	// no error and reports already == true.
	LoadBackupKey(ctx context.Context, key []byte, info KeyInfo, replace bool) (already bool, err error)
	// Close releases the HSM.
	Close() error
}

// DifferentKeyError says the HSM already holds another Backup Key.
type DifferentKeyError struct {
	Loaded KeyInfo
}

func (e *DifferentKeyError) Error() string {
	return fmt.Sprintf("the HSM already holds a different Backup Key (KCV %X)", e.Loaded.KCV)
}

// ErrKCVMismatch means the key in the HSM does not have the KCV the cards carry.
var ErrKCVMismatch = errors.New("the key in the HSM does not match the cards' check value")
