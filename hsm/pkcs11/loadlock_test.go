//go:build cgo && unix

package pkcs11

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/pidlock"
)

// The helper process of TestConcurrentLoads: a second hsmcards loading a
// Backup Key into the same token. It prints "busy" when it finds the
// token's load lock held, then the load's result.
const loadHelperEnv = "HSMCARDS_TEST_LOAD_HELPER"

type helperLoad struct {
	Module string
	Key    string // hex
	Info   hsm.KeyInfo
}

func TestLoadHelperProcess(t *testing.T) {
	spec := os.Getenv(loadHelperEnv)
	if spec == "" {
		t.Skip("the helper process of TestConcurrentLoads")
	}
	var h helperLoad
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		t.Fatal(err)
	}
	key, _ := hex.DecodeString(h.Key)
	p, err := Open(h.Module, TokenByLabel("appliance"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	p.hooks.lockBusy = func() { fmt.Println("busy") }
	already, err := p.LoadBackupKey(context.Background(), key, h.Info, false)
	var diff *hsm.DifferentKeyError
	fmt.Printf("result already=%v different=%v err=%v\n", already, errors.As(err, &diff), err)
}

// runHelper starts the helper loading key and returns its output lines.
func runHelper(t *testing.T, module string, key []byte, info hsm.KeyInfo) (lines <-chan string, wait func() error) {
	t.Helper()
	spec, _ := json.Marshal(helperLoad{Module: module, Key: hex.EncodeToString(key), Info: info})
	cmd := exec.Command(os.Args[0], "-test.run=^TestLoadHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), loadHelperEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch, cmd.Wait
}

// Two processes load into one token at once: the first stops after it has
// searched the token and before it creates the key, the second runs
// meanwhile. Only one Backup Key results, and the second says what it
// found.
func TestConcurrentLoads(t *testing.T) {
	for _, tc := range []struct {
		name     string
		sameKey  bool
		wantLine string
	}{
		{"same key", true, "result already=true different=false"},
		{"different key", false, "result already=false different=true"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSoftHSM(t, "appliance")
			p := s.open(t, "appliance")
			key, info := testKey(t, "first")
			reached, release := make(chan struct{}), make(chan struct{})
			p.hooks.beforeCreate = func() { close(reached); <-release }
			done := make(chan error, 1)
			go func() {
				_, err := p.LoadBackupKey(context.Background(), key, info, false)
				done <- err
			}()
			<-reached

			key2, info2 := key, info
			if !tc.sameKey {
				key2, info2 = testKey(t, "second")
			}
			lines, wait := runHelper(t, s.module, key2, info2)
			var result string
			// The second process either finds the lock held, or (without
			// the lock) finishes its load before the first goes on.
			for l := range lines {
				if l == "busy" {
					break
				}
				if strings.HasPrefix(l, "result ") {
					result = l
					break
				}
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatalf("the first load: %v", err)
			}
			for l := range lines {
				if strings.HasPrefix(l, "result ") {
					result = l
				}
			}
			if err := wait(); err != nil {
				t.Fatalf("the helper process: %v", err)
			}
			// A fresh look at the token store: a SoftHSM2 process that
			// has written since another did may not see what the other
			// made (loadlock.go).
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p = s.open(t, "appliance")
			if n := len(backupKeyObjects(t, p)); n != 1 {
				t.Fatalf("the token holds %d Backup Keys, want 1 (the second process said %q)", n, result)
			}
			if !strings.HasPrefix(result, tc.wantLine) {
				t.Errorf("the second process said %q, want %q", result, tc.wantLine)
			}
			if got, ok, err := p.BackupKey(context.Background()); err != nil || !ok || got != info {
				t.Errorf("the token holds %+v, %v, %v; want the first load's %+v", got, ok, err, info)
			}
		})
	}
}

// plantLock leaves a load lock as a process that died, or another that is
// still loading, would; a public one as anyone without a PIN can.
func plantLock(t *testing.T, p *HSM, rec lockRecord, public bool) {
	t.Helper()
	v, _ := json.Marshal(rec)
	if _, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, !public),
		p11.NewAttribute(p11.CKA_APPLICATION, lockApp),
		p11.NewAttribute(p11.CKA_VALUE, v),
	}); err != nil {
		t.Fatal(err)
	}
}

func TestLoadLockLeftBehind(t *testing.T) {
	host, _ := os.Hostname()
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		rec    lockRecord
		public bool
		busy   bool
	}{
		{"dead process", lockRecord{Nonce: "a", PID: dead.Process.Pid, Host: host, Since: time.Now()}, false, false},
		{"old lock", lockRecord{Nonce: "b", PID: os.Getppid(), Host: "elsewhere", Since: time.Now().Add(-lockStale - time.Minute)}, false, false},
		{"live process", lockRecord{Nonce: "c", PID: os.Getppid(), Host: host, Since: time.Now()}, false, true},
		{"another host", lockRecord{Nonce: "d", PID: 1, Host: "elsewhere\x1b[2J", Since: time.Now()}, false, true},
		// Anyone can create a public object; no hsmcards makes a public lock.
		{"public lock", lockRecord{Nonce: "e", PID: 1, Host: "elsewhere", Since: time.Now()}, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newSoftHSM(t, "appliance").open(t, "appliance")
			p.hooks.lockWait = 300 * time.Millisecond
			plantLock(t, p, tt.rec, tt.public)
			key, info := testKey(t, "x")
			_, err := p.LoadBackupKey(context.Background(), key, info, false)
			var busy *BusyError
			if tt.busy != errors.As(err, &busy) || (!tt.busy && err != nil) {
				t.Fatalf("LoadBackupKey = %v; want busy %v", err, tt.busy)
			}
			if tt.busy {
				if !strings.Contains(err.Error(), fmt.Sprintf("process %d on %s", tt.rec.PID, strings.ReplaceAll(tt.rec.Host, "\x1b[2J", ""))) || strings.Contains(err.Error(), "\x1b") {
					t.Errorf("%v does not name the holder, cleaned", err)
				}
				if n := len(backupKeyObjects(t, p)); n != 0 {
					t.Errorf("a busy token got %d keys", n)
				}
			}
		})
	}
}

// A load waits while another process on the host loads through the same
// module, and says who when it gives up.
func TestLoadWaitsForTheHostLock(t *testing.T) {
	s := newSoftHSM(t, "appliance")
	p := s.open(t, "appliance")
	p.hooks.lockWait = 300 * time.Millisecond
	path, err := filepath.EvalSymlinks(p.mod.secret.file())
	if err != nil {
		t.Fatal(err)
	}
	other, err := pidlock.Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	key, info := testKey(t, "x")
	_, err = p.LoadBackupKey(context.Background(), key, info, false)
	var busy *BusyError
	if !errors.As(err, &busy) || !strings.Contains(err.Error(), fmt.Sprintf("process %d on this host", os.Getpid())) {
		t.Fatalf("LoadBackupKey under another's host lock: %v", err)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.LoadBackupKey(context.Background(), key, info, false); err != nil {
		t.Fatalf("LoadBackupKey once the lock is free: %v", err)
	}
}
