package simcard

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/internal/atomicfile"
	"github.com/hsmcards/hsmcards/tcos"
)

// Deck is a training deck: simulated cards that keep their state in a
// directory, one JSON file per card (card-01.json, card-02.json, …), so PIN
// tries, changed PINs and written shares survive a restart and a later "Load
// Backup Key" finds yesterday's shares.
type Deck struct {
	dir   string
	cards []*Card
}

const (
	cardPrefix = "card-"
	cardSuffix = ".json"
)

// OpenDeck opens the deck in dir, creating dir and the cards as needed: it
// loads every card there is and adds fresh cards (factory PINs, unique random
// serials) until there are at least n. It never deletes a card, and it
// refuses a deck it cannot read whole, naming the file: a card file that is
// missing from the numbering, unreadable, damaged or not a regular file. (A
// deck that skipped it would renumber the later cards, so that F2 inserts
// what was card 3, and add a blank card at the end.)
func OpenDeck(dir string, n int) (*Deck, error) {
	if n < 0 {
		return nil, fmt.Errorf("cannot open a deck of %d cards", n)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	paths, err := cardFiles(dir)
	if err != nil {
		return nil, err
	}
	d := &Deck{dir: dir}
	seen := map[tcos.Serial]string{}
	for _, path := range paths {
		c, err := loadCard(path)
		if err != nil {
			return nil, err
		}
		sn := c.Serial()
		if other, dup := seen[sn]; dup {
			return nil, fmt.Errorf("%s repeats the card serial %s of %s", path, sn, filepath.Base(other))
		}
		seen[sn] = path
		d.cards = append(d.cards, c)
	}
	for len(d.cards) < n {
		var sn tcos.Serial
		for {
			rand.Read(sn[:])
			if _, dup := seen[sn]; !dup {
				break
			}
		}
		path := filepath.Join(dir, cardName(len(d.cards)+1))
		seen[sn] = path
		c := New(sn)
		c.save = fileSaver(path)
		b, err := c.marshal()
		if err == nil {
			err = c.save(b)
		}
		if err != nil {
			return nil, err
		}
		d.cards = append(d.cards, c)
	}
	return d, nil
}

// cardName is card i's file name: card-01.json, card-02.json, …
func cardName(i int) string { return fmt.Sprintf("%s%02d%s", cardPrefix, i, cardSuffix) }

// cardFiles lists the paths of cards 1, 2, … in dir, in order. Every entry
// named like a card file must be one: card-NN.json, a regular file (or a
// link to one), numbered without gaps from 1.
func cardFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	byNum := map[int]string{}
	last := 0
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, cardPrefix) || !strings.HasSuffix(name, cardSuffix) {
			continue // the deck's own temporary files start with a dot
		}
		path := filepath.Join(dir, name)
		num, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, cardPrefix), cardSuffix))
		if err != nil || num < 1 || name != cardName(num) {
			return nil, fmt.Errorf("%s is not a card file of the deck (they are named card-01.json, card-02.json, …): move it away", path)
		}
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("card %d cannot be read: %w", num, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("card %d cannot be read: %s is not a regular file", num, path)
		}
		byNum[num] = path
		last = max(last, num)
	}
	paths := make([]string, last)
	for i := range paths {
		p, found := byNum[i+1]
		if !found {
			return nil, fmt.Errorf("card %d is missing: there is no %s, but the deck goes on to %s; put the file back (or rename the later cards' files down)",
				i+1, filepath.Join(dir, cardName(i+1)), cardName(last))
		}
		paths[i] = p
	}
	return paths, nil
}

// Cards are the deck's cards in file order: card 1 is what F1 inserts.
func (d *Deck) Cards() []*Card { return append([]*Card(nil), d.cards...) }

// SimulatedCards are Cards as the simulated reader takes them:
// cardio.NewSimReader(deck.SimulatedCards()).
func (d *Deck) SimulatedCards() []cardio.SimulatedCard {
	out := make([]cardio.SimulatedCard, len(d.cards))
	for i, c := range d.cards {
		out[i] = c
	}
	return out
}

// Dir is the deck's directory.
func (d *Deck) Dir() string { return d.dir }

func loadCard(path string) (*Card, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("%s is damaged: %w", path, err)
	}
	c := &Card{st: st, save: fileSaver(path)}
	c.reset()
	return c, nil
}

// fileSaver replaces the card's file atomically; a refusal is a
// *cardio.StorageError naming it.
func fileSaver(path string) func([]byte) error {
	return func(b []byte) error {
		if err := atomicfile.Write(path, b); err != nil {
			return &cardio.StorageError{Path: path, Err: err}
		}
		return nil
	}
}
