package simcard

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/tcos"
)

const (
	selUser   = "00 A4 08 0C 02 4C 00"
	genKey    = "00 46 00 00 02 08 00"
	mseSet    = "00 22 41 B8 06 80 01 0A 84 01 01"
	readPub   = "00 B0 00 00 00"
	selPubKey = "00 A4 09 0C 02 4C 01"
)

// keyCard is a card with a generated slot user key pair, DF 4C00 current and
// verified; it returns the public key.
func keyCard(t *testing.T) (*Card, *rsa.PublicKey) {
	t.Helper()
	c := New(testSerial)
	runScript(t, c, []step{{selUser, "90 00"}, {verifyPIN, "90 00"}, {genKey, "90 00"}})
	pub, err := tcos.ParsePublicKey(c.st.PubKey)
	if err != nil {
		t.Fatal(err)
	}
	return c, pub
}

// decipherAPDUs is PSO DECIPHER of ct in a two-part chain.
func decipherAPDUs(ct []byte) (first, last []byte) {
	data := append([]byte{0x00}, ct...)
	first = append([]byte{0x10, 0x2A, 0x80, 0x86, 0xFF}, data[:255]...)
	last = append([]byte{0x00, 0x2A, 0x80, 0x86, byte(len(data) - 255)}, data[255:]...)
	return first, append(last, 0x00)
}

func TestKeyScripts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script []step
	}{
		{"generation needs the slot PIN", []step{
			{genKey, "69 82"},
			{selUser, "90 00"},
			{genKey, "69 82"},
			{selShare, "90 00"},
			{verifyPIN, "90 00"},
			{genKey, "69 82"}, // the Backup Key PIN does not count
			{selUser, "90 00"},
			{verifyPIN, "90 00"},
			{"00 46 00 00 02 04 00", "6A 80"}, // 1024 bits: not offered
			{"00 46 00 00 01 08", "67 00"},
			{"00 46 01 00 02 08 00", "6A 86"},
		}},
		{"no key pair yet", []step{
			{selUser, "90 00"},
			{selPubKey, "90 00"},
			{readPub, "6A 88"},
			{mseSet, "6A 88"},
			{verifyPIN, "90 00"},
			{"00 2A 80 86 02 00 00 00", "6A 88"},
		}},
		{"MSE SET", []step{
			{selUser, "90 00"},
			{"00 22 41 B8 03 80 01 01", "6A 80"},          // other algorithm
			{"00 22 41 B8 06 80 01 0A 84 01 02", "6A 88"}, // other key
			{"00 22 41 B8 06 80 01 0A 85 01 01", "6A 80"}, // unknown tag
			{"00 22 41 B8 05 80 01 0A 84 01", "6A 80"},    // truncated
			{"00 22 41 A4 06 80 01 0A 84 01 01", "6A 86"}, // authentication template
		}},
		{"chaining", []step{
			{"10 B0 00 00 01", "68 84"}, // READ BINARY cannot be chained
			{selUser, "90 00"},
			{"10 2A 80 86 01 00", "69 82"}, // PIN first
			{verifyPIN, "90 00"},
			{"10 2A 80 86 01 00", "90 00"},
			{"00 20 00 81", "68 83"}, // the chain expects its last command
			{status, "90 00"},        // and is gone after that
			{"10 2A 80 86 01 00", "90 00"},
			{"10 2A 80 84 01 00", "68 83"},
			{"10 2A 80 86 01 00", "90 00"},
			{"reset", ""},
			{"00 2A 80 86 01 00", "69 82"}, // reset ends the chain and the PIN state
		}},
	} {
		t.Run(tc.name, func(t *testing.T) { runScript(t, New(testSerial), tc.script) })
	}
}

