//go:build cgo && unix

package pkcs11

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

func TestOpenErrors(t *testing.T) {
	s := newSoftHSM(t, "alpha", "beta")
	notAModule := filepath.Join(t.TempDir(), "libnot-pkcs11.so")
	if err := os.WriteFile(notAModule, []byte("not an ELF file"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "libmissing-pkcs11.so")

	tests := []struct {
		name     string
		module   string
		sel      TokenSelector
		pin      string
		want     error
		contains []string
	}{
		{"missing module", missing, TokenByLabel("alpha"), testUserPIN, hsm.ErrModule, []string{missing}},
		{"not a module", notAModule, TokenByLabel("alpha"), testUserPIN, hsm.ErrModule, []string{notAModule}},
		{"no module path", "", TokenByLabel("alpha"), testUserPIN, hsm.ErrModule, nil},
		{"unknown label", s.module, TokenByLabel("gamma"), testUserPIN, hsm.ErrTokenNotFound, []string{`"gamma"`, `"alpha"`, `"beta"`}},
		{"unknown slot", s.module, TokenBySlot(4242), testUserPIN, hsm.ErrTokenNotFound, []string{"slot 4242", `"alpha"`}},
		{"ambiguous", s.module, TokenSelector{}, testUserPIN, hsm.ErrTokenNotFound, []string{"2 tokens"}},
		// SoftHSM2 never locks a PIN but sets CKF_USER_PIN_COUNT_LOW after a
		// wrong one; the message reports the flags read after the attempt.
		{"wrong pin", s.module, TokenByLabel("beta"), "wrong-pin-999", hsm.ErrWrongPIN, []string{`"beta"`, "few tries"}},
		{"empty pin", s.module, TokenByLabel("beta"), "", hsm.ErrWrongPIN, []string{`"beta"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Open(tt.module, tt.sel, []byte(tt.pin))
			if err == nil {
				p.Close()
				t.Fatal("Open succeeded")
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Open = %v, want %v", err, tt.want)
			}
			msg := err.Error()
			for _, c := range tt.contains {
				if !strings.Contains(msg, c) {
					t.Errorf("error %q does not mention %s", msg, c)
				}
			}
			for _, secret := range []string{testUserPIN, "wrong-pin-999", testSOPIN} {
				if strings.Contains(msg, secret) {
					t.Errorf("error %q contains a PIN", msg)
				}
			}
			if msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
				t.Errorf("error %q is not lowercase or ends with a period", msg)
			}
		})
	}
	// The failed opens released the module: the right PIN still works.
	s.open(t, "beta")
}

func TestListTokensAndSelectBySlot(t *testing.T) {
	s := newSoftHSM(t, "alpha", "beta")
	tokens, err := ListTokens(s.module)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 2 {
		t.Fatalf("ListTokens = %v, want the 2 initialised tokens (not the free slot)", tokens)
	}
	for _, tok := range tokens {
		if tok.Serial == "" || tok.Model == "" {
			t.Errorf("token %v lacks serial or model", tok)
		}
		p, err := Open(s.module, TokenBySlot(tok.SlotID), []byte(testUserPIN))
		if err != nil {
			t.Fatalf("open %v: %v", tok, err)
		}
		if p.Token() != tok || p.Name() != "PKCS#11 token "+tok.Label {
			t.Errorf("opened slot %d: Token %v, Name %q", tok.SlotID, p.Token(), p.Name())
		}
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}
	if tokens[0].Label == tokens[1].Label {
		t.Errorf("labels %q and %q, want alpha and beta", tokens[0].Label, tokens[1].Label)
	}
}

func TestSharesModuleAcrossTokens(t *testing.T) {
	s := newSoftHSM(t, "alpha", "beta")
	ctx := context.Background()
	a := s.open(t, "alpha")
	if _, err := Open(s.module, TokenByLabel("alpha"), []byte(testUserPIN)); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Errorf("second open of one token = %v, want an already-open error", err)
	}
	b, err := Open(s.module, TokenByLabel("beta"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ListTokens(s.module); err != nil {
		t.Fatal(err)
	}
	key, info := testKey(t, "a")
	if _, err := b.LoadBackupKey(ctx, key, info, false); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	// Closing beta and listing left alpha's session working and logged in.
	if _, err := a.LoadBackupKey(ctx, key, info, false); err != nil {
		t.Fatalf("alpha after beta closed: %v", err)
	}
	if got, ok, err := a.BackupKey(ctx); err != nil || !ok || got != info {
		t.Errorf("alpha BackupKey = %+v, %v, %v", got, ok, err)
	}
}

func TestLoginError(t *testing.T) {
	tok := Token{SlotID: 7, Label: "hsm"}
	tests := []struct {
		name     string
		rv       uint
		flags    uint
		is       []error
		isNot    []error
		contains string
	}{
		{"wrong", p11.CKR_PIN_INCORRECT, 0, []error{hsm.ErrWrongPIN}, []error{hsm.ErrPINLocked}, "wrong PIN"},
		{"wrong, count low", p11.CKR_PIN_INCORRECT, flagUserPINCountLow, []error{hsm.ErrWrongPIN}, []error{hsm.ErrPINLocked}, "few tries"},
		{"wrong, final try", p11.CKR_PIN_INCORRECT, flagUserPINFinalTry, []error{hsm.ErrWrongPIN}, []error{hsm.ErrPINLocked}, "one more wrong PIN locks"},
		{"wrong, now locked", p11.CKR_PIN_INCORRECT, flagUserPINLocked, []error{hsm.ErrWrongPIN, hsm.ErrPINLocked}, nil, "is locked"},
		{"locked", p11.CKR_PIN_LOCKED, flagUserPINLocked, []error{hsm.ErrPINLocked}, []error{hsm.ErrWrongPIN}, "security officer"},
		{"length", p11.CKR_PIN_LEN_RANGE, 0, []error{hsm.ErrWrongPIN}, nil, "length"},
		{"no user pin", p11.CKR_USER_PIN_NOT_INITIALIZED, 0, nil, []error{hsm.ErrWrongPIN, hsm.ErrPINLocked}, "no user PIN"},
		{"other", p11.CKR_DEVICE_ERROR, 0, nil, []error{hsm.ErrWrongPIN, hsm.ErrPINLocked}, "CKR_DEVICE_ERROR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := tok
			tok.Flags = tt.flags
			err := loginError(p11.Error(tt.rv), tok)
			for _, e := range tt.is {
				if !errors.Is(err, e) {
					t.Errorf("%v is not %v", err, e)
				}
			}
			for _, e := range tt.isNot {
				if errors.Is(err, e) {
					t.Errorf("%v is %v", err, e)
				}
			}
			if !strings.Contains(err.Error(), tt.contains) || !strings.Contains(err.Error(), `"hsm"`) {
				t.Errorf("%q does not mention %q and the token", err, tt.contains)
			}
			if var11 := (p11.Error(0)); !errors.As(err, &var11) || uint(var11) != tt.rv {
				t.Errorf("%v does not carry the module's %s", err, ckrName(p11.Error(tt.rv)))
			}
		})
	}
}

// A token's label comes from whoever initialised the token: what a terminal
// would act on is gone before it reaches the wizard or the audit trail.
func TestListTokensCleansLabels(t *testing.T) {
	s := newSoftHSM(t, "evil\x1b]0;owned\x07\x1b[2J\u202elabel")
	tokens, err := ListTokens(s.module)
	if err != nil {
		t.Fatal(err)
	}
	if len(tokens) != 1 || tokens[0].Label != "evillabel" {
		t.Fatalf("tokens %+v, want the label cleaned to %q", tokens, "evillabel")
	}
	p, err := Open(s.module, TokenBySlot(tokens[0].SlotID), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.Name() != "PKCS#11 token evillabel" {
		t.Errorf("Name() = %q", p.Name())
	}
}
