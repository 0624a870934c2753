package main

import (
	"io"
	"strings"
	"testing"
)

func quiet() *env { return &env{stdout: io.Discard, stderr: io.Discard} }

// The command line refuses what it cannot do, in words, before any terminal
// UI starts.
func TestCommandLineRefusals(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sim-dir", dir, "--reader", "usb"}, `unknown reader "usb"`},
		{[]string{"--sim-dir", dir, "--hsm", "cloud"}, `unknown HSM "cloud"`},
		{[]string{"--sim-dir", dir, "--pin-timeout", "0s"}, "must be more than zero"},
		{[]string{"--sim-dir", dir, "extra"}, `unexpected argument "extra"`},
		{[]string{"vpcd", "--sim-dir", t.TempDir(), "--sim-cards", "2", "7"}, "the deck has cards 1 to 2, not 7"},
		{[]string{"vpcd", "--sim-dir", dir, "one"}, `CARD is a card number of the deck, not "one"`},
	} {
		err := run(tc.args, quiet())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
