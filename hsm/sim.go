package hsm

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hsmcards/hsmcards/internal/atomicfile"
	"github.com/hsmcards/hsmcards/kcv"
)

// SimStateFile is the simulated HSM's state file name inside its directory.
const SimStateFile = "hsm.json"

// simFormat is the state file's format version.
const simFormat = 1

// Sim is a training HSM. It keeps the loaded Backup Key IN THE CLEAR in
// dir/hsm.json (mode 0600): it is a simulation for the training deck, and
// holds nothing a real appliance would trust. An instructor may edit the file
// on purpose; a key that no longer matches its recorded KCV then shows up as
// ErrKCVMismatch.
//
// The file is the only state: every call reads it, so a change made while
// the wizard runs is seen. Writes are atomic (temporary file, fsync, rename).
type Sim struct {
	mu     sync.Mutex
	dir    string
	closed bool
}

var _ HSM = (*Sim)(nil)

// OpenSim opens the simulated HSM whose state lives in dir, creating dir
// (mode 0700) if needed. A damaged state file does not stop it from opening:
// BackupKey reports the damage, and LoadBackupKey with replace overwrites it.
func OpenSim(dir string) (*Sim, error) {
	if err := makeStateDir(dir, "simulated HSM"); err != nil {
		return nil, err
	}
	return &Sim{dir: dir}, nil
}

// makeStateDir makes sure a simulator's state directory exists (mode 0700);
// who names the simulator in errors.
func makeStateDir(dir, who string) error {
	if dir == "" {
		return errors.New(who + ": no state directory")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("%s: %w", who, err)
	}
	return nil
}

// Name says which HSM this is, for the screen.
func (s *Sim) Name() string { return "simulated HSM" }

// Path is the state file, for the screen and for instructors.
func (s *Sim) Path() string { return filepath.Join(s.dir, SimStateFile) }

// Close releases the HSM; later calls fail.
func (s *Sim) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	return nil
}

// simState is the state file. Byte fields are hex so that an instructor can
// read and edit them.
type simState struct {
	Format  int     `json:"format"`
	Warning string  `json:"warning"`
	Key     *simKey `json:"backup_key"`
}

type simKey struct {
	KeySetID hexBytes `json:"key_set_id"`
	Label    string   `json:"label"`
	KCV      hexBytes `json:"kcv"`
	Key      hexBytes `json:"key"`
}

const simWarning = "simulated HSM for training: this file holds the Backup Key in the clear"

// hexBytes is a byte string written as a JSON hex string. Decoding goes
// straight into a byte slice, never a string, so the key can be wiped.
type hexBytes []byte

func (h hexBytes) MarshalJSON() ([]byte, error) {
	out := make([]byte, 2+hex.EncodedLen(len(h)))
	out[0], out[len(out)-1] = '"', '"'
	hex.Encode(out[1:], h)
	return out, nil
}

func (h *hexBytes) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return errors.New("not a hex string")
	}
	src := b[1 : len(b)-1]
	dst := make([]byte, hex.DecodedLen(len(src)))
	if _, err := hex.Decode(dst, src); err != nil {
		clear(dst)
		// The error would quote the offending byte: keep it out.
		return errors.New("not a hex string")
	}
	*h = dst
	return nil
}

func (k *simKey) wipe() {
	if k != nil {
		clear(k.Key)
	}
}

// info is what the file says about the key, KCV as recorded.
func (k *simKey) info() KeyInfo {
	var i KeyInfo
	copy(i.KeySetID[:], k.KeySetID)
	copy(i.KCV[:], k.KCV)
	i.Label = k.Label
	return i
}

var errSimClosed = errors.New("simulated HSM: closed")

// errSimDamaged wraps reasons the state file cannot be used. They never quote
// the file: it holds the key.
func errSimDamaged(reason string) error {
	return fmt.Errorf("simulated HSM: the state file is damaged (%s)", reason)
}

