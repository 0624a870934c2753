package cardio

import (
	"context"
	"errors"
	"io/fs"
	"syscall"
	"testing"
	"time"
)

// echoCard answers every command with its bytes and 9000, and counts resets.
type echoCard struct{ resets int }

func (c *echoCard) ATR() []byte { return []byte{0x3B, 0x00} }
func (c *echoCard) Reset()      { c.resets++ }
func (c *echoCard) Process(cmd []byte) []byte {
	return append(append([]byte(nil), cmd...), 0x90, 0x00)
}

func newTestReader(n int) (*SimReader, []*echoCard) {
	cards := make([]*echoCard, n)
	sims := make([]SimulatedCard, n)
	for i := range cards {
		cards[i] = &echoCard{}
		sims[i] = cards[i]
	}
	return NewSimReader(sims), cards
}

func TestSimReaderInsertRemove(t *testing.T) {
	r, _ := newTestReader(3)
	ctx := context.Background()
	if r.Len() != 3 || r.Inserted() != 0 {
		t.Fatalf("new reader: Len %d Inserted %d", r.Len(), r.Inserted())
	}
	for _, bad := range []int{0, -1, 4} {
		if err := r.Insert(bad); err == nil {
			t.Errorf("Insert(%d) succeeded", bad)
		}
	}
	if err := r.Insert(2); err != nil {
		t.Fatal(err)
	}
	if p, _ := r.Present(ctx); !p || r.Inserted() != 2 {
		t.Fatalf("after Insert(2): present %v inserted %d", p, r.Inserted())
	}
	if err := r.Insert(3); err != nil { // takes card 2 out first
		t.Fatal(err)
	}
	if r.Inserted() != 3 {
		t.Fatalf("Inserted %d, want 3", r.Inserted())
	}
	r.Remove()
	if p, _ := r.Present(ctx); p || r.Inserted() != 0 {
		t.Fatalf("after Remove: present %v inserted %d", p, r.Inserted())
	}
}

func TestSimReaderWaitWakes(t *testing.T) {
	r, _ := newTestReader(2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	done := make(chan error)
	go func() { done <- r.WaitForCard(ctx) }()
	r.Remove() // a no-op on an empty reader: the waiter goes on waiting
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("WaitForCard: %v", err)
	}

	go func() { done <- r.WaitForRemoval(ctx) }()
	if err := r.Insert(2); err != nil { // a swap ends with a card in: keep waiting
		t.Fatal(err)
	}
	r.Remove()
	if err := <-done; err != nil {
		t.Fatalf("WaitForRemoval: %v", err)
	}
	if r.Inserted() != 0 {
		t.Fatal("reader not empty after WaitForRemoval")
	}
}

func TestSimReaderWaitImmediate(t *testing.T) {
	r, _ := newTestReader(1)
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // an already satisfied wait must not look at ctx
	if err := r.WaitForRemoval(ctx); err != nil {
		t.Fatalf("WaitForRemoval on empty reader: %v", err)
	}
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitForCard(ctx); err != nil {
		t.Fatalf("WaitForCard with card in: %v", err)
	}
}

func TestSimReaderWaitDeadline(t *testing.T) {
	r, _ := newTestReader(1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if err := r.WaitForCard(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForCard = %v, want deadline exceeded", err)
	}
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.WaitForRemoval(ctx2) }()
	cancel2()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("WaitForRemoval = %v, want canceled", err)
	}
}

func TestSimReaderConnect(t *testing.T) {
	r, cards := newTestReader(2)
	ctx := context.Background()
	if _, err := r.Connect(ctx); !errors.Is(err, ErrNoCard) {
		t.Fatalf("Connect on empty reader = %v, want ErrNoCard", err)
	}
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	before := cards[0].resets
	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if cards[0].resets != before+1 {
		t.Errorf("Connect did not reset the card")
	}
	if c.PINPad() != nil {
		t.Errorf("simulated reader has a PIN pad")
	}
	if _, err := r.Connect(ctx); !errors.Is(err, ErrSharing) {
		t.Fatalf("second Connect = %v, want ErrSharing", err)
	}
	resp, err := c.Transmit(ctx, []byte{0x00, 0xB0, 0x00, 0x00, 0x01})
	if err != nil || len(resp) != 7 || resp[5] != 0x90 {
		t.Fatalf("Transmit = % X, %v", resp, err)
	}
	if _, err := c.Transmit(ctx, nil); err == nil {
		t.Error("empty command accepted")
	}
	before = cards[0].resets
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if cards[0].resets != before+1 {
		t.Errorf("Close did not reset the card")
	}
	if _, err := c.Transmit(ctx, []byte{0, 0, 0, 0}); err == nil {
		t.Error("Transmit after Close succeeded")
	}
	c2, err := r.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect after Close: %v", err)
	}
	c2.Close()
}

