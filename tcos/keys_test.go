package tcos_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// slotUserSession is a session on a fresh card with the PKCS#11 slot PIN
// verified.
func slotUserSession(t *testing.T, log *bytes.Buffer) (*tcos.Session, *simcard.Card) {
	t.Helper()
	card := simcard.New(testSerial)
	r := readerWith(t, card)
	var s *tcos.Session
	if log != nil {
		s, _ = open(t, r, log)
	} else {
		s, _ = open(t, r, nil)
	}
	ctx := context.Background()
	if _, err := s.Identify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.VerifyPIN(ctx, tcos.SlotPKCS11, factoryPIN); err != nil {
		t.Fatal(err)
	}
	return s, card
}

func TestKeyPairDecipher(t *testing.T) {
	var log bytes.Buffer
	s, _ := slotUserSession(t, &log)
	ctx := context.Background()
	if _, err := s.ReadPublicKey(ctx); !errors.Is(err, tcos.ErrNoKeyPair) {
		t.Fatalf("ReadPublicKey before generation: %v, want ErrNoKeyPair", err)
	}
	if err := s.GenerateKeyPair(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := s.ReadPublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if pub.N.BitLen() != tcos.KeyBits || pub.E != 65537 {
		t.Fatalf("public key of %d bits, e=%d", pub.N.BitLen(), pub.E)
	}
	secret := []byte("0123456789abcdefghijklmnopqrstuv")
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	before := s.APDUs()
	pt, err := s.Decipher(ctx, ct)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pt, secret) {
		t.Fatalf("deciphered %q", pt)
	}
	// MSE SET + two chained parts.
	if n := s.APDUs() - before; n != 3 {
		t.Errorf("decipher took %d APDUs, want 3", n)
	}
	cmds := commandLines(log.String())
	last := cmds[len(cmds)-2:]
	if !strings.HasPrefix(last[0], "> 10 2A 80 86 FF 00 ") || !strings.HasPrefix(last[1], "> 00 2A 80 86 02 ") {
		t.Errorf("decipher chain sent as\n%s", strings.Join(last, "\n"))
	}
	if strings.Contains(log.String(), strings.ToUpper(spaced(secret))) {
		t.Error("the APDU log shows the deciphered secret")
	}
	if !strings.Contains(log.String(), strings.Repeat("** ", len(secret))+"90 00") {
		t.Errorf("the APDU log does not mask the deciphered response:\n%s", log.String())
	}
	// Another key pair: the old ciphertext no longer deciphers.
	if err := s.GenerateKeyPair(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Decipher(ctx, ct); !errors.Is(err, tcos.ErrWrongData) {
		t.Fatalf("decipher under a new key pair: %v, want ErrWrongData", err)
	}
}

func spaced(b []byte) string {
	var parts []string
	for _, x := range b {
		parts = append(parts, strings.ToUpper(string("0123456789abcdef"[x>>4])+string("0123456789abcdef"[x&15])))
	}
	return strings.Join(parts, " ")
}

func TestKeyPairNeedsPIN(t *testing.T) {
	card := simcard.New(testSerial)
	r := readerWith(t, card)
	s, _ := open(t, r, nil)
	ctx := context.Background()
	if err := s.GenerateKeyPair(ctx); !errors.Is(err, tcos.ErrSecurityStatus) {
		t.Fatalf("GenerateKeyPair without PIN: %v, want ErrSecurityStatus", err)
	}
	if err := s.VerifyPIN(ctx, tcos.SlotPKCS11, factoryPIN); err != nil {
		t.Fatal(err)
	}
	if err := s.GenerateKeyPair(ctx); err != nil {
		t.Fatal(err)
	}
	pub, err := s.ReadPublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, []byte("x"), nil)

	// A new step: the public key reads without PIN, the decipher does not.
	s, _ = reconnect(t, r, s)
	if _, err := s.ReadPublicKey(ctx); err != nil {
		t.Fatalf("ReadPublicKey without PIN: %v", err)
	}
	if _, err := s.Decipher(ctx, ct); !errors.Is(err, tcos.ErrSecurityStatus) {
		t.Fatalf("Decipher without PIN: %v, want ErrSecurityStatus", err)
	}
	if _, err := s.Decipher(ctx, ct[:100]); err == nil {
		t.Fatal("Decipher of a short ciphertext succeeded")
	}
}

func TestParsePublicKey(t *testing.T) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	good := tcos.MarshalPublicKey(&k.PublicKey)
	if len(good) != 270 {
		t.Errorf("encoded public key is %d bytes, want 270", len(good))
	}
	pub, err := tcos.ParsePublicKey(good)
	if err != nil || !pub.Equal(&k.PublicKey) {
		t.Fatalf("round trip: %v", err)
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	mut := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	for name, b := range map[string][]byte{
		"empty":         nil,
		"truncated":     good[:len(good)-1],
		"trailing":      append(bytes.Clone(good), 0),
		"wrong tag":     mut(func(b []byte) []byte { b[1] = 0x48; return b }),
		"even modulus":  mut(func(b []byte) []byte { b[len(b)-6] &^= 1; return b }),
		"even exponent": mut(func(b []byte) []byte { b[len(b)-1] = 0x02; return b }),
		"1024 bits":     tcos.MarshalPublicKey(&small.PublicKey),
		"swapped":       mut(func(b []byte) []byte { b[5], b[5+4+256] = 0x82, 0x81; return b }),
	} {
		if _, err := tcos.ParsePublicKey(b); !errors.Is(err, tcos.ErrPublicKeyFormat) {
			t.Errorf("%s: %v, want ErrPublicKeyFormat", name, err)
		}
	}
}

func FuzzParsePublicKey(f *testing.F) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tcos.MarshalPublicKey(&k.PublicKey))
	f.Add([]byte{0x7F, 0x49, 0x00})
	f.Add([]byte{0x7F, 0x49, 0x82, 0x01, 0x09, 0x81, 0x82, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := tcos.ParsePublicKey(b)
		if err != nil {
			return
		}
		// What parses re-encodes to the same bytes: one encoding per key.
		if !bytes.Equal(tcos.MarshalPublicKey(pub), b) {
			t.Fatalf("% X parsed but re-encodes differently", b)
		}
	})
}
