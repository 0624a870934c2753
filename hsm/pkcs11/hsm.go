//go:build cgo

package pkcs11

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

// HSM is the Backup Key's home in a PKCS#11 token: one logged-in RW session
// on one token of one module. It is safe for use by several goroutines.
type HSM struct {
	mu sync.Mutex
	tokenSession
	closed bool
	// extraTemplate is appended to the key template; tests use it to make a
	// real token refuse the template.
	extraTemplate []*p11.Attribute
}

var _ hsm.HSM = (*HSM)(nil)

// ListTokens lists the initialised tokens of the module at modulePath,
// so the wizard can offer a choice before it asks for a PIN.
func ListTokens(modulePath string) (tokens []Token, err error) {
	m, err := acquireModule(modulePath)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, m.release()) }()
	return m.tokens()
}

// Open loads the module at modulePath, picks a token with sel, opens a
// read-write session and logs in as the user with pin. It wipes its own copy
// of the PIN; the caller wipes pin.
func Open(modulePath string, sel TokenSelector, pin []byte) (*HSM, error) {
	p := &HSM{}
	locked := func(tok Token) error {
		if tok.PINLocked() {
			return errorf([]error{hsm.ErrPINLocked}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
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

// loginError turns C_Login's failure into an error that says what the
// operator can do, with the token's lock state as its flags report it.
func loginError(err error, tok Token) error {
	note := ""
	if n := tok.PINNote(); n != "" {
		note = "; " + n
	}
	switch {
	case isCKR(err, p11.CKR_PIN_INCORRECT):
		errs := []error{hsm.ErrWrongPIN, err}
		if tok.PINLocked() {
			errs = append(errs, hsm.ErrPINLocked)
		}
		return errorf(errs, "pkcs11: wrong PIN for token %s%s", tok, note)
	case isCKR(err, p11.CKR_PIN_LOCKED):
		return errorf([]error{hsm.ErrPINLocked, err}, "pkcs11: the user PIN of token %s is locked; the token's security officer must unlock it", tok)
	case isCKR(err, p11.CKR_PIN_LEN_RANGE):
		return errorf([]error{hsm.ErrWrongPIN, err}, "pkcs11: the PIN for token %s has a length the token does not accept%s", tok, note)
	case isCKR(err, p11.CKR_USER_PIN_NOT_INITIALIZED):
		return errorf([]error{err}, "pkcs11: token %s has no user PIN yet; its security officer must set one", tok)
	case isCKR(err, p11.CKR_PIN_EXPIRED):
		return errorf([]error{err}, "pkcs11: the user PIN of token %s has expired; change it with the token's tools", tok)
	}
	return errorf([]error{err}, "pkcs11: cannot log in to token %s (%s)", tok, ckrName(err))
}

// Name says which HSM this is, for the screen.
func (p *HSM) Name() string { return "PKCS#11 token " + p.token.Label }

// Token describes the token in use.
func (p *HSM) Token() Token { return p.token }

// Close logs out, closes the session and, if no one else in the process uses
// the module, finalises and unloads it. Calling it again does nothing.
func (p *HSM) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	return p.closeSession()
}

// keyObject is a Backup Key object found in the token.
type keyObject struct {
	handle p11.ObjectHandle
	info   hsm.KeyInfo
	block  [16]byte // its check block, computed inside the token
}

// BackupKey reports the Backup Key in the token, with its KCV computed inside
// the token. Should the token hold several (which LoadBackupKey never leaves),
// it reports the first the token lists.
func (p *HSM) BackupKey(ctx context.Context) (hsm.KeyInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return hsm.KeyInfo{}, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.KeyInfo{}, false, err
	}
	keys, err := p.findKeys()
	if err != nil || len(keys) == 0 {
		return hsm.KeyInfo{}, false, err
	}
	return keys[0].info, true, nil
}

// LoadBackupKey creates the Backup Key object in the token (see keyTemplate)
// and proves it landed by its check block computed inside the token. info's
// KCV must be key's. A token holding the same key reports already; one holding
// a different key gives *hsm.DifferentKeyError unless replace, and then the old
// object goes only once the new one is in place and verified.
func (p *HSM) LoadBackupKey(ctx context.Context, key []byte, info hsm.KeyInfo, replace bool) (already bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	want, err := hostCheckBlock(key)
	if err != nil {
		return false, err
	}
	if [3]byte(want[:3]) != info.KCV {
		return false, errorf([]error{hsm.ErrKCVMismatch}, "pkcs11: the Backup Key does not have the KCV %X it came with", info.KCV)
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
	var same, other []keyObject
	for _, k := range keys {
		if k.block == want {
			same = append(same, k)
		} else {
			other = append(other, k)
		}
	}
	if len(other) > 0 && !replace {
		return false, &hsm.DifferentKeyError{Loaded: other[0].info}
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
			err = errors.Join(err, errorf([]error{derr}, "pkcs11: cannot remove the unverified key object (%s)", ckrName(derr)))
		}
		return false, err
	}
	if err := p.destroy(other); err != nil {
		return false, fmt.Errorf("pkcs11: the new Backup Key is loaded, but %w", err)
	}
	return false, nil
}

func (p *HSM) usable() error {
	if p.closed {
		return errors.New("pkcs11: the token is closed")
	}
	return nil
}

// keyTemplate is the Backup Key object: an AES-256 token key that never
// leaves the token in the clear (CKA_SENSITIVE, not CKA_EXTRACTABLE), visible
// only after login (CKA_PRIVATE), able to encrypt and decrypt (for its KCV and
// for backups) but not to sign, verify (MAC) or derive. CKA_WRAP/CKA_UNWRAP are
// left to the token's default, as an appliance may back up keys by wrapping.
// CKA_VALUE_LEN is left out: PKCS#11 v2.40 §6.7.1 (AES secret
// key objects, footnote 2) says it must not be given to C_CreateObject; we
// read it back in verify instead.
func keyTemplate(value []byte, info hsm.KeyInfo) []*p11.Attribute {
	return []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
		p11.NewAttribute(p11.CKA_VALUE, value),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_SENSITIVE, true),
		p11.NewAttribute(p11.CKA_EXTRACTABLE, false),
		p11.NewAttribute(p11.CKA_ENCRYPT, true),
		p11.NewAttribute(p11.CKA_DECRYPT, true),
		p11.NewAttribute(p11.CKA_SIGN, false),
		p11.NewAttribute(p11.CKA_VERIFY, false),
		p11.NewAttribute(p11.CKA_DERIVE, false),
		p11.NewAttribute(p11.CKA_LABEL, formatLabel(info)),
		p11.NewAttribute(p11.CKA_ID, info.KeySetID[:]),
	}
}

