package vpcd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
)

// testCard answers each APDU with the command reversed plus 9000, so a test
// can tell the answer belongs to the command.
type testCard struct {
	mu      sync.Mutex
	resets  int
	atr     []byte
	onApdu  func(cmd []byte) // called inside Process
	lastCmd []byte
}

func (c *testCard) ATR() []byte { return c.atr }

func (c *testCard) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resets++
}

func (c *testCard) Resets() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.resets
}

func (c *testCard) Process(cmd []byte) []byte {
	c.mu.Lock()
	c.lastCmd = append([]byte(nil), cmd...)
	hook := c.onApdu
	c.mu.Unlock()
	if hook != nil {
		hook(cmd)
	}
	rsp := make([]byte, 0, len(cmd)+2)
	for i := len(cmd) - 1; i >= 0; i-- {
		rsp = append(rsp, cmd[i])
	}
	return append(rsp, 0x90, 0x00)
}

var tcosATR = []byte{0x3B, 0xBF, 0x96, 0x00, 0x81, 0x31, 0xFE, 0x5D, 0x00, 0x64, 0x04, 0x11, 0x03, 0x01, 0x31, 0xC0, 0x73, 0xF7, 0x01, 0xD0, 0x00, 0x90, 0x00, 0x7D}

// fakeVPCD plays the vpcd driver: it listens, and hands the test each
// connection the bridge makes.
func fakeVPCD(t *testing.T) (addr string, conns <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				close(ch)
				return
			}
			t.Cleanup(func() { c.Close() })
			ch <- c
		}
	}()
	return ln.Addr().String(), ch
}

func accept(t *testing.T, conns <-chan net.Conn) net.Conn {
	t.Helper()
	select {
	case c := <-conns:
		// A deadline so a broken bridge fails the test instead of hanging it.
		c.SetDeadline(time.Now().Add(10 * time.Second))
		return c
	case <-time.After(10 * time.Second):
		t.Fatal("the bridge never connected")
		return nil
	}
}

func request(t *testing.T, c net.Conn, req []byte) []byte {
	t.Helper()
	if err := WriteFrame(c, req); err != nil {
		t.Fatal(err)
	}
	rsp, err := ReadFrame(c, nil)
	if err != nil {
		t.Fatalf("request % X: %v", req, err)
	}
	return rsp
}

func serve(ctx context.Context, addr string, card *testCard) <-chan error {
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, addr, card) }()
	return done
}

func TestServeSession(t *testing.T) {
	addr, conns := fakeVPCD(t)
	card := &testCard{atr: tcosATR}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := serve(ctx, addr, card)
	c := accept(t, conns)

	// Power on, then ATR: what pcscd's vpcd driver does on SCardConnect.
	if err := WriteFrame(c, []byte{CtlPowerOn}); err != nil {
		t.Fatal(err)
	}
	if got := request(t, c, []byte{CtlGetATR}); !bytes.Equal(got, tcosATR) {
		t.Fatalf("ATR = % X, want % X", got, tcosATR)
	}
	// The ATR answer proves power on was handled (frames are in order).
	if got := card.Resets(); got != 1 {
		t.Errorf("resets after power on = %d, want 1", got)
	}
	apdu := []byte{0x00, 0xA4, 0x00, 0x0C}
	if got, want := request(t, c, apdu), []byte{0x0C, 0x00, 0xA4, 0x00, 0x90, 0x00}; !bytes.Equal(got, want) {
		t.Fatalf("APDU answer = % X, want % X", got, want)
	}
	for _, ctl := range []byte{CtlReset, CtlPowerOff} {
		if err := WriteFrame(c, []byte{ctl}); err != nil {
			t.Fatal(err)
		}
	}
	// A 2-byte APDU is an APDU, not control.
	if got, want := request(t, c, []byte{0x01, 0x02}), []byte{0x02, 0x01, 0x90, 0x00}; !bytes.Equal(got, want) {
		t.Fatalf("APDU answer = % X, want % X", got, want)
	}
	if got := card.Resets(); got != 3 {
		t.Errorf("resets after reset and power off = %d, want 3", got)
	}

	// Ending ctx pulls the card: vpcd sees the connection close.
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Serve after cancel = %v, want nil", err)
	}
	if _, err := ReadFrame(c, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("vpcd read after removal: %v, want EOF", err)
	}
}

func TestServeReaderCloses(t *testing.T) {
	addr, conns := fakeVPCD(t)
	done := serve(context.Background(), addr, &testCard{atr: tcosATR})
	c := accept(t, conns)
	c.Close() // pcscd stopped
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("Serve = %v, want ErrClosed", err)
	}
}

func TestServeNoReader(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	err = Serve(context.Background(), addr, &testCard{atr: tcosATR})
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) || unreachable.Addr != addr {
		t.Fatalf("Serve = %v, want an *UnreachableError for %s", err, addr)
	}
	if h := cardio.Hint(err); !strings.Contains(h, "pcscd") {
		t.Errorf("hint %q does not point at pcscd", h)
	}
}

