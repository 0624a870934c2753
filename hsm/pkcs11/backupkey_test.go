//go:build cgo && unix

package pkcs11

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"testing"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/kcv"
)

// testKey returns a random Backup Key and its KeyInfo, the way the cards
// would describe it.
func testKey(t *testing.T, label string) ([]byte, hsm.KeyInfo) {
	t.Helper()
	key := make([]byte, hsm.KeySize)
	rand.Read(key)
	info := hsm.KeyInfo{Label: label}
	rand.Read(info.KeySetID[:])
	var err error
	if info.KCV, err = kcv.AES(key); err != nil {
		t.Fatal(err)
	}
	return key, info
}

// backupKeyObjects returns the handles of the token objects under the
// Backup Key's label prefix, found independently of listKeys.
func backupKeyObjects(t *testing.T, p *HSM) []p11.ObjectHandle {
	t.Helper()
	ctx := p.mod.ctx
	if err := ctx.FindObjectsInit(p.session, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY), p11.NewAttribute(p11.CKA_TOKEN, true)}); err != nil {
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

// loaded opens a fresh token with a Backup Key loaded, and returns its
// handle.
func loaded(t *testing.T) (*HSM, []byte, hsm.KeyInfo, p11.ObjectHandle) {
	t.Helper()
	p := newSoftHSM(t, "appliance").open(t, "appliance")
	key, info := testKey(t, "cluster")
	if already, err := p.LoadBackupKey(context.Background(), key, info, false); err != nil || already {
		t.Fatalf("LoadBackupKey = %v, %v", already, err)
	}
	hs := backupKeyObjects(t, p)
	if len(hs) != 1 {
		t.Fatalf("%d Backup Key objects, want 1", len(hs))
	}
	return p, key, info, hs[0]
}

// legacyTemplate is the Backup Key as an earlier hsmcards made it: able to
// encrypt and decrypt, wrap and unwrap left to the token (true on SoftHSM2),
// changeable and copyable. The attacks below work on it; they are the
// control that shows the tests can see an attack succeed.
func legacyTemplate(value []byte, label string) []attr {
	return []attr{
		{typ: p11.CKA_CLASS, val: encodeUlongs(p11.CKO_SECRET_KEY)},
		{typ: p11.CKA_KEY_TYPE, val: encodeUlongs(p11.CKK_AES)},
		{typ: p11.CKA_VALUE, val: value},
		{typ: p11.CKA_TOKEN, val: encodeBool(true)},
		{typ: p11.CKA_PRIVATE, val: encodeBool(true)},
		{typ: p11.CKA_SENSITIVE, val: encodeBool(true)},
		{typ: p11.CKA_EXTRACTABLE, val: encodeBool(false)},
		{typ: p11.CKA_ENCRYPT, val: encodeBool(true)},
		{typ: p11.CKA_DECRYPT, val: encodeBool(true)},
		{typ: p11.CKA_LABEL, val: []byte(label)},
	}
}

func createLegacy(t *testing.T, p *HSM, value []byte, label string) p11.ObjectHandle {
	t.Helper()
	h, err := p.mod.secret.createObject(p.session, legacyTemplate(value, label))
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestLoadCreatesTheTemplate(t *testing.T) {
	p, _, info, h := loaded(t)
	got, ok, err := p.BackupKey(context.Background())
	if err != nil || !ok || got != info {
		t.Fatalf("BackupKey = %+v, %v, %v; want %+v", got, ok, err, info)
	}
	types := []uint{p11.CKA_CHECK_VALUE, p11.CKA_VALUE_LEN, p11.CKA_ID, p11.CKA_LABEL, p11.CKA_ALLOWED_MECHANISMS,
		p11.CKA_ALWAYS_SENSITIVE, p11.CKA_NEVER_EXTRACTABLE}
	for _, b := range keyBools {
		types = append(types, b.typ)
	}
	a, err := p.attrs(h, types...)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range keyBools {
		if decodeBool(a[b.typ]) != b.want {
			t.Errorf("%s = %v, want %v", b.name, decodeBool(a[b.typ]), b.want)
		}
	}
	// An imported key was once in the clear: a token must not claim
	// otherwise (PKCS#11 v2.40 base, "Secret key objects": CKA_ALWAYS_SENSITIVE).
	if decodeBool(a[p11.CKA_ALWAYS_SENSITIVE]) || decodeBool(a[p11.CKA_NEVER_EXTRACTABLE]) {
		t.Error("an imported key claims it was always sensitive or never extractable")
	}
	if !bytes.Equal(a[p11.CKA_CHECK_VALUE], info.KCV[:]) {
		t.Errorf("CKA_CHECK_VALUE %X, want the cards' KCV %X", a[p11.CKA_CHECK_VALUE], info.KCV)
	}
	if n, err := decodeUlong(a[p11.CKA_VALUE_LEN]); err != nil || n != hsm.KeySize {
		t.Errorf("CKA_VALUE_LEN %d, %v", n, err)
	}
	if !bytes.Equal(a[p11.CKA_ID], info.KeySetID[:]) || string(a[p11.CKA_LABEL]) != formatLabel(info) {
		t.Errorf("CKA_ID %X, CKA_LABEL %q", a[p11.CKA_ID], a[p11.CKA_LABEL])
	}
	mechs, _ := decodeUlongs(a[p11.CKA_ALLOWED_MECHANISMS])
	if len(mechs) != 2 || mechs[0] != p11.CKM_AES_KEY_WRAP || mechs[1] != p11.CKM_AES_KEY_WRAP_PAD {
		t.Errorf("CKA_ALLOWED_MECHANISMS %#x", mechs)
	}
	if _, err := p.attrs(h, p11.CKA_VALUE); !isCKR(err, p11.CKR_ATTRIBUTE_SENSITIVE) {
		t.Errorf("reading CKA_VALUE: %v, want CKR_ATTRIBUTE_SENSITIVE", err)
	}
	// Nothing about it can be changed or copied.
	for _, a := range []*p11.Attribute{
		p11.NewAttribute(p11.CKA_LABEL, "renamed"),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_WRAP, false),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
	} {
		if err := p.mod.ctx.SetAttributeValue(p.session, h, []*p11.Attribute{a}); err == nil {
			t.Errorf("attribute %#x of the Backup Key could be changed", a.Type)
		}
	}
	if _, err := p.mod.ctx.CopyObject(p.session, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, "copy")}); err == nil {
		t.Error("the Backup Key could be copied")
	}
	if got, ok, err := p.BackupKey(context.Background()); err != nil || !ok || got != info {
		t.Errorf("after the attempts BackupKey = %+v, %v, %v", got, ok, err)
	}
}

