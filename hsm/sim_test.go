package hsm

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/kcv"
)

// simTestKey returns a 32-byte key filled with b and its KeyInfo.
func simTestKey(t *testing.T, b byte, label string) ([]byte, KeyInfo) {
	t.Helper()
	key := bytes.Repeat([]byte{b}, KeySize)
	key[0] ^= 0x5A
	v, err := kcv.AES(key)
	if err != nil {
		t.Fatal(err)
	}
	info := KeyInfo{Label: label, KCV: v}
	info.KeySetID[0] = b
	return key, info
}

func openTestSim(t *testing.T, dir string) *Sim {
	t.Helper()
	s, err := OpenSim(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustLoad(t *testing.T, s *Sim, key []byte, info KeyInfo, replace, wantAlready bool) {
	t.Helper()
	already, err := s.LoadBackupKey(context.Background(), key, info, replace)
	if err != nil {
		t.Fatalf("LoadBackupKey: %v", err)
	}
	if already != wantAlready {
		t.Fatalf("LoadBackupKey: already = %v, want %v", already, wantAlready)
	}
}

func wantLoaded(t *testing.T, s *Sim, want KeyInfo) {
	t.Helper()
	got, ok, err := s.BackupKey(context.Background())
	if err != nil || !ok || got != want {
		t.Fatalf("BackupKey = %+v, %v, %v; want %+v", got, ok, err, want)
	}
}

func TestSimLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "state") // OpenSim creates it
	s := openTestSim(t, dir)
	if s.Name() != "simulated HSM" {
		t.Errorf("Name = %q", s.Name())
	}
	if _, ok, err := s.BackupKey(ctx); ok || err != nil {
		t.Fatalf("fresh HSM: ok = %v, err = %v", ok, err)
	}

	a, infoA := simTestKey(t, 1, "Cluster A")
	b, infoB := simTestKey(t, 2, "Cluster B")

	// Load.
	mustLoad(t, s, a, infoA, false, false)
	wantLoaded(t, s, infoA)
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}

	// Reload the same key: already, and no write (a write renames a new file
	// into place).
	mustLoad(t, s, bytes.Clone(a), infoA, false, true)
	fi2, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(fi, fi2) {
		t.Error("loading the same key again rewrote the state file")
	}

	// A different key is refused without replace, and names the loaded one.
	_, err = s.LoadBackupKey(ctx, b, infoB, false)
	var diff *DifferentKeyError
	if !errors.As(err, &diff) || diff.Loaded != infoA {
		t.Fatalf("different key: err = %v, want *DifferentKeyError{%+v}", err, infoA)
	}
	wantLoaded(t, s, infoA)

	// With the user's confirmation it replaces.
	mustLoad(t, s, b, infoB, true, false)
	wantLoaded(t, s, infoB)
	mustLoad(t, s, b, infoB, true, true)

	// Persisted across reopening.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.BackupKey(ctx); err == nil {
		t.Error("BackupKey after Close succeeded")
	}
	if _, err := s.LoadBackupKey(ctx, a, infoA, true); err == nil {
		t.Error("LoadBackupKey after Close succeeded")
	}
	s2 := openTestSim(t, dir)
	wantLoaded(t, s2, infoB)
	mustLoad(t, s2, b, infoB, false, true)

	// The atomic writes left no temporary files behind.
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 1 || ents[0].Name() != SimStateFile {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("state directory holds %v", names)
	}
}

func TestSimRefusesBadKeys(t *testing.T) {
	ctx := context.Background()
	s := openTestSim(t, t.TempDir())
	a, infoA := simTestKey(t, 1, "A")
	mustLoad(t, s, a, infoA, false, false)

	b, infoB := simTestKey(t, 2, "B")
	wrongKCV := infoB
	wrongKCV.KCV[2] ^= 1
	tests := []struct {
		name    string
		key     []byte
		info    KeyInfo
		wantErr error
	}{
		{"empty", nil, infoB, nil},
		{"16 bytes", b[:16], infoB, nil},
		{"31 bytes", b[:31], infoB, nil},
		{"33 bytes", append(bytes.Clone(b), 0), infoB, nil},
		{"KCV not the key's", b, wrongKCV, ErrKCVMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			already, err := s.LoadBackupKey(ctx, tt.key, tt.info, true)
			if err == nil || already {
				t.Fatalf("LoadBackupKey = %v, %v; want an error", already, err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("err = %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(strings.ToLower(err.Error()), hex.EncodeToString(b[1:5])) {
				t.Fatalf("error %q shows key bytes", err)
			}
			wantLoaded(t, s, infoA)
		})
	}

	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.LoadBackupKey(canceled, b, infoB, true); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: err = %v", err)
	}
	if _, _, err := s.BackupKey(canceled); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled: err = %v", err)
	}
	wantLoaded(t, s, infoA)
}

