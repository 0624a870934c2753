// Package vpcd puts a simulated card into pcscd's virtual reader: it connects
// to the vpcd driver (Debian vsmartcard-vpcd) as a TCP client and answers its
// requests from a cardio.SimulatedCard. Connecting is inserting the card,
// closing the connection is pulling it. docs/vpcd.md describes the wire
// protocol. It needs no cgo: only pcscd links the driver.
//
// Serve is one insertion; Run keeps the card in the reader, connecting again
// after pcscd restarts.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
)

// DefaultAddr is where vpcd listens for the card of reader "Virtual PCD 00 00";
// "Virtual PCD 00 01" is on port 35964 (docs/vpcd.md).
const DefaultAddr = "localhost:35963"

// Control requests vpcd sends as 1-byte payloads (docs/vpcd.md).
const (
	CtlPowerOff = 0x00
	CtlPowerOn  = 0x01
	CtlReset    = 0x02
	CtlGetATR   = 0x04
)

// MaxFrame is the largest payload a 2-byte length can announce.
const MaxFrame = 0xFFFF

// ErrEmptyFrame is a zero-length payload, which neither side ever sends.
var ErrEmptyFrame = errors.New("vpcd sent an empty frame")

// ErrClosed is vpcd closing the connection: the card left the reader
// because pcscd stopped (or restarted).
var ErrClosed error = &hinted{
	err:  errors.New("the virtual reader (vpcd) closed the connection"),
	hint: "pcscd stopped or restarted; hsmcards vpcd puts the card back once it is up",
}

// ErrNotLocal is a connection whose other end is on another machine, made
// without Options.Remote: every APDU, PINs typed on the host included,
// would cross that network in the clear.
var ErrNotLocal = errors.New("the virtual reader is not on this machine")

// hinted is an error with a hint (cardio.Hint finds it), as age's are.
type hinted struct {
	err  error
	hint string
}

func (e *hinted) Error() string { return e.err.Error() }
func (e *hinted) Hint() string  { return e.hint }
func (e *hinted) Unwrap() error { return e.err }

// UnreachableError is vpcd not taking the connection.
type UnreachableError struct {
	Addr string
	Err  error // what the dial said
}

func (e *UnreachableError) Error() string {
	return "cannot reach the virtual reader at " + e.Addr
}

// Hint says what usually is the cause.
func (e *UnreachableError) Hint() string {
	return "is pcscd running with the vpcd driver (Debian packages pcscd, vsmartcard-vpcd)?"
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// ReadFrame reads one frame (2-byte big-endian length, then payload) into
// buf, growing it if needed, and returns the payload. A stream that ends
// between frames gives io.EOF, inside a frame io.ErrUnexpectedEOF.
func ReadFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	if cap(buf) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return buf, nil
}

// WriteFrame writes payload as one frame, in one write so the peer never sees
// a length without its payload.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) == 0 || len(payload) > MaxFrame {
		return fmt.Errorf("vpcd frame of %d bytes is outside 1..%d", len(payload), MaxFrame)
	}
	b := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(b, uint16(len(payload)))
	copy(b[2:], payload)
	_, err := w.Write(b)
	return err
}

// Serve inserts card into the vpcd reader at addr (DefaultAddr when empty) and
// answers vpcd until ctx ends, which pulls the card and returns nil. It
// returns an *UnreachableError when vpcd cannot be reached, ErrClosed when
// vpcd closes the connection; Run is Serve again and again.
func Serve(ctx context.Context, addr string, card cardio.SimulatedCard) error {
	if addr == "" {
		addr = DefaultAddr
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return &UnreachableError{Addr: addr, Err: err}
	}
	return ServeConn(ctx, conn, card)
}

// ServeConn answers vpcd's requests on conn from card until ctx ends (nil) or
// the connection fails. It closes conn, and resets card: a card that leaves
// the reader loses its power, and with it every verification. A request
// still being processed when ctx ends gets no answer, as when a card is
// pulled in the middle of a command.
func ServeConn(ctx context.Context, conn net.Conn, card cardio.SimulatedCard) error {
	defer card.Reset()
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	buf := make([]byte, 0, 512)
	for {
		quickAck(conn)
		req, err := ReadFrame(conn, buf)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
				return ErrClosed
			}
			return fmt.Errorf("reading from the virtual reader: %w", err)
		}
		buf = req[:0]
		rsp := handle(card, req)
		if ctx.Err() != nil {
			return nil // pulled mid-command: no answer
		}
		if rsp == nil {
			continue
		}
		if err := WriteFrame(conn, rsp); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("writing to the virtual reader: %w", err)
		}
	}
}

