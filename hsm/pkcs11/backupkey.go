//go:build cgo && unix

package pkcs11

// The Backup Key as a token object: its template, how it is found, loaded,
// proved and reported. docs/pkcs11.md, "The Backup Key object", says why the
// template is what it is.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/kcv"
)

// wrapMechanisms are the only mechanisms the Backup Key may be used with
// (CKA_ALLOWED_MECHANISMS): AES key wrap, RFC 3394 (CKM_AES_KEY_WRAP), and
// with padding, RFC 5649 (CKM_AES_KEY_WRAP_PAD); PKCS#11 v2.40 Current
// Mechanisms, "AES Key Wrap" (docs/pkcs11.md).
var wrapMechanisms = []uint{p11.CKM_AES_KEY_WRAP, p11.CKM_AES_KEY_WRAP_PAD}

// boolAttr is one CK_BBOOL attribute of a template, with its name for
// messages.
type boolAttr struct {
	typ  uint
	name string
	want bool
}

// keyBools are the Backup Key's CK_BBOOL attributes: a token key, private,
// sensitive and not extractable; wrapping and unwrapping keys is its only
// use; no one changes or copies it.
var keyBools = []boolAttr{
	{p11.CKA_TOKEN, "CKA_TOKEN", true},
	{p11.CKA_PRIVATE, "CKA_PRIVATE", true},
	{p11.CKA_SENSITIVE, "CKA_SENSITIVE", true},
	{p11.CKA_EXTRACTABLE, "CKA_EXTRACTABLE", false},
	{p11.CKA_WRAP, "CKA_WRAP", true},
	{p11.CKA_UNWRAP, "CKA_UNWRAP", true},
	{p11.CKA_ENCRYPT, "CKA_ENCRYPT", false},
	{p11.CKA_DECRYPT, "CKA_DECRYPT", false},
	{p11.CKA_SIGN, "CKA_SIGN", false},
	{p11.CKA_VERIFY, "CKA_VERIFY", false},
	{p11.CKA_DERIVE, "CKA_DERIVE", false},
	{p11.CKA_MODIFIABLE, "CKA_MODIFIABLE", false},
	{p11.CKA_COPYABLE, "CKA_COPYABLE", false},
}

// unwrapBools is the Backup Key's CKA_UNWRAP_TEMPLATE: what it unwraps comes
// out sensitive, so a backup cannot be unwrapped into a key whose value can
// be read. It leaves CKA_EXTRACTABLE to the restore: a restored key that
// could never be wrapped again would be missing from every later backup of
// that node, and the next disaster would lose it (docs/pkcs11.md, "Why an
// unwrap template").
var unwrapBools = []boolAttr{
	{p11.CKA_SENSITIVE, "CKA_SENSITIVE", true},
}

func bools(list []boolAttr) []attr {
	out := make([]attr, len(list))
	for i, b := range list {
		out[i] = attr{typ: b.typ, val: encodeBool(b.want)}
	}
	return out
}

// keyTemplate is the Backup Key object (docs/pkcs11.md, "The Backup Key
// object"). CKA_VALUE_LEN is left out: PKCS#11 v2.40 Current Mechanisms ("AES
// secret key objects") says it must not be given to C_CreateObject; verify
// reads it back instead. value is used in place, not copied.
func keyTemplate(value []byte, info hsm.KeyInfo) []attr {
	return append([]attr{
		{typ: p11.CKA_CLASS, val: encodeUlongs(p11.CKO_SECRET_KEY)},
		{typ: p11.CKA_KEY_TYPE, val: encodeUlongs(p11.CKK_AES)},
		{typ: p11.CKA_VALUE, val: value},
		{typ: p11.CKA_LABEL, val: []byte(formatLabel(info))},
		{typ: p11.CKA_ID, val: info.KeySetID[:]},
		{typ: p11.CKA_ALLOWED_MECHANISMS, val: encodeUlongs(wrapMechanisms...)},
		{typ: p11.CKA_UNWRAP_TEMPLATE, nested: bools(unwrapBools)},
	}, bools(keyBools)...)
}