func TestSimTamperedState(t *testing.T) {
	ctx := context.Background()
	s := openTestSim(t, t.TempDir())
	a, infoA := simTestKey(t, 1, "A")
	mustLoad(t, s, a, infoA, false, false)
	orig, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(orig, []byte(hex.EncodeToString(a))) {
		t.Fatal("the state file does not hold the key as hex")
	}

	// An instructor changes one key byte: the recorded KCV no longer fits.
	tampered := append([]byte(nil), a...)
	tampered[7] ^= 0xFF
	edited := bytes.Replace(orig, []byte(hex.EncodeToString(a)), []byte(hex.EncodeToString(tampered)), 1)
	if err := os.WriteFile(s.Path(), edited, 0o600); err != nil {
		t.Fatal(err)
	}
	info, ok, err := s.BackupKey(ctx)
	if !errors.Is(err, ErrKCVMismatch) || !ok || info != infoA {
		t.Fatalf("tampered key: BackupKey = %+v, %v, %v; want the recorded info and ErrKCVMismatch", info, ok, err)
	}
	// The real key is not "already" there: the stored bytes differ.
	var diff *DifferentKeyError
	if _, err := s.LoadBackupKey(ctx, a, infoA, false); !errors.As(err, &diff) {
		t.Fatalf("load over tampered state: err = %v, want *DifferentKeyError", err)
	}
	mustLoad(t, s, a, infoA, true, false)
	wantLoaded(t, s, infoA)

	damaged := []struct {
		name, content string
	}{
		{"not JSON", "{garbage"},
		{"trailing data", string(orig) + "{}"},
		{"unknown field", `{"format":1,"warning":"","backup_key":null,"extra":1}`},
		{"unknown format", `{"format":2,"warning":"","backup_key":null}`},
		{"short key", strings.Replace(string(orig), hex.EncodeToString(a), hex.EncodeToString(a[:31]), 1)},
		{"odd hex", strings.Replace(string(orig), hex.EncodeToString(a), hex.EncodeToString(a)+"0", 1)},
		{"not hex", strings.Replace(string(orig), hex.EncodeToString(a), "zz"+hex.EncodeToString(a[1:]), 1)},
		{"short KCV", strings.Replace(string(orig), hex.EncodeToString(infoA.KCV[:]), "00", 1)},
	}
	for _, tt := range damaged {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.WriteFile(s.Path(), []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, ok, err := s.BackupKey(ctx); err == nil || ok || errors.Is(err, ErrKCVMismatch) {
				t.Fatalf("BackupKey = %v, %v; want a damage error", ok, err)
			} else if strings.Contains(err.Error(), hex.EncodeToString(a[1:5])) {
				t.Fatalf("error %q shows key bytes", err)
			}
			if _, err := s.LoadBackupKey(ctx, a, infoA, false); err == nil {
				t.Fatal("load over a damaged state without replace succeeded")
			}
			mustLoad(t, s, a, infoA, true, false)
			wantLoaded(t, s, infoA)
		})
	}

	// No key at all is a valid state too.
	if err := os.WriteFile(s.Path(), []byte(`{"format":1,"warning":"","backup_key":null}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.BackupKey(ctx); ok || err != nil {
		t.Fatalf("empty state: ok = %v, err = %v", ok, err)
	}
}

func TestOpenSimErrors(t *testing.T) {
	if _, err := OpenSim(""); err == nil {
		t.Error("OpenSim(\"\") succeeded")
	}
	f := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(f, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenSim(filepath.Join(f, "sub")); err == nil {
		t.Error("OpenSim under a regular file succeeded")
	}
}
