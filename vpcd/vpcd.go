// Package vpcd puts a simulated card into pcscd's virtual reader: it connects
// to the vpcd driver (Debian vsmartcard-vpcd) as a TCP client and answers its
// requests from a cardio.SimulatedCard. Connecting is inserting the card,
// closing the connection is pulling it (DESIGN.md "A real PC/SC stack in
// tests: pcscd + vpcd"). It needs no cgo: only pcscd links the driver.
package vpcd

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"

	"github.com/hsmcards/hsmcards/cardio"
)

// DefaultAddr is where vpcd listens for the card of reader "Virtual PCD 00 00";
// "Virtual PCD 00 01" is on port 35964.
const DefaultAddr = "localhost:35963"

// Control requests vpcd sends as 1-byte payloads (DESIGN.md wire protocol).
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
// returns an error when vpcd cannot be reached (is pcscd running with the
// vpcd driver?) or closes the connection; reconnecting is the caller's choice.
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
		return fmt.Errorf("cannot reach the virtual reader at %s (is pcscd running with the vpcd driver?): %w", addr, err)
	}
	return ServeConn(ctx, conn, card)
}

// ServeConn answers vpcd's requests on conn from card until ctx ends (nil) or
// the connection fails. It closes conn. A request still being processed when
// ctx ends gets no answer, as when a card is pulled in the middle of a command.
func ServeConn(ctx context.Context, conn net.Conn, card cardio.SimulatedCard) error {
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
			if errors.Is(err, io.EOF) {
				return errors.New("the virtual reader (vpcd) closed the connection")
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
