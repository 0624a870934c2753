package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"

	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/vpcd"
)

// runVPCD serves one card of the training deck to pcscd's vpcd driver, so the
// real PC/SC path (`--reader pcsc`) can be used with simulated cards.
// Connecting inserts the card into "Virtual PCD 00 00"; stopping removes it.
func runVPCD(args []string, stderr io.Writer) error {
	o, fs, err := parseFlags("hsmcards vpcd", args, stderr)
	if err != nil {
		return err
	}
	card := 1
	addr := "localhost:35963"
	if fs.NArg() > 0 {
		if card, err = strconv.Atoi(fs.Arg(0)); err != nil {
			return fmt.Errorf("usage: hsmcards vpcd [--sim-dir DIR] CARD [HOST:PORT]")
		}
	}
	if fs.NArg() > 1 {
		addr = fs.Arg(1)
	}
	deck, err := simcard.OpenDeck(filepath.Join(o.simDir, "cards"), o.simCards)
	if err != nil {
		return fmt.Errorf("opening the simulated deck: %w", err)
	}
	cards := deck.Cards()
	if card < 1 || card > len(cards) {
		return fmt.Errorf("the deck has cards 1 to %d, not %d", len(cards), card)
	}
	ctx, cancel := interrupted()
	defer cancel()
	fmt.Fprintf(stderr, "serving simulated card %d (%s) to vpcd at %s; ctrl+c takes it out\n", card, cards[card-1].Serial(), addr)
	return vpcd.Serve(ctx, addr, cards[card-1])
}
