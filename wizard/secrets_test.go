package wizard

import (
	"encoding/hex"
	"fmt"
	"os"
	"strings"
	"testing"
)

// TestSecretsReachNoOutput runs whole ceremonies and card tools with known
// PINs and searches everything the program lets out — every screen, the APDU
// log, the audit trail — for the PINs, the Backup Key and its shares
// (docs/security.md, "The wizard"). Errors reach the operator only as screens and
// audit details, so they are searched there.
func TestSecretsReachNoOutput(t *testing.T) {
	r := newRig(t, 4)
	var screens []string
	r.screens = &screens

	const factory, newPIN, wrongPIN = "123456", "864209", "975310"
	r.install(0, "secret-hunt")
	cer := r.m.act.(*installOp)
	key := append([]byte(nil), cer.key.Bytes()...)
	var shares [][]byte
	for _, rec := range cer.records {
		shares = append(shares, append([]byte(nil), rec.Share...))
	}
	r.press("enter")
	r.card(1, wrongPIN) // a wrong PIN reaches the card and its error the screen
	r.press(factory, "enter")
	r.card(2, factory)
	r.card(3, factory)
	r.press("enter")
	r.card(1, factory)
	r.card(3, factory)
	r.expect("loaded into the simulated HSM")
	r.press("enter")

	r.choose("Change the Backup Key share PIN")
	r.card(2, factory)
	r.press(newPIN, "enter", newPIN, "enter")
	r.expect("changed")
	r.press("enter")

	r.choose("Copy a Backup Key share card")
	r.card(2, newPIN)
	r.card(4, factory)
	r.press("enter") // write the copy to the empty card
	r.expect("written")
	r.press("enter")

	r.choose("Load Backup Key")
	r.press("enter")
	r.card(4, factory)
	r.card(3, factory)
	r.expect("already holds this Backup Key")

	auditLog, err := os.ReadFile(r.auditPath)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{
		"screens":   strings.Join(screens, "\n"),
		"APDU log":  r.apdus(),
		"audit log": string(auditLog),
	}
	secrets := map[string][]byte{"factory PIN": []byte(factory), "new PIN": []byte(newPIN), "wrong PIN": []byte(wrongPIN), "key": key}
	for i, s := range shares {
		secrets[fmt.Sprintf("share %d", i+1)] = s
	}
	hits := 0
	for name, secret := range secrets {
		for _, form := range forms(secret) {
			for where, out := range outputs {
				if name == "factory PIN" && where == "screens" {
					continue // public (the appliance manual: "These PINs are preset to 123456"); the screen warns against it by name
				}
				if strings.Contains(strings.ToUpper(out), strings.ToUpper(form)) {
					t.Errorf("%s found in the %s (as %q)", name, where, form)
					hits++
				}
			}
		}
	}
	t.Logf("searched %d screens, %d bytes of APDU log, %d bytes of audit log for %d secrets: %d hits",
		len(screens), len(r.apdus()), len(auditLog), len(secrets), hits)
}

// forms are the ways a secret could be written out: as text (PINs are ASCII
// digits), as hex with and without spaces (the APDU log's form), and, for
// binary secrets, as any 8-byte window (a partial leak).
func forms(secret []byte) []string {
	var out []string
	isText := true
	for _, c := range secret {
		if c < '0' || c > '9' {
			isText = false
		}
	}
	if isText {
		out = append(out, string(secret))
	}
	spaced := func(b []byte) string {
		h := make([]string, len(b))
		for i, c := range b {
			h[i] = fmt.Sprintf("%02X", c)
		}
		return strings.Join(h, " ")
	}
	out = append(out, hex.EncodeToString(secret), spaced(secret))
	if !isText && len(secret) > 8 {
		for i := 0; i+8 <= len(secret); i++ {
			out = append(out, hex.EncodeToString(secret[i:i+8]), spaced(secret[i:i+8]))
		}
	}
	return out
}
