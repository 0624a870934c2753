package secmem

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// childEnv tells a re-executed test binary which child test to run; the
// limits a child changes are its own, so the test process keeps its limits.
const childEnv = "SECMEM_TEST_CHILD"

// runChild re-runs the test binary (at bin) with only the named test and
// returns its output, failing if the child failed or did not run.
func runChild(t *testing.T, bin, name, mode string, attr *syscall.SysProcAttr) string {
	t.Helper()
	cmd := exec.Command(bin, "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"="+mode)
	cmd.SysProcAttr = attr
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	if !strings.Contains(string(out), "child "+mode+" ran") {
		t.Fatalf("child %s did not run:\n%s", mode, out)
	}
	return string(out)
}

func TestDisableCoreDumps(t *testing.T) {
	if os.Getenv(childEnv) == "coredump" {
		if err := DisableCoreDumps(); err != nil {
			t.Fatal(err)
		}
		var lim unix.Rlimit
		if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
			t.Fatal(err)
		}
		if lim.Cur != 0 || lim.Max != 0 {
			t.Errorf("RLIMIT_CORE = %d/%d after DisableCoreDumps, want 0/0", lim.Cur, lim.Max)
		}
		d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if d != 0 {
			t.Errorf("dumpable = %d after DisableCoreDumps, want 0", d)
		}
		t.Log("child coredump ran")
		return
	}
	if os.Getenv(childEnv) != "" {
		t.Skip("another child test")
	}
	var before unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &before); err != nil {
		t.Fatal(err)
	}
	// Raise the soft limit in the child's start state where allowed, so the
	// child proves DisableCoreDumps lowered it rather than finding it at 0.
	if before.Max > 0 {
		raised := unix.Rlimit{Cur: before.Max, Max: before.Max}
		if err := unix.Setrlimit(unix.RLIMIT_CORE, &raised); err == nil {
			defer unix.Setrlimit(unix.RLIMIT_CORE, &before)
		}
	}
	runChild(t, os.Args[0], "TestDisableCoreDumps", "coredump", nil)
	var after unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &after); err != nil {
		t.Fatal(err)
	}
	if after.Max != before.Max {
		t.Errorf("the test process's own RLIMIT_CORE changed: %d → %d", before.Max, after.Max)
	}
}

// TestLockRefused makes mlock fail for real: a child with RLIMIT_MEMLOCK 0
// and without CAP_IPC_LOCK (as root, it runs as nobody, which drops all
// capabilities) must get the documented *LockError from Lock, and a Buffer
// that works but reports itself unlocked.
func TestLockRefused(t *testing.T) {
	if os.Getenv(childEnv) == "nolock" {
		if err := unix.Setrlimit(unix.RLIMIT_MEMLOCK, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
			t.Fatal(err)
		}
		err := Lock(make([]byte, 64))
		if err == nil {
			t.Skip("mlock works without RLIMIT_MEMLOCK: the child kept CAP_IPC_LOCK")
		}
		checkLockError(t, err)
		if !errors.Is(err, unix.EPERM) && !errors.Is(err, unix.ENOMEM) && !errors.Is(err, unix.EAGAIN) {
			t.Errorf("Lock error %v does not say why", err)
		}
		b, err := NewBuffer(32)
		if err != nil {
			t.Fatal(err)
		}
		defer b.Destroy()
		if b.Locked() {
			t.Error("Buffer claims to be locked")
		}
		checkLockError(t, b.LockError())
		copy(b.Bytes(), "still usable")
		if string(b.Bytes()[:12]) != "still usable" {
			t.Error("unlocked Buffer does not hold data")
		}
		t.Log("child nolock ran")
		return
	}
	if os.Getenv(childEnv) != "" {
		t.Skip("another child test")
	}
	bin, attr := os.Args[0], (*syscall.SysProcAttr)(nil)
	if os.Geteuid() == 0 {
		// The test binary lives in a private build directory; copy it where
		// nobody can run it.
		dir, err := os.MkdirTemp("", "secmem")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		if err := os.Chmod(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(os.Args[0])
		if err != nil {
			t.Fatal(err)
		}
		bin = filepath.Join(dir, "secmem.test")
		if err := os.WriteFile(bin, data, 0o755); err != nil {
			t.Fatal(err)
		}
		attr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	}
	out := runChild(t, bin, "TestLockRefused", "nolock", attr)
	if strings.Contains(out, "--- SKIP") {
		t.Skipf("child could not be denied mlock:\n%s", out)
	}
}
