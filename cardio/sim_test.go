package cardio

import (
	"context"
	"errors"
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
