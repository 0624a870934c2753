package tcos

import (
	"errors"
	"fmt"
)

// Command is one command APDU in the short form (ISO 7816-4 §5.1 cases 1–4:
// at most 255 bytes of data out, 256 in; docs/tcos.md).
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field (Lc is its length); at most 255 bytes.
	Data []byte
	// Ne is the number of response bytes expected: 0 means none (no Le),
	// 1–255 is sent as is, 256 is sent as Le 00.
	Ne int

	// SecretData marks the data field as secret (a PIN, a share record): the
	// APDU log shows each of its bytes as "**" and the transport wipes its
	// encoded copy after sending.
	SecretData bool
	// SecretResponse marks the response data as secret (a share record read
	// back): the APDU log shows each of its bytes as "**".
	SecretResponse bool
}

// Limits of short APDUs (ISO 7816-4 §5.1).
const (
	MaxLc = 255
	MaxNe = 256
)

// Errors from encoding and decoding APDUs.
var (
	errAPDUTooShort  = errors.New("apdu is too short")
	errAPDUExtended  = errors.New("extended length apdus are not supported")
	errAPDULength    = errors.New("apdu length does not match its lc field")
	errResponseShort = errors.New("response apdu is shorter than its status word")
)

// Bytes encodes the command as a short APDU.
func (c Command) Bytes() ([]byte, error) {
	if len(c.Data) > MaxLc {
		return nil, fmt.Errorf("command data of %d bytes does not fit a short apdu", len(c.Data))
	}
	if c.Ne < 0 || c.Ne > MaxNe {
		return nil, fmt.Errorf("expected response length %d does not fit a short apdu", c.Ne)
	}
	b := make([]byte, 0, 4+1+len(c.Data)+1)
	b = append(b, c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		b = append(b, byte(len(c.Data)))
		b = append(b, c.Data...)
	}
	if c.Ne > 0 {
		b = append(b, byte(c.Ne)) // 256 wraps to 00, as ISO 7816-4 wants
	}
	return b, nil
}

// ParseCommand decodes a short command APDU (cases 1–4). Data aliases b.
// Extended-length APDUs are refused: neither our profile nor the simulated
// card uses them.
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, errAPDUTooShort
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2: Le only
		c.Ne = leToNe(body[0])
	case body[0] == 0:
		// Lc 00 followed by more bytes starts an extended APDU.
		return Command{}, errAPDUExtended
	default:
		lc := int(body[0])
		switch len(body) {
		case 1 + lc: // case 3
			c.Data = body[1:]
		case 2 + lc: // case 4
			c.Data = body[1 : 1+lc]
			c.Ne = leToNe(body[1+lc])
		default:
			return Command{}, errAPDULength
		}
	}
	return c, nil
}

func leToNe(le byte) int {
	if le == 0 {
		return MaxNe
	}
	return int(le)
}

// Response is one response APDU: data then the status word SW1 SW2.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a raw response APDU. Data aliases b.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, errResponseShort
	}
	n := len(b) - 2
	return Response{Data: b[:n], SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Bytes encodes the response as data || SW1 SW2.
func (r Response) Bytes() []byte {
	b := make([]byte, 0, len(r.Data)+2)
	b = append(b, r.Data...)
	return append(b, byte(r.SW>>8), byte(r.SW))
}

// Err is nil for 9000 and the status word as an error otherwise (see
// StatusError).
func (r Response) Err() error { return swError(r.SW) }