func TestSimReaderPulledMidStep(t *testing.T) {
	for _, tc := range []struct {
		name string
		pull func(r *SimReader) error
	}{
		{"removed", func(r *SimReader) error { r.Remove(); return nil }},
		{"swapped", func(r *SimReader) error { return r.Insert(2) }},
		{"reinserted", func(r *SimReader) error { return r.Insert(1) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestReader(2)
			ctx := context.Background()
			if err := r.Insert(1); err != nil {
				t.Fatal(err)
			}
			c, err := r.Connect(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := c.Transmit(ctx, []byte{0, 0xA4, 0, 0x0C}); err != nil {
				t.Fatal(err)
			}
			if err := tc.pull(r); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Transmit(ctx, []byte{0, 0xA4, 0, 0x0C}); !errors.Is(err, ErrCardRemoved) {
				t.Fatalf("Transmit after pull = %v, want ErrCardRemoved", err)
			}
			// The stale connection does not block the next step.
			if r.Inserted() != 0 {
				c2, err := r.Connect(ctx)
				if err != nil {
					t.Fatalf("Connect after pull: %v", err)
				}
				c2.Close()
			}
		})
	}
}

func TestSimReaderClose(t *testing.T) {
	r, _ := newTestReader(1)
	done := make(chan error)
	go func() { done <- r.WaitForCard(context.Background()) }()
	r.Close()
	if err := <-done; !errors.Is(err, ErrReaderGone) {
		t.Fatalf("WaitForCard after Close = %v, want ErrReaderGone", err)
	}
	if err := r.Insert(1); !errors.Is(err, ErrReaderGone) {
		t.Fatalf("Insert after Close = %v", err)
	}
}

func TestSimReaderTransmitCtx(t *testing.T) {
	r, _ := newTestReader(1)
	r.Insert(1)
	c, err := r.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Transmit(ctx, []byte{0, 0, 0, 0}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Transmit with ended ctx = %v", err)
	}
}

// fixedPace takes the same time for everything; exchanged, if set, hears
// each exchange before the reader waits it out.
type fixedPace struct {
	powerUp, exchange time.Duration
	exchanged         chan struct{}
}

func (p *fixedPace) PowerUp([]byte) time.Duration { return p.powerUp }
func (p *fixedPace) Exchange(cmd, resp []byte) time.Duration {
	if p.exchanged != nil {
		p.exchanged <- struct{}{}
	}
	return p.exchange
}

func TestSimReaderPace(t *testing.T) {
	r, _ := newTestReader(1)
	r.SetPace(&fixedPace{powerUp: 30 * time.Millisecond, exchange: 40 * time.Millisecond})
	r.Insert(1)
	ctx := context.Background()
	// Timers never fire early: these are lower bounds, not races.
	start := time.Now()
	c, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("Connect took %v, the pace says 30ms", d)
	}
	start = time.Now()
	if _, err := c.Transmit(ctx, []byte{0, 0xA4, 0, 0x0C}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 40*time.Millisecond {
		t.Errorf("Transmit took %v, the pace says 40ms", d)
	}
	start = time.Now()
	c.Close()
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("Close took %v, the pace says 30ms (the reset)", d)
	}
	r.SetPace(nil)
	start = time.Now()
	c, _ = r.Connect(ctx)
	c.Transmit(ctx, []byte{0, 0xA4, 0, 0x0C})
	c.Close()
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("without a pace a step took %v", d)
	}
}

// TestSimReaderPaceWaitEnds: a card that takes its time does not hold the
// reader: a removal, the end of ctx or the reader's close end the wait, and
// the reader answers meanwhile.
func TestSimReaderPaceWaitEnds(t *testing.T) {
	for _, tc := range []struct {
		name string
		end  func(r *SimReader, cancel context.CancelFunc)
		want error
	}{
		{"removed", func(r *SimReader, _ context.CancelFunc) { r.Remove() }, ErrCardRemoved},
		{"swapped", func(r *SimReader, _ context.CancelFunc) { r.Insert(2) }, ErrCardRemoved},
		{"ctx", func(_ *SimReader, cancel context.CancelFunc) { cancel() }, context.Canceled},
		{"reader closed", func(r *SimReader, _ context.CancelFunc) { r.Close() }, ErrReaderGone},
		{"unplugged", func(r *SimReader, _ context.CancelFunc) { r.Faults().Unplug() }, ErrReaderGone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newTestReader(2)
			r.Insert(1)
			c, err := r.Connect(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			heard := make(chan struct{}, 1)
			r.SetPace(&fixedPace{exchange: time.Hour, exchanged: heard})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := c.Transmit(ctx, []byte{0, 0xB0, 0, 0, 0x10})
				done <- err
			}()
			<-heard // the card has answered; the reader waits out the hour
			if r.Inserted() != 1 {
				t.Fatal("the reader does not answer while a card takes its time")
			}
			tc.end(r, cancel)
			if err := <-done; !errors.Is(err, tc.want) {
				t.Fatalf("Transmit = %v, want %v", err, tc.want)
			}
		})
	}
}

// storedCard is a StorageReporter whose saves fail while refuse is set.
type storedCard struct {
	echoCard
	refuse bool
}

func (c *storedCard) Process(cmd []byte) []byte {
	if c.refuse {
		return []byte{0x65, 0x81}
	}
	return c.echoCard.Process(cmd)
}

func (c *storedCard) StorageFailure() error {
	if !c.refuse {
		return nil
	}
	return &StorageError{Path: "/deck/card-01.json", Err: &fs.PathError{Op: "open", Path: "/deck/.card-01.json.1.tmp", Err: syscall.EROFS}}
}

func TestSimReaderStorageError(t *testing.T) {
	for _, faults := range []bool{false, true} {
		card := &storedCard{}
		r := NewSimReader([]SimulatedCard{card})
		if faults {
			r.Faults() // the training path: every command goes through the fault layer
		}
		r.Insert(1)
		c, err := r.Connect(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Transmit(context.Background(), []byte{0, 0xD6, 0, 0, 1, 1}); err != nil {
			t.Fatal(err)
		}
		card.refuse = true
		_, err = c.Transmit(context.Background(), []byte{0, 0xD6, 0, 0, 1, 1})
		var se *StorageError
		if !errors.As(err, &se) || se.Path != "/deck/card-01.json" || !errors.Is(err, syscall.EROFS) {
			t.Fatalf("faults %v: Transmit = %v, want the storage error", faults, err)
		}
		const want = "the file system refused to save the simulated card's state to /deck/card-01.json: read-only file system"
		if err.Error() != want {
			t.Fatalf("message %q, want %q", err, want)
		}
		c.Close()
	}
}
