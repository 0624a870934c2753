package vpcd

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
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
	err := <-done
	if err == nil || !strings.Contains(err.Error(), "closed the connection") {
		t.Fatalf("Serve = %v, want a closed-connection error", err)
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
	if err == nil || !strings.Contains(err.Error(), "pcscd") {
		t.Fatalf("Serve = %v, want an error that points at pcscd", err)
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