func TestDecipher(t *testing.T) {
	c, pub := keyCard(t)
	secret := []byte("slot user PIN, 32 bytes long....")
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, secret, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, last := decipherAPDUs(ct)
	send := func(apdu []byte) []byte { return c.Process(apdu) }

	if got := send(first); !bytes.Equal(got, []byte{0x90, 0x00}) {
		t.Fatalf("first part: % X", got)
	}
	if got := send(last); !bytes.Equal(got, []byte{0x69, 0x85}) {
		t.Fatalf("without MSE SET: % X, want 6985", got)
	}
	runScript(t, c, []step{{mseSet, "90 00"}})
	send(first)
	if got := send(last); !bytes.Equal(got, append(bytes.Clone(secret), 0x90, 0x00)) {
		t.Fatalf("decipher: % X", got)
	}

	// Without Le: the plaintext waits for GET RESPONSE.
	send(first)
	got := send(last[:len(last)-1])
	if !bytes.Equal(got, []byte{0x61, byte(len(secret))}) {
		t.Fatalf("decipher without Le: % X", got)
	}
	if got := send(hx(t, "00 C0 00 00 20")); !bytes.Equal(got[:len(got)-2], secret) {
		t.Fatalf("GET RESPONSE: % X", got)
	}

	// One extended APDU carries the whole cryptogram, as OpenSC sends it.
	ext := append([]byte{0x00, 0x2A, 0x80, 0x86, 0x00, 0x01, 0x01, 0x00}, ct...)
	if got := send(append(ext, 0x00, 0x00)); !bytes.Equal(got, append(bytes.Clone(secret), 0x90, 0x00)) {
		t.Fatalf("extended decipher: % X", got)
	}

	bad := bytes.Clone(ct)
	bad[10] ^= 1
	for name, tc := range map[string]struct {
		data []byte
		want string
	}{
		"tampered":        {append([]byte{0}, bad...), "6A 80"},
		"padding byte":    {append([]byte{1}, ct...), "6A 80"},
		"short":           {append([]byte{0}, ct[1:]...), "67 00"},
		"no padding byte": {append(bytes.Clone(ct), 0), "6A 80"},
	} {
		body := tc.data
		send(append([]byte{0x10, 0x2A, 0x80, 0x86, 0xFF}, body[:255]...))
		rest := body[255:]
		got := send(append(append([]byte{0x00, 0x2A, 0x80, 0x86, byte(len(rest))}, rest...), 0x00))
		if want := hx(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%s: % X, want % X", name, got, want)
		}
	}
	// Leaving the DF drops the PIN and the security environment.
	runScript(t, c, []step{{"00 A4 08 0C 02 4B 00", "90 00"}, {selUser, "90 00"}})
	send(first)
	if got := send(last); !bytes.Equal(got, []byte{0x69, 0x82}) {
		t.Fatalf("after leaving the DF: % X, want 6982", got)
	}
}

// TestPrivateKeyUnreadable tries every file the card could name: only the
// public key (and the profile's other EFs) can be selected, and no read
// returns a byte of the private key.
func TestPrivateKeyUnreadable(t *testing.T) {
	c, _ := keyCard(t)
	k, err := x509.ParsePKCS1PrivateKey(c.st.Key)
	if err != nil {
		t.Fatal(err)
	}
	// Fragments of the private key that must show up in no response.
	secrets := [][]byte{k.D.Bytes()[:16], k.Primes[0].Bytes()[:16], k.Primes[1].Bytes()[:16], c.st.Key[:32]}
	check := func(what string, resp []byte) {
		t.Helper()
		for _, s := range secrets {
			if bytes.Contains(resp, s) {
				t.Fatalf("%s returned private key material", what)
			}
		}
	}
	var found []string
	for fid := 0; fid <= 0xFFFF; fid++ {
		runScript(t, c, []step{{selUser, "90 00"}, {verifyPIN, "90 00"}})
		cmd := []byte{0x00, 0xA4, 0x02, 0x04, 0x02, byte(fid >> 8), byte(fid), 0x00}
		resp := c.Process(cmd)
		check("SELECT", resp)
		if resp[len(resp)-2] == 0x90 {
			found = append(found, strings.ToUpper(hex.EncodeToString(cmd[5:7])))
			for off := 0; off < 0x200; off += 0x100 {
				r := c.Process([]byte{0x00, 0xB0, byte(off >> 8), 0x00, 0x00})
				check("READ BINARY", r)
				r = c.Process([]byte{0x00, 0xB0, byte(off >> 8), 0x00, 0x00, 0x00, 0x00})
				check("extended READ BINARY", r)
			}
		}
	}
	if strings.Join(found, ",") != "4C01" {
		t.Fatalf("EFs in DF 4C00: %v, want only 4C01", found)
	}
	runScript(t, c, []step{{selUser, "90 00"}, {verifyPIN, "90 00"}})
	for sfi := 1; sfi < 31; sfi++ {
		resp := c.Process([]byte{0x00, 0xB0, 0x80 | byte(sfi), 0x00, 0x00})
		check("READ BINARY by SFI", resp)
		if !bytes.Equal(resp, []byte{0x6A, 0x82}) {
			t.Errorf("READ BINARY SFI %d: % X, want 6A82", sfi, resp)
		}
	}
	check("LIST FILES", c.Process(hx(t, "80 AA 02 00 00")))
	// Selection by DF name finds the two slot DFs and nothing else.
	var named []string
	for b := 0; b <= 0xFF; b++ {
		for _, p2 := range []byte{0x04, 0x06} {
			resp := c.Process([]byte{0x00, 0xA4, 0x04, p2, 0x01, byte(b), 0x00})
			check("SELECT by name", resp)
			if resp[len(resp)-2] == 0x90 {
				named = append(named, fmt.Sprintf("%02X:% X", b, resp[7:9])) // 62 L 82 01 38 83 02 FID
			}
		}
	}
	if strings.Join(named, ",") != "F0:4B 00,F0:4C 00" {
		t.Fatalf("DFs found by name: %v", named)
	}
	runScript(t, c, []step{{"80 AA 02 00 00", "4C 01 90 00"}})
	// The public key file cannot be written.
	runScript(t, c, []step{{selPubKey, "90 00"}, {"00 D6 00 00 01 00", "69 82"}})
}

