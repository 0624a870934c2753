//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
	"github.com/hsmcards/hsmcards/vpcd"
)

const stepTimeout = 10 * time.Second

var factoryPIN = []byte("123456")

func serial(n byte) tcos.Serial {
	return tcos.Serial{0xAA, 0x55, 0, 0, 0, 0, 0, 0, 0, n}
}

// waitIn inserts card and waits until pcscd reports it.
func waitIn(t *testing.T, r cardio.Reader, card cardio.SimulatedCard) *inserted {
	t.Helper()
	in := insert(t, card)
	if err := r.WaitForCard(within(t, stepTimeout)); err != nil {
		t.Fatalf("WaitForCard after insertion: %v", err)
	}
	return in
}

// waitOut pulls the card and waits until pcscd reports the reader empty.
func waitOut(t *testing.T, r cardio.Reader, in *inserted) {
	t.Helper()
	if err := in.pull(); err != nil {
		t.Fatalf("bridge: %v", err)
	}
	if err := r.WaitForRemoval(within(t, stepTimeout)); err != nil {
		t.Fatalf("WaitForRemoval after pulling: %v", err)
	}
}

func TestInsertAndRemoveEvents(t *testing.T) {
	r := openReader(t)
	if got := r.Name(); got != readerName {
		t.Errorf("Name() = %q, want %q", got, readerName)
	}
	if present, err := r.Present(context.Background()); err != nil || present {
		t.Fatalf("Present() on the empty reader = %v, %v", present, err)
	}
	// WaitForRemoval on an empty reader returns at once.
	if err := r.WaitForRemoval(within(t, stepTimeout)); err != nil {
		t.Fatalf("WaitForRemoval on an empty reader: %v", err)
	}
	// With no card, WaitForCard waits until its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := r.WaitForCard(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForCard with no card = %v, want DeadlineExceeded", err)
	}

	in := waitIn(t, r, simcard.New(serial(1)))
	if present, err := r.Present(context.Background()); err != nil || !present {
		t.Fatalf("Present() with a card = %v, %v", present, err)
	}
	// A card already in: WaitForCard returns at once, a removal wait waits.
	if err := r.WaitForCard(within(t, stepTimeout)); err != nil {
		t.Fatalf("WaitForCard with a card in: %v", err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel2()
	if err := r.WaitForRemoval(ctx2); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitForRemoval with a card in = %v, want DeadlineExceeded", err)
	}
	waitOut(t, r, in)
	if present, err := r.Present(context.Background()); err != nil || present {
		t.Fatalf("Present() after removal = %v, %v", present, err)
	}
}

func TestWaitIsCancelled(t *testing.T) {
	r := openReader(t)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- r.WaitForCard(ctx) }()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("WaitForCard after cancel = %v, want Canceled", err)
		}
	case <-time.After(stepTimeout):
		t.Fatal("WaitForCard ignored the cancelled context")
	}
	// Closing the reader ends a wait too.
	errc2 := make(chan error, 1)
	go func() { errc2 <- r.WaitForCard(context.Background()) }()
	r.Close()
	select {
	case err := <-errc2:
		if err == nil {
			t.Fatal("WaitForCard on a closed reader returned nil")
		}
	case <-time.After(stepTimeout):
		t.Fatal("Close did not end WaitForCard")
	}
}

func TestCardInsertedWhileWaiting(t *testing.T) {
	r := openReader(t)
	errc := make(chan error, 1)
	go func() { errc <- r.WaitForCard(within(t, stepTimeout)) }()
	in := insert(t, simcard.New(serial(2)))
	if err := <-errc; err != nil {
		t.Fatalf("WaitForCard in another goroutine: %v", err)
	}
	card, err := r.Connect(within(t, stepTimeout))
	if err != nil {
		t.Fatal(err)
	}
	got, err := tcos.Open(card, tcos.Options{}).Identify(within(t, stepTimeout))
	if err != nil {
		t.Fatal(err)
	}
	if got != serial(2) {
		t.Errorf("serial = %v, want %v", got, serial(2))
	}
	if err := card.Close(); err != nil {
		t.Fatal(err)
	}
	waitOut(t, r, in)
}