// ErrNoCheckValue means the token does not report CKA_CHECK_VALUE for the
// Backup Key (PKCS#11 v2.40 base, "Secret key objects"). Its KCV could only be had by letting the
// key encrypt, which the Backup Key must not do, so hsmcards does not use
// such a token for it (docs/pkcs11.md, "Tokens without CKA_CHECK_VALUE").
var ErrNoCheckValue = errors.New("pkcs11: the token does not report the key's check value (CKA_CHECK_VALUE, PKCS#11 v2.40)")

// checkValue interprets what C_GetAttributeValue said about CKA_CHECK_VALUE:
// the 3-byte KCV, or ErrNoCheckValue when the token has none.
func checkValue(v []byte, err error) ([kcv.Size]byte, error) {
	var out [kcv.Size]byte
	switch {
	case isCKR(err, p11.CKR_ATTRIBUTE_TYPE_INVALID):
		return out, ErrNoCheckValue
	case err != nil:
		return out, err
	case len(v) == 0:
		// An empty value is how some tokens say "no check value".
		return out, ErrNoCheckValue
	case len(v) != kcv.Size:
		return out, fmt.Errorf("pkcs11: a check value of %d bytes, not %d", len(v), kcv.Size)
	}
	copy(out[:], v)
	return out, nil
}

// keyObject is a secret key object of the token that is, or claims to be, or
// might be, the Backup Key.
type keyObject struct {
	handle p11.ObjectHandle
	label  string // CKA_LABEL, cleaned
	ours   bool   // the label has hsmcards' prefix
	info   hsm.KeyInfo
	kcvErr error // why info.KCV is unknown
	// drift says how its attributes differ from keyTemplate's; only read for
	// our objects.
	drift []string
	// same says it holds the key being loaded (proved by sameKeyProbe).
	same bool
}

func (k keyObject) describe() string {
	s := fmt.Sprintf("%q", k.label)
	if k.kcvErr == nil {
		s += fmt.Sprintf(" (KCV %X)", k.info.KCV)
	}
	if len(k.drift) > 0 {
		s += ", whose template is not hsmcards' (" + strings.Join(k.drift, ", ") + ")"
	}
	return s
}