// handle answers one request, nil when vpcd expects no answer.
func handle(card cardio.SimulatedCard, req []byte) []byte {
	if len(req) > 1 {
		return card.Process(req)
	}
	switch req[0] {
	case CtlPowerOff, CtlPowerOn, CtlReset:
		// Power cycling and reset both drop every verification state.
		card.Reset()
	case CtlGetATR:
		return card.ATR()
	}
	// Unknown control bytes are ignored: vpcd expects an answer only to 04.
	return nil
}

// Backoff bounds the waits between Run's attempts to reach vpcd: the first
// wait is Min, each next one twice the last, up to Max.
type Backoff struct {
	Min, Max time.Duration
}

// DefaultBackoff is Run's when Options.Backoff is zero: pcscd is back within
// a second or two of a restart, and a vpcd that stays away is asked every
// 5 s, not in a tight loop.
var DefaultBackoff = Backoff{Min: 250 * time.Millisecond, Max: 5 * time.Second}

// next is the wait after the previous one, prev 0 for the first.
func (b Backoff) next(prev time.Duration) time.Duration {
	if prev <= 0 {
		return b.Min
	}
	return min(2*prev, b.Max)
}

// Options are Run's settings.
type Options struct {
	// Addr is vpcd's HOST:PORT, DefaultAddr when empty.
	Addr string
	// Remote allows a vpcd on another machine. Without it Run refuses a
	// connection whose other end is not a loopback address (ErrNotLocal),
	// whatever the name in Addr resolved to.
	Remote bool
	// Backoff bounds the waits between attempts; DefaultBackoff when zero.
	Backoff Backoff
	// Attempts is how many attempts in a row may fail before Run gives up
	// and returns the last error; 0 never gives up. An attempt that
	// connected starts the count again.
	Attempts int
	// Connected, if set, is told each time the card is in the reader: the
	// connection to vpcd is made. This, not the call to Run, is when to say
	// that the card is served.
	Connected func(addr string)
	// Lost, if set, is told why vpcd could not be reached or went away, and
	// how long Run waits before the next attempt.
	Lost func(err error, retry time.Duration)

	dial func(ctx context.Context, network, addr string) (net.Conn, error) // tests
	wait func(ctx context.Context, d time.Duration) error                  // tests
}

// Run keeps card in the vpcd reader until ctx ends, then pulls it and
// returns nil. When vpcd cannot be reached, or closes the connection (pcscd
// stopped or restarted), Run tries again after a wait that grows from
// Backoff.Min to Backoff.Max, and starts again at Min once it was connected.
// It returns an error only for ErrNotLocal, and after Options.Attempts
// failed attempts in a row.
func Run(ctx context.Context, card cardio.SimulatedCard, o Options) error {
	addr := o.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	b := o.Backoff
	if b.Min <= 0 || b.Max < b.Min {
		b = DefaultBackoff
	}
	dial := o.dial
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	wait := o.wait
	if wait == nil {
		wait = sleep
	}
	var delay time.Duration
	failed := 0
	for {
		conn, err := dial(ctx, "tcp", addr)
		if ctx.Err() != nil {
			if conn != nil {
				conn.Close()
			}
			return nil
		}
		if err != nil {
			err = &UnreachableError{Addr: addr, Err: err}
			failed++
		} else {
			if !o.Remote && !loopback(conn.RemoteAddr()) {
				conn.Close()
				return fmt.Errorf("%w: %s is %v", ErrNotLocal, addr, conn.RemoteAddr())
			}
			failed, delay = 0, 0
			if o.Connected != nil {
				o.Connected(addr)
			}
			err = ServeConn(ctx, conn, card)
			if ctx.Err() != nil {
				return nil
			}
			failed++
		}
		if o.Attempts > 0 && failed >= o.Attempts {
			return err
		}
		delay = b.next(delay)
		if o.Lost != nil {
			o.Lost(err, delay)
		}
		if wait(ctx, delay) != nil {
			return nil
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// loopback reports whether a is an address of this machine's loopback.
func loopback(a net.Addr) bool {
	if t, ok := a.(*net.TCPAddr); ok {
		ip, ok := netip.AddrFromSlice(t.IP)
		return ok && ip.Unmap().IsLoopback()
	}
	ap, err := netip.ParseAddrPort(a.String())
	return err == nil && ap.Addr().Unmap().IsLoopback()
}
