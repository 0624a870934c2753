//go:build cgo

package hsm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"github.com/miekg/pkcs11"
)

// PKCS11 is the Backup Key's home in a PKCS#11 token: one logged-in RW session
// on one token of one module. It is safe for use by several goroutines.
type PKCS11 struct {
	mu sync.Mutex
	p11Session
	closed bool
	// extraTemplate is appended to the key template; tests use it to make a
	// real token refuse the template.
	extraTemplate []*pkcs11.Attribute
}

var _ HSM = (*PKCS11)(nil)

// ListPKCS11Tokens lists the initialised tokens of the module at modulePath,
// so the wizard can offer a choice before it asks for a PIN.
func ListPKCS11Tokens(modulePath string) (tokens []PKCS11Token, err error) {
	m, err := acquireP11Module(modulePath)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, m.release()) }()
	return m.tokens()
}

// OpenPKCS11 loads the module at modulePath, picks a token with sel, opens a
// read-write session and logs in as the user with pin. It wipes its own copy
// of the PIN; the caller wipes pin.
func OpenPKCS11(modulePath string, sel TokenSelector, pin []byte) (*PKCS11, error) {
	p := &PKCS11{}
	locked := func(tok PKCS11Token) error {
		if tok.PINLocked() {
			return p11Errorf([]error{ErrPINLocked}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
		}
		return nil
	}
	if err := p.openSession(modulePath, sel, "", locked); err != nil {
		return nil, err
	}
	if err := p.loginUser(pin, true); err != nil {
		return nil, errors.Join(err, p.closeSession())
	}
	return p, nil
}

// p11LoginError turns C_Login's failure into an error that says what the
// operator can do, with the token's lock state as its flags report it.
func p11LoginError(err error, tok PKCS11Token) error {
	note := ""
	if n := tok.PINNote(); n != "" {
		note = "; " + n
	}
	switch {
	case p11Is(err, pkcs11.CKR_PIN_INCORRECT):
		errs := []error{ErrWrongPIN, err}
		if tok.PINLocked() {
			errs = append(errs, ErrPINLocked)
		}
		return p11Errorf(errs, "pkcs11: wrong PIN for token %s%s", tok, note)
	case p11Is(err, pkcs11.CKR_PIN_LOCKED):
		return p11Errorf([]error{ErrPINLocked, err}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
	case p11Is(err, pkcs11.CKR_PIN_LEN_RANGE):
		return p11Errorf([]error{ErrWrongPIN, err}, "pkcs11: the PIN for token %s has a length the token does not accept%s", tok, note)
	case p11Is(err, pkcs11.CKR_USER_PIN_NOT_INITIALIZED):
		return p11Errorf([]error{err}, "pkcs11: token %s has no user PIN yet; its security officer must set one", tok)
	case p11Is(err, pkcs11.CKR_PIN_EXPIRED):
		return p11Errorf([]error{err}, "pkcs11: the user PIN of token %s has expired; change it with the token's tools", tok)
	}
	return p11Errorf([]error{err}, "pkcs11: cannot log in to token %s (%s)", tok, p11CKRName(err))
}

// Name says which HSM this is, for the screen.
func (p *PKCS11) Name() string { return "PKCS#11 token " + p.token.Label }

// Token describes the token in use.
func (p *PKCS11) Token() PKCS11Token { return p.token }

// Close logs out, closes the session and, if no one else in the process uses
// the module, finalises and unloads it. Calling it again does nothing.
func (p *PKCS11) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.closeSession()
}

// p11Key is a Backup Key object found in the token.
type p11Key struct {
	handle pkcs11.ObjectHandle
	info   KeyInfo
	block  [16]byte // its check block, computed inside the token
}

// BackupKey reports the Backup Key in the token, with its KCV computed inside
// the token. Should the token hold several (which LoadBackupKey never leaves),
// it reports the first the token lists.
func (p *PKCS11) BackupKey(ctx context.Context) (KeyInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return KeyInfo{}, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return KeyInfo{}, false, err
	}
	keys, err := p.findKeys()
	if err != nil || len(keys) == 0 {
		return KeyInfo{}, false, err
	}
	return keys[0].info, true, nil
}

