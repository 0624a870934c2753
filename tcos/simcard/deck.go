package simcard

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
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
// serials) until there are at least n. It never deletes a card.
func OpenDeck(dir string, n int) (*Deck, error) {
	if n < 0 {
		return nil, fmt.Errorf("cannot open a deck of %d cards", n)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("simulated card deck: %w", err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("simulated card deck: %w", err)
	}
	type numbered struct {
		num  int
		name string
	}
	var found []numbered
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasPrefix(name, cardPrefix) || !strings.HasSuffix(name, cardSuffix) {
			continue
		}
		num, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(name, cardPrefix), cardSuffix))
		if err != nil || num < 1 {
			continue
		}
		found = append(found, numbered{num, name})
	}
	sort.Slice(found, func(i, j int) bool { return found[i].num < found[j].num })

	d := &Deck{dir: dir}
	seen := map[tcos.Serial]bool{}
	last := 0
	for _, f := range found {
		c, err := loadCard(filepath.Join(dir, f.name))
		if err != nil {
			return nil, err
		}
		sn := c.Serial()
		if seen[sn] {
			return nil, fmt.Errorf("simulated card deck: %s repeats card serial %s", f.name, sn)
		}
		seen[sn] = true
		d.cards = append(d.cards, c)
		last = f.num
	}
	for len(d.cards) < n {
		var sn tcos.Serial
		for {
			rand.Read(sn[:])
			if !seen[sn] {
				break
			}
		}
		seen[sn] = true
		last++
		c := New(sn)
		path := filepath.Join(dir, fmt.Sprintf("%s%02d%s", cardPrefix, last, cardSuffix))
		c.save = fileSaver(path)
		b, err := c.marshal()
		if err == nil {
			err = c.save(b)
		}
		if err != nil {
			return nil, fmt.Errorf("simulated card deck: %w", err)
		}
		d.cards = append(d.cards, c)
	}
	return d, nil
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
		return nil, fmt.Errorf("simulated card deck: %w", err)
	}
	var st state
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("simulated card deck: %s: %w", filepath.Base(path), err)
	}
	if err := st.validate(); err != nil {
		return nil, fmt.Errorf("simulated card deck: %s: %w", filepath.Base(path), err)
	}
	c := &Card{st: st, save: fileSaver(path)}
	c.reset()
	return c, nil
}

func fileSaver(path string) func([]byte) error {
	return func(b []byte) error { return atomicfile.Write(path, b) }
}
