//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/vpcd"
)

// The vpcd readers the tests use and where their cards connect: vpcd's
// first two slots (docs/vpcd.md).
const (
	readerName  = "Virtual PCD 00 00"
	cardAddr    = "localhost:35963"
	reader2Name = "Virtual PCD 00 01"
	card2Addr   = "localhost:35964"
)

const (
	vpcdConf   = "/etc/reader.conf.d/vpcd"
	pcscdSock  = "/run/pcscd/pcscd.comm"
	dirPrefix  = "hsmcards-pcsctest-" // marks a pcscd these tests started
	pidFile    = "hsmcards-pcsctest-pcscd.pid"
	readyLimit = 15 * time.Second
)

// daemon is the pcscd all tests share; TestNoService stops and restarts it.
var daemon *pcscd

func TestMain(m *testing.M) {
	if role := os.Getenv(childEnv); role != "" {
		// A helper process of a test (see runChild): no lock, no pcscd of its own.
		os.Exit(child(role))
	}
	// pcscd's socket path is fixed: two test runs on one machine (two
	// checkouts, say) would stop each other's pcscd. The second waits.
	unlock, err := machineLock()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcsctest:", err)
		os.Exit(1)
	}
	defer unlock()
	d, err := setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "pcsctest:", err)
		os.Exit(1)
	}
	daemon = d
	code := m.Run()
	if err := daemon.stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pcsctest:", err)
	}
	os.RemoveAll(daemon.dir)
	os.Remove(filepath.Join(os.TempDir(), pidFile))
	unlock()
	os.Exit(code)
}

// machineLock waits for, then holds, the lock that makes the pcscd tests of
// this machine run one at a time. The lock goes with the process.
func machineLock() (func(), error) {
	f, err := os.OpenFile(filepath.Join(os.TempDir(), "hsmcards-pcsctest.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}

// setup checks the machine, clears a pcscd left over by an earlier run of
// these tests, refuses to touch any other pcscd, and starts ours.
func setup() (*pcscd, error) {
	bin, err := exec.LookPath("pcscd")
	if err != nil {
		bin = "/usr/sbin/pcscd"
		if _, serr := os.Stat(bin); serr != nil {
			return nil, errors.New("pcscd is not installed (Debian: apt-get install pcscd vsmartcard-vpcd libpcsclite-dev pkg-config)")
		}
	}
	if _, err := os.Stat(vpcdConf); err != nil {
		return nil, fmt.Errorf("no vpcd reader config at %s (Debian: apt-get install vsmartcard-vpcd)", vpcdConf)
	}
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("the pcscd tests must run as root: pcscd's socket path %s is fixed", pcscdSock)
	}
	killLeftover()
	if pids := pcscdPIDs(); len(pids) > 0 {
		return nil, fmt.Errorf("a pcscd not started by these tests is running (pid %v: %s); the tests need their own with the vpcd reader, so stop it first: sudo systemctl stop pcscd.socket pcscd.service (or kill %d)",
			pids, cmdline(pids[0]), pids[0])
	}
	if c, err := net.Dial("unix", pcscdSock); err == nil {
		c.Close()
		return nil, fmt.Errorf("something listens on %s without a pcscd process (systemd socket activation?); stop it: sudo systemctl stop pcscd.socket", pcscdSock)
	}
	dir, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		return nil, err
	}
	conf, err := os.ReadFile(vpcdConf)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "vpcd"), conf, 0o644); err != nil {
		return nil, err
	}
	d := &pcscd{bin: bin, dir: dir}
	return d, d.start()
}

// pcscd is a foreground pcscd with the vpcd reader only.
type pcscd struct {
	bin, dir string
	cmd      *exec.Cmd
	exited   chan struct{}
	out      lockedBuffer
}

// start runs `pcscd -f -c DIR` and waits until its reader shows. No -a: it
// would log the APDUs, PINs included.
func (d *pcscd) start() error { return d.startShowing(readerName) }

