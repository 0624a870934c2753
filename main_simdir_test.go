package main

import (
	"bufio"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/wizard"
)

// childEnv makes the test binary run hsmcards with the arguments it holds
// (one per line), as a second process would.
const childEnv = "HSMCARDS_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		e := &env{stdout: os.Stdout, stderr: os.Stderr}
		os.Exit(exitCode(run(strings.Split(args, "\n"), e), e))
	}
	os.Exit(m.Run())
}

// startVPCD runs `hsmcards vpcd 1` on the deck under simDir in a child
// process, serving a vpcd that the test plays, and returns once the child
// holds the deck.
func startVPCD(t *testing.T, simDir string) *exec.Cmd {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+strings.Join([]string{"vpcd", "--sim-dir", simDir, "--sim-cards", "3", "1", ln.Addr().String()}, "\n"))
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line, _ := bufio.NewReader(stderr).ReadString('\n')
	if !strings.Contains(line, "serving simulated card 1") {
		t.Fatalf("hsmcards vpcd: %q", line)
	}
	return cmd
}

// One process per part of the sim dir: `hsmcards vpcd` holds the deck, so
// a second vpcd or a wizard on the simulated reader is refused and told
// which process holds it, while the wizard on the real PC/SC stack (the
// README's training flow) still opens the simulated HSM there.
func TestSimDirLocks(t *testing.T) {
	simDir := filepath.Join(t.TempDir(), "sim")
	child := startVPCD(t, simDir)
	heldBy := "in use by process " + strconv.Itoa(child.Process.Pid)

	// A second vpcd on the deck.
	_, errs, code := runCmd(t, "vpcd", "--sim-dir", simDir, "2")
	if code != exitFailure || !strings.Contains(errs, "the simulated deck: "+deckDir(simDir)+" is "+heldBy) || !strings.Contains(errs, "hint: stop that process") {
		t.Fatalf("second vpcd: exit %d\n%s", code, errs)
	}
	// The wizard on the simulated reader.
	s, err := prepareWizard(&options{reader: "sim", hsm: "sim", simDir: simDir, simCards: 3})
	s.close()
	var held *pidlock.HeldError
	if !errors.As(err, &held) || held.PID != child.Process.Pid {
		t.Fatalf("wizard on the simulated deck: %v", err)
	}
	// Inspect reads the deck too.
	if _, errs, code := runCmd(t, "inspect", "--sim-dir", simDir, "--card", "1"); code != exitFailure || !strings.Contains(errs, heldBy) {
		t.Fatalf("inspect: exit %d\n%s", code, errs)
	}

	// hsmcards --reader pcsc beside it: the simulated HSM under the same dir
	// is free (prepareWizard takes it the same way for any reader).
	release, err := lockSimHSM(simDir)
	if err != nil {
		t.Fatalf("the simulated HSM beside hsmcards vpcd: %v", err)
	}
	var cfg wizard.Config
	if err := configureHSM(&cfg, &options{hsm: "sim", simDir: simDir}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := cfg.HSM.BackupKey(t.Context()); err != nil {
		t.Fatal(err)
	}
	cfg.HSM.Close()
	// ... but only one wizard at a time on it.
	if _, err := lockSimHSM(simDir); !errors.As(err, &held) || held.PID != os.Getpid() || !strings.Contains(err.Error(), "the simulated HSM: "+simDir) {
		t.Fatalf("a second simulated HSM: %v", err)
	}
	release()

	// Once vpcd is stopped, the deck is free again.
	child.Process.Signal(os.Interrupt)
	if err := child.Wait(); err != nil {
		t.Fatalf("vpcd after ctrl+c: %v", err)
	}
	s, err = prepareWizard(&options{reader: "sim", hsm: "sim", simDir: simDir, simCards: 3})
	s.close()
	if err != nil {
		t.Fatalf("after vpcd ended: %v", err)
	}
}

// Two wizards on one sim dir: the second is refused before it touches the
// deck or the HSM, and the audit trail, too, has one writer.
func TestTwoWizardsOnOneSimDir(t *testing.T) {
	base := t.TempDir()
	o := &options{reader: "sim", hsm: "sim", simDir: filepath.Join(base, "sim"), simCards: 3, audit: filepath.Join(base, "audit.jsonl")}
	s, err := prepareWizard(o)
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	_, err = prepareWizard(o)
	if !strings.Contains(err.Error(), "the simulated deck: ") || !strings.Contains(err.Error(), "in use by process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second wizard: %v", err)
	}
	// Another deck and HSM, the same trail.
	o2 := *o
	o2.simDir = filepath.Join(base, "sim2")
	s2, err := prepareWizard(&o2)
	s2.close()
	var held *pidlock.HeldError
	if !errors.As(err, &held) || !strings.Contains(err.Error(), "audit trail") {
		t.Fatalf("second writer of the trail: %v", err)
	}
	// With --hsm pkcs11 the sim dir's HSM half is not taken.
	o3 := &options{reader: "sim", hsm: "pkcs11", simDir: filepath.Join(base, "sim3"), simCards: 3}
	s3, err := prepareWizard(o3)
	s3.close()
	if err == nil || !strings.Contains(err.Error(), "--pkcs11-module") {
		t.Fatalf("pkcs11 without a module: %v", err)
	}
	if release, err := lockSimHSM(o3.simDir); err != nil {
		t.Fatalf("--hsm pkcs11 took the simulated HSM: %v", err)
	} else {
		release()
	}
}