// create makes the key object; the key's C copy is wiped (secretcalls.go).
func (p *HSM) create(key []byte, info hsm.KeyInfo) (p11.ObjectHandle, error) {
	var tmpl []attr
	for _, a := range append(keyTemplate(key, info), p.extraTemplate...) {
		tmpl = append(tmpl, attr{typ: a.Type, val: a.Value})
	}
	h, err := p.mod.secret.createObject(p.session, tmpl)
	if err != nil {
		return 0, createError(err, p.token)
	}
	return h, nil
}

// createError explains why C_CreateObject failed.
func createError(err error, tok Token) error {
	for _, rv := range []uint{
		p11.CKR_TEMPLATE_INCONSISTENT, p11.CKR_TEMPLATE_INCOMPLETE,
		p11.CKR_ATTRIBUTE_VALUE_INVALID, p11.CKR_ATTRIBUTE_TYPE_INVALID,
		p11.CKR_ATTRIBUTE_READ_ONLY, p11.CKR_KEY_SIZE_RANGE,
		p11.CKR_DOMAIN_PARAMS_INVALID,
	} {
		if isCKR(err, rv) {
			return errorf([]error{hsm.ErrTemplateRefused, err}, "pkcs11: token %s refused to create the Backup Key as a sensitive, non-extractable AES-256 token key (%s); its policy may forbid importing keys in the clear", tok, ckrName(err))
		}
	}
	switch {
	case isCKR(err, p11.CKR_TOKEN_WRITE_PROTECTED):
		return errorf([]error{err}, "pkcs11: token %s is write-protected", tok)
	case isCKR(err, p11.CKR_DEVICE_MEMORY):
		return errorf([]error{err}, "pkcs11: token %s has no room for another object", tok)
	case isCKR(err, p11.CKR_USER_NOT_LOGGED_IN):
		return errorf([]error{err}, "pkcs11: the session on token %s is no longer logged in", tok)
	}
	return errorf([]error{err}, "pkcs11: cannot create the Backup Key in token %s (%s)", tok, ckrName(err))
}

