//go:build unix

package pidlock

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestSecondLockIsRefusedAndNamesTheHolder(t *testing.T) {
	for _, kind := range []string{"dir", "file"} {
		t.Run(kind, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "state")
			if kind == "dir" {
				os.Mkdir(path, 0o700)
			} else {
				os.WriteFile(path, nil, 0o600)
			}
			l, err := Acquire(path)
			if err != nil {
				t.Fatal(err)
			}
			// A second open file description conflicts even in the same
			// process, as a second process would.
			_, err = Acquire(path)
			var held *HeldError
			if !errors.As(err, &held) || held.Path != path || held.PID != os.Getpid() {
				t.Fatalf("second lock: %v (%+v), want held by %d", err, held, os.Getpid())
			}
			if want := "in use by process " + strconv.Itoa(os.Getpid()); !strings.Contains(err.Error(), want) {
				t.Errorf("%q does not say %q", err, want)
			}
			if err := l.Release(); err != nil {
				t.Fatal(err)
			}
			l.Release() // twice does nothing
			l2, err := Acquire(path)
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			l2.Release()
		})
	}
}

func TestSymlinkRefused(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "real"), 0o700)
	link := filepath.Join(dir, "link")
	if err := os.Symlink("real", link); err != nil {
		t.Fatal(err)
	}
	if l, err := Acquire(link); err == nil {
		l.Release()
		t.Fatal("locked through a symbolic link")
	}
}

// holderEnv makes the test binary a lock holder in a child process.
const holderEnv = "PIDLOCK_TEST_HOLD"

func TestMain(m *testing.M) {
	if path := os.Getenv(holderEnv); path != "" {
		if _, err := Acquire(path); err != nil {
			os.Stdout.WriteString("error " + err.Error() + "\n")
			os.Exit(1)
		}
		os.Stdout.WriteString("held\n")
		os.Stdin.Read(make([]byte, 1)) // hold until the parent closes stdin
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// Another process holding the lock is named by its PID, and its end (even
// without a release) frees the lock.
func TestHolderInAnotherProcess(t *testing.T) {
	path := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), holderEnv+"="+path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if line != "held\n" {
		t.Fatalf("child: %q", line)
	}
	_, err := Acquire(path)
	var held *HeldError
	if !errors.As(err, &held) || held.PID != cmd.Process.Pid {
		t.Fatalf("got %v, want held by the child %d", err, cmd.Process.Pid)
	}
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	l, err := Acquire(path)
	if err != nil {
		t.Fatalf("after the holder ended: %v", err)
	}
	l.Release()
}

func TestHolderIn(t *testing.T) {
	const locks = `1: POSIX  ADVISORY  WRITE 100 fe:00:42 0 EOF
2: -> FLOCK  ADVISORY  WRITE 300 fe:00:42 0 EOF
3: FLOCK  ADVISORY  WRITE 200 fe:01:42 0 EOF
4: FLOCK  ADVISORY  WRITE 400 FE:00:42 0 EOF
5: FLOCK  ADVISORY  WRITE
`
	dev := uint64(0xfe00) // major 0xfe, minor 0 in the old encoding
	for _, tc := range []struct {
		ino  uint64
		want int
	}{{42, 400}, {43, 0}} {
		got := holderIn(bufio.NewScanner(strings.NewReader(locks)), dev, tc.ino)
		if got != tc.want {
			t.Errorf("inode %d: got %d, want %d", tc.ino, got, tc.want)
		}
	}
}
