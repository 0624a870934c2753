package main

import (
	"io"
	"strings"
	"testing"
)

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
		{[]string{"vpcd", "--sim-dir", dir, "one"}, "usage: hsmcards vpcd"},
	} {
		err := run(tc.args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}
