package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"time"

	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/vpcd"
)

var vpcdCommand = &command{
	name:    "vpcd",
	args:    i18n.HelpVPCDArgs,
	summary: i18n.HelpVPCDSummary,
	about:   i18n.HelpVPCDAbout,
	defineFn: func(fs *flagSet) runFunc {
		var o struct {
			simDir   string
			simCards flagDeckSize
			remote   bool
		}
		o.simCards = defaultDeck
		defineSimDir(fs, &o.simDir)
		fs.value(&o.simCards, "sim-cards", i18n.HelpFlagSimCards)
		fs.boolean(&o.remote, "allow-remote", i18n.HelpFlagAllowRemote)
		return func(e *env, args []string) error {
			if len(args) == 0 || len(args) > 2 {
				return usage("vpcd", i18n.CLIVPCDWhichCard)
			}
			card, err := strconv.Atoi(args[0])
			if err != nil || card < 1 {
				return usage("vpcd", i18n.CLIVPCDCardNumber{Arg: args[0]})
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
				fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIWarning{Warning: e.p.T(i18n.CLICoreDumps{Cause: describe(e.p, err)})}))
			}
			deck, release, err := openDeck(o.simDir, int(o.simCards), false)
			if err != nil {
				return err
			}
			defer release()
			cards := deck.Cards()
			if card > len(cards) {
				return usage("vpcd", i18n.CLIDeckRange{Count: len(cards), Card: card})
			}
			ctx, cancel := interrupted()
			defer cancel()
			served := cards[card-1]
			var lastHint i18n.Message
			return vpcd.Run(ctx, served, vpcd.Options{
				Addr:   addr,
				Remote: o.remote,
				// Said once the card is in the reader, and again after each
				// pcscd restart.
				Connected: func(addr string) {
					lastHint = nil
					fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIVPCDServing{Card: card, Serial: served.Serial().String(), Addr: addr}))
				},
				Lost: func(err error, retry time.Duration) {
					fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIVPCDLost{Cause: describe(e.p, err), Wait: retry.String()}))
					if h := hintOf(err); h != nil && h != lastHint {
						fmt.Fprintf(e.stderr, "hsmcards: %s\n", e.p.T(i18n.CLIHint{Hint: e.p.T(h)}))
						lastHint = h
					}
				},
			})
		}
	},
}

// checkVPCDAddr refuses an address that is not HOST:PORT, and one on another
// machine unless remote is set. Names other than localhost are not looked up:
// what a name resolves to can change under us.
func checkVPCDAddr(addr string, remote bool) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usage("vpcd", i18n.CLINotHostPort{Addr: addr})
	}
	if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return usage("vpcd", i18n.CLINotPort{Port: port})
	}
	if remote || host == "localhost" {
		return nil
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.Unmap().IsLoopback() {
		return nil
	}
	return &hinted{fail(i18n.CLIVPCDRemote{Addr: addr}), i18n.HintVPCDRemote}
}