var (
	aesKW  = []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP, nil)}
	aesECB = []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_ECB, nil)}
	kwIV   = []byte{0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6, 0xA6}
)

// ecb runs one AES-ECB block operation with key object h in the token.
func ecb(p *HSM, h p11.ObjectHandle, encrypt bool, block []byte) ([]byte, error) {
	if encrypt {
		if err := p.mod.ctx.EncryptInit(p.session, aesECB, h); err != nil {
			return nil, err
		}
		return p.mod.ctx.Encrypt(p.session, block)
	}
	if err := p.mod.ctx.DecryptInit(p.session, aesECB, h); err != nil {
		return nil, err
	}
	return p.mod.ctx.Decrypt(p.session, block)
}

// unwrapByHand undoes an RFC 3394 key wrap (§2.2.2) with the token's ECB
// decryption under h: what a user PIN holder could do with a Backup Key that
// decrypts.
func unwrapByHand(p *HSM, h p11.ObjectHandle, wrapped []byte) ([]byte, error) {
	n := len(wrapped)/8 - 1
	a := bytes.Clone(wrapped[:8])
	r := make([][]byte, n)
	for i := range r {
		r[i] = bytes.Clone(wrapped[8*(i+1) : 8*(i+2)])
	}
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(a)^uint64(n*j+i))
			out, err := ecb(p, h, false, append(bytes.Clone(a), r[i-1]...))
			if err != nil {
				return nil, err
			}
			a, r[i-1] = out[:8], out[8:]
		}
	}
	if !bytes.Equal(a, kwIV) {
		return nil, errors.New("integrity check failed")
	}
	return bytes.Join(r, nil), nil
}

