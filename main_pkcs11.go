package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/hsmcards/hsmcards/hsm"
)

// pinPrompt reads a PIN without echo; ok is false when it cannot ask (no
// terminal).
type pinPrompt func(prompt string) (pin []byte, ok bool, err error)

// terminalPIN asks on the controlling terminal, masked, before the wizard
// takes the screen.
func terminalPIN(stderr io.Writer) pinPrompt {
	return func(prompt string) ([]byte, bool, error) {
		fd := int(os.Stdin.Fd())
		if !term.IsTerminal(fd) {
			return nil, false, nil
		}
		fmt.Fprint(stderr, prompt)
		pin, err := term.ReadPassword(fd)
		fmt.Fprintln(stderr)
		if err != nil {
			return nil, true, fmt.Errorf("reading the PIN: %w", err)
		}
		return pin, true, nil
	}
}

// openHSM opens the HSM that --hsm chooses, with its slot for PKCS#11 user
// cards: the simulated HSM's own slot (state under --sim-dir), or for
// --hsm pkcs11 the token --pkcs11-user-token, if given. The token PIN comes
// from $HSMCARDS_PKCS11_PIN or is asked masked; the user card token's SO PIN
// (needed only to enroll and revoke) from $HSMCARDS_PKCS11_SO_PIN or asked
// masked, where an empty answer means activating only.
func openHSM(o *options, ask pinPrompt) (hsm.HSM, error) {
	switch o.hsm {
	case "sim":
		h, err := hsm.OpenSim(o.simDir)
		if err != nil {
			return nil, fmt.Errorf("opening the simulated HSM: %w", err)
		}
		slot, err := hsm.OpenSimUserSlot(o.simDir)
		if err != nil {
			h.Close()
			return nil, fmt.Errorf("opening the simulated HSM: %w", err)
		}
		return hsm.WithUserSlot(h, slot), nil
	case "pkcs11":
	default:
		return nil, fmt.Errorf("unknown HSM %q: use sim or pkcs11", o.hsm)
	}
	if o.pkcs11Module == "" {
		return nil, errors.New("--hsm pkcs11 needs --pkcs11-module PATH (e.g. /usr/lib/softhsm/libsofthsm2.so)")
	}
	sel, err := hsm.ParseTokenSelector(o.pkcs11Token)
	if err != nil {
		return nil, err
	}
	pin, ok := hsm.PINFromEnv()
	if !ok {
		pin, ok, err = ask(fmt.Sprintf("User PIN of PKCS#11 token %s (for the Backup Key): ", sel))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("no token PIN: set $%s or run hsmcards in a terminal", hsm.PKCS11PINEnv)
		}
	}
	h, err := hsm.OpenPKCS11(o.pkcs11Module, sel, pin)
	clear(pin)
	if err != nil {
		return nil, err
	}
	if o.pkcs11UserToken == "" {
		return h, nil
	}
	usel, err := hsm.ParseTokenSelector(o.pkcs11UserToken)
	if err != nil {
		h.Close()
		return nil, err
	}
	so, ok := soPINFromEnv()
	if !ok {
		if so, _, err = ask(fmt.Sprintf("SO PIN of PKCS#11 token %s, to enroll and revoke user cards (Enter: activate only): ", usel)); err != nil {
			h.Close()
			return nil, err
		}
	}
	slot, err := hsm.OpenPKCS11UserSlot(o.pkcs11Module, usel, so)
	clear(so)
	if err != nil {
		h.Close()
		return nil, err
	}
	return hsm.WithUserSlot(h, slot), nil
}

// soPINFromEnv returns $HSMCARDS_PKCS11_SO_PIN, if set and not empty.
func soPINFromEnv() ([]byte, bool) {
	v := os.Getenv(hsm.PKCS11SOPINEnv)
	return []byte(v), v != ""
}