// TestBackupKeyCeremony is a 2-of-3 install and read-back through pcscd.
func TestBackupKeyCeremony(t *testing.T) {
	r := openReader(t)
	key, records, err := quorum.Generate("pcsctest", quorum.TwoOfThree, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer key.Wipe()
	cards := []*simcard.Card{simcard.New(serial(11)), simcard.New(serial(12)), simcard.New(serial(13))}

	for i, sc := range cards {
		rec, err := records[i].Marshal()
		if err != nil {
			t.Fatal(err)
		}
		in := waitIn(t, r, sc)
		step(t, r, func(ctx context.Context, card cardio.Card, s *tcos.Session) {
			if card.PINPad() != nil {
				t.Error("vpcd offers no SCardControl, yet a PIN pad was found")
			}
			if got, err := s.Identify(ctx); err != nil || got != sc.Serial() {
				t.Fatalf("Identify = %v, %v; want %v", got, err, sc.Serial())
			}
			st, err := s.PINStatus(ctx, tcos.SlotBackupKey)
			if err != nil || st.TriesLeft != 3 || st.Verified || st.Blocked {
				t.Fatalf("PINStatus = %+v, %v", st, err)
			}
			if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
				t.Fatal(err)
			}
			if err := s.WriteShareRecord(ctx, rec); err != nil {
				t.Fatal(err)
			}
		})
		// The next step on the same card starts with no PIN verified.
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			st, err := s.PINStatus(ctx, tcos.SlotBackupKey)
			if err != nil || st.Verified {
				t.Fatalf("PINStatus in a new step = %+v, %v; want not verified", st, err)
			}
		})
		waitOut(t, r, in)
	}

	// Read back cards 3 and 1.
	c := quorum.NewCollector(nil)
	for _, i := range []int{2, 0} {
		in := waitIn(t, r, cards[i])
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
				t.Fatal(err)
			}
			raw, err := s.ReadShareRecord(ctx)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := quorum.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Add(rec); err != nil {
				t.Fatal(err)
			}
		})
		waitOut(t, r, in)
	}
	got, err := c.Combine()
	if err != nil {
		t.Fatal(err)
	}
	defer got.Wipe()
	if !bytes.Equal(got.Bytes(), key.Bytes()) {
		t.Fatal("the key read back differs from the key written")
	}
}

// step runs one ceremony step: connect, open a session, close.
func step(t *testing.T, r cardio.Reader, f func(context.Context, cardio.Card, *tcos.Session)) {
	t.Helper()
	ctx := within(t, stepTimeout)
	card, err := r.Connect(ctx)
	if err != nil {
		t.Fatalf("Connect: %v", err)
	}
	defer func() {
		if err := card.Close(); err != nil {
			t.Errorf("Card.Close: %v", err)
		}
	}()
	f(ctx, card, tcos.Open(card, tcos.Options{}))
}

// pullOnWrite is a card that is pulled out of the reader in the middle of its
// first UPDATE BINARY, as when the holder grabs it too early.
type pullOnWrite struct {
	*simcard.Card
	armed atomic.Bool
	pull  func()
}

func (p *pullOnWrite) Process(cmd []byte) []byte {
	rsp := p.Card.Process(cmd)
	if len(cmd) > 1 && cmd[1] == 0xD6 && p.armed.CompareAndSwap(true, false) {
		p.pull() // the bridge drops the answer and disconnects
	}
	return rsp
}

func TestCardPulledDuringWrite(t *testing.T) {
	r := openReader(t)
	_, records, err := quorum.Generate("pcsctest", quorum.TwoOfThree, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rec, err := records[0].Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sc := simcard.New(serial(21))
	pullCtx, pull := context.WithCancel(context.Background())
	flaky := &pullOnWrite{Card: sc, pull: pull}
	flaky.armed.Store(true)
	in := insertUntil(t, pullCtx, pull, flaky)
	if err := r.WaitForCard(within(t, stepTimeout)); err != nil {
		t.Fatal(err)
	}

	ctx := within(t, stepTimeout)
	card, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { card.Close() }) // a leaked transaction would block the next tests
	s := tcos.Open(card, tcos.Options{})
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		t.Fatal(err)
	}
	err = s.WriteShareRecord(ctx, rec)
	if !errors.Is(err, cardio.ErrCardRemoved) && !errors.Is(err, cardio.ErrReaderGone) {
		t.Fatalf("WriteShareRecord with the card pulled = %v, want ErrCardRemoved", err)
	}
	t.Logf("card pulled during the write: %v", err)
	if err := card.Close(); err != nil {
		t.Errorf("Close after the card was pulled: %v", err)
	}
	waitOut(t, r, in)

	// The operator puts the same card back and the step is retried.
	in2 := waitIn(t, r, sc)
	step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
		if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
			t.Fatal(err)
		}
		if err := s.WriteShareRecord(ctx, rec); err != nil {
			t.Fatalf("retry on the reinserted card: %v", err)
		}
		got, err := s.ReadShareRecord(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got, rec) {
			t.Fatal("the record read back differs from the one written")
		}
	})
	waitOut(t, r, in2)
}

func TestSharingViolation(t *testing.T) {
	r := openReader(t)
	in := waitIn(t, r, simcard.New(serial(31)))
	other, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	excl, err := other.Connect(readerName, scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Connect(within(t, stepTimeout))
	if !errors.Is(err, cardio.ErrSharing) {
		t.Fatalf("Connect while another program holds the card = %v, want ErrSharing", err)
	}
	excl.Disconnect(scard.LeaveCard)
	step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
		if _, err := s.Identify(ctx); err != nil {
			t.Fatal(err)
		}
	})
	waitOut(t, r, in)
}

func TestConnectWithoutCard(t *testing.T) {
	r := openReader(t)
	if _, err := r.Connect(within(t, stepTimeout)); !errors.Is(err, cardio.ErrNoCard) {
		t.Fatalf("Connect on an empty reader = %v, want ErrNoCard", err)
	}
}

