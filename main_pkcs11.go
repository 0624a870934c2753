package main

import (
	"context"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/pkcs11"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/wizard"
)

// configureHSM sets up the HSM that --hsm chooses, with its slot for PKCS#11
// user cards: the simulated HSM's own slot (state under --sim-dir), or for
// --hsm pkcs11 the token --pkcs11-user-token, if given.
//
// With $HSMCARDS_PKCS11_PIN set, the token is opened here (cfg.HSM), so an
// unattended run needs no terminal; the user card token's SO PIN then comes
// from $HSMCARDS_PKCS11_SO_PIN or is absent (activating only). Without it,
// cfg.HSM stays nil and cfg.OpenHSM opens the token with the PIN the
// operator types in the wizard, masked; the SO PIN is asked on the same
// screen unless $HSMCARDS_PKCS11_SO_PIN is set.
func configureHSM(cfg *wizard.Config, o *options) error {
	switch o.hsm {
	case "sim":
		h, err := hsm.OpenSim(o.simDir)
		if err != nil {
			return failWith(err, func(c string) i18n.Message { return i18n.CLIOpenSimHSM{Cause: c} })
		}
		slot, err := hsm.OpenSimUserSlot(o.simDir)
		if err != nil {
			h.Close()
			return failWith(err, func(c string) i18n.Message { return i18n.CLIOpenSimHSM{Cause: c} })
		}
		cfg.HSM = hsm.WithUserSlot(h, slot)
		cfg.HSMName = o.p.T(i18n.HSMSimulated) // its own Name is English
		return nil
	case "pkcs11":
	default:
		return fail(i18n.CLIUnknownHSM{HSM: o.hsm})
	}
	if o.pkcs11Module == "" {
		return fail(i18n.CLINeedsModule)
	}
	sel, err := pkcs11.ParseTokenSelector(o.pkcs11Token)
	if err != nil {
		return err
	}
	var usel *pkcs11.TokenSelector
	if o.pkcs11UserToken != "" {
		s, err := pkcs11.ParseTokenSelector(o.pkcs11UserToken)
		if err != nil {
			return err
		}
		usel = &s
	}
	open := pkcs11Opener(o.pkcs11Module, sel, usel)

	// The SO PIN leaves the environment (and every copy of it there) for
	// locked memory at once.
	so, err := secmem.FromEnv(hsm.PKCS11SOPINEnv)
	if err != nil {
		return failWith(err, func(c string) i18n.Message { return i18n.CLIEnvVar{Name: hsm.PKCS11SOPINEnv, Cause: c} })
	}
	pin, err := secmem.FromEnv(hsm.PKCS11PINEnv)
	if err != nil {
		return failWith(err, func(c string) i18n.Message { return i18n.CLIEnvVar{Name: hsm.PKCS11PINEnv, Cause: c} })
	}
	if pin == nil {
		cfg.OpenHSM, cfg.HSMName = open, tokenName(o.p, sel)
		if so != nil {
			// The SO PIN from the environment, the token PIN typed in.
			cfg.OpenHSM = func(ctx context.Context, pin, _ []byte) (hsm.HSM, error) {
				return open(ctx, pin, so.Bytes())
			}
		} else if usel != nil {
			cfg.SOPINFor = tokenName(o.p, *usel)
		}
		return nil
	}
	defer pin.Destroy()
	defer so.Destroy()
	cfg.HSM, err = open(context.Background(), pin.Bytes(), so.Bytes())
	return err
}

// pkcs11Opener opens the Backup Key's token sel with the user PIN pin and,
// when usel is set, the user card token usel with soPIN (empty: activating
// only). It keeps no copy of pin; the user card slot keeps its own of soPIN.
func pkcs11Opener(module string, sel pkcs11.TokenSelector, usel *pkcs11.TokenSelector) func(ctx context.Context, pin, soPIN []byte) (hsm.HSM, error) {
	return func(ctx context.Context, pin, soPIN []byte) (hsm.HSM, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		h, err := pkcs11.Open(module, sel, pin)
		if err != nil {
			return nil, err
		}
		if usel == nil {
			return h, nil
		}
		if len(soPIN) == 0 {
			soPIN = nil // activate only
		}
		slot, err := pkcs11.OpenUserSlot(module, *usel, soPIN)
		if err != nil {
			h.Close()
			return nil, err
		}
		return hsm.WithUserSlot(h, slot), nil
	}
}

// tokenName names a token for the wizard before it is open, the way the
// open token names itself ("PKCS#11 token LABEL").
func tokenName(p *i18n.Printer, sel pkcs11.TokenSelector) string {
	switch {
	case sel.BySlot:
		return p.T(i18n.HSMTokenSlot{Slot: sel.SlotID})
	case sel.Label != "":
		return p.T(i18n.HSMTokenLabel{Label: sel.Label})
	}
	return p.T(i18n.HSMTokenOnly)
}
