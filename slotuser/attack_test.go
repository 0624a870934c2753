//go:build cgo && unix

package slotuser_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/pkcs11"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// The user card records are public token objects (docs/pkcs11.md, "Slot user
// cards"): any program can add, change and delete them without a PIN. These
// tests are such a program, a second session on the token that never logs
// in (attacker.public checks it before every act), with an RSA key of its
// own.

// Constants of the record objects, as an attacker reads them off the token.
const (
	recordApp   = "hsmcards slot user card"
	recordLabel = "hsmcards-user-card:"
)

type attacker struct {
	t   *testing.T
	ctx *p11.Ctx
	s   p11.SessionHandle
	key *rsa.PrivateKey
	der []byte
}

func newAttacker(t *testing.T, module, label string) *attacker {
	t.Helper()
	c := p11.New(module)
	if err := c.Initialize(); err != nil && !errors.Is(err, p11.Error(p11.CKR_CRYPTOKI_ALREADY_INITIALIZED)) {
		t.Fatal(err)
	}
	slots, err := c.GetSlotList(true)
	if err != nil {
		t.Fatal(err)
	}
	a := &attacker{t: t, ctx: c}
	for _, sl := range slots {
		if ti, err := c.GetTokenInfo(sl); err == nil && ti.Label == label {
			if a.s, err = c.OpenSession(sl, p11.CKF_SERIAL_SESSION|p11.CKF_RW_SESSION); err != nil {
				t.Fatal(err)
			}
		}
	}
	if a.s == 0 {
		t.Fatalf("no token %q", label)
	}
	t.Cleanup(func() { c.CloseSession(a.s); c.Destroy() })
	if a.key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
		t.Fatal(err)
	}
	if a.der, err = x509.MarshalPKIXPublicKey(&a.key.PublicKey); err != nil {
		t.Fatal(err)
	}
	return a
}

// public fails the test unless the attacker's session is logged in as
// nobody.
func (a *attacker) public() {
	a.t.Helper()
	si, err := a.ctx.GetSessionInfo(a.s)
	if err != nil || si.State != p11.CKS_RW_PUBLIC_SESSION {
		a.t.Fatalf("the attacker's session is not a public one: state %d, %v", si.State, err)
	}
}

type object struct {
	h     p11.ObjectHandle
	value []byte
	card  hsm.UserCard
}

func (a *attacker) records() []object {
	a.t.Helper()
	a.public()
	if err := a.ctx.FindObjectsInit(a.s, []*p11.Attribute{p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA), p11.NewAttribute(p11.CKA_APPLICATION, recordApp)}); err != nil {
		a.t.Fatal(err)
	}
	hs, _, err := a.ctx.FindObjects(a.s, 100)
	if err != nil {
		a.t.Fatal(err)
	}
	a.ctx.FindObjectsFinal(a.s)
	var out []object
	for _, h := range hs {
		v, err := a.ctx.GetAttributeValue(a.s, h, []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, nil)})
		if err != nil {
			a.t.Fatal(err)
		}
		o := object{h: h, value: v[0].Value}
		o.card, _ = hsm.ParseUserCard(o.value)
		out = append(out, o)
	}
	return out
}

func (a *attacker) record(serial tcos.Serial) object {
	a.t.Helper()
	for _, o := range a.records() {
		if o.card.Serial == serial {
			return o
		}
	}
	a.t.Fatalf("no record for card %s", serial)
	return object{}
}

// plant adds a record as hsmcards would write it; label is its CKA_LABEL
// ("" for the one its serial gives).
func (a *attacker) plant(u hsm.UserCard, label string) {
	a.t.Helper()
	value, err := u.MarshalBinary()
	if err != nil {
		a.t.Fatal(err)
	}
	a.plantRaw(value, label, u.Serial)
}

func (a *attacker) plantRaw(value []byte, label string, serial [10]byte) {
	a.t.Helper()
	if label == "" {
		label = recordLabel + hex.EncodeToString(serial[:])
	}
	a.public()
	if _, err := a.ctx.CreateObject(a.s, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, false),
		p11.NewAttribute(p11.CKA_APPLICATION, recordApp),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_VALUE, value),
	}); err != nil {
		a.t.Fatal(err)
	}
}

// forge is a record of a card the attacker makes up, with its own key.
func (a *attacker) forge(gen uint64) hsm.UserCard {
	var serial [10]byte
	rand.Read(serial[:])
	return hsm.UserCard{Serial: serial, Label: "holder 1", Enrolled: time.Now().UTC(), PublicKey: a.der, WrappedPIN: bytes.Repeat([]byte{1}, 256), Generation: gen}
}

