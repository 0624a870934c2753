package simcard

import "errors"

// command is one command APDU as the card receives it, short or extended:
// the ATR's card capabilities (third software function byte D0) advertise
// extended Lc and Le, so the card takes both forms (ISO 7816-4 §5.1;
// docs/tcos.md "APDU facts"). The host side of the profile sends short
// APDUs only; OpenSC sends extended ones to a TCOS 3.0 card.
type command struct {
	cla, ins, p1, p2 byte
	data             []byte // aliases the raw APDU
	// ne is the number of response bytes the host expects: 0 without an Le
	// field, else 1–256 (short) or 1–65536 (extended). Le 00 (short) and
	// 00 00 (extended) mean the maximum.
	ne       int
	extended bool
}

// Length limits of ISO 7816-4 §5.1.
const (
	maxNeShort = 256
	maxNeExt   = 65536
)

// errLength is a command whose body does not follow any of the seven
// encodings: the card answers 6700.
var errLength = errors.New("apdu length does not match its lc and le fields")

// parseCommand decodes cases 1, 2S/2E, 3S/3E and 4S/4E. An extended APDU
// starts its body with 00 followed by two length bytes.
func parseCommand(b []byte) (command, error) {
	if len(b) < 4 {
		return command{}, errLength
	}
	c := command{cla: b[0], ins: b[1], p1: b[2], p2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
	case len(body) == 1: // case 2S
		c.ne = shortNe(body[0])
	case body[0] != 0: // cases 3S and 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.data = body[1:]
		case 2 + lc:
			c.data = body[1 : 1+lc]
			c.ne = shortNe(body[1+lc])
		default:
			return command{}, errLength
		}
	case len(body) == 3: // case 2E: 00 Le1 Le2
		c.extended = true
		c.ne = extNe(body[1], body[2])
	case len(body) > 3: // cases 3E and 4E: 00 Lc1 Lc2 data [Le1 Le2]
		c.extended = true
		lc := int(body[1])<<8 | int(body[2])
		switch {
		case lc == 0:
			return command{}, errLength
		case len(body) == 3+lc:
			c.data = body[3:]
		case len(body) == 5+lc:
			c.data = body[3 : 3+lc]
			c.ne = extNe(body[3+lc], body[4+lc])
		default:
			return command{}, errLength
		}
	default:
		return command{}, errLength
	}
	return c, nil
}

func shortNe(le byte) int {
	if le == 0 {
		return maxNeShort
	}
	return int(le)
}

func extNe(hi, lo byte) int {
	if n := int(hi)<<8 | int(lo); n != 0 {
		return n
	}
	return maxNeExt
}

// neMax is the largest Ne the command's form can carry: what Le 00 (00 00)
// asks for.
func (c command) neMax() int {
	if c.extended {
		return maxNeExt
	}
	return maxNeShort
}

// wantsAll reports an Le field of zeroes: as many bytes as there are, up to
// the maximum.
func (c command) wantsAll() bool { return c.ne == c.neMax() }