// wrapByHand makes an RFC 3394 key wrap (§2.2.1) of plain with the token's
// ECB encryption under h: how a user PIN holder could make a wrap of a key
// of their choosing.
func wrapByHand(p *HSM, h p11.ObjectHandle, plain []byte) ([]byte, error) {
	n := len(plain) / 8
	a := bytes.Clone(kwIV)
	r := make([][]byte, n)
	for i := range r {
		r[i] = bytes.Clone(plain[8*i : 8*(i+1)])
	}
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			out, err := ecb(p, h, true, append(bytes.Clone(a), r[i-1]...))
			if err != nil {
				return nil, err
			}
			a, r[i-1] = out[:8], out[8:]
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(a)^uint64(n*j+i))
		}
	}
	return append(a, bytes.Join(r, nil)...), nil
}

// victim is another key of the HSM: sensitive (its value cannot be read)
// but extractable (it may be backed up, wrapped).
func victim(t *testing.T, p *HSM, value []byte) p11.ObjectHandle {
	t.Helper()
	h, err := p.mod.secret.createObject(p.session, []attr{
		{typ: p11.CKA_CLASS, val: encodeUlongs(p11.CKO_SECRET_KEY)},
		{typ: p11.CKA_KEY_TYPE, val: encodeUlongs(p11.CKK_AES)},
		{typ: p11.CKA_VALUE, val: value},
		{typ: p11.CKA_TOKEN, val: encodeBool(false)},
		{typ: p11.CKA_SENSITIVE, val: encodeBool(true)},
		{typ: p11.CKA_EXTRACTABLE, val: encodeBool(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// extract is the attack on a wrapping key h: wrap the victim under it, then
// get the victim's value out, by ECB decryption or by unwrapping it again
// as a key whose value can be read.
func extract(p *HSM, h, v p11.ObjectHandle) (byECB, byUnwrap []byte, errs []error) {
	wrapped, err := p.mod.ctx.WrapKey(p.session, aesKW, h, v)
	if err != nil {
		return nil, nil, []error{err}
	}
	byECB, err = unwrapByHand(p, h, wrapped)
	errs = append(errs, err)
	u, err := p.mod.ctx.UnwrapKey(p.session, aesKW, h, wrapped, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, false),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
	})
	if err == nil {
		var a map[uint][]byte
		if a, err = p.attrs(u, p11.CKA_VALUE); err == nil {
			byUnwrap = a[p11.CKA_VALUE]
		}
	}
	return byECB, byUnwrap, append(errs, err)
}

// The Backup Key wraps another key, as it is there to, but nobody with the
// token's user PIN gets the wrapped key out in the clear.
func TestBackupKeyIsNoDecryptionOracle(t *testing.T) {
	p, _, _, bk := loaded(t)
	value := bytes.Repeat([]byte{0x5A}, 32)
	v := victim(t, p, value)

	// The control: under the earlier template both attacks work.
	legacy := createLegacy(t, p, bytes.Repeat([]byte{0x11}, 32), "control")
	byECB, byUnwrap, _ := extract(p, legacy, v)
	if !bytes.Equal(byECB, value) || !bytes.Equal(byUnwrap, value) {
		t.Fatalf("the attacks do not work on the control key: the test proves nothing (ECB %x, unwrap %x)", byECB, byUnwrap)
	}
	if err := p.mod.ctx.DestroyObject(p.session, legacy); err != nil {
		t.Fatal(err)
	}

	if _, err := p.mod.ctx.WrapKey(p.session, aesKW, bk, v); err != nil {
		t.Fatalf("the Backup Key cannot wrap a key: %v", err)
	}
	byECB, byUnwrap, errs := extract(p, bk, v)
	if bytes.Equal(byECB, value) || bytes.Equal(byUnwrap, value) {
		t.Fatal("the victim key came out in the clear")
	}
	if !isCKR(errs[0], p11.CKR_KEY_FUNCTION_NOT_PERMITTED) && !isCKR(errs[0], p11.CKR_MECHANISM_INVALID) {
		t.Errorf("ECB decryption with the Backup Key: %v, want it refused", errs[0])
	}
	if !isCKR(errs[1], p11.CKR_TEMPLATE_INCONSISTENT) {
		t.Errorf("unwrapping as a readable key: %v, want CKR_TEMPLATE_INCONSISTENT", errs[1])
	}
	for _, m := range []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_CBC, make([]byte, 16)), p11.NewMechanism(p11.CKM_AES_CBC_PAD, make([]byte, 16))} {
		if _, err := p.mod.ctx.WrapKey(p.session, []*p11.Mechanism{m}, bk, v); err == nil {
			t.Errorf("the Backup Key wraps with mechanism %#x", m.Mechanism)
		}
	}
}

// A key restored from a backup (unwrapped under the Backup Key) can be backed
// up again from the node it was restored on: the unwrap template keeps it
// sensitive but leaves extractability to the restore, so the next backup of
// that node still holds it.
func TestRestoredKeyCanBeBackedUpAgain(t *testing.T) {
	p, _, _, bk := loaded(t)
	v := victim(t, p, bytes.Repeat([]byte{0x6B}, 32))
	backup, err := p.mod.ctx.WrapKey(p.session, aesKW, bk, v)
	if err != nil {
		t.Fatalf("backing up a key under the Backup Key: %v", err)
	}
	restored, err := p.mod.ctx.UnwrapKey(p.session, aesKW, bk, backup, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		t.Fatalf("restoring the backup as a sensitive, extractable key: %v", err)
	}
	again, err := p.mod.ctx.WrapKey(p.session, aesKW, bk, restored)
	if err != nil {
		t.Fatalf("backing up the restored key again: %v", err)
	}
	if !bytes.Equal(again, backup) {
		t.Error("the second backup of the restored key differs from the first: the restore changed the key")
	}
	if _, err := p.attrs(restored, p11.CKA_VALUE); err == nil {
		t.Error("the restored key's value can be read")
	}
}

// Nobody with the token's user PIN can make a wrap of a key of their
// choosing that the Backup Key unwraps: they cannot encrypt with it.
func TestBackupKeyIsNoInjectionOracle(t *testing.T) {
	p, _, _, bk := loaded(t)
	chosen := bytes.Repeat([]byte{0xC3}, 32)
	tmpl := []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_TOKEN, false),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
	}
	inject := func(h p11.ObjectHandle) (p11.ObjectHandle, error) {
		blob, err := wrapByHand(p, h, chosen)
		if err != nil {
			return 0, err
		}
		return p.mod.ctx.UnwrapKey(p.session, aesKW, h, blob, tmpl)
	}

	// The control: the earlier template lets it in, a key whose value the
	// attacker knows.
	legacy := createLegacy(t, p, bytes.Repeat([]byte{0x22}, 32), "control")
	u, err := inject(legacy)
	if err != nil {
		t.Fatalf("the injection does not work on the control key: the test proves nothing: %v", err)
	}
	// SoftHSM2 gives an unwrapped key no CKA_CHECK_VALUE: encrypt instead.
	if block, err := ecb(p, u, true, make([]byte, 16)); err != nil || !bytes.Equal(block[:kcv.Size], mustKCV(t, chosen)) {
		t.Fatalf("the control injection did not import the chosen key: %x, %v", block, err)
	}

	if _, err := inject(bk); !isCKR(err, p11.CKR_KEY_FUNCTION_NOT_PERMITTED) && !isCKR(err, p11.CKR_MECHANISM_INVALID) {
		t.Fatalf("injecting a chosen key under the Backup Key: %v, want ECB encryption refused", err)
	}
}