func (a *attacker) set(o object, u hsm.UserCard) {
	a.t.Helper()
	value, err := u.MarshalBinary()
	if err != nil {
		a.t.Fatal(err)
	}
	a.setRaw(o, value)
}

// setRaw replaces o's value. SoftHSM2 does not let anyone change a data
// object's CKA_VALUE (CKR_ATTRIBUTE_READ_ONLY), so it takes a delete and a
// create, which anyone may do.
func (a *attacker) setRaw(o object, value []byte) {
	a.t.Helper()
	a.destroy(o)
	a.plantRaw(value, "", o.card.Serial)
}

func (a *attacker) destroy(o object) {
	a.t.Helper()
	a.public()
	if err := a.ctx.DestroyObject(a.s, o.h); err != nil {
		a.t.Fatal(err)
	}
}

// loot is every PIN the attacker's key opens, from every record there is.
func (a *attacker) loot() [][]byte {
	var out [][]byte
	for _, o := range a.records() {
		if pin, err := rsa.DecryptOAEP(sha256.New(), nil, a.key, o.card.WrappedPIN, nil); err == nil {
			out = append(out, pin)
		}
	}
	return out
}

// noLoot fails the test if the attacker's key opens a record, or what it
// opens logs it in.
func (a *attacker) noLoot(spy *spySlot) {
	a.t.Helper()
	for _, pin := range a.loot() {
		a.t.Errorf("the attacker unwrapped a PIN from a record")
		for _, real := range spy.pins {
			if bytes.Equal(pin, real) {
				a.t.Fatal("the attacker holds a PIN the slot was given")
			}
		}
		if err := a.ctx.Login(a.s, p11.CKU_USER, string(pin)); err == nil {
			a.t.Fatal("the attacker logged in as the slot's user")
		}
	}
}

// attackRig is a SoftHSM2 user card slot with cards 1 and 2 enrolled, an
// attacker, and the cards' world.
type attackRig struct {
	t     *testing.T
	w     *world
	slot  *pkcs11.UserSlot
	spy   *spySlot
	a     *attacker
	sn    map[int]tcos.Serial
	first []byte // card 1's record when it was the only card
}

func newAttackRig(t *testing.T) *attackRig {
	t.Helper()
	module, _ := softHSM(t, "apps")
	r := &attackRig{t: t, w: newWorld(t, 4), sn: map[int]tcos.Serial{}}
	r.slot = openSlot(t, module, "apps", []byte(testSOPIN))
	r.spy = &spySlot{UserSlot: r.slot}
	r.a = newAttacker(t, module, "apps")
	r.sn[1] = r.w.enroll(r.spy, 1)
	r.first = r.a.record(r.sn[1]).value
	r.sn[2] = r.w.enroll(r.spy, 2)
	for i := 3; i <= 4; i++ {
		_, r.sn[i] = r.w.session(i)
	}
	return r
}

