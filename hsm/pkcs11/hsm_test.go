//go:build cgo

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

// testKey returns a random Backup Key and its hsm.KeyInfo, the way the cards
// would describe it.
func testKey(t *testing.T, label string) ([]byte, hsm.KeyInfo) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	info := hsm.KeyInfo{Label: label}
	rand.Read(info.KeySetID[:])
	block, err := hostCheckBlock(key)
	if err != nil {
		t.Fatal(err)
	}
	info.KCV = [3]byte(block[:3])
	return key, info
}

// backupKeyObjects returns the handles of all Backup Key objects in the token,
// found independently of findKeys (by label prefix over all secret keys).
func backupKeyObjects(t *testing.T, p *HSM) []p11.ObjectHandle {
	t.Helper()
	ctx := p.mod.ctx
	if err := ctx.FindObjectsInit(p.session, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY)}); err != nil {
		t.Fatal(err)
	}
	hs, _, err := ctx.FindObjects(p.session, 100)
	if err != nil {
		t.Fatal(err)
	}
	if err := ctx.FindObjectsFinal(p.session); err != nil {
		t.Fatal(err)
	}
	var ours []p11.ObjectHandle
	for _, h := range hs {
		a, err := ctx.GetAttributeValue(p.session, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, nil)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(string(a[0].Value), labelPrefix) {
			ours = append(ours, h)
		}
	}
	return ours
}

func TestPKCS11LoadCreatesProtectedKey(t *testing.T) {
	s := newSoftHSM(t, "appliance")
	p := s.open(t, "appliance")
	ctx := context.Background()

	if _, ok, err := p.BackupKey(ctx); err != nil || ok {
		t.Fatalf("BackupKey on an empty token = ok %v, err %v; want none", ok, err)
	}
	key, info := testKey(t, "cluster: one")
	already, err := p.LoadBackupKey(ctx, key, info, false)
	if err != nil || already {
		t.Fatalf("LoadBackupKey = %v, %v; want false, nil", already, err)
	}

	got, ok, err := p.BackupKey(ctx)
	if err != nil || !ok {
		t.Fatalf("BackupKey = ok %v, err %v", ok, err)
	}
	if got != info {
		t.Errorf("BackupKey = %+v, want %+v", got, info)
	}

	hs := backupKeyObjects(t, p)
	if len(hs) != 1 {
		t.Fatalf("token holds %d Backup Key objects, want 1", len(hs))
	}
	h := hs[0]
	// The KCV computed inside the token is the cards' KCV.
	block, err := p.checkBlock(h)
	if err != nil {
		t.Fatal(err)
	}
	if [3]byte(block[:3]) != info.KCV {
		t.Errorf("KCV inside the token %X, want %X", block[:3], info.KCV)
	}

	attrs, err := p.mod.ctx.GetAttributeValue(p.session, h, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_TOKEN, nil),
		p11.NewAttribute(p11.CKA_SENSITIVE, nil),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, nil),
		p11.NewAttribute(p11.CKA_PRIVATE, nil),
		p11.NewAttribute(p11.CKA_ALWAYS_SENSITIVE, nil),
		p11.NewAttribute(p11.CKA_NEVER_EXTRACTABLE, nil),
		p11.NewAttribute(p11.CKA_ENCRYPT, nil),
		p11.NewAttribute(p11.CKA_DECRYPT, nil),
		p11.NewAttribute(p11.CKA_SIGN, nil),
		p11.NewAttribute(p11.CKA_VERIFY, nil),
		p11.NewAttribute(p11.CKA_DERIVE, nil),
		p11.NewAttribute(p11.CKA_VALUE_LEN, nil),
		p11.NewAttribute(p11.CKA_ID, nil),
		p11.NewAttribute(p11.CKA_LABEL, nil),
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[uint]bool{
		p11.CKA_TOKEN: true, p11.CKA_SENSITIVE: true, p11.CKA_EXTRACTABLE: false,
		p11.CKA_PRIVATE: true, p11.CKA_ENCRYPT: true, p11.CKA_DECRYPT: true,
		p11.CKA_SIGN: false, p11.CKA_VERIFY: false, p11.CKA_DERIVE: false,
		// An imported key was once in the clear: a token must not claim
		// otherwise (PKCS#11 v2.40 §4.9, CKA_ALWAYS_SENSITIVE).
		p11.CKA_ALWAYS_SENSITIVE: false, p11.CKA_NEVER_EXTRACTABLE: false,
	}
	for _, a := range attrs {
		switch a.Type {
		case p11.CKA_VALUE_LEN:
			if n, err := attrUlong(a.Value); err != nil || n != 32 {
				t.Errorf("CKA_VALUE_LEN = %d, %v; want 32", n, err)
			}
		case p11.CKA_ID:
			if !bytes.Equal(a.Value, info.KeySetID[:]) {
				t.Errorf("CKA_ID = %X, want the key-set ID %X", a.Value, info.KeySetID)
			}
		case p11.CKA_LABEL:
			if want := formatLabel(info); string(a.Value) != want {
				t.Errorf("CKA_LABEL = %q, want %q", a.Value, want)
			}
		default:
			if attrBool(a.Value) != want[a.Type] {
				t.Errorf("attribute 0x%X = %v, want %v", a.Type, attrBool(a.Value), want[a.Type])
			}
		}
	}
	// The key's value cannot be read out.
	if a, err := p.mod.ctx.GetAttributeValue(p.session, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)}); !isCKR(err, p11.CKR_ATTRIBUTE_SENSITIVE) {
		t.Errorf("reading CKA_VALUE = %d bytes, err %v; want CKR_ATTRIBUTE_SENSITIVE", len(a[0].Value), err)
	}
}

