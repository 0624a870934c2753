//go:build cgo

package hsm

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The SoftHSM2 tests need Debian's softhsm2 (DESIGN.md, HSM side). They fail,
// not skip, without it: CI installs it, and a skipped HSM test proves nothing.
const (
	softHSMDefaultModule = "/usr/lib/softhsm/libsofthsm2.so"
	// softHSMModuleEnv overrides the module path (other distributions).
	softHSMModuleEnv = "HSMCARDS_TEST_SOFTHSM2_MODULE"

	p11TestSOPIN   = "so-pin-87654321"
	p11TestUserPIN = "user-pin-123456"
)

// softHSM is a private SoftHSM2 token store under the test's temp dir,
// selected with SOFTHSM2_CONF (read by the module at C_Initialize).
type softHSM struct {
	module string
	dir    string
}

// newSoftHSM sets up a token store and initialises one token per label, each
// with p11TestSOPIN and p11TestUserPIN.
func newSoftHSM(t *testing.T, labels ...string) *softHSM {
	t.Helper()
	module := os.Getenv(softHSMModuleEnv)
	if module == "" {
		module = softHSMDefaultModule
	}
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("SoftHSM2 module %s is missing (%v): install the Debian package softhsm2 (apt-get install softhsm2) or set %s", module, err, softHSMModuleEnv)
	}
	util, err := exec.LookPath("softhsm2-util")
	if err != nil {
		t.Fatalf("softhsm2-util not found (%v): install the Debian package softhsm2 (apt-get install softhsm2)", err)
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.Mkdir(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	cfg := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\n"
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOFTHSM2_CONF", conf)
	for _, label := range labels {
		cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--so-pin", p11TestSOPIN, "--pin", p11TestUserPIN)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util --init-token --label %s: %v\n%s", label, err, out)
		}
	}
	return &softHSM{module: module, dir: dir}
}

// open logs in to the token labelled label and closes it when the test ends.
func (s *softHSM) open(t *testing.T, label string) *PKCS11 {
	t.Helper()
	p, err := OpenPKCS11(s.module, TokenByLabel(label), []byte(p11TestUserPIN))
	if err != nil {
		t.Fatalf("OpenPKCS11(%q): %v", label, err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}