// TestPlantedRecordGetsNoPIN: a program with no PIN plants records with a
// key of its own, before the security officer enrolls a card, and between
// the plan and its confirmation. The new user PIN is never wrapped to its
// key, and the planted records are named and removed.
func TestPlantedRecordGetsNoPIN(t *testing.T) {
	r := newAttackRig(t)
	ctx := context.Background()
	recs, _ := slotuser.List(ctx, r.spy)
	gen := recs.Cards[0].Generation
	same, newer := r.a.forge(gen), r.a.forge(gen+1)
	r.a.plant(same, "")
	r.a.plant(newer, "")

	// A careless security officer confirms the cards shown, planted ones
	// and all.
	s3, _ := r.w.session(3)
	plan, err := slotuser.PrepareEnroll(ctx, r.spy, r.sn[3], s3, "holder 3", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Cards) != 5 {
		t.Fatalf("the plan shows %d cards, want 5 (two planted)", len(plan.Cards))
	}
	_, err = slotuser.Apply(ctx, r.spy, plan)
	var re *hsm.RecordsError
	if !errors.As(err, &re) {
		t.Fatalf("Apply = %v, want *hsm.RecordsError", err)
	}
	if len(re.Refused) != 2 || re.Refused[0].Reason != hsm.RefusedUnlisted || re.Refused[1].Reason != hsm.RefusedUnlisted || len(re.Kept) != 2 {
		t.Fatalf("RecordsError %+v: want the two planted records refused as unlisted, cards 1 and 2 kept", re)
	}
	for _, p := range []hsm.UserCard{same, newer} {
		if !strings.Contains(err.Error(), hsm.SerialString(p.Serial)) {
			t.Errorf("%q does not name planted card %s", err, hsm.SerialString(p.Serial))
		}
	}
	r.a.noLoot(r.spy)
	if n := len(r.a.records()); n != 2 {
		t.Fatalf("%d records after the refused change, want cards 1 and 2", n)
	}

	// Planted after the plan was shown: the change is made, the record goes.
	plan, err = slotuser.PrepareEnroll(ctx, r.spy, r.sn[3], s3, "holder 3", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	late := r.a.forge(gen + 5)
	r.a.plant(late, "")
	res, err := slotuser.Apply(ctx, r.spy, plan)
	if err != nil || len(res.Cards) != 3 || len(res.Removed) != 1 || res.Removed[0].Serial != late.Serial {
		t.Fatalf("Apply = %+v, %v; want 3 cards and the late record removed", res, err)
	}
	r.a.noLoot(r.spy)
	for i := 1; i <= 3; i++ {
		d, err := r.activateOK(i)
		if err != nil || !d.None() {
			t.Fatalf("card %d: %+v, %v", i, d, err)
		}
	}
}

// activateOK activates with card i and logs the slot out again (the
// attacker's session shares the login while it lasts).
func (r *attackRig) activateOK(i int) (hsm.Discrepancies, error) {
	r.t.Helper()
	s, sn := r.w.session(i)
	d, err := slotuser.Activate(context.Background(), r.spy, sn, s)
	if err == nil && !r.slot.Active() {
		r.t.Fatalf("card %d: activated, but the slot is not logged in", i)
	}
	r.logout()
	return d, err
}

func (r *attackRig) logout() {
	r.t.Helper()
	if err := r.slot.Logout(); err != nil {
		r.t.Fatal(err)
	}
}

// TestRecordTamperingIsNamed: each way a program with no PIN can spoil the
// records ends in a message that says what it can say, the next change of
// the slot's cards names the spoilt records and puts the slot right, and
// the attacker's key opens nothing.
func TestRecordTamperingIsNamed(t *testing.T) {
	tests := []struct {
		name   string
		tamper func(r *attackRig)
		// what activating with card 1 gives
		activate error
		// what it says about the other records, when it activates
		noted hsm.Refusal
		// the next change: enroll card 3 (false) or revoke card 2 (true)
		revoke bool
		// its outcome: a refused change naming these, or made, removing them
		refused, removed []hsm.Refusal
		missing          int
	}{{
		name:     "card 1's record deleted",
		tamper:   func(r *attackRig) { r.a.destroy(r.a.record(r.sn[1])) },
		activate: slotuser.ErrNotEnrolled,
		revoke:   true, missing: 1,
	}, {
		name:     "every record deleted",
		tamper:   func(r *attackRig) { r.a.destroy(r.a.record(r.sn[1])); r.a.destroy(r.a.record(r.sn[2])) },
		activate: slotuser.ErrNotEnrolled,
		missing:  2,
	}, {
		name:    "a newer generation planted",
		tamper:  func(r *attackRig) { r.a.plant(r.a.forge(99), "") },
		noted:   hsm.RefusedUnlisted,
		refused: []hsm.Refusal{hsm.RefusedUnlisted},
	}, {
		name: "a second record for card 1",
		tamper: func(r *attackRig) {
			u := r.a.forge(99)
			u.Serial = r.sn[1]
			r.a.plant(u, "")
		},
		activate: slotuser.ErrDuplicateRecords,
		refused:  []hsm.Refusal{hsm.RefusedAltered},
	}, {
		name: "card 1's key swapped",
		tamper: func(r *attackRig) {
			o := r.a.record(r.sn[1])
			o.card.PublicKey = r.a.der
			r.a.set(o, o.card)
		},
		activate: slotuser.ErrKeyChanged,
		refused:  []hsm.Refusal{hsm.RefusedAltered},
	}, {
		name: "card 1's wrap replaced by a PIN of the attacker's",
		tamper: func(r *attackRig) {
			o := r.a.record(r.sn[1])
			k, _ := x509.ParsePKIXPublicKey(o.card.PublicKey)
			o.card.WrappedPIN, _ = rsa.EncryptOAEP(sha256.New(), rand.Reader, k.(*rsa.PublicKey), []byte("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), nil)
			r.a.set(o, o.card)
		},
		activate: slotuser.ErrStaleRecord,
		removed:  []hsm.Refusal{hsm.RefusedAltered},
	}, {
		name: "card 1's wrap garbled",
		tamper: func(r *attackRig) {
			o := r.a.record(r.sn[1])
			rand.Read(o.card.WrappedPIN)
			r.a.set(o, o.card)
		},
		activate: slotuser.ErrWrapRefused,
		removed:  []hsm.Refusal{hsm.RefusedAltered},
	}, {
		name:     "card 1's record of before card 2 put back",
		tamper:   func(r *attackRig) { r.a.setRaw(r.a.record(r.sn[1]), r.first) },
		activate: slotuser.ErrStaleRecord,
		removed:  []hsm.Refusal{hsm.RefusedOutdated},
	}, {
		name:    "junk under the records' application",
		tamper:  func(r *attackRig) { r.a.plantRaw([]byte("\x1b[2J{not json"), "hsmcards-user-card:junk", [10]byte{}) },
		noted:   hsm.RefusedMalformed,
		removed: []hsm.Refusal{hsm.RefusedMalformed},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newAttackRig(t)
			ctx := context.Background()
			tt.tamper(r)

			d, err := r.activateOK(1)
			if !errors.Is(err, tt.activate) {
				t.Fatalf("activating with card 1: %v, want %v", err, tt.activate)
			}
			if err != nil && errors.Is(err, slotuser.ErrNotEnrolled) && !strings.Contains(err.Error(), "deleted") {
				t.Errorf("%q does not say the record may have been deleted", err)
			}
			if tt.noted != 0 && (len(d.Refused) != 1 || d.Refused[0].Reason != tt.noted) {
				t.Errorf("activating noted %+v, want one record refused as %v", d, tt.noted)
			}

			// The security officer's next change, confirmed as shown.
			recs, err := slotuser.List(ctx, r.spy)
			if err != nil {
				t.Fatal(err)
			}
			var plan *slotuser.Plan
			if tt.revoke {
				plan, err = slotuser.PlanRevoke(recs, r.sn[2])
			} else {
				s3, _ := r.w.session(3)
				plan, err = slotuser.PrepareEnroll(ctx, r.spy, r.sn[3], s3, "holder 3", time.Now())
			}
			if err != nil {
				t.Fatal(err)
			}
			res, err := slotuser.Apply(ctx, r.spy, plan)
			var re *hsm.RecordsError
			switch {
			case tt.refused != nil || tt.missing > 0:
				if !errors.As(err, &re) {
					t.Fatalf("the change: %+v, %v; want *hsm.RecordsError", res, err)
				}
				if len(re.Missing) != tt.missing || !reasons(re.Refused, tt.refused) || len(re.Kept) != 2 {
					t.Fatalf("RecordsError %+v; want refused %v, %d missing, cards 1 and 2 kept", re, tt.refused, tt.missing)
				}
				t.Logf("the change said: %v", err)
			default:
				if err != nil || !reasons(res.Removed, tt.removed) {
					t.Fatalf("the change: %+v, %v; want it made, removing %v", res, err, tt.removed)
				}
			}
			r.a.noLoot(r.spy)
			// Card 1 works again, and every record is the slot's own.
			if d, err := r.activateOK(1); err != nil || !d.None() {
				t.Fatalf("card 1 after the change: %+v, %v", d, err)
			}
		})
	}
}

func reasons(got []hsm.RefusedRecord, want []hsm.Refusal) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i].Reason != want[i] {
			return false
		}
	}
	return true
}

