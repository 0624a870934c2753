package hsm

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func testUserCard() UserCard {
	return UserCard{
		Serial:     [10]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		Label:      "Alice, ops",
		Enrolled:   time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC),
		PublicKey:  []byte{0x30, 0x82, 0x01, 0x22},
		WrappedPIN: bytes.Repeat([]byte{0xAB}, 256),
		Generation: 7,
		Format:     2,
	}
}

func TestUserCardRoundTrip(t *testing.T) {
	u := testUserCard()
	b, err := u.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseUserCard(b)
	if err != nil {
		t.Fatal(err)
	}
	if !SameCard(got, u) || got.Generation != 7 || got.Format != 2 || !bytes.Equal(got.WrappedPIN, u.WrappedPIN) {
		t.Fatalf("round trip: %+v", got)
	}
	v1 := strings.Replace(strings.Replace(string(b), `"v":2`, `"v":1`, 1), `"label":"Alice, ops",`, "", 1)
	if old, err := ParseUserCard([]byte(v1)); err != nil || old.Format != 1 || old.Label != "" {
		t.Errorf("a format 1 record: %+v, %v", old, err)
	}
	for name, s := range map[string]string{
		"version":          strings.Replace(string(b), `"v":2`, `"v":3`, 1),
		"v1 with label":    strings.Replace(string(b), `"v":2`, `"v":1`, 1),
		"v2 without label": strings.Replace(string(b), `"label":"Alice, ops",`, "", 1),
		"escape in label":  strings.Replace(string(b), `"Alice, ops"`, `"Alice\u001b[2J"`, 1),
		"bidi in label":    strings.Replace(string(b), `"Alice, ops"`, `"Alice\u202e"`, 1),
		"long label":       strings.Replace(string(b), `"Alice, ops"`, `"`+strings.Repeat("x", MaxCardLabel+1)+`"`, 1),
		"serial":           strings.Replace(string(b), `"0102030405060708090a"`, `"0102"`, 1),
		"unknown":          strings.Replace(string(b), `{`, `{"x":1,`, 1),
		"trailing":         string(b) + "{}",
		"no key":           strings.Replace(string(b), `"public_key":"MIIBIg=="`, `"public_key":""`, 1),
		"empty":            "",
	} {
		if _, err := ParseUserCard([]byte(s)); !errors.Is(err, ErrUserCardRecord) {
			t.Errorf("%s: %v, want ErrUserCardRecord", name, err)
		}
	}
}

