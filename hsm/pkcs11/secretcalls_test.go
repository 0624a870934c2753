//go:build cgo && unix

package pkcs11

import (
	"crypto/rand"
	"errors"
	"runtime"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

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

// TestSecretCallsLeaveNoCopy: a user PIN given to C_InitPIN and C_Login, and
// a key given to C_CreateObject, through secretcalls.go, leave no copy in
// the process's memory once their buffers are wiped; the same PIN given to
// miekg/pkcs11's C_Login does (its C copy is freed unwiped): the control
// that shows the scan would see ours.
func TestSecretCallsLeaveNoCopy(t *testing.T) {
	s := newSoftHSM(t, "t")
	m, err := acquireModule(s.module)
	if err != nil {
		t.Fatal(err)
	}
	defer m.release()
	tokens, err := m.tokens()
	if err != nil {
		t.Fatal(err)
	}
	session, err := m.ctx.OpenSession(tokens[0].SlotID, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION)
	if err != nil {
		t.Fatal(err)
	}
	defer m.ctx.CloseSession(session)
	secret := func(n int) *secmem.Buffer {
		b, err := secmem.NewBuffer(n)
		if err != nil {
			t.Fatal(err)
		}
		rand.Read(b.Bytes())
		for i, c := range b.Bytes() {
			b.Bytes()[i] = 'a' + c%26
		}
		return b
	}
	pin, key := secret(32), secret(hsm.KeySize)
	defer pin.Destroy()
	defer key.Destroy()
	needles := append(memscan.Windows("pin", pin.Bytes(), 8), memscan.Windows("key", key.Bytes(), 8)...)
	live := func(h memscan.Hit) bool {
		return memscan.Within(h.Addr, pin.Bytes()) || memscan.Within(h.Addr, key.Bytes())
	}

	so := []byte(testSOPIN)
	done := make(chan error)
	go func() {
		done <- func() error {
			if err := m.secret.login(session, p11.CKU_SO, so); err != nil {
				return err
			}
			if err := m.secret.initPIN(session, pin.Bytes()); err != nil {
				return err
			}
			m.ctx.Logout(session)
			if err := m.secret.login(session, p11.CKU_USER, pin.Bytes()); err != nil {
				return err
			}
			_, err := m.secret.createObject(session, []attr{
				{typ: p11.CKA_CLASS, val: encodeUlongs(p11.CKO_SECRET_KEY)},
				{typ: p11.CKA_KEY_TYPE, val: encodeUlongs(p11.CKK_AES)},
				{typ: p11.CKA_VALUE, val: key.Bytes()},
				{typ: p11.CKA_TOKEN, val: encodeBool(false)},
				{typ: p11.CKA_SENSITIVE, val: encodeBool(true)},
			})
			return err
		}()
	}()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	var left []memscan.Hit
	for _, h := range hits {
		if !live(h) {
			left = append(left, h)
		}
	}
	if len(left) > 0 {
		t.Errorf("%d copies of the PIN or the key left:\n%s", len(left), memscan.Report(left))
	}

	// The control: miekg/pkcs11's C_Login with the PIN as a Go string.
	m.ctx.Logout(session)
	go func() { done <- m.ctx.Login(session, p11.CKU_USER, string(pin.Bytes())) }()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	hits, _ = memscan.Scan(needles...)
	found := 0
	for _, h := range hits {
		if !live(h) {
			found++
		}
	}
	if found == 0 {
		t.Error("the control finds no copy after miekg/pkcs11's C_Login: the scan proves nothing")
	}
}
