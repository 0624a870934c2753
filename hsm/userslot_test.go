package hsm

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

func testUserCard() UserCard {
	return UserCard{
		Serial:     [10]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
		Enrolled:   time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC),
		PublicKey:  []byte{0x30, 0x82, 0x01, 0x22},
		WrappedPIN: bytes.Repeat([]byte{0xAB}, 256),
		Generation: 7,
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
	if got.Serial != u.Serial || !got.Enrolled.Equal(u.Enrolled) || got.Generation != 7 ||
		!bytes.Equal(got.PublicKey, u.PublicKey) || !bytes.Equal(got.WrappedPIN, u.WrappedPIN) {
		t.Fatalf("round trip: %+v", got)
	}
	for name, s := range map[string]string{
		"version":  strings.Replace(string(b), `"v":1`, `"v":2`, 1),
		"serial":   strings.Replace(string(b), `"0102030405060708090a"`, `"0102"`, 1),
		"unknown":  strings.Replace(string(b), `{`, `{"x":1,`, 1),
		"trailing": string(b) + "{}",
		"no key":   strings.Replace(string(b), `"public_key":"MIIBIg=="`, `"public_key":""`, 1),
		"empty":    "",
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
		again, err := u.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		v, err := ParseUserCard(again)
		if err != nil || v.Serial != u.Serial || !bytes.Equal(v.WrappedPIN, u.WrappedPIN) || !v.Enrolled.Equal(u.Enrolled) {
			t.Fatalf("re-encoded record does not parse the same: %v", err)
		}
	})
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
	pin := []byte("Zq3sV9xK2mPa7Lr5Tn8Wc4Yb6Hd1Fg0J")
	old, cur := testUserCard(), testUserCard()
	old.Serial[0], old.Generation = 9, 6
	if err := s.SetUserCards(ctx, pin, []UserCard{old, cur}); err != nil {
		t.Fatal(err)
	}
	cards, err := s.UserCards(ctx)
	if err != nil || len(cards) != 1 || cards[0].Serial != cur.Serial {
		t.Fatalf("UserCards = %v, %v; want only the newest generation", cards, err)
	}
	if err := s.Login(ctx, []byte("wrong")); !errors.Is(err, ErrWrongPIN) || s.Active() {
		t.Fatalf("wrong PIN: %v, active %v", err, s.Active())
	}
	if err := s.Login(ctx, pin); err != nil || !s.Active() {
		t.Fatalf("right PIN: %v, active %v", err, s.Active())
	}
	b, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, pin) {
		t.Fatal("the state file holds the user PIN")
	}
	if err := os.WriteFile(s.Path(), []byte(`{"format":1,"user_pin":null,"cards":[{"v":1}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserCards(ctx); err == nil || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("damaged file: %v", err)
	}
	s.Close()
	if _, err := s.UserCards(ctx); err == nil {
		t.Fatal("UserCards after Close succeeded")
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
	if _, err := slot.UserCards(context.Background()); err == nil {
		t.Fatal("closing the HSM left the slot open")
	}
}
