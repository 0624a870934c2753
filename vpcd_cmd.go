package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"

	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/vpcd"
)

var vpcdCommand = &command{
	name:    "vpcd",
	args:    "CARD [HOST:PORT]",
	summary: "put a simulated card into pcscd's virtual reader (training)",
	about: "Serves card CARD of the training deck to pcscd's vpcd driver (Debian vsmartcard-vpcd), so that " +
		"the real PC/SC path (hsmcards --reader pcsc) works with simulated cards: the card appears in " +
		"\"Virtual PCD 00 00\" (port 35963; 35964 is \"Virtual PCD 00 01\") until ctrl+c takes it out. " +
		"The vpcd protocol is plain TCP: every APDU, PINs typed on the host included, crosses it in the clear, " +
		"so only a vpcd on this machine (localhost, 127.0.0.1, ::1) is served unless --allow-remote says otherwise. " +
		"The deck under --sim-dir is this process's while it runs; the wizard beside it may use the simulated HSM there.",
	defineFn: func(fs *flagSet) runFunc {
		var o struct {
			simDir   string
			simCards flagDeckSize
			remote   bool
		}
		o.simCards = defaultDeck
		defineSimDir(fs, &o.simDir)
		fs.value(&o.simCards, "sim-cards", "`N` cards (1 to 9) in a new simulated deck")
		fs.boolean(&o.remote, "allow-remote", "serve a vpcd on another machine too (its network sees every APDU, PINs included)")
		return func(e *env, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return &usageError{cmd: "vpcd", msg: "say which card to serve: hsmcards vpcd CARD [HOST:PORT]"}
			}
			card, err := strconv.Atoi(args[0])
			if err != nil || card < 1 {
				return &usageError{cmd: "vpcd", msg: fmt.Sprintf("CARD is a card number of the deck, not %q", args[0])}
			}
			addr := vpcd.DefaultAddr
			if len(args) == 2 {
				addr = args[1]
			}
			if err := checkVPCDAddr(addr, o.remote); err != nil {
				return err
			}
			// The simulated cards hold PINs and shares in this process's
			// memory too.
			if err := secmem.DisableCoreDumps(); err != nil {
				fmt.Fprintf(e.stderr, "hsmcards: warning: core dumps could not be turned off: %v\n", err)
			}
			deck, release, err := openDeck(o.simDir, int(o.simCards), false)
			if err != nil {
				return err
			}
			defer release()
			cards := deck.Cards()
			if card > len(cards) {
				return &usageError{cmd: "vpcd", msg: fmt.Sprintf("the deck has cards 1 to %d, not %d", len(cards), card)}
			}
			ctx, cancel := interrupted()
			defer cancel()
			fmt.Fprintf(e.stderr, "hsmcards: serving simulated card %d (%s) to vpcd at %s; ctrl+c takes it out\n", card, cards[card-1].Serial(), addr)
			return vpcd.Serve(ctx, addr, cards[card-1])
		}
	},
}

// checkVPCDAddr refuses an address that is not HOST:PORT, and one on another
// machine unless remote is set. Names other than localhost are not looked up:
// what a name resolves to can change under us.
func checkVPCDAddr(addr string, remote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return &usageError{cmd: "vpcd", msg: fmt.Sprintf("%q is not HOST:PORT", addr)}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return &usageError{cmd: "vpcd", msg: fmt.Sprintf("%q is not a port", port)}
	}
	if remote || host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return nil
	}
	return &hinted{fmt.Errorf("vpcd at %s is not on this machine: every APDU, PINs included, would cross the network in the clear", addr),
		"run pcscd with vpcd here and use localhost, or say --allow-remote if that network is yours alone"}
}
