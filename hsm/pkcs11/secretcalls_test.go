//go:build cgo && unix

package pkcs11

import "testing"

// The indices secretcalls.go uses into the module's function list are the
// functions the module exports under those names: the layout is right.
func TestSecretCallsLayout(t *testing.T) {
	s := newSoftHSM(t, "t")
	m, err := acquireModule(s.module)
	if err != nil {
		t.Fatal(err)
	}
	defer m.release()
	for _, f := range []struct {
		index int
		name  string
	}{{10, "C_InitPIN"}, {18, "C_Login"}, {20, "C_CreateObject"}} {
		if !m.secret.functionMatchesExport(f.index, f.name) {
			t.Errorf("function list entry %d is not %s", f.index, f.name)
		}
	}
	// A neighbour of each, so an off-by-one would show.
	if m.secret.functionMatchesExport(18, "C_Logout") || m.secret.functionMatchesExport(20, "C_CopyObject") {
		t.Error("the check cannot tell neighbours apart")
	}
}
