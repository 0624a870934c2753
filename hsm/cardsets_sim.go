package hsm

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hsmcards/hsmcards/internal/atomicfile"
)

// SimCardSetsFile is the simulated HSM's card-set register inside its
// directory, beside hsm.json (docs/lifecycle.md, "Where the generation
// lives"). It holds nothing secret.
const SimCardSetsFile = "card-sets.json"

var _ CardSetRegister = (*Sim)(nil)

// CardSetsPath is the register's file, for the screen and for instructors.
func (s *Sim) CardSetsPath() string { return filepath.Join(s.dir, SimCardSetsFile) }

// CardSets reads the register; no file reads as an empty register.
func (s *Sim) CardSets(ctx context.Context) (CardSets, error) {
	if err := ctx.Err(); err != nil {
		return CardSets{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readCardSets()
}

func (s *Sim) readCardSets() (CardSets, error) {
	if s.closed {
		return CardSets{}, errSimClosed
	}
	b, err := os.ReadFile(s.CardSetsPath())
	if errors.Is(err, fs.ErrNotExist) {
		return CardSets{}, nil
	}
	if err != nil {
		return CardSets{}, fmt.Errorf("simulated HSM: %w", err)
	}
	c, err := ParseCardSets(b)
	if err != nil {
		return CardSets{}, fmt.Errorf("simulated HSM: %w", err)
	}
	return c, nil
}

// UpdateCardSets replaces the register if it is still at revision prev, in
// one atomic file replacement (temporary file, fsync, rename). The lock of
// the simulated HSM's directory keeps other processes out (docs/cli.md);
// the mutex keeps this one's goroutines in turn.
func (s *Sim) UpdateCardSets(ctx context.Context, prev uint64, next CardSets) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, err := s.readCardSets()
	if err != nil {
		return err
	}
	if cur.Revision != prev {
		return ErrCardSetsChanged
	}
	next.Revision = prev + 1
	b, err := next.MarshalBinary()
	if err != nil {
		return err
	}
	if err := atomicfile.Write(s.CardSetsPath(), append(b, '\n')); err != nil {
		return fmt.Errorf("simulated HSM: %w", err)
	}
	return nil
}