// LoadBackupKey creates the Backup Key object in the token (see p11Template)
// and proves it landed by its check block computed inside the token. info's
// KCV must be key's. A token holding the same key reports already; one holding
// a different key gives *DifferentKeyError unless replace, and then the old
// object goes only once the new one is in place and verified.
func (p *PKCS11) LoadBackupKey(ctx context.Context, key []byte, info KeyInfo, replace bool) (already bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	want, err := p11CheckBlock(key)
	if err != nil {
		return false, err
	}
	if [3]byte(want[:3]) != info.KCV {
		return false, p11Errorf([]error{ErrKCVMismatch}, "pkcs11: the Backup Key does not have the KCV %X it came with", info.KCV)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return false, err
	}
	keys, err := p.findKeys()
	if err != nil {
		return false, err
	}
	var same, other []p11Key
	for _, k := range keys {
		if k.block == want {
			same = append(same, k)
		} else {
			other = append(other, k)
		}
	}
	if len(other) > 0 && !replace {
		return false, &DifferentKeyError{Loaded: other[0].info}
	}
	if len(same) > 0 {
		// Already there: keep one, drop the rest (replace is set if any
		// of the rest is a different key).
		return true, p.destroy(append(same[1:], other...))
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	h, err := p.create(key, info)
	if err != nil {
		return false, err
	}
	if err := p.verify(h, want); err != nil {
		if derr := p.mod.ctx.DestroyObject(p.session, h); derr != nil {
			err = errors.Join(err, p11Errorf([]error{derr}, "pkcs11: cannot remove the unverified key object (%s)", p11CKRName(derr)))
		}
		return false, err
	}
	if err := p.destroy(other); err != nil {
		return false, fmt.Errorf("pkcs11: the new Backup Key is loaded, but %w", err)
	}
	return false, nil
}

func (p *PKCS11) usable() error {
	if p.closed {
		return errors.New("pkcs11: the token is closed")
	}
	return nil
}

// p11Template is the Backup Key object: an AES-256 token key that never
// leaves the token in the clear (CKA_SENSITIVE, not CKA_EXTRACTABLE), visible
// only after login (CKA_PRIVATE), able to encrypt and decrypt (for its KCV and
// for backups) but not to sign, verify (MAC) or derive. CKA_WRAP/CKA_UNWRAP are
// left to the token's default, as an appliance may back up keys by wrapping.
// CKA_VALUE_LEN is left out: PKCS#11 v2.40 §6.7.1 (AES secret
// key objects, footnote 2) says it must not be given to C_CreateObject; we
// read it back in verify instead.
func p11Template(value []byte, info KeyInfo) []*pkcs11.Attribute {
	return []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, value),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, true),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, false),
		pkcs11.NewAttribute(pkcs11.CKA_VERIFY, false),
		pkcs11.NewAttribute(pkcs11.CKA_DERIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, p11FormatLabel(info)),
		pkcs11.NewAttribute(pkcs11.CKA_ID, info.KeySetID[:]),
	}
}

// create makes the key object. miekg/pkcs11 keeps our slice as the attribute
// value (we wipe it); its C copy is freed unwiped, out of our reach.
func (p *PKCS11) create(key []byte, info KeyInfo) (pkcs11.ObjectHandle, error) {
	value := bytes.Clone(key)
	defer clear(value)
	tmpl := append(p11Template(value, info), p.extraTemplate...)
	h, err := p.mod.ctx.CreateObject(p.session, tmpl)
	if err != nil {
		return 0, p11CreateError(err, p.token)
	}
	return h, nil
}

// p11CreateError explains why C_CreateObject failed.
func p11CreateError(err error, tok PKCS11Token) error {
	for _, rv := range []uint{
		pkcs11.CKR_TEMPLATE_INCONSISTENT, pkcs11.CKR_TEMPLATE_INCOMPLETE,
		pkcs11.CKR_ATTRIBUTE_VALUE_INVALID, pkcs11.CKR_ATTRIBUTE_TYPE_INVALID,
		pkcs11.CKR_ATTRIBUTE_READ_ONLY, pkcs11.CKR_KEY_SIZE_RANGE,
		pkcs11.CKR_DOMAIN_PARAMS_INVALID,
	} {
		if p11Is(err, rv) {
			return p11Errorf([]error{ErrTemplateRefused, err}, "pkcs11: token %s refused to create the Backup Key as a sensitive, non-extractable AES-256 token key (%s); its policy may forbid importing keys in the clear", tok, p11CKRName(err))
		}
	}
	switch {
	case p11Is(err, pkcs11.CKR_TOKEN_WRITE_PROTECTED):
		return p11Errorf([]error{err}, "pkcs11: token %s is write-protected", tok)
	case p11Is(err, pkcs11.CKR_DEVICE_MEMORY):
		return p11Errorf([]error{err}, "pkcs11: token %s has no room for another object", tok)
	case p11Is(err, pkcs11.CKR_USER_NOT_LOGGED_IN):
		return p11Errorf([]error{err}, "pkcs11: the session on token %s is no longer logged in", tok)
	}
	return p11Errorf([]error{err}, "pkcs11: cannot create the Backup Key in token %s (%s)", tok, p11CKRName(err))
}

