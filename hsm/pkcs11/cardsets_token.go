//go:build cgo && unix

package pkcs11

// The card-set register's objects in the token (cardsets.go says what they
// are; docs/pkcs11.md, "The card-set register", why).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
)

var _ hsm.CardSetsNoter = (*HSM)(nil)

// vanishedRetries bounds how often a read starts again when an object
// vanished while it was read (another process's update removed it).
const vanishedRetries = 3

// cardSetsTemplate is a register object: a private token object, so that no
// one without the user PIN reads or writes it, neither modifiable nor
// copyable, so that a revision once written stays as it was.
func cardSetsTemplate(rev uint64, value []byte) []*p11.Attribute {
	return []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_MODIFIABLE, false),
		p11.NewAttribute(p11.CKA_COPYABLE, false),
		p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp),
		p11.NewAttribute(p11.CKA_LABEL, cardSetsLabel(rev)),
		p11.NewAttribute(p11.CKA_VALUE, value),
	}
}

// registerRead is one read of the token's register objects.
type registerRead struct {
	placed
	// private are the private objects, in placed's order; public the
	// objects anyone could have made, never read.
	private, public []p11.ObjectHandle
}

// readRegister reads the register objects. Public objects of the register's
// application are counted, not read: anyone may create them, so they decide
// nothing (and their values could be of any size).
func (p *HSM) readRegister() (registerRead, error) {
	for try := 1; ; try++ {
		r, vanished, err := p.readRegisterOnce()
		if !vanished || try == vanishedRetries {
			return r, err
		}
	}
}

func (p *HSM) readRegisterOnce() (r registerRead, vanished bool, err error) {
	search := func(private bool) []*p11.Attribute {
		return []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, private),
			p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp),
		}
	}
	if r.public, err = p.findObjects(search(false)); err != nil {
		return r, false, err
	}
	if r.private, err = p.findObjects(search(true)); err != nil {
		return r, false, err
	}
	objs := make([]registerObject, len(r.private))
	for i, h := range r.private {
		a, err := p.attrs(h, p11.CKA_LABEL, p11.CKA_VALUE)
		if err != nil {
			return r, isCKR(err, p11.CKR_OBJECT_HANDLE_INVALID),
				errorf([]error{err}, "pkcs11: cannot read the card-set register in token %s (%s)", p.token, ckrName(err))
		}
		objs[i] = registerObject{label: string(a[p11.CKA_LABEL]), value: a[p11.CKA_VALUE]}
	}
	pl, perr := placeRegister(objs)
	if perr != nil {
		perr.Token = p.token
		return r, false, perr
	}
	r.placed = pl
	return r, false, nil
}

// CardSets reads the register: the private object of the highest revision.
// None is the empty register; objects that do not make one register are a
// *CardSetsObjectsError (matching hsm.ErrCardSetsDamaged).
func (p *HSM) CardSets(ctx context.Context) (hsm.CardSets, error) {
	c, _, err := p.cardSets(ctx, false)
	return c, err
}

// CardSetsWithNotes reads the register as CardSets does, and says what it
// did not count: public objects under its name, earlier revisions left
// behind, a register of another Backup Key than the token holds.
func (p *HSM) CardSetsWithNotes(ctx context.Context) (hsm.CardSets, []hsm.CardSetsNote, error) {
	return p.cardSets(ctx, true)
}

func (p *HSM) cardSets(ctx context.Context, withNotes bool) (hsm.CardSets, []hsm.CardSetsNote, error) {
	if err := ctx.Err(); err != nil {
		return hsm.CardSets{}, nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return hsm.CardSets{}, nil, err
	}
	r, err := p.readRegister()
	if err != nil || !withNotes {
		return r.sets, nil, err
	}
	var notes []hsm.CardSetsNote
	if n := len(r.public); n > 0 {
		notes = append(notes, hsm.CardSetsNote{Kind: hsm.NotePublic, Objects: n})
	}
	if n := len(r.leftovers); n > 0 {
		notes = append(notes, hsm.CardSetsNote{Kind: hsm.NoteLeftover, Objects: n})
	}
	if r.sets.Current != nil {
		held, other, err := p.holdsKey(r.sets.KCV)
		if err != nil {
			return r.sets, nil, err
		}
		if !held && other != nil {
			notes = append(notes, hsm.CardSetsNote{Kind: hsm.NoteOtherKey, KCV: r.sets.KCV, HSMKCV: *other})
		}
	}
	return r.sets, notes, nil
}