// listKeys finds the token's secret key objects that matter: those under our
// label prefix and, when kcvOf is set, those whose CKA_CHECK_VALUE is kcvOf
// (a renamed or copied Backup Key would be among them). CKA_CHECK_VALUE is
// computed by the token from the key's value, so no user can change it.
func (p *HSM) listKeys(kcvOf *[kcv.Size]byte) ([]keyObject, error) {
	handles, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_SECRET_KEY),
		p11.NewAttribute(p11.CKA_TOKEN, true),
	})
	if err != nil {
		return nil, err
	}
	var keys []keyObject
	for _, h := range handles {
		a, err := p.attrs(h, p11.CKA_LABEL)
		if err != nil {
			continue // no label to read: not under ours
		}
		k := keyObject{handle: h, label: safetext.Clean(string(a[p11.CKA_LABEL]))}
		var idOK bool
		k.info.KeySetID, k.info.Label, k.ours, idOK = parseLabel(string(a[p11.CKA_LABEL]))
		if !k.ours && kcvOf == nil {
			continue
		}
		cv, err := p.attrs(h, p11.CKA_CHECK_VALUE)
		k.info.KCV, k.kcvErr = checkValue(cv[p11.CKA_CHECK_VALUE], err)
		if !k.ours {
			if k.kcvErr != nil || k.info.KCV != *kcvOf {
				continue
			}
			keys = append(keys, k)
			continue
		}
		if !idOK {
			if id, err := p.attrs(h, p11.CKA_ID); err == nil && len(id[p11.CKA_ID]) == len(k.info.KeySetID) {
				k.info.KeySetID = [16]byte(id[p11.CKA_ID])
			}
		}
		if k.drift, err = p.drift(h); err != nil {
			return nil, err
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// drift reads back what keyTemplate set (but CKA_UNWRAP_TEMPLATE, an array
// of attributes miekg/pkcs11 cannot read) and says what differs.
func (p *HSM) drift(h p11.ObjectHandle) ([]string, error) {
	var out []string
	types := []uint{p11.CKA_KEY_TYPE, p11.CKA_VALUE_LEN, p11.CKA_ALLOWED_MECHANISMS}
	for _, b := range keyBools {
		types = append(types, b.typ)
	}
	got := make(map[uint][]byte)
	if all, err := p.attrs(h, types...); err == nil {
		got = all
	} else {
		// Read one by one: a token that lacks one attribute (say
		// CKA_COPYABLE) fails the whole call.
		for _, typ := range types {
			if one, err := p.attrs(h, typ); err == nil {
				got[typ] = one[typ]
			}
		}
	}
	if t, err := decodeUlong(got[p11.CKA_KEY_TYPE]); err != nil || t != p11.CKK_AES {
		out = append(out, "not an AES key")
	}
	if n, err := decodeUlong(got[p11.CKA_VALUE_LEN]); err != nil || n != hsm.KeySize {
		out = append(out, fmt.Sprintf("not %d bytes long", hsm.KeySize))
	}
	for _, b := range keyBools {
		v, ok := got[b.typ]
		switch {
		case !ok:
			out = append(out, b.name+" unknown")
		case decodeBool(v) != b.want:
			out = append(out, fmt.Sprintf("%s %v", b.name, decodeBool(v)))
		}
	}
	mechs, err := decodeUlongs(got[p11.CKA_ALLOWED_MECHANISMS])
	slices.Sort(mechs)
	want := slices.Sorted(slices.Values(wrapMechanisms))
	if err != nil || !slices.Equal(mechs, want) {
		out = append(out, "CKA_ALLOWED_MECHANISMS not AES key wrap only")
	}
	return out, nil
}

// KeyObjectsError says the token holds objects that make its Backup Key
// ambiguous: several under hsmcards' label, this key under another label,
// or an object under hsmcards' label whose template hsmcards does not make.
// hsmcards neither chooses among them nor adds another; loading the cards'
// key re-creates an object of the wrong template, and the token's own tools
// remove extra ones.
type KeyObjectsError struct {
	// Token is the token.
	Token Token
	// Objects describe the objects, one per entry: label, KCV and what is
	// wrong with it, cleaned for the screen.
	Objects []string
	msg     string
}

func (e *KeyObjectsError) Error() string {
	return e.msg + ": " + strings.Join(e.Objects, "; ")
}

func (p *HSM) keyObjectsError(format string, objs []keyObject, args ...any) *KeyObjectsError {
	e := &KeyObjectsError{Token: p.token, msg: fmt.Sprintf(format, args...)}
	for _, o := range objs {
		e.Objects = append(e.Objects, o.describe())
	}
	return e
}

// BackupKey reports the Backup Key in the token, its KCV as the token
// computes it (CKA_CHECK_VALUE). Several objects under hsmcards' label, or one
// with another template, are a *KeyObjectsError: which key the token holds
// is proved only when the key is at hand, by LoadBackupKey.
func (p *HSM) BackupKey(ctx context.Context) (hsm.KeyInfo, bool, error) {
	if err := ctx.Err(); err != nil {
		return hsm.KeyInfo{}, false, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.KeyInfo{}, false, err
	}
	keys, err := p.listKeys(nil)
	switch {
	case err != nil:
		return hsm.KeyInfo{}, false, err
	case len(keys) == 0:
		return hsm.KeyInfo{}, false, nil
	case len(keys) > 1:
		return hsm.KeyInfo{}, false, p.keyObjectsError("pkcs11: token %s holds %d objects under the Backup Key's label; hsmcards keeps one and will not choose: remove the extra ones with the token's tools", keys, p.token, len(keys))
	case keys[0].kcvErr != nil:
		return hsm.KeyInfo{}, false, p.noCheckValue(keys[0].kcvErr)
	case len(keys[0].drift) > 0:
		return hsm.KeyInfo{}, false, p.keyObjectsError("pkcs11: token %s holds a Backup Key object hsmcards did not make this way (an earlier hsmcards, or someone else): load the Backup Key from the cards to re-create it", keys, p.token)
	}
	return keys[0].info, true, nil
}

func (p *HSM) noCheckValue(err error) error {
	if errors.Is(err, ErrNoCheckValue) {
		return errorf([]error{ErrNoCheckValue}, "pkcs11: token %s does not report CKA_CHECK_VALUE (PKCS#11 v2.40) for the Backup Key, and hsmcards will not let the key encrypt to learn its KCV: use a token that supports check values", p.token)
	}
	return errorf([]error{err}, "pkcs11: cannot read the Backup Key's check value in token %s (%s)", p.token, ckrName(err))
}

// LoadBackupKey creates the Backup Key object in the token (keyTemplate) and
// proves it landed: its check value is the cards' KCV and it wraps as key
// does (sameKeyProbe). info's KCV must be key's. Loads into one token are
// one at a time, across processes (loadlock.go). A token holding this key
// under hsmcards' template reports already; one holding it under an older or
// foreign template gets it re-created; one holding a different key gives
// *hsm.DifferentKeyError unless replace, and then the old object goes only
// once the new one is in place and proved. Several objects under hsmcards'
// label, or this key under another label, are a *KeyObjectsError, and
// nothing is created.
func (p *HSM) LoadBackupKey(ctx context.Context, key []byte, info hsm.KeyInfo, replace bool) (already bool, err error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if len(key) != hsm.KeySize {
		return false, fmt.Errorf("pkcs11: the Backup Key must be %d bytes, got %d", hsm.KeySize, len(key))
	}
	want, err := kcv.AES(key)
	if err != nil {
		return false, err
	}
	if want != info.KCV {
		return false, errorf([]error{hsm.ErrKCVMismatch}, "pkcs11: the Backup Key does not have the KCV %X it came with", info.KCV)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return false, err
	}
	unlock, err := p.lockLoads(ctx, "loaded")
	if err != nil {
		return false, err
	}
	defer func() { err = errors.Join(err, unlock()) }()

	probe, err := p.newProbe(key)
	if err != nil {
		return false, err
	}
	defer func() { err = errors.Join(err, probe.close()) }()
	keys, err := p.listKeys(&want)
	if err != nil {
		return false, err
	}
	var ours, renamed []keyObject
	for _, k := range keys {
		if k.ours && k.kcvErr != nil {
			return false, p.noCheckValue(k.kcvErr)
		}
		if k.info.KCV == want {
			if k.same, err = probe.holds(k.handle); err != nil {
				return false, err
			}
		}
		switch {
		case k.ours:
			ours = append(ours, k)
		case k.same:
			renamed = append(renamed, k)
		}
	}
	switch {
	case len(renamed) > 0:
		return false, p.keyObjectsError("pkcs11: token %s holds this Backup Key (KCV %X) under another label than hsmcards' %q: it was renamed or copied; hsmcards does not load a second copy: give it back its label, or remove it with the token's tools", renamed, p.token, want, formatLabel(info))
	case len(ours) > 1:
		return false, p.keyObjectsError("pkcs11: token %s holds %d objects under the Backup Key's label; hsmcards keeps one and will not choose: remove the extra ones with the token's tools", ours, p.token, len(ours))
	case len(ours) == 1 && ours[0].same && len(ours[0].drift) == 0:
		return true, nil
	case len(ours) == 1 && !ours[0].same && !replace:
		return false, &hsm.DifferentKeyError{Loaded: ours[0].info}
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	p.hooks.run(p.hooks.beforeCreate)
	h, err := p.create(key, info)
	if err != nil {
		return false, err
	}
	if err := p.verify(h, want, probe); err != nil {
		if derr := p.mod.ctx.DestroyObject(p.session, h); derr != nil {
			err = errors.Join(err, errorf([]error{derr}, "pkcs11: cannot remove the unproved key object (%s)", ckrName(derr)))
		}
		return false, err
	}
	// The one left: a different key being replaced, or this key under a
	// template hsmcards no longer makes.
	for _, k := range ours {
		if err := p.mod.ctx.DestroyObject(p.session, k.handle); err != nil {
			return false, errorf([]error{err}, "pkcs11: the new Backup Key is loaded, but the old object %s could not be removed from token %s (%s)", k.describe(), p.token, ckrName(err))
		}
	}
	return false, nil
}

func (p *HSM) usable() error {
	if p.closed {
		return errors.New("pkcs11: the token is closed")
	}
	return nil
}

// create makes the key object; the key's C copy is wiped (secretcalls.go).
func (p *HSM) create(key []byte, info hsm.KeyInfo) (p11.ObjectHandle, error) {
	h, err := p.mod.secret.createObject(p.session, append(keyTemplate(key, info), p.extraTemplate...))
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
			return errorf([]error{hsm.ErrTemplateRefused, err}, "pkcs11: token %s refused to create the Backup Key as a sensitive, non-extractable AES-256 key for AES key wrap only (%s); its policy may forbid importing keys in the clear, or it may not know CKA_ALLOWED_MECHANISMS, CKA_COPYABLE or CKA_UNWRAP_TEMPLATE", tok, ckrName(err))
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
func (p *HSM) verify(h p11.ObjectHandle, want [kcv.Size]byte, probe *sameKeyProbe) error {
	cv, err := p.attrs(h, p11.CKA_CHECK_VALUE)
	got, err := checkValue(cv[p11.CKA_CHECK_VALUE], err)
	if err != nil {
		return p.noCheckValue(err)
	}
	if got != want {
		return errorf([]error{hsm.ErrKCVMismatch}, "pkcs11: the key in token %s has KCV %X, not %X", p.token, got, want)
	}
	same, err := probe.holds(h)
	if err != nil {
		return err
	}
	if !same {
		return errorf([]error{hsm.ErrKCVMismatch}, "pkcs11: the key in token %s has the cards' KCV %X but is another key", p.token, want)
	}
	drift, err := p.drift(h)
	if err != nil {
		return err
	}
	if len(drift) > 0 {
		return errorf([]error{hsm.ErrTemplateRefused}, "pkcs11: token %s did not keep the key template (%s)", p.token, strings.Join(drift, ", "))
	}
	return nil
}

// sameKeyProbe tells whether a key object holds a given value without that
// value, or any key, leaving the token in the clear: a session copy of the
// value and the object each wrap one random session key with
// CKM_AES_KEY_WRAP, which is deterministic (RFC 3394), and the two results
// are equal exactly when the keys are. 24 bits of KCV could be matched by a
// planted key; 40 bytes of wrap cannot.
type sameKeyProbe struct {
	p            *HSM
	copy, sample p11.ObjectHandle
	want         []byte
}

// newProbe makes the session objects of a probe for key.
func (p *HSM) newProbe(key []byte) (_ *sameKeyProbe, err error) {
	pr := &sameKeyProbe{p: p}
	defer func() {
		if err != nil {
			err = errors.Join(err, pr.close())
		}
	}()
	sessionKey := func(extra ...attr) []attr {
		return append([]attr{
			{typ: p11.CKA_CLASS, val: encodeUlongs(p11.CKO_SECRET_KEY)},
			{typ: p11.CKA_KEY_TYPE, val: encodeUlongs(p11.CKK_AES)},
			{typ: p11.CKA_TOKEN, val: encodeBool(false)},
			{typ: p11.CKA_PRIVATE, val: encodeBool(true)},
			{typ: p11.CKA_SENSITIVE, val: encodeBool(true)},
			{typ: p11.CKA_ENCRYPT, val: encodeBool(false)},
			{typ: p11.CKA_DECRYPT, val: encodeBool(false)},
			{typ: p11.CKA_UNWRAP, val: encodeBool(false)},
			{typ: p11.CKA_SIGN, val: encodeBool(false)},
			{typ: p11.CKA_VERIFY, val: encodeBool(false)},
			{typ: p11.CKA_DERIVE, val: encodeBool(false)},
		}, extra...)
	}
	pr.copy, err = p.mod.secret.createObject(p.session, sessionKey(
		attr{typ: p11.CKA_VALUE, val: key},
		attr{typ: p11.CKA_WRAP, val: encodeBool(true)},
		attr{typ: p11.CKA_EXTRACTABLE, val: encodeBool(false)},
		attr{typ: p11.CKA_ALLOWED_MECHANISMS, val: encodeUlongs(p11.CKM_AES_KEY_WRAP)},
	))
	if err != nil {
		pr.copy = 0
		return nil, createError(err, p.token)
	}
	var gen []*p11.Attribute
	for _, a := range sessionKey(
		attr{typ: p11.CKA_VALUE_LEN, val: encodeUlongs(hsm.KeySize)},
		attr{typ: p11.CKA_WRAP, val: encodeBool(false)},
		attr{typ: p11.CKA_EXTRACTABLE, val: encodeBool(true)},
	) {
		gen = append(gen, p11.NewAttribute(a.typ, a.val))
	}
	pr.sample, err = p.mod.ctx.GenerateKey(p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_GEN, nil)}, gen)
	if err != nil {
		pr.sample = 0
		return nil, errorf([]error{err}, "pkcs11: token %s cannot generate a session key to compare keys with (%s)", p.token, ckrName(err))
	}
	if pr.want, err = pr.wrap(pr.copy); err != nil {
		return nil, errorf([]error{err}, "pkcs11: token %s cannot wrap with AES key wrap to compare keys (%s)", p.token, ckrName(err))
	}
	return pr, nil
}

func (pr *sameKeyProbe) wrap(with p11.ObjectHandle) ([]byte, error) {
	return pr.p.mod.ctx.WrapKey(pr.p.session, []*p11.Mechanism{p11.NewMechanism(p11.CKM_AES_KEY_WRAP, nil)}, with, pr.sample)
}

// holds reports whether object h holds the probe's key. An object that
// cannot wrap with CKM_AES_KEY_WRAP (no CKA_WRAP, another key type or size,
// other allowed mechanisms) does not.
func (pr *sameKeyProbe) holds(h p11.ObjectHandle) (bool, error) {
	got, err := pr.wrap(h)
	for _, rv := range []uint{
		p11.CKR_KEY_FUNCTION_NOT_PERMITTED, p11.CKR_MECHANISM_INVALID,
		p11.CKR_WRAPPING_KEY_TYPE_INCONSISTENT, p11.CKR_WRAPPING_KEY_SIZE_RANGE,
		p11.CKR_KEY_TYPE_INCONSISTENT, p11.CKR_KEY_SIZE_RANGE,
	} {
		if isCKR(err, rv) {
			return false, nil
		}
	}
	if err != nil {
		return false, errorf([]error{err}, "pkcs11: token %s cannot compare a key object with the Backup Key (C_WrapKey: %s)", pr.p.token, ckrName(err))
	}
	return bytes.Equal(got, pr.want), nil
}

// close destroys the probe's session objects (closing the session would).
func (pr *sameKeyProbe) close() error {
	var errs []error
	for _, h := range []*p11.ObjectHandle{&pr.copy, &pr.sample} {
		if *h == 0 {
			continue
		}
		if err := pr.p.mod.ctx.DestroyObject(pr.p.session, *h); err != nil {
			errs = append(errs, errorf([]error{err}, "pkcs11: cannot remove a session key used to compare keys (%s)", ckrName(err)))
		}
		*h = 0
	}
	return errors.Join(errs...)
}
