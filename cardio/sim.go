package cardio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"
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
	pace     Pace    // nil: no card takes any time
}

// NewSimReader returns an empty simulated reader for cards.
func NewSimReader(cards []SimulatedCard) *SimReader {
	return &SimReader{cards: append([]SimulatedCard(nil), cards...), changed: make(chan struct{})}
}

// Pace is the time a real reader and card take, which the simulated reader
// waits out so that training runs at a card's speed. tcos/simcard's Pace is
// a TCOS 3.0 card's (docs/tcos.md "Pace"). The reader never holds its lock
// while it waits: insertions and removals land meanwhile, and a card taken
// out during the wait fails the command as a real one would.
type Pace interface {
	// PowerUp is the time a reset takes, from the reset to a card ready for
	// commands: the answer to reset and the protocol negotiation.
	PowerUp(atr []byte) time.Duration
	// Exchange is the time of one command and its response: the bytes on
	// the line both ways and the card's own work.
	Exchange(cmd, resp []byte) time.Duration
}

// SetPace makes the reader take the time p gives; nil (the default, and
// what tests use) takes none.
func (r *SimReader) SetPace(p Pace) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.pace = p
}

// StorageReporter is a SimulatedCard whose state lives in a file. A card
// that cannot save a command's result answers 6581 (memory failure, ISO
// 7816-4), as a real card whose EEPROM write failed would; the simulated
// reader then asks it why, and hands the host a *StorageError instead of the
// status word: the host's file system refused, not the card.
type StorageReporter interface {
	SimulatedCard
	// StorageFailure is why the card's last command answered 6581: a
	// *StorageError, or nil when the card itself failed (or the last command
	// did not answer 6581).
	StorageFailure() error
}

// StorageError is a simulated card whose state file could not be written:
// the file system refused. It is the host's fault, never the card's: match
// it with errors.As to tell the operator which path (a full disk, a
// read-only deck).
type StorageError struct {
	// Path is the card's state file.
	Path string
	// Err is the file system's refusal.
	Err error
}

// Error names the path and the file system's reason.
func (e *StorageError) Error() string {
	why := e.Err
	var pe *fs.PathError
	if errors.As(why, &pe) {
		why = pe.Err // the path of a temporary file says nothing more
	}
	return fmt.Sprintf("the file system refused to save the simulated card's state to %s: %v", e.Path, why)
}

// Unwrap is the file system's error.
func (e *StorageError) Unwrap() error { return e.Err }

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
	conn := &simCard{r: r, card: card, gen: r.gen}
	r.conn = conn
	if r.pace == nil {
		return conn, nil
	}
	d := r.pace.PowerUp(card.ATR())
	r.mu.Unlock()
	err := r.elapse(ctx, d, conn.gen)
	r.mu.Lock()
	if err != nil {
		if r.conn == conn {
			r.conn = nil
		}
		conn.closed = true
		return nil, err
	}
	return conn, nil
}

// elapse waits d without the reader lock, unless the card of generation gen
// leaves, the reader goes or ctx ends first: then it says which.
func (r *SimReader) elapse(ctx context.Context, d time.Duration, gen uint64) error {
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		r.mu.Lock()
		err := r.gone()
		if err == nil && r.gen != gen {
			err = ErrCardRemoved
		}
		ch := r.changed
		r.mu.Unlock()
		if err != nil {
			return err
		}
		select {
		case <-t.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
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
// next command on a real reader. With a Pace it then waits out the
// exchange's time without the lock: a card pulled meanwhile has done the
// command but its answer is lost (ErrCardRemoved), as on a real reader.
func (c *simCard) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	resp, pace, err := c.transmit(ctx, cmd)
	if err != nil || pace == nil {
		return resp, err
	}
	if err := c.r.elapse(ctx, pace.Exchange(cmd, resp), c.gen); err != nil {
		clear(resp) // it may hold a share record
		return nil, err
	}
	return resp, nil
}

// transmit is Transmit up to the card's answer, under the reader lock; it
// returns the pace to wait out afterwards.
func (c *simCard) transmit(ctx context.Context, cmd []byte) ([]byte, Pace, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if len(cmd) == 0 {
		return nil, nil, errEmptyAPDU
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	var (
		resp []byte
		err  error
	)
	switch {
	case c.closed:
		return nil, nil, errConnClosed
	case c.r.closed:
		return nil, nil, errReaderClosed
	case c.r.faults != nil && c.r.faults.unplugged:
		return nil, nil, ErrReaderGone
	case c.r.gen != c.gen:
		return nil, nil, ErrCardRemoved
	case c.r.faults != nil:
		resp, err = c.r.faults.transmit(ctx, c, bytes.Clone(cmd))
	default:
		resp, err = c.process(bytes.Clone(cmd))
	}
	return resp, c.r.pace, err
}

// process has the card handle cmd; a 6581 of a card that could not save
// its state becomes the card's *StorageError.
func (c *simCard) process(cmd []byte) ([]byte, error) {
	resp := c.card.Process(cmd)
	if n := len(resp); n >= 2 && resp[n-2] == 0x65 && resp[n-1] == 0x81 {
		if sr, ok := c.card.(StorageReporter); ok {
			if err := sr.StorageFailure(); err != nil {
				return nil, err
			}
		}
	}
	return resp, nil
}

// PINPad is nil: the simulated reader has no secure PIN pad.
func (c *simCard) PINPad() PINPad { return nil }

// Close ends the step and resets the card (if it is still in the reader), so
// no PIN stays verified. With a Pace it waits for the reset, as a PC/SC
// disconnect that resets the card does.
func (c *simCard) Close() error {
	c.r.mu.Lock()
	if c.closed {
		c.r.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.r.conn == c {
		c.r.conn = nil
	}
	var d time.Duration
	if c.r.gen == c.gen {
		c.card.Reset()
		if c.r.pace != nil {
			d = c.r.pace.PowerUp(c.card.ATR())
		}
	}
	c.r.mu.Unlock()
	// The reset is done whatever happens meanwhile: nothing to report.
	_ = c.r.elapse(context.Background(), d, c.gen)
	return nil
}