// startShowing is start waiting for the reader named want (as pcsc.List
// shows it), for a config whose reader has another name.
func (d *pcscd) startShowing(want string) error {
	d.out.Reset()
	d.cmd = exec.Command(d.bin, "-f", "-c", d.dir)
	d.cmd.Stdout = &d.out
	d.cmd.Stderr = &d.out
	if err := d.cmd.Start(); err != nil {
		return fmt.Errorf("start pcscd: %w", err)
	}
	os.WriteFile(filepath.Join(os.TempDir(), pidFile), []byte(strconv.Itoa(d.cmd.Process.Pid)), 0o644)
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()

	// Poll for the reader: this waits for an external daemon to come up,
	// bounded, and asserts nothing about timing.
	deadline := time.After(readyLimit)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		names, err := pcsc.List(context.Background())
		if err == nil && slices.Contains(names, want) {
			return nil
		}
		select {
		case <-d.exited:
			return fmt.Errorf("pcscd exited at start:\n%s", d.out.String())
		case <-deadline:
			d.stop()
			return fmt.Errorf("pcscd did not show %q within %v (last: %v %v):\n%s", want, readyLimit, names, err, d.out.String())
		case <-tick.C:
		}
	}
}

// stop sends SIGTERM (pcscd removes its socket) and waits for the exit.
func (d *pcscd) stop() error {
	if d.cmd == nil || d.cmd.Process == nil {
		return nil
	}
	select {
	case <-d.exited:
		return nil
	default:
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.exited
		return errors.New("pcscd ignored SIGTERM and was killed")
	}
	return nil
}

// killLeftover stops a pcscd an interrupted earlier run of these tests left
// behind: its pid is in our pid file and its config dir carries our prefix.
func killLeftover() {
	path := filepath.Join(os.TempDir(), pidFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return
	}
	os.Remove(path)
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !strings.Contains(cmdline(pid), dirPrefix) {
		return
	}
	p, err := os.FindProcess(pid)
	if err != nil {
		return
	}
	p.Signal(syscall.SIGTERM)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) && slices.Contains(pcscdPIDs(), pid) {
		time.Sleep(50 * time.Millisecond) // waiting on a process we cannot wait(2) for
	}
}

// pcscdPIDs lists running processes named pcscd.
func pcscdPIDs() []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		// /proc/PID/stat is "pid (comm) state ...": skip zombies, which a
		// container without an init that reaps may keep around.
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err == nil && strings.Contains(string(stat), "(pcscd) ") && !strings.Contains(string(stat), "(pcscd) Z") {
			pids = append(pids, pid)
		}
	}
	return pids
}

func cmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(strings.ReplaceAll(string(b), "\x00", " "))
}

// lockedBuffer collects pcscd's output for failure messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedBuffer) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.b.Reset()
}

// inserted is a simulated card served to vpcd: in the reader until pulled.
type inserted struct {
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

// insert puts card into the vpcd reader by connecting the bridge.
func insert(t testing.TB, card cardio.SimulatedCard) *inserted {
	return insertAt(t, cardAddr, card)
}

// insertAt puts card into the vpcd reader whose card connects to addr.
func insertAt(t testing.TB, addr string, card cardio.SimulatedCard) *inserted {
	ctx, cancel := context.WithCancel(context.Background())
	return insertUntilAt(t, ctx, cancel, addr, card)
}

// insertUntil inserts card until ctx ends; cancel is how pull ends it.
func insertUntil(t testing.TB, ctx context.Context, cancel context.CancelFunc, card cardio.SimulatedCard) *inserted {
	return insertUntilAt(t, ctx, cancel, cardAddr, card)
}

func insertUntilAt(t testing.TB, ctx context.Context, cancel context.CancelFunc, addr string, card cardio.SimulatedCard) *inserted {
	in := &inserted{cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- vpcd.Serve(ctx, addr, card) }()
	t.Cleanup(func() { in.pull() })
	return in
}

// pull takes the card out (closes the bridge) and returns the bridge's error.
func (in *inserted) pull() error {
	in.once.Do(func() {
		in.cancel()
		in.err = <-in.done
	})
	return in.err
}

// openReader opens the vpcd reader the tests use.
func openReader(t testing.TB) cardio.Reader {
	t.Helper()
	return openReaderNamed(t, readerName)
}

func openReaderNamed(t testing.TB, name string) cardio.Reader {
	t.Helper()
	r, err := pcsc.Open(context.Background(), name)
	if err != nil {
		t.Fatalf("pcsc.Open(%q): %v\npcscd:\n%s", name, err, daemon.out.String())
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// within returns a context that bounds one step of a test, so a broken stack
// fails the test instead of hanging it.
func within(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}
