// Package softhsmtest gives tests a private SoftHSM2 token store
// (docs/pkcs11.md). Its tests fail, not skip, without Debian's softhsm2: CI
// installs it, and a skipped HSM test proves nothing.
package softhsmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

const (
	// DefaultModule is where Debian's softhsm2 puts the module.
	DefaultModule = "/usr/lib/softhsm/libsofthsm2.so"
	// ModuleEnv overrides the module path (other distributions).
	ModuleEnv = "HSMCARDS_TEST_SOFTHSM2_MODULE"

	// SOPIN is every test token's SO PIN.
	SOPIN = "so-pin-87654321"
	// UserPIN is every test token's first user PIN.
	UserPIN = "user-pin-123456"
)

// Store is a private token store under the test's temp dir.
type Store struct {
	// Module is the SoftHSM2 module's path.
	Module string
	// Dir holds the store's configuration and tokens.
	Dir string
}

// New sets up a token store, selects it for the rest of the test with
// SOFTHSM2_CONF (read by the module at C_Initialize), and initialises one
// token per label, each with SOPIN and UserPIN.
func New(t testing.TB, labels ...string) *Store {
	t.Helper()
	module := os.Getenv(ModuleEnv)
	if module == "" {
		module = DefaultModule
	}
	if _, err := os.Stat(module); err != nil {
		t.Fatalf("SoftHSM2 module %s is missing (%v): install the Debian package softhsm2 (apt-get install softhsm2) or set %s", module, err, ModuleEnv)
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
		cmd := exec.Command(util, "--init-token", "--free", "--label", label, "--so-pin", SOPIN, "--pin", UserPIN)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util --init-token --label %s: %v\n%s", label, err, out)
		}
	}
	return &Store{Module: module, Dir: dir}
}