// verify proves the new object is the key we meant and as protected as asked:
// a token may silently ignore or adjust attributes.
func (p *PKCS11) verify(h pkcs11.ObjectHandle, want [16]byte) error {
	got, err := p.checkBlock(h)
	if err != nil {
		return err
	}
	if got != want {
		return p11Errorf([]error{ErrKCVMismatch}, "pkcs11: the key in token %s has KCV %X, not %X", p.token, got[:3], want[:3])
	}
	var query []*pkcs11.Attribute
	for typ := range p11VerifiedAttrs {
		query = append(query, pkcs11.NewAttribute(typ, nil))
	}
	attrs, err := p.mod.ctx.GetAttributeValue(p.session, h, query)
	if err != nil {
		return p11Errorf([]error{err}, "pkcs11: cannot read back the new key's attributes (%s)", p11CKRName(err))
	}
	for _, a := range attrs {
		var ok bool
		switch a.Type {
		case pkcs11.CKA_TOKEN, pkcs11.CKA_SENSITIVE:
			ok = p11Bool(a.Value)
		case pkcs11.CKA_EXTRACTABLE:
			ok = !p11Bool(a.Value)
		case pkcs11.CKA_VALUE_LEN:
			n, err := p11Ulong(a.Value)
			ok = err == nil && n == p11KeyLen
		}
		if !ok {
			return p11Errorf([]error{ErrTemplateRefused}, "pkcs11: token %s did not keep the key template (%s)", p.token, p11VerifiedAttrs[a.Type])
		}
	}
	return nil
}

// p11VerifiedAttrs names the attributes verify reads back.
var p11VerifiedAttrs = map[uint]string{
	pkcs11.CKA_TOKEN:       "CKA_TOKEN",
	pkcs11.CKA_SENSITIVE:   "CKA_SENSITIVE",
	pkcs11.CKA_EXTRACTABLE: "CKA_EXTRACTABLE",
	pkcs11.CKA_VALUE_LEN:   "CKA_VALUE_LEN",
}

func p11Bool(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// p11Ulong reads a CK_ULONG attribute value (native byte order and size).
func p11Ulong(v []byte) (uint, error) {
	if len(v) != int(unsafe.Sizeof(uint(0))) {
		return 0, fmt.Errorf("pkcs11: CK_ULONG of %d bytes", len(v))
	}
	return *(*uint)(unsafe.Pointer(&v[0])), nil
}

// checkBlock computes AES-ECB(key, 16 zero bytes) inside the token; the KCV
// is its first 3 bytes.
func (p *PKCS11) checkBlock(h pkcs11.ObjectHandle) ([16]byte, error) {
	var block [16]byte
	mech := []*pkcs11.Mechanism{pkcs11.NewMechanism(pkcs11.CKM_AES_ECB, nil)}
	if err := p.mod.ctx.EncryptInit(p.session, mech, h); err != nil {
		return block, p11Errorf([]error{err}, "pkcs11: token %s cannot compute the key's KCV (C_EncryptInit with CKM_AES_ECB: %s)", p.token, p11CKRName(err))
	}
	out, err := p.mod.ctx.Encrypt(p.session, block[:])
	if err != nil {
		return block, p11Errorf([]error{err}, "pkcs11: token %s cannot compute the key's KCV (C_Encrypt: %s)", p.token, p11CKRName(err))
	}
	if len(out) != len(block) {
		return block, fmt.Errorf("pkcs11: token %s returned %d bytes for one AES block", p.token, len(out))
	}
	copy(block[:], out)
	return block, nil
}

// findKeys lists the Backup Key objects: AES secret keys whose label has our
// prefix, each with its check block computed inside the token.
func (p *PKCS11) findKeys() ([]p11Key, error) {
	handles, err := p.findObjects([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_AES),
	})
	if err != nil {
		return nil, err
	}
	var keys []p11Key
	for _, h := range handles {
		attrs, err := p.attrs(h, pkcs11.CKA_LABEL, pkcs11.CKA_ID)
		if err != nil {
			continue // not readable, so not one of ours
		}
		label, id := string(attrs[pkcs11.CKA_LABEL]), attrs[pkcs11.CKA_ID]
		keySetID, applianceLabel, ours, ok := p11ParseLabel(label)
		if !ours {
			continue
		}
		if !ok && len(id) == len(keySetID) {
			keySetID = [16]byte(id)
		}
		block, err := p.checkBlock(h)
		if err != nil {
			return nil, err
		}
		keys = append(keys, p11Key{
			handle: h,
			block:  block,
			info:   KeyInfo{KeySetID: keySetID, Label: applianceLabel, KCV: [3]byte(block[:3])},
		})
	}
	return keys, nil
}

func (p *PKCS11) destroy(keys []p11Key) error {
	for _, k := range keys {
		if err := p.mod.ctx.DestroyObject(p.session, k.handle); err != nil {
			return p11Errorf([]error{err}, "pkcs11: cannot remove the old Backup Key (KCV %X) from token %s (%s)", k.info.KCV, p.token, p11CKRName(err))
		}
	}
	return nil
}