func TestReaderChoice(t *testing.T) {
	ctx := within(t, stepTimeout)
	names, err := pcsc.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(names) < 2 {
		t.Fatalf("vpcd should give two readers, got %q", names)
	}
	var multi *pcsc.MultipleReadersError
	if _, err := pcsc.Open(ctx, ""); !errors.As(err, &multi) || len(multi.Names) != len(names) {
		t.Fatalf("pcsc.Open(\"\") with %d readers = %v, want *MultipleReadersError", len(names), err)
	}
	r, err := pcsc.Open(ctx, "virtual pcd 00 01")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Name() != "Virtual PCD 00 01" {
		t.Errorf("pcsc.Open by part of the name chose %q", r.Name())
	}
	if _, err := pcsc.Open(ctx, "cyberJack"); !errors.Is(err, cardio.ErrNoReader) {
		t.Fatalf("pcsc.Open of a reader that is not there = %v, want ErrNoReader", err)
	}
}

// TestNoService stops pcscd and starts it again at the end.
func TestNoService(t *testing.T) {
	if err := daemon.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := daemon.start(); err != nil {
			t.Fatalf("restart pcscd: %v", err)
		}
	})
	ctx := within(t, stepTimeout)
	_, err := pcsc.Open(ctx, "")
	if !errors.Is(err, cardio.ErrNoService) {
		t.Fatalf("pcsc.Open without pcscd = %v, want ErrNoService", err)
	}
	// Short enough for the wizard's header; how to start pcscd is the hint.
	if err.Error() != cardio.ErrNoService.Error() {
		t.Errorf("the error %q says more than %q", err, cardio.ErrNoService)
	}
	if h := cardio.Hint(err); !strings.Contains(h, "systemctl start pcscd") {
		t.Errorf("the hint %q does not say how to start pcscd", h)
	}
	if _, err := pcsc.List(ctx); !errors.Is(err, cardio.ErrNoService) {
		t.Errorf("pcsc.List without pcscd = %v, want ErrNoService", err)
	}
	err = vpcd.Serve(ctx, cardAddr, simcard.New(serial(41)))
	var unreachable *vpcd.UnreachableError
	if !errors.As(err, &unreachable) || !strings.Contains(cardio.Hint(err), "pcscd") {
		t.Errorf("vpcd.Serve without pcscd = %v (hint %q), want an *UnreachableError whose hint names pcscd", err, cardio.Hint(err))
	}
}

// A reader opened before pcscd restarts goes on working after it: the
// steps' PC/SC context and the kept connection of the old pcscd are
// replaced (docs/pcsc.md "Contexts").
func TestReaderAfterPCSCDRestart(t *testing.T) {
	r := openReader(t)
	sc := simcard.New(serial(81))
	in := waitIn(t, r, sc)
	identify := func() {
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			if got, err := s.Identify(ctx); err != nil || got != serial(81) {
				t.Fatalf("Identify = %v, %v", got, err)
			}
		})
	}
	identify()
	if err := daemon.stop(); err != nil {
		t.Fatal(err)
	}
	in.pull() // the bridge saw vpcd go
	if err := daemon.start(); err != nil {
		t.Fatal(err)
	}
	in = waitIn(t, r, sc)
	identify()
	identify() // and on the connection kept after the restart
	waitOut(t, r, in)
}

// The vpcd bridge of `hsmcards vpcd` puts its card back into the reader
// after pcscd restarts, and says so each time it is connected.
func TestBridgeAcrossPCSCDRestart(t *testing.T) {
	r := openReader(t)
	ctx, cancel := context.WithCancel(context.Background())
	connected := make(chan struct{}, 8)
	done := make(chan error, 1)
	go func() {
		done <- vpcd.Run(ctx, simcard.New(serial(83)), vpcd.Options{
			Addr:      cardAddr,
			Backoff:   vpcd.Backoff{Min: 50 * time.Millisecond, Max: 400 * time.Millisecond},
			Connected: func(string) { connected <- struct{}{} },
		})
	}()
	stopped := false
	stopBridge := func() {
		if !stopped {
			stopped = true
			cancel()
			if err := <-done; err != nil {
				t.Errorf("vpcd.Run = %v, want nil once cancelled", err)
			}
		}
	}
	t.Cleanup(stopBridge)
	served := func() {
		t.Helper()
		select {
		case <-connected:
		case <-time.After(stepTimeout):
			t.Fatal("the bridge did not connect")
		}
		if err := r.WaitForCard(within(t, stepTimeout)); err != nil {
			t.Fatal(err)
		}
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			if got, err := s.Identify(ctx); err != nil || got != serial(83) {
				t.Fatalf("Identify = %v, %v", got, err)
			}
		})
	}
	served()
	if err := daemon.stop(); err != nil {
		t.Fatal(err)
	}
	if err := daemon.start(); err != nil {
		t.Fatal(err)
	}
	served()
	stopBridge()
	if err := r.WaitForRemoval(within(t, stepTimeout)); err != nil {
		t.Fatal(err)
	}
}