// holdsKey says whether a Backup Key object of the token has the check
// value kcv (CKA_CHECK_VALUE, which the token computes from the key), and
// else the check value of one it holds (nil when it holds none).
func (p *HSM) holdsKey(kcv [3]byte) (held bool, other *[3]byte, err error) {
	keys, err := p.listKeys(nil)
	if err != nil {
		return false, nil, err
	}
	for _, k := range keys {
		if k.kcvErr != nil {
			continue
		}
		if k.info.KCV == kcv {
			return true, nil, nil
		}
		if other == nil {
			v := k.info.KCV
			other = &v
		}
	}
	return false, other, nil
}

// UpdateCardSets replaces the register if it is still at revision prev:
// under the load locks (loadlock.go: no other hsmcards writes the token
// meanwhile, and SoftHSM2 sees every other process's objects), it reads the
// register, creates the object of revision prev+1, finds it again as a read
// would and compares its value, and only then removes the older objects (and
// any public object under the register's name). A crash in between leaves two
// revisions, and the newer counts. A history may begin only for a Backup Key
// the token holds (ErrCardSetsOtherKey); one the register already records
// goes on even when the token holds another key now (its superseded cards
// are still to collect).
func (p *HSM) UpdateCardSets(ctx context.Context, prev uint64, next hsm.CardSets) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	if prev == math.MaxUint64 {
		return fmt.Errorf("pkcs11: the card-set register has no revision after %d", prev)
	}
	next.Revision = prev + 1
	value, err := next.MarshalBinary()
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.usable(); err != nil {
		return err
	}
	unlock, err := p.lockLoads(ctx, "recorded")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, unlock()) }()

	r, err := p.readRegister()
	if err != nil {
		return err
	}
	if r.sets.Revision != prev {
		return hsm.ErrCardSetsChanged
	}
	if next.Current != nil && (r.sets.Current == nil || next.KCV != r.sets.KCV) {
		held, _, err := p.holdsKey(next.KCV)
		if err != nil {
			return err
		}
		if !held {
			return errorf([]error{ErrCardSetsOtherKey}, "pkcs11: the card sets are of the Backup Key with KCV %X, which token %s does not hold; nothing was recorded", next.KCV, p.token)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	p.hooks.run(p.hooks.beforeRegisterCreate)
	h, err := p.mod.ctx.CreateObject(p.session, cardSetsTemplate(next.Revision, value))
	if err != nil {
		return errorf([]error{err}, "pkcs11: cannot record the card sets in token %s (%s)", p.token, ckrName(err))
	}
	if err := p.readBack(h, next.Revision, value); err != nil {
		if derr := p.mod.ctx.DestroyObject(p.session, h); derr != nil {
			err = errors.Join(err, errorf([]error{derr}, "pkcs11: and it could not be removed again (%s)", ckrName(derr)))
		}
		return err
	}
	p.hooks.run(p.hooks.afterRegisterCreate)
	// The older revisions, and what anyone planted under the register's
	// name. One that stays does no harm (the newest counts) and is noted;
	// the next update tries again.
	for _, old := range append(r.private, r.public...) {
		_ = p.mod.ctx.DestroyObject(p.session, old)
	}
	return nil
}

// readBack finds the object just created as a read would find it (the only
// private register object of its revision) and compares its value with
// what was written.
func (p *HSM) readBack(h p11.ObjectHandle, rev uint64, value []byte) error {
	found, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp),
		p11.NewAttribute(p11.CKA_LABEL, cardSetsLabel(rev)),
	})
	if err != nil {
		return err
	}
	if len(found) != 1 || found[0] != h {
		return fmt.Errorf("pkcs11: token %s does not show the card sets just recorded as the one private object of revision %d; they were removed again", p.token, rev)
	}
	a, err := p.attrs(h, p11.CKA_VALUE)
	if err != nil {
		return errorf([]error{err}, "pkcs11: cannot read back the card sets just recorded in token %s (%s)", p.token, ckrName(err))
	}
	if !bytes.Equal(a[p11.CKA_VALUE], value) {
		return fmt.Errorf("pkcs11: token %s did not keep the card sets as recorded; they were removed again", p.token)
	}
	return nil
}
