package cardio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
)

// SimReader is a simulated reader holding a deck of SimulatedCards, one of
// which at a time can be in it. It behaves like a PC/SC reader: Connect
// resets the card, a card pulled during a step makes Transmit fail with
// ErrCardRemoved, and only one connection is open at a time. It has no
// secure PIN pad: the wizard's keyboard is the pad.
type SimReader struct {
	mu       sync.Mutex
	cards    []SimulatedCard
	inserted int           // 1-based index of the card in the reader, 0: empty
	gen      uint64        // bumped on every insertion and removal
	changed  chan struct{} // closed and replaced on every state change
	conn     *simCard      // the open connection, if any
	closed   bool
	faults   *Faults // fault layer (fault.go), nil until asked for
}

// NewSimReader returns an empty simulated reader for cards.
func NewSimReader(cards []SimulatedCard) *SimReader {
	return &SimReader{cards: append([]SimulatedCard(nil), cards...), changed: make(chan struct{})}
}

// errReaderClosed is returned after Close.
var errReaderClosed = fmt.Errorf("%w: the simulated reader is closed", ErrReaderGone)

// Name is the reader's name.
func (r *SimReader) Name() string { return "Simulated reader" }

// Len is the number of cards in the deck.
func (r *SimReader) Len() int { return len(r.cards) }

// Inserted is the 1-based number of the card in the reader, 0 when empty.
func (r *SimReader) Inserted() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.inserted
}

// Insert puts card i (1-based) into the reader, taking out any card that is
// in it first (even card i itself: that is a removal and a new insertion).
func (r *SimReader) Insert(i int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.gone(); err != nil {
		return err
	}
	if i < 1 || i > len(r.cards) {
		return fmt.Errorf("there is no simulated card %d", i)
	}
	r.takeOut()
	r.inserted = i
	r.cards[i-1].Reset() // power on
	r.notify()
	return nil
}

// Remove takes the card out of the reader, if there is one.
func (r *SimReader) Remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.inserted == 0 {
		return
	}
	r.takeOut()
	r.notify()
}

// takeOut powers the card in the reader down. Call with r.mu held.
func (r *SimReader) takeOut() {
	if r.inserted != 0 {
		r.cards[r.inserted-1].Reset()
		r.inserted = 0
	}
}

// notify wakes every waiter and marks a new card generation, which makes any
// open connection stale. Call with r.mu held.
func (r *SimReader) notify() {
	r.gen++
	close(r.changed)
	r.changed = make(chan struct{})
}

// Present reports whether a card is in the reader.
func (r *SimReader) Present(ctx context.Context) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.gone(); err != nil {
		return false, err
	}
	return r.inserted != 0, nil
}

// WaitForCard returns when a card is in the reader, or ctx ends.
func (r *SimReader) WaitForCard(ctx context.Context) error {
	return r.wait(ctx, func() bool { return r.inserted != 0 })
}

// WaitForRemoval returns when the reader is empty, or ctx ends.
func (r *SimReader) WaitForRemoval(ctx context.Context) error {
	return r.wait(ctx, func() bool { return r.inserted == 0 })
}

// wait blocks until done holds (checked with r.mu held), ctx ends or the
// reader is closed.
func (r *SimReader) wait(ctx context.Context, done func() bool) error {
	for {
		r.mu.Lock()
		if err := r.gone(); err != nil {
			r.mu.Unlock()
			return err
		}
		if done() {
			r.mu.Unlock()
			return nil
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Connect resets the card in the reader and opens it. ErrNoCard when the
// reader is empty, ErrSharing while another connection is open.
func (r *SimReader) Connect(ctx context.Context) (Card, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.gone(); err != nil {
		return nil, err
	}
	switch {
	case r.inserted == 0:
		return nil, ErrNoCard
	case r.conn != nil && r.conn.gen == r.gen:
		return nil, ErrSharing
	}
	card := r.cards[r.inserted-1]
	card.Reset()
	r.conn = &simCard{r: r, card: card, gen: r.gen}
	return r.conn, nil
}

// Close releases the reader: waiters return and further calls fail with an
// error matching ErrReaderGone.
func (r *SimReader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	r.conn = nil
	close(r.changed)
	r.changed = make(chan struct{})
	return nil
}

// simCard is one connection to the card in a SimReader.
type simCard struct {
	r      *SimReader
	card   SimulatedCard
	gen    uint64 // the reader generation at Connect
	closed bool
}

var (
	errEmptyAPDU  = errors.New("empty command apdu")
	errConnClosed = errors.New("the card connection is closed")
)

func (c *simCard) ATR() []byte { return bytes.Clone(c.card.ATR()) }

// Transmit passes cmd to the card. It holds the reader lock while the card
// works, so a removal lands between commands, as it would be seen by the
// next command on a real reader.
func (c *simCard) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(cmd) == 0 {
		return nil, errEmptyAPDU
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	switch {
	case c.closed:
		return nil, errConnClosed
	case c.r.closed:
		return nil, errReaderClosed
	case c.r.faults != nil && c.r.faults.unplugged:
		return nil, ErrReaderGone
	case c.r.gen != c.gen:
		return nil, ErrCardRemoved
	case c.r.faults != nil:
		return c.r.faults.transmit(ctx, c, bytes.Clone(cmd))
	}
	return c.card.Process(bytes.Clone(cmd)), nil
}

// PINPad is nil: the simulated reader has no secure PIN pad.
func (c *simCard) PINPad() PINPad { return nil }

// Close ends the step and resets the card (if it is still in the reader), so
// no PIN stays verified.
func (c *simCard) Close() error {
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	if c.closed {
		return nil
	}
	c.closed = true
	if c.r.conn == c {
		c.r.conn = nil
	}
	if c.r.gen == c.gen {
		c.card.Reset()
	}
	return nil
}
