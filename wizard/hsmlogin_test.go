package wizard

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/secmem"
)

// The PINs of these tests are distinctive, so finding them anywhere is no
// accident.
const (
	rightTokenPIN = "Kx7#right-97"
	wrongTokenPIN = "Kx7#wrong-31"
	typedSOPIN    = "So9!officer"
)

// fakeToken is an OpenHSM that accepts rightTokenPIN and remembers what it
// was handed, to check the wizard wipes it.
type fakeToken struct {
	t        *testing.T
	dir      string
	err      error // returned instead, when set
	calls    int
	soPINs   []string
	handed   [][]byte // the buffers it was given, pin and soPIN of each call
	lockedAt int      // from this call on the PIN is locked (0: never)
}

func (f *fakeToken) open(ctx context.Context, pin, soPIN []byte) (hsm.HSM, error) {
	f.calls++
	f.handed = append(f.handed, pin, soPIN)
	f.soPINs = append(f.soPINs, string(soPIN))
	switch {
	case f.err != nil:
		return nil, f.err
	case f.lockedAt > 0 && f.calls >= f.lockedAt:
		return nil, fmt.Errorf("%w: token %q (slot 0) is locked", hsm.ErrPINLocked, "appliance")
	case string(pin) != rightTokenPIN:
		return nil, fmt.Errorf("%w: for token %q (slot 0)", hsm.ErrWrongPIN, "appliance")
	}
	return hsm.OpenSim(f.dir)
}

// newLoginRig is a wizard whose HSM is opened in the wizard with f.
func newLoginRig(t *testing.T, f *fakeToken, soFor string, readers []string) *rig {
	t.Helper()
	sim := cardio.NewSimReader(nil)
	r := &rig{t: t, sim: sim, log: &bytes.Buffer{}, clock: time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)}
	r.auditPath = filepath.Join(t.TempDir(), "audit.jsonl")
	al, err := audit.Open(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	cfg := Config{Reader: sim, Sim: sim, APDULog: r.log, Audit: al, Now: func() time.Time { return r.clock },
		OpenHSM: f.open, HSMName: "PKCS#11 token appliance", SOPINFor: soFor}
	if readers != nil {
		cfg.Reader = nil
		cfg.ReaderChoices = readers
		cfg.OpenReader = func(context.Context, string) (cardio.Reader, error) { return sim, nil }
	}
	r.m = New(cfg)
	var screens []string
	r.screens = &screens
	t.Cleanup(func() {
		if h := r.m.HSM(); h != nil {
			h.Close()
		}
	})
	r.run(r.m.Init())
	return r
}

// noPINAnywhere fails if a typed PIN shows on any screen, in the APDU log or
// in the audit trail.
func (r *rig) noPINAnywhere(pins ...string) {
	r.t.Helper()
	a, err := os.ReadFile(r.auditPath)
	if err != nil {
		r.t.Fatal(err)
	}
	for _, pin := range pins {
		for i, s := range append(append([]string(nil), *r.screensOrEmpty()...), r.screen()) {
			if strings.Contains(s, pin) {
				r.t.Fatalf("screen %d shows PIN %q:\n%s", i, pin, s)
			}
		}
		if bytes.Contains(a, []byte(pin)) || strings.Contains(r.log.String(), pin) {
			r.t.Fatalf("PIN %q in the audit trail or APDU log", pin)
		}
	}
}

func (r *rig) screensOrEmpty() *[]string {
	if r.screens == nil {
		return &[]string{}
	}
	return r.screens
}

// fieldsWiped fails unless every field is empty (Clear wipes its memory
// whole).
func fieldsWiped(t *testing.T, what string, fs ...*secmem.Field) {
	t.Helper()
	for _, f := range fs {
		if f == nil || f.Len() != 0 {
			t.Fatalf("%s not wiped", what)
		}
	}
}

// wiped fails unless every buffer is all zero bytes.
func wiped(t *testing.T, what string, bufs ...[]byte) {
	t.Helper()
	for _, b := range bufs {
		if bytes.ContainsFunc(b[:cap(b)], func(r rune) bool { return r != 0 }) {
			t.Fatalf("%s not wiped", what)
		}
	}
}

func TestLoginWrongThenRightPIN(t *testing.T) {
	f := &fakeToken{t: t, dir: t.TempDir()}
	r := newLoginRig(t, f, "", nil)
	r.expect("HSM: PKCS#11 token appliance · not logged in", "Log in to the HSM", "Token user PIN: _")
	r.expectNot("Main menu")

	r.press("enter")
	r.expect("Type the token's user PIN first")
	if f.calls != 0 {
		t.Fatal("an empty PIN was sent to the token")
	}

	r.press(wrongTokenPIN)
	r.expect("Token user PIN: " + strings.Repeat("*", len(wrongTokenPIN)) + "_")
	r.press("backspace", "backspace")
	r.expect("Token user PIN: " + strings.Repeat("*", len(wrongTokenPIN)-2) + "_")
	r.press("31", "enter")
	r.expect("Problem: Wrong PIN", "Type it again", "Token user PIN: _", "not logged in")
	if f.calls != 1 {
		t.Fatalf("OpenHSM called %d times", f.calls)
	}
	wiped(t, "the wrong PIN handed to OpenHSM", f.handed...)

	r.press(rightTokenPIN, "enter")
	r.expect("Main menu")
	if r.m.HSM() == nil || f.calls != 2 {
		t.Fatalf("HSM %v after %d calls", r.m.HSM(), f.calls)
	}
	// The header now names the open HSM and says what it holds: hsmInfoCmd
	// ran once it was open.
	r.expectNot("not logged in")
	r.expect("HSM: "+r.m.HSM().Name(), "no Backup Key loaded")
	wiped(t, "the PINs handed to OpenHSM", f.handed...)
	fieldsWiped(t, "the wizard's PIN fields", r.m.login.pin, r.m.login.so)
	r.noPINAnywhere(rightTokenPIN, wrongTokenPIN)
}