func TestServePulledMidCommand(t *testing.T) {
	addr, conns := fakeVPCD(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	card := &testCard{atr: tcosATR, onApdu: func(cmd []byte) {
		if cmd[1] == 0xD6 { // UPDATE BINARY: pull the card now
			cancel()
		}
	}}
	done := serve(ctx, addr, card)
	c := accept(t, conns)
	if err := WriteFrame(c, []byte{0x00, 0xD6, 0x00, 0x00, 0x01, 0xAA}); err != nil {
		t.Fatal(err)
	}
	if rsp, err := ReadFrame(c, nil); !errors.Is(err, io.EOF) {
		t.Fatalf("answer to a command the card was pulled during: % X, %v; want EOF", rsp, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
}

func TestReadFrame(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    []byte
		wantErr error
	}{
		{"control", []byte{0x00, 0x01, 0x04}, []byte{0x04}, nil},
		{"apdu", []byte{0x00, 0x04, 0x00, 0xA4, 0x00, 0x0C}, []byte{0x00, 0xA4, 0x00, 0x0C}, nil},
		{"end between frames", nil, nil, io.EOF},
		{"half a length", []byte{0x00}, nil, io.ErrUnexpectedEOF},
		{"short payload", []byte{0x00, 0x05, 0x00, 0xA4}, nil, io.ErrUnexpectedEOF},
		{"empty frame", []byte{0x00, 0x00}, nil, ErrEmptyFrame},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ReadFrame(bytes.NewReader(tt.in), nil)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadFrame(% X) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ReadFrame(% X) = % X, want % X", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteFrameLimits(t *testing.T) {
	var b bytes.Buffer
	if err := WriteFrame(&b, nil); err == nil {
		t.Error("empty frame written")
	}
	if err := WriteFrame(&b, make([]byte, MaxFrame+1)); err == nil {
		t.Error("oversized frame written")
	}
	if err := WriteFrame(&b, make([]byte, MaxFrame)); err != nil {
		t.Errorf("largest frame refused: %v", err)
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x00, 0x01, 0x04})
	f.Add([]byte{0x00, 0x04, 0x00, 0xA4, 0x00, 0x0C, 0x00, 0x01, 0x02})
	f.Add([]byte{0xFF, 0xFF, 0x00})
	f.Add([]byte{0x00, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bytes.NewReader(in)
		consumed := 0
		for {
			p, err := ReadFrame(r, nil)
			if err != nil {
				return
			}
			// A frame read back must re-encode to exactly the bytes it came from.
			var b bytes.Buffer
			if err := WriteFrame(&b, p); err != nil {
				t.Fatalf("cannot re-encode a %d-byte frame: %v", len(p), err)
			}
			if !bytes.Equal(b.Bytes(), in[consumed:consumed+b.Len()]) {
				t.Fatalf("frame % X does not match input % X", b.Bytes(), in[consumed:])
			}
			consumed += b.Len()
		}
	})
}

// localPipe is one end of an in-memory connection that says it comes from
// the given address, as a TCP connection to vpcd would.
type localPipe struct {
	net.Conn
	remote net.Addr
}

func (p localPipe) RemoteAddr() net.Addr { return p.remote }

var loopbackAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 35963}

// script plays vpcd for Run: each dial takes the next entry, an error or a
// session that the test side runs on its end of the pipe.
type script struct {
	t      *testing.T
	steps  []func(net.Conn) // nil: the dial fails
	dials  int
	events []string
	waits  []time.Duration
	done   chan struct{} // closed when the script is used up
}

func (s *script) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if s.dials == len(s.steps) {
		close(s.done)
		<-ctx.Done()
		return nil, ctx.Err()
	}
	step := s.steps[s.dials]
	s.dials++
	if step == nil {
		return nil, errors.New("connection refused")
	}
	ours, theirs := net.Pipe()
	go func() {
		defer theirs.Close()
		step(theirs)
	}()
	return localPipe{ours, loopbackAddr}, nil
}

func (s *script) options() Options {
	return Options{
		Addr:      "localhost:35963",
		Backoff:   Backoff{Min: 100 * time.Millisecond, Max: 700 * time.Millisecond},
		Connected: func(addr string) { s.events = append(s.events, "connected") },
		Lost: func(err error, retry time.Duration) {
			s.events = append(s.events, fmt.Sprintf("lost after %v", retry))
		},
		dial: s.dial,
		wait: func(ctx context.Context, d time.Duration) error {
			s.waits = append(s.waits, d) // no real waiting: the delays are the result
			return ctx.Err()
		},
	}
}