// verify proves the new object is the key we meant and as protected as asked:
// a token may silently ignore or adjust attributes.
func (p *HSM) verify(h p11.ObjectHandle, want [16]byte) error {
	got, err := p.checkBlock(h)
	if err != nil {
		return err
	}
	if got != want {
		return errorf([]error{hsm.ErrKCVMismatch}, "pkcs11: the key in token %s has KCV %X, not %X", p.token, got[:3], want[:3])
	}
	var query []*p11.Attribute
	for typ := range verifiedAttrs {
		query = append(query, p11.NewAttribute(typ, nil))
	}
	attrs, err := p.mod.ctx.GetAttributeValue(p.session, h, query)
	if err != nil {
		return errorf([]error{err}, "pkcs11: cannot read back the new key's attributes (%s)", ckrName(err))
	}
	for _, a := range attrs {
		var ok bool
		switch a.Type {
		case p11.CKA_TOKEN, p11.CKA_SENSITIVE:
			ok = attrBool(a.Value)
		case p11.CKA_EXTRACTABLE:
			ok = !attrBool(a.Value)
		case p11.CKA_VALUE_LEN:
			n, err := attrUlong(a.Value)
			ok = err == nil && n == keyLen
		}
		if !ok {
			return errorf([]error{hsm.ErrTemplateRefused}, "pkcs11: token %s did not keep the key template (%s)", p.token, verifiedAttrs[a.Type])
		}
	}
	return nil
}

// verifiedAttrs names the attributes verify reads back.
var verifiedAttrs = map[uint]string{
	p11.CKA_TOKEN:       "CKA_TOKEN",
	p11.CKA_SENSITIVE:   "CKA_SENSITIVE",
	p11.CKA_EXTRACTABLE: "CKA_EXTRACTABLE",
	p11.CKA_VALUE_LEN:   "CKA_VALUE_LEN",
}

func attrBool(v []byte) bool { return len(v) == 1 && v[0] != 0 }

// attrUlong reads a CK_ULONG attribute value (native byte order and size).
func attrUlong(v []byte) (uint, error) {
	if len(v) != int(unsafe.Sizeof(uint(0))) {
		return 0, fmt.Errorf("pkcs11: CK_ULONG of %d bytes", len(v))
	}
	return *(*uint)(unsafe.Pointer(&v[0])), nil
}

// checkBlock computes AES-ECB(key, 16 zero bytes) inside the token; the KCV
// is its first 3 bytes.
func (p *HSM) checkBlock(h p11.ObjectHandle) ([16]byte, error) {
	var block [16]byte
	mech := []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_ECB, nil)}
	if err := p.mod.ctx.EncryptInit(p.session, mech, h); err != nil {
		return block, errorf([]error{err}, "pkcs11: token %s cannot compute the key's KCV (C_EncryptInit with CKM_AES_ECB: %s)", p.token, ckrName(err))
	}
	out, err := p.mod.ctx.Encrypt(p.session, block[:])
	if err != nil {
		return block, errorf([]error{err}, "pkcs11: token %s cannot compute the key's KCV (C_Encrypt: %s)", p.token, ckrName(err))
	}
	if len(out) != len(block) {
		return block, fmt.Errorf("pkcs11: token %s returned %d bytes for one AES block", p.token, len(out))
	}
	copy(block[:], out)
	return block, nil
}

// findKeys lists the Backup Key objects: AES secret keys whose label has our
// prefix, each with its check block computed inside the token.
func (p *HSM) findKeys() ([]keyObject, error) {
	handles, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_KEY_TYPE, p11.CKK_AES),
	})
	if err != nil {
		return nil, err
	}
	var keys []keyObject
	for _, h := range handles {
		attrs, err := p.attrs(h, p11.CKA_LABEL, p11.CKA_ID)
		if err != nil {
			continue // not readable, so not one of ours
		}
		label, id := string(attrs[p11.CKA_LABEL]), attrs[p11.CKA_ID]
		keySetID, applianceLabel, ours, ok := parseLabel(label)
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
		keys = append(keys, keyObject{
			handle: h,
			block:  block,
			info:   hsm.KeyInfo{KeySetID: keySetID, Label: applianceLabel, KCV: [3]byte(block[:3])},
		})
	}
	return keys, nil
}

func (p *HSM) destroy(keys []keyObject) error {
	for _, k := range keys {
		if err := p.mod.ctx.DestroyObject(p.session, k.handle); err != nil {
			return errorf([]error{err}, "pkcs11: cannot remove the old Backup Key (KCV %X) from token %s (%s)", k.info.KCV, p.token, ckrName(err))
		}
	}
	return nil
}