// read returns the stored key, nil when none is loaded.
func (s *Sim) read() (*simKey, error) {
	if s.closed {
		return nil, errSimClosed
	}
	b, err := os.ReadFile(s.Path())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("simulated HSM: %w", err)
	}
	defer clear(b)
	var st simState
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		st.Key.wipe()
		return nil, errSimDamaged("not valid state JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		st.Key.wipe()
		return nil, errSimDamaged("data after the state")
	}
	if st.Format != simFormat {
		st.Key.wipe()
		return nil, errSimDamaged(fmt.Sprintf("unknown format %d", st.Format))
	}
	k := st.Key
	if k == nil {
		return nil, nil
	}
	switch {
	case len(k.Key) != KeySize:
		k.wipe()
		return nil, errSimDamaged("the key is not 32 bytes")
	case len(k.KCV) != kcv.Size:
		k.wipe()
		return nil, errSimDamaged("the KCV is not 3 bytes")
	case len(k.KeySetID) != len(KeyInfo{}.KeySetID):
		k.wipe()
		return nil, errSimDamaged("the key-set ID is not 16 bytes")
	}
	return k, nil
}

// write replaces the state file atomically: a reader sees the old file or the
// new one, never half of either, even across a crash.
func (s *Sim) write(key []byte, info KeyInfo, v [kcv.Size]byte) (err error) {
	st := simState{Format: simFormat, Warning: simWarning, Key: &simKey{
		KeySetID: info.KeySetID[:],
		Label:    info.Label,
		KCV:      v[:],
		Key:      key,
	}}
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("simulated HSM: %w", err)
	}
	// No trailing newline: appending one could copy the key to a new
	// buffer that the deferred clear would miss.
	defer clear(b)

	if err := atomicfile.Write(s.Path(), b); err != nil {
		return fmt.Errorf("simulated HSM: %w", err)
	}
	return nil
}

// BackupKey reports the loaded Backup Key; ok is false when none is. Its KCV
// is recomputed from the stored key: when that differs from the recorded one
// (a tampered file) it reports the recorded info with ErrKCVMismatch.
func (s *Sim) BackupKey(ctx context.Context) (info KeyInfo, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.read()
	if err != nil || k == nil {
		return KeyInfo{}, false, err
	}
	defer k.wipe()
	info = k.info()
	got, err := kcv.AES(k.Key)
	if err != nil {
		return KeyInfo{}, false, errSimDamaged("the key is not an AES key")
	}
	if got != info.KCV {
		return info, true, fmt.Errorf("simulated HSM: the stored key has KCV %X, not the recorded %X: %w", got, info.KCV, ErrKCVMismatch)
	}
	return info, true, nil
}

// LoadBackupKey stores key, which must be 32 bytes with info.KCV as its KCV
// (else ErrKCVMismatch, nothing stored). The same key (same KCV and, compared
// in constant time, the same bytes) reports already without writing. A
// different or damaged stored key gives *DifferentKeyError, or a damage
// error, unless replace. After writing it reads the key back and checks it.
func (s *Sim) LoadBackupKey(ctx context.Context, key []byte, info KeyInfo, replace bool) (already bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if len(key) != KeySize {
		return false, fmt.Errorf("simulated HSM: a Backup Key is %d bytes, not %d", KeySize, len(key))
	}
	v, err := kcv.AES(key)
	if err != nil {
		return false, fmt.Errorf("simulated HSM: %w", err)
	}
	if v != info.KCV {
		return false, fmt.Errorf("simulated HSM: the key has KCV %X, the cards say %X: %w", v, info.KCV, ErrKCVMismatch)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, errSimClosed
	}
	old, err := s.read()
	if err != nil && !replace {
		return false, err
	}
	if old != nil {
		same := old.info().KCV == v && subtle.ConstantTimeCompare(old.Key, key) == 1
		loaded := old.info()
		old.wipe()
		if same {
			return true, nil
		}
		if !replace {
			return false, &DifferentKeyError{Loaded: loaded}
		}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := s.write(key, info, v); err != nil {
		return false, err
	}

	// Prove it landed, as the PKCS#11 backend does inside its token.
	back, err := s.read()
	if err != nil {
		return false, err
	}
	if back == nil {
		return false, errors.New("simulated HSM: the key vanished after writing")
	}
	defer back.wipe()
	if subtle.ConstantTimeCompare(back.Key, key) != 1 || back.info().KCV != v {
		return false, fmt.Errorf("simulated HSM: the stored key does not read back: %w", ErrKCVMismatch)
	}
	return false, nil
}