// TestPublicKeyExtendedRead: EF 4C01 is longer than one short response; an
// extended Le reads it whole, as OpenSC does.
func TestPublicKeyExtendedRead(t *testing.T) {
	c, _ := keyCard(t)
	pub := bytes.Clone(c.st.PubKey)
	if len(pub) <= maxNeShort {
		t.Fatalf("public key EF of %d bytes: no test of extended reads", len(pub))
	}
	runScript(t, c, []step{{selPubKey, "90 00"}})
	n := len(pub)
	for _, tc := range []struct {
		cmd  []byte
		want []byte
	}{
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00, byte(n >> 8), byte(n)}, append(bytes.Clone(pub), 0x90, 0x00)},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00, 0x00, 0x00}, append(bytes.Clone(pub), 0x62, 0x82)},
		{[]byte{0x00, 0xB0, 0x00, 0x00, 0x00}, append(bytes.Clone(pub[:256]), 0x90, 0x00)}, // short: 256 at most
		{[]byte{0x00, 0xB0, 0x01, 0x00, 0x00, 0x00, 0x00}, append(bytes.Clone(pub[256:]), 0x62, 0x82)},
	} {
		if got := c.Process(tc.cmd); !bytes.Equal(got, tc.want) {
			t.Errorf("% X:\n got % X\nwant % X", tc.cmd, got, tc.want)
		}
	}
	// The FCP tells the size, so a host knows what Le to send.
	fcp := c.Process(hx(t, "00 A4 09 04 02 4C 01 00"))
	if want := []byte{0x80, 0x02, byte(n >> 8), byte(n)}; !bytes.Equal(fcp[2:6], want) {
		t.Fatalf("FCP % X: size not % X", fcp, want)
	}
}

func TestKeyPairPersists(t *testing.T) {
	dir := t.TempDir()
	d, err := OpenDeck(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	c := d.Cards()[0]
	runScript(t, c, []step{{selUser, "90 00"}, {verifyPIN, "90 00"}, {genKey, "90 00"}})
	pub := bytes.Clone(c.st.PubKey)

	d2, err := OpenDeck(dir, 1)
	if err != nil {
		t.Fatal(err)
	}
	c2 := d2.Cards()[0]
	if !bytes.Equal(c2.st.PubKey, pub) {
		t.Fatal("the key pair did not survive a restart")
	}
	// A tampered public key is refused at load time.
	path := filepath.Join(dir, "card-01.json")
	b, _ := os.ReadFile(path)
	var other []byte
	{
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		other = tcos.MarshalPublicKey(&k.PublicKey)
	}
	enc := func(x []byte) string { // encoding/json writes []byte as base64
		j, _ := jsonBytes(x)
		return j
	}
	b2 := strings.Replace(string(b), enc(pub), enc(other), 1)
	if b2 == string(b) {
		t.Fatal("public key not found in the card file")
	}
	if err := os.WriteFile(path, []byte(b2), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenDeck(dir, 1); err == nil || !strings.Contains(err.Error(), "public key does not match") {
		t.Fatalf("OpenDeck with a swapped public key: %v", err)
	}
}

func jsonBytes(x []byte) (string, error) {
	b, err := json.Marshal(x)
	return string(b), err
}
