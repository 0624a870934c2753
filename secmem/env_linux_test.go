package secmem_test

import (
	"bytes"
	"crypto/rand"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

const envChild, envSecret = "SECMEM_TEST_CHILD", "SECMEM_TEST_SECRET"

// TestFromEnvLeavesNoCopy runs in a child process that gets a PIN in its
// environment from exec, as hsmcards gets $HSMCARDS_PKCS11_SO_PIN: after
// FromEnv the variable is gone (for os.Getenv, for child processes and from
// /proc/self/environ), and once the Buffer is destroyed and the garbage
// collected no copy of the PIN is left in memory.
func TestFromEnvLeavesNoCopy(t *testing.T) {
	if os.Getenv(envChild) != "fromenv" {
		if os.Getenv(envChild) != "" {
			t.Skip("another child test")
		}
		digits := make([]byte, 15)
		rand.Read(digits)
		for i := range digits {
			digits[i] = '0' + digits[i]%10
		}
		cmd := exec.Command(os.Args[0], "-test.run=^TestFromEnvLeavesNoCopy$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), envChild+"=fromenv", envSecret+"="+string(digits))
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "child fromenv ran") {
			t.Fatalf("child: %v\n%s", err, out)
		}
		return
	}

	b, err := secmem.FromEnv(envSecret)
	if err != nil || b == nil || b.Len() != 15 {
		t.Fatalf("FromEnv = %v, %v", b, err)
	}
	needle := memscan.New("PIN", b.Bytes())
	if _, ok := os.LookupEnv(envSecret); ok {
		t.Error("the variable is still set")
	}
	environ, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(environ, []byte(envSecret+"=")) && !bytes.Contains(environ, []byte(envSecret+"=\x00")) {
		t.Error("/proc/self/environ still shows the value")
	}
	secmem.Wipe(environ)
	out, err := exec.Command("/usr/bin/env").Output()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(out, []byte(envSecret)) {
		t.Error("a child process inherits the variable")
	}
	secmem.Wipe(out)

	hits, err := memscan.Scan(needle)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hits {
		if !memscan.Within(h.Addr, b.Bytes()) {
			t.Errorf("a copy besides the Buffer: %s", h)
		}
	}
	if len(hits) == 0 {
		t.Fatal("the scanner does not find the PIN in its Buffer")
	}
	b.Destroy()
	runtime.GC()
	runtime.GC()
	if hits, err = memscan.Scan(needle); err != nil || len(hits) != 0 {
		t.Errorf("copies left after Destroy (%v):\n%s", err, memscan.Report(hits))
	}
	t.Log("child fromenv ran")
}

func TestFromEnvUnset(t *testing.T) {
	t.Setenv("SECMEM_TEST_EMPTY", "")
	for _, name := range []string{"SECMEM_TEST_EMPTY", "SECMEM_TEST_NEVER_SET"} {
		b, err := secmem.FromEnv(name)
		if b != nil || err != nil {
			t.Errorf("FromEnv(%s) = %v, %v; want nil, nil", name, b, err)
		}
	}
	if _, ok := os.LookupEnv("SECMEM_TEST_EMPTY"); ok {
		t.Error("an empty variable stays set")
	}
}