func mustKCV(t *testing.T, key []byte) []byte {
	t.Helper()
	v, err := kcv.AES(key)
	if err != nil {
		t.Fatal(err)
	}
	return v[:]
}

func TestKeyPersistsAndIsRecognised(t *testing.T) {
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

func TestDifferentKeyAndReplace(t *testing.T) {
	p, oldInfo, newKey, newInfo := withOldKey(t)
	ctx := context.Background()

	already, err := p.LoadBackupKey(ctx, newKey, newInfo, false)
	var diff *hsm.DifferentKeyError
	if !errors.As(err, &diff) || already {
		t.Fatalf("loading a different key = %v, %v; want *hsm.DifferentKeyError", already, err)
	}
	if diff.Loaded != oldInfo {
		t.Errorf("DifferentKeyError.Loaded = %+v, want %+v", diff.Loaded, oldInfo)
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

func TestRefusedTemplateKeepsOldKey(t *testing.T) {
	p, oldInfo, newKey, newInfo := withOldKey(t)
	ctx := context.Background()

	// PKCS#11 v2.40 Current Mechanisms forbids CKA_VALUE_LEN in C_CreateObject for AES
	// keys, and SoftHSM2 refuses it (CKR_ATTRIBUTE_READ_ONLY) even when it
	// agrees with the value: a real refusal of a template.
	p.extraTemplate = []attr{{typ: p11.CKA_VALUE_LEN, val: encodeUlongs(hsm.KeySize)}}
	_, err := p.LoadBackupKey(ctx, newKey, newInfo, true)
	if !errors.Is(err, hsm.ErrTemplateRefused) {
		t.Fatalf("LoadBackupKey with a refused template = %v, want ErrTemplateRefused", err)
	}
	if got, ok, _ := p.BackupKey(ctx); !ok || got != oldInfo {
		t.Errorf("after a failed replace the token holds %+v (ok %v), want the old %+v", got, ok, oldInfo)
	}
	if n := len(backupKeyObjects(t, p)); n != 1 {
		t.Errorf("after a failed replace the token holds %d Backup Key objects, want 1", n)
	}
}

func TestLoadRejectsBadInput(t *testing.T) {
	p := newSoftHSM(t, "appliance").open(t, "appliance")
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

// A key object renamed away from hsmcards' label (possible with an earlier,
// changeable template) is found by its check value and the probe, and
// reported: the key is not loaded a second time.
func TestRenamedKeyIsReportedNotDuplicated(t *testing.T) {
	p := newSoftHSM(t, "appliance").open(t, "appliance")
	key, info := testKey(t, "x")
	h := createLegacy(t, p, key, formatLabel(info))
	if err := p.mod.ctx.SetAttributeValue(p.session, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, "payments \x1b[31mkey")}); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := p.BackupKey(context.Background()); ok || err != nil {
		t.Fatalf("BackupKey = %v, %v; want none: the label is not ours", ok, err)
	}
	_, err := p.LoadBackupKey(context.Background(), key, info, true)
	var koe *KeyObjectsError
	if !errors.As(err, &koe) || !strings.Contains(err.Error(), "renamed") || !strings.Contains(err.Error(), `"payments key"`) {
		t.Fatalf("LoadBackupKey = %v, want a *KeyObjectsError naming the renamed object", err)
	}
	if n := len(backupKeyObjects(t, p)); n != 0 {
		t.Errorf("a second copy was loaded (%d objects under our label)", n)
	}
}

// A second object under hsmcards' label is reported, never added to or
// chosen from.
func TestSecondObjectIsReported(t *testing.T) {
	p, key, info, _ := loaded(t)
	other, _ := testKey(t, "other")
	createLegacy(t, p, other, formatLabel(info))
	ctx := context.Background()
	var koe *KeyObjectsError
	if _, _, err := p.BackupKey(ctx); !errors.As(err, &koe) || len(koe.Objects) != 2 {
		t.Fatalf("BackupKey = %v, want a *KeyObjectsError with 2 objects", err)
	}
	for _, replace := range []bool{false, true} {
		if _, err := p.LoadBackupKey(ctx, key, info, replace); !errors.As(err, &koe) {
			t.Errorf("LoadBackupKey (replace %v) = %v, want a *KeyObjectsError", replace, err)
		}
	}
	if n := len(backupKeyObjects(t, p)); n != 2 {
		t.Errorf("%d objects under our label, want the 2 there were", n)
	}
}

// A Backup Key under the earlier template is reported, and re-created under
// hsmcards' template when its key is loaded.
func TestLegacyTemplateIsRecreated(t *testing.T) {
	p := newSoftHSM(t, "appliance").open(t, "appliance")
	key, info := testKey(t, "x")
	createLegacy(t, p, key, formatLabel(info))
	ctx := context.Background()
	var koe *KeyObjectsError
	if _, _, err := p.BackupKey(ctx); !errors.As(err, &koe) || !strings.Contains(err.Error(), "CKA_ENCRYPT true") {
		t.Fatalf("BackupKey = %v, want a *KeyObjectsError naming CKA_ENCRYPT", err)
	}
	if already, err := p.LoadBackupKey(ctx, key, info, false); err != nil || already {
		t.Fatalf("LoadBackupKey = %v, %v; want it re-created", already, err)
	}
	hs := backupKeyObjects(t, p)
	if len(hs) != 1 {
		t.Fatalf("%d objects under our label, want 1", len(hs))
	}
	if drift, err := p.drift(hs[0]); err != nil || len(drift) > 0 {
		t.Errorf("the re-created key: %v, %v", drift, err)
	}
	if got, ok, err := p.BackupKey(ctx); err != nil || !ok || got != info {
		t.Errorf("BackupKey = %+v, %v, %v", got, ok, err)
	}
}

// kcvCollision returns two different keys with one KCV: 24 bits collide
// after a few thousand keys (the birthday bound).
func kcvCollision(t *testing.T) (a, b []byte) {
	t.Helper()
	seen := map[[kcv.Size]byte][]byte{}
	for range 1 << 16 {
		k := make([]byte, hsm.KeySize)
		rand.Read(k)
		v, err := kcv.AES(k)
		if err != nil {
			t.Fatal(err)
		}
		if old, ok := seen[v]; ok {
			return old, k
		}
		seen[v] = k
	}
	t.Fatal("no KCV collision")
	return nil, nil
}

// Someone with the token's user PIN swaps the Backup Key for one of their
// own with the same KCV, label and template: a load proves it is another key
// rather than take it for the cards'.
func TestSameKCVIsNotTheSameKey(t *testing.T) {
	p := newSoftHSM(t, "appliance").open(t, "appliance")
	real, planted := kcvCollision(t)
	_, info := testKey(t, "x")
	info.KCV, _ = kcv.AES(real)
	h, err := p.mod.secret.createObject(p.session, keyTemplate(planted, info))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// Without the key at hand the swap cannot be seen: the KCV is the same.
	if got, ok, err := p.BackupKey(ctx); err != nil || !ok || got != info {
		t.Fatalf("BackupKey = %+v, %v, %v", got, ok, err)
	}
	already, err := p.LoadBackupKey(ctx, real, info, false)
	var diff *hsm.DifferentKeyError
	if already || !errors.As(err, &diff) {
		t.Fatalf("LoadBackupKey = %v, %v; want *hsm.DifferentKeyError", already, err)
	}
	if already, err := p.LoadBackupKey(ctx, real, info, true); err != nil || already {
		t.Fatalf("replacing = %v, %v", already, err)
	}
	hs := backupKeyObjects(t, p)
	if len(hs) != 1 || hs[0] == h {
		t.Fatalf("objects %v; want one, not the planted %v", hs, h)
	}
	probe, err := p.newProbe(real)
	if err != nil {
		t.Fatal(err)
	}
	defer probe.close()
	if same, err := probe.holds(hs[0]); err != nil || !same {
		t.Errorf("the token does not hold the cards' key: %v, %v", same, err)
	}
}

func TestCheckValue(t *testing.T) {
	tests := []struct {
		v    []byte
		err  error
		want error
	}{
		{[]byte{1, 2, 3}, nil, nil},
		{nil, p11.Error(p11.CKR_ATTRIBUTE_TYPE_INVALID), ErrNoCheckValue},
		{[]byte{}, nil, ErrNoCheckValue},
		{[]byte{1, 2, 3, 4}, nil, nil},
		{nil, p11.Error(p11.CKR_DEVICE_ERROR), p11.Error(p11.CKR_DEVICE_ERROR)},
	}
	for _, tt := range tests {
		got, err := checkValue(tt.v, tt.err)
		switch {
		case tt.want != nil && !errors.Is(err, tt.want):
			t.Errorf("checkValue(%x, %v) = %v, want %v", tt.v, tt.err, err, tt.want)
		case tt.want == nil && len(tt.v) == 3 && (err != nil || !bytes.Equal(got[:], tt.v)):
			t.Errorf("checkValue(%x) = %x, %v", tt.v, got, err)
		case tt.want == nil && len(tt.v) != 3 && err == nil:
			t.Errorf("checkValue(%x) accepted %d bytes", tt.v, len(tt.v))
		}
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
				t.Errorf("%v: ErrTemplateRefused %v, want %v", err, !tt.refused, tt.refused)
			}
			if !isCKR(err, tt.rv) {
				t.Errorf("%v does not carry %s", err, name)
			}
		})
	}
}