// Records an earlier hsmcards wrote (format 1, no list of the slot's own)
// cannot be told from planted ones: they are refused and named, and the
// next enrollment removes them.
func TestFormat1RecordsAreRefused(t *testing.T) {
	module, _ := softHSM(t, "apps")
	slot := openSlot(t, module, "apps", []byte(testSOPIN))
	a := newAttacker(t, module, "apps")
	w := newWorld(t, 2)
	old := a.forge(1)
	value, _ := old.MarshalBinary()
	value = bytes.Replace(bytes.Replace(value, []byte(`"v":2`), []byte(`"v":1`), 1), []byte(`"label":"holder 1",`), nil, 1)
	a.plantRaw(value, "", old.Serial)
	recs, err := slotuser.List(context.Background(), slot)
	if err != nil || len(recs.Cards) != 0 || len(recs.Refused) != 1 || recs.Refused[0].Reason != hsm.RefusedFormat1 {
		t.Fatalf("List = %+v, %v; want the format 1 record refused", recs, err)
	}
	s, sn := w.session(1)
	plan, err := slotuser.PrepareEnroll(context.Background(), slot, sn, s, "", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	res, err := slotuser.Apply(context.Background(), slot, plan)
	if err != nil || len(res.Cards) != 1 || len(res.Removed) != 1 || res.Removed[0].Reason != hsm.RefusedFormat1 {
		t.Fatalf("Apply = %+v, %v", res, err)
	}
}