func TestLoginSOPINField(t *testing.T) {
	for _, tc := range []struct {
		name, so string
	}{
		{"with SO PIN", typedSOPIN},
		{"activate only", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeToken{t: t, dir: t.TempDir()}
			r := newLoginRig(t, f, "PKCS#11 token apps", nil)
			r.expect("SO PIN of the PKCS#11 token apps", "leave it empty to only activate", "SO PIN (may be empty):")
			r.press(rightTokenPIN, "enter")
			if f.calls != 0 {
				t.Fatal("Enter in the PIN field opened the HSM before the SO PIN field")
			}
			r.expect("> SO PIN (may be empty): _")
			r.press(tc.so, "enter")
			r.expect("Main menu")
			if len(f.soPINs) != 1 || f.soPINs[0] != tc.so {
				t.Fatalf("OpenHSM got SO PINs %q, want %q", f.soPINs, tc.so)
			}
			wiped(t, "the PINs handed to OpenHSM", f.handed...)
			r.noPINAnywhere(rightTokenPIN, typedSOPIN)
		})
	}
}

func TestLoginProblemsInPlainWords(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: /nope.so: no such file", hsm.ErrModule), "The PKCS#11 module cannot be used"},
		{fmt.Errorf("%w: label %q", hsm.ErrTokenNotFound, "appliance"), "The token was not found"},
		{fmt.Errorf("%w; %w", hsm.ErrWrongPIN, hsm.ErrPINLocked), "The token's user PIN is locked"},
	} {
		f := &fakeToken{t: t, dir: t.TempDir(), err: tc.err}
		r := newLoginRig(t, f, "", nil)
		r.press(rightTokenPIN, "enter")
		r.expect("Problem: "+tc.want, "Token user PIN: _")
		// It can be tried again.
		f.err = nil
		r.press(rightTokenPIN, "enter")
		r.expect("Main menu")
		r.noPINAnywhere(rightTokenPIN)
	}
}

func TestLoginLockedAfterWrongPIN(t *testing.T) {
	f := &fakeToken{t: t, dir: t.TempDir(), lockedAt: 2}
	r := newLoginRig(t, f, "", nil)
	r.press(wrongTokenPIN, "enter")
	r.expect("Wrong PIN")
	r.press(rightTokenPIN, "enter")
	r.expect("user PIN is locked", "security officer must unlock it")
	r.expectNot("Wrong PIN", "Main menu")
}

func TestLoginEscQuitsAndWipes(t *testing.T) {
	f := &fakeToken{t: t, dir: t.TempDir()}
	r := newLoginRig(t, f, "PKCS#11 token apps", nil)
	r.press(rightTokenPIN, "enter", typedSOPIN)
	pin, so := r.m.login.pin, r.m.login.so
	if pin.Len() == 0 || so.Len() == 0 {
		t.Fatal("nothing typed")
	}
	r.press("esc")
	if !r.quit {
		t.Fatal("Esc did not quit")
	}
	if f.calls != 0 || r.m.HSM() != nil {
		t.Fatal("quitting opened the HSM")
	}
	fieldsWiped(t, "the typed PINs", pin, so)
}

// A quit asked for while the token logs in waits for its answer, and the
// HSM it opened is handed to the caller to close.
func TestLoginQuitWhileOpening(t *testing.T) {
	f := &fakeToken{t: t, dir: t.TempDir()}
	r := newLoginRig(t, f, "", nil)
	r.press(rightTokenPIN)
	_, open := r.m.Update(tea.KeyPressMsg{Code: tea.KeyEnter})
	_, cmd := r.m.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	r.run(cmd)
	if r.quit {
		t.Fatal("quit before the token answered")
	}
	r.expect("Quitting as soon as the HSM answers")
	r.run(open)
	if !r.quit {
		t.Fatal("no quit once the token answered")
	}
	if r.m.HSM() == nil {
		t.Fatal("the opened HSM is lost: the caller cannot close it")
	}
}

// The reader chooser comes first, then the token PIN, then the menu.
func TestLoginAfterReaderChooser(t *testing.T) {
	f := &fakeToken{t: t, dir: t.TempDir()}
	r := newLoginRig(t, f, "", []string{"Reader A", "Reader B"})
	r.expect("Choose the card reader", "not logged in")
	r.press("enter")
	r.expect("Log in to the HSM", "Reader: Simulated reader")
	r.press(rightTokenPIN, "enter")
	r.expect("Main menu")
}

// Every screen on the way in shows one star per typed character and nothing
// of the PIN itself, whatever characters it has.
func TestLoginScreensShowOnlyStars(t *testing.T) {
	for _, pin := range []string{rightTokenPIN, "ÄÖü€9", "  spaced  "} {
		f := &fakeToken{t: t, dir: t.TempDir()}
		r := newLoginRig(t, f, "", nil)
		r.press(pin)
		n := len([]rune(pin))
		r.expect("Token user PIN: " + strings.Repeat("*", n) + "_")
		for i := n; i > 0; i-- {
			r.press("backspace")
		}
		r.expect("Token user PIN: _")
		r.press(pin, "enter")
		r.noPINAnywhere(pin)
	}
}