// session is vpcd inserting the card, asking its ATR, then pcscd stopping.
// It runs on its own goroutine, so it reports with t.Error.
func session(t *testing.T) func(net.Conn) {
	return func(c net.Conn) {
		if err := WriteFrame(c, []byte{CtlGetATR}); err != nil {
			t.Error(err)
			return
		}
		if got, err := ReadFrame(c, nil); err != nil || !bytes.Equal(got, tcosATR) {
			t.Errorf("ATR = % X, %v", got, err)
		}
	}
}

// Run connects again after vpcd goes away (pcscd restarted), waiting longer
// after each failed attempt up to Backoff.Max, and from Backoff.Min again
// once it was connected; it says the card is served only once connected.
func TestRunReconnects(t *testing.T) {
	s := &script{t: t, done: make(chan struct{})}
	s.steps = []func(net.Conn){nil, session(t), nil, nil, nil, nil, nil, session(t)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- Run(ctx, &testCard{atr: tcosATR}, s.options()) }()
	<-s.done
	cancel()
	if err := <-errc; err != nil {
		t.Fatalf("Run = %v, want nil after cancel", err)
	}
	ms := time.Millisecond
	wantWaits := []time.Duration{100 * ms, 100 * ms, 200 * ms, 400 * ms, 700 * ms, 700 * ms, 700 * ms, 100 * ms}
	if !slices.Equal(s.waits, wantWaits) {
		t.Errorf("waits = %v, want %v", s.waits, wantWaits)
	}
	wantEvents := []string{
		"lost after 100ms", // pcscd not up yet: nothing said about serving
		"connected", "lost after 100ms",
		"lost after 200ms", "lost after 400ms", "lost after 700ms", "lost after 700ms", "lost after 700ms",
		"connected", "lost after 100ms",
	}
	if !slices.Equal(s.events, wantEvents) {
		t.Errorf("events = %q\nwant %q", s.events, wantEvents)
	}
}

// Run gives up after Options.Attempts failed attempts in a row, with an
// error that says where and why.
func TestRunGivesUp(t *testing.T) {
	s := &script{t: t, done: make(chan struct{})}
	s.steps = []func(net.Conn){nil, nil, nil, nil}
	o := s.options()
	o.Attempts = 3
	err := Run(context.Background(), &testCard{atr: tcosATR}, o)
	var unreachable *UnreachableError
	if !errors.As(err, &unreachable) || unreachable.Addr != "localhost:35963" {
		t.Fatalf("Run = %v, want an *UnreachableError", err)
	}
	if s.dials != 3 || len(s.waits) != 2 {
		t.Errorf("%d dials and %d waits, want 3 and 2", s.dials, len(s.waits))
	}
}

// A name that resolves to another machine is refused once connected, unless
// Options.Remote says so: the card's APDUs would cross its network.
func TestRunRefusesRemotePeer(t *testing.T) {
	remote := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 35963}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		ours, theirs := net.Pipe()
		go func() { io.Copy(io.Discard, theirs); theirs.Close() }()
		return localPipe{ours, remote}, nil
	}
	card := &testCard{atr: tcosATR}
	connected := false
	o := Options{Addr: "localhost:35963", dial: dial, Connected: func(string) { connected = true }}
	if err := Run(context.Background(), card, o); !errors.Is(err, ErrNotLocal) {
		t.Fatalf("Run = %v, want ErrNotLocal", err)
	}
	if connected {
		t.Error("a refused connection was reported as serving")
	}
	// With Remote the same connection is served.
	ctx, cancel := context.WithCancel(context.Background())
	o.Remote = true
	o.Connected = func(string) { cancel() }
	if err := Run(ctx, card, o); err != nil {
		t.Fatalf("Run with Remote = %v", err)
	}
}

func TestLoopback(t *testing.T) {
	for _, tt := range []struct {
		addr net.Addr
		want bool
	}{
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, true},
		{&net.TCPAddr{IP: net.IPv4(127, 1, 2, 3)}, true},
		{&net.TCPAddr{IP: net.IPv6loopback}, true},
		{&net.TCPAddr{IP: net.IPv4(10, 0, 0, 1)}, false},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:127.0.0.1")}, true},
		{&net.UnixAddr{Name: "/tmp/x"}, false},
	} {
		if got := loopback(tt.addr); got != tt.want {
			t.Errorf("loopback(%v) = %v, want %v", tt.addr, got, tt.want)
		}
	}
}

// When the connection ends the card has left the reader: it is reset, so
// nothing verified survives into the next insertion.
func TestServeConnResetsCardAtTheEnd(t *testing.T) {
	card := &testCard{atr: tcosATR}
	ours, theirs := net.Pipe()
	done := make(chan error, 1)
	go func() { done <- ServeConn(context.Background(), ours, card) }()
	request(t, theirs, []byte{0x00, 0x20, 0x00, 0x81})
	before := card.Resets()
	theirs.Close()
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Fatalf("ServeConn = %v, want ErrClosed", err)
	}
	if card.Resets() != before+1 {
		t.Errorf("resets %d → %d, want one more when the card left", before, card.Resets())
	}
}