func FuzzParseUserCard(f *testing.F) {
	b, _ := testUserCard().MarshalBinary()
	f.Add(b)
	f.Add([]byte(`{"v":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		u, err := ParseUserCard(b)
		if err != nil {
			return
		}
		if CheckCardLabel(u.Label) != nil {
			t.Fatalf("a parsed label %q does not pass CheckCardLabel", u.Label)
		}
		again, err := u.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseUserCard(again)
		if err != nil || !SameCard(u, v) || !bytes.Equal(v.WrappedPIN, u.WrappedPIN) || v.Generation != u.Generation {
			t.Fatalf("re-encoded record does not parse the same: %v", err)
		}
	})
}

func TestCheckCardLabel(t *testing.T) {
	for _, ok := range []string{"", "Alice", "Kasse 3 – Nachtschicht", strings.Repeat("é", MaxCardLabel)} {
		if err := CheckCardLabel(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{" Alice", "Alice ", "a\tb", "a\x1b[2Jb", "a\u202eb", "\xff", strings.Repeat("x", MaxCardLabel+1)} {
		if err := CheckCardLabel(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func card(serial byte, label string) UserCard {
	return UserCard{Serial: [10]byte{serial}, Label: label, Enrolled: time.Date(2026, 1, int(serial), 0, 0, 0, 0, time.UTC), PublicKey: []byte{serial}}
}

func TestApplyChange(t *testing.T) {
	a, b, c := card(1, "a"), card(2, "b"), card(3, "c")
	planted := card(9, "evil")
	relabelled := b
	relabelled.Label = "B"
	otherKey := b
	otherKey.PublicKey = []byte{0xEE}
	sb := b.Serial
	sPlanted := planted.Serial
	tests := []struct {
		name   string
		own    []UserCard
		change CardChange
		want   []UserCard
		ok     bool
	}{
		{"enroll", []UserCard{a, b}, CardChange{Enroll: &c, Confirmed: []UserCard{a, b, c}}, []UserCard{a, b, c}, true},
		{"first enrollment", nil, CardChange{Enroll: &a, Confirmed: []UserCard{a}}, []UserCard{a}, true},
		{"revoke", []UserCard{a, b, c}, CardChange{Revoke: &sb, Confirmed: []UserCard{a, c}}, []UserCard{a, c}, true},
		{"revoke the last", []UserCard{b}, CardChange{Revoke: &sb, Confirmed: nil}, nil, true},
		{"order does not matter", []UserCard{a, b}, CardChange{Enroll: &c, Confirmed: []UserCard{c, b, a}}, []UserCard{a, b, c}, true},
		{"a planted card confirmed", []UserCard{a}, CardChange{Enroll: &c, Confirmed: []UserCard{a, planted, c}}, []UserCard{a}, false},
		{"a deleted card not shown", []UserCard{a, b}, CardChange{Enroll: &c, Confirmed: []UserCard{a, c}}, []UserCard{a, b}, false},
		{"a record relabelled", []UserCard{a, b}, CardChange{Enroll: &c, Confirmed: []UserCard{a, relabelled, c}}, []UserCard{a, b}, false},
		{"a record's key swapped", []UserCard{a, b}, CardChange{Enroll: &c, Confirmed: []UserCard{a, otherKey, c}}, []UserCard{a, b}, false},
		{"revoking a planted card", []UserCard{a}, CardChange{Revoke: &sPlanted, Confirmed: []UserCard{a}}, []UserCard{a}, true},
		{"revoking a planted card, another deleted", []UserCard{a, b}, CardChange{Revoke: &sPlanted, Confirmed: []UserCard{a}}, []UserCard{a, b}, false},
		{"enrolling a listed card", []UserCard{a, b}, CardChange{Enroll: &b, Confirmed: []UserCard{a, b}}, []UserCard{a, b}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ApplyChange(tt.own, tt.change)
			if ok != tt.ok || len(got) != len(tt.want) {
				t.Fatalf("ApplyChange = %v, %v; want %v, %v", got, ok, tt.want, tt.ok)
			}
			for i := range got {
				if !SameCard(got[i], tt.want[i]) {
					t.Fatalf("card %d: %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

// testRSA is a key for the PIN wraps of the simulated slot's tests.
func testRSA(t *testing.T) (*rsa.PrivateKey, []byte) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, der
}

func TestSimUserSlot(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := OpenSimUserSlot(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Login(ctx, []byte("anything")); !errors.Is(err, ErrNoUserPIN) {
		t.Fatalf("Login before any card: %v", err)
	}
	key, der := testRSA(t)
	a := card(1, "a")
	a.PublicKey = der
	pin := []byte("Zq3sV9xK2mPa7Lr5Tn8Wc4Yb6Hd1Fg0J")
	res, err := s.Change(ctx, pin, CardChange{Enroll: &a, Confirmed: []UserCard{a}})
	if err != nil || len(res.Cards) != 1 {
		t.Fatalf("Change = %+v, %v", res, err)
	}
	got, err := rsa.DecryptOAEP(sha256.New(), nil, key, res.Cards[0].WrappedPIN, nil)
	if err != nil || !bytes.Equal(got, pin) {
		t.Fatalf("the wrap does not open to the PIN: %v", err)
	}
	recs, err := s.Records(ctx)
	if err != nil || len(recs.Cards) != 1 || !SameCard(recs.Cards[0], a) || recs.Cards[0].Generation != 1 {
		t.Fatalf("Records = %+v, %v", recs, err)
	}
	if err := s.Login(ctx, []byte("wrong")); !errors.Is(err, ErrWrongPIN) || s.Active() {
		t.Fatalf("wrong PIN: %v, active %v", err, s.Active())
	}
	if err := s.Login(ctx, pin); err != nil || !s.Active() {
		t.Fatalf("right PIN: %v, active %v", err, s.Active())
	}
	if d, err := s.Audit(ctx); err != nil || !d.None() {
		t.Fatalf("Audit = %+v, %v", d, err)
	}
	// A change confirmed from other records than the slot's makes none.
	b := card(2, "b")
	b.PublicKey = der
	if _, err := s.Change(ctx, []byte("another-pin-another-pin-another-"), CardChange{Enroll: &b, Confirmed: []UserCard{b}}); !errors.As(err, new(*RecordsError)) {
		t.Fatalf("a change from other records: %v, want *RecordsError", err)
	}
	if recs, _ := s.Records(ctx); len(recs.Cards) != 1 || !SameCard(recs.Cards[0], a) {
		t.Fatalf("after a refused change the slot holds %+v", recs)
	}
	raw, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, pin) {
		t.Fatal("the state file holds the user PIN")
	}
	if err := os.WriteFile(s.Path(), []byte(`{"format":1,"user_pin":null,"cards":[{"v":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Records(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
	s.Close()
	if _, err := s.Records(ctx); err == nil {
		t.Fatal("Records after Close succeeded")
	}
}

func TestUserSlotOf(t *testing.T) {
	h, err := OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := UserSlotOf(h); ok {
		t.Fatal("a bare HSM has a user slot")
	}
	slot, _ := OpenSimUserSlot(t.TempDir())
	w := WithUserSlot(h, slot)
	if got, ok := UserSlotOf(w); !ok || got != UserSlot(slot) {
		t.Fatal("UserSlotOf lost the slot")
	}
	if w.Name() != h.Name() {
		t.Fatal("the wrapper changed the HSM's name")
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := slot.Records(context.Background()); err == nil {
		t.Fatal("closing the HSM left the slot open")
	}
}