func TestPKCS11KeyPersistsAndIsRecognised(t *testing.T) {
	s := newSoftHSM(t, "appliance")
	ctx := context.Background()
	key, info := testKey(t, "hsm-a")

	p, err := Open(s.module, TokenByLabel("appliance"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	if already, err := p.LoadBackupKey(ctx, key, info, false); err != nil || already {
		t.Fatalf("first load = %v, %v", already, err)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
	if _, _, err := p.BackupKey(ctx); err == nil {
		t.Error("BackupKey after Close succeeded")
	}

	// A new process-level session (the module was finalised) sees the key.
	p = s.open(t, "appliance")
	got, ok, err := p.BackupKey(ctx)
	if err != nil || !ok || got != info {
		t.Fatalf("BackupKey after reopen = %+v, %v, %v; want %+v", got, ok, err, info)
	}
	for _, replace := range []bool{false, true} {
		already, err := p.LoadBackupKey(ctx, key, info, replace)
		if err != nil || !already {
			t.Errorf("reload (replace %v) = %v, %v; want already", replace, already, err)
		}
	}
	if n := len(backupKeyObjects(t, p)); n != 1 {
		t.Errorf("token holds %d Backup Key objects, want 1", n)
	}
}

// withOldKey opens a fresh token holding an "old" Backup Key, and makes a
// "new" one to load over it.
func withOldKey(t *testing.T) (p *HSM, oldInfo hsm.KeyInfo, newKey []byte, newInfo hsm.KeyInfo) {
	t.Helper()
	p = newSoftHSM(t, "appliance").open(t, "appliance")
	oldKey, oldInfo := testKey(t, "old")
	newKey, newInfo = testKey(t, "new")
	if _, err := p.LoadBackupKey(context.Background(), oldKey, oldInfo, false); err != nil {
		t.Fatal(err)
	}
	return p, oldInfo, newKey, newInfo
}

func TestPKCS11DifferentKeyAndReplace(t *testing.T) {
	p, oldInfo, newKey, newInfo := withOldKey(t)
	ctx := context.Background()

	already, err := p.LoadBackupKey(ctx, newKey, newInfo, false)
	var diff *hsm.DifferentKeyError
	if !errors.As(err, &diff) || already {
		t.Fatalf("loading a different key = %v, %v; want *hsm.DifferentKeyError", already, err)
	}
	if diff.Loaded != oldInfo {
		t.Errorf("hsm.DifferentKeyError.Loaded = %+v, want %+v", diff.Loaded, oldInfo)
	}
	if diff.Loaded.KCV == newInfo.KCV {
		t.Fatal("test keys share a KCV")
	}
	if got, _, _ := p.BackupKey(ctx); got != oldInfo {
		t.Errorf("after a refused load the token holds %+v, want the old %+v", got, oldInfo)
	}

	already, err = p.LoadBackupKey(ctx, newKey, newInfo, true)
	if err != nil || already {
		t.Fatalf("replace = %v, %v; want false, nil", already, err)
	}
	if got, _, _ := p.BackupKey(ctx); got != newInfo {
		t.Errorf("after replace the token holds %+v, want %+v", got, newInfo)
	}
	if n := len(backupKeyObjects(t, p)); n != 1 {
		t.Errorf("after replace the token holds %d Backup Key objects, want 1", n)
	}
}

func TestPKCS11RefusedTemplateKeepsOldKey(t *testing.T) {
	p, oldInfo, newKey, newInfo := withOldKey(t)
	ctx := context.Background()

	// PKCS#11 v2.40 §6.7.1 forbids CKA_VALUE_LEN in C_CreateObject for AES
	// keys, and SoftHSM2 refuses it (CKR_ATTRIBUTE_READ_ONLY) even when it
	// agrees with the value: a real refusal of a template.
	p.extraTemplate = []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE_LEN, 32)}
	_, err := p.LoadBackupKey(ctx, newKey, newInfo, true)
	if !errors.Is(err, hsm.ErrTemplateRefused) {
		t.Fatalf("LoadBackupKey with a refused template = %v, want hsm.ErrTemplateRefused", err)
	}
	t.Logf("refused: %v", err)
	if got, ok, _ := p.BackupKey(ctx); !ok || got != oldInfo {
		t.Errorf("after a failed replace the token holds %+v (ok %v), want the old %+v", got, ok, oldInfo)
	}
	if n := len(backupKeyObjects(t, p)); n != 1 {
		t.Errorf("after a failed replace the token holds %d Backup Key objects, want 1", n)
	}
}

func TestPKCS11LoadRejectsBadInput(t *testing.T) {
	s := newSoftHSM(t, "appliance")
	p := s.open(t, "appliance")
	key, info := testKey(t, "x")
	wrongKCV := info
	wrongKCV.KCV[0] ^= 1
	canceled, cancel := context.WithCancel(context.Background())
	cancel()

	tests := []struct {
		name string
		ctx  context.Context
		key  []byte
		info hsm.KeyInfo
		want error
	}{
		{"kcv of another key", context.Background(), key, wrongKCV, hsm.ErrKCVMismatch},
		{"canceled", canceled, key, info, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := p.LoadBackupKey(tt.ctx, tt.key, tt.info, false); !errors.Is(err, tt.want) {
				t.Errorf("LoadBackupKey = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := p.LoadBackupKey(context.Background(), key[:16], info, false); err == nil {
		t.Error("LoadBackupKey accepted a 16-byte key")
	}
	if n := len(backupKeyObjects(t, p)); n != 0 {
		t.Errorf("token holds %d Backup Key objects after rejected loads, want 0", n)
	}
}

func TestOpenPKCS11Errors(t *testing.T) {
	s := newSoftHSM(t, "alpha", "beta")
	notAModule := filepath.Join(t.TempDir(), "libnot-p11.so")
	if err := os.WriteFile(notAModule, []byte("not an ELF file"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "libmissing-p11.so")

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

func TestListPKCS11TokensAndSelectBySlot(t *testing.T) {
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

func TestPKCS11SharesModuleAcrossTokens(t *testing.T) {
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

func TestCreateError(t *testing.T) {
	tok := Token{Label: "hsm"}
	tests := []struct {
		rv      uint
		refused bool
	}{
		{p11.CKR_TEMPLATE_INCONSISTENT, true},
		{p11.CKR_ATTRIBUTE_VALUE_INVALID, true},
		{p11.CKR_ATTRIBUTE_TYPE_INVALID, true},
		{p11.CKR_TEMPLATE_INCOMPLETE, true},
		{p11.CKR_TOKEN_WRITE_PROTECTED, false},
		{p11.CKR_DEVICE_MEMORY, false},
		{p11.CKR_GENERAL_ERROR, false},
	}
	for _, tt := range tests {
		name := ckrName(p11.Error(tt.rv))
		t.Run(name, func(t *testing.T) {
			err := createError(p11.Error(tt.rv), tok)
			if errors.Is(err, hsm.ErrTemplateRefused) != tt.refused {
				t.Errorf("%v: hsm.ErrTemplateRefused %v, want %v", err, !tt.refused, tt.refused)
			}
			if !isCKR(err, tt.rv) {
				t.Errorf("%v does not carry %s", err, name)
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
