package simcard

import (
	"bytes"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// Both card kinds plug into the simulated reader and the vpcd bridge.
var (
	_ cardio.SimulatedCard = (*Card)(nil)
	_ cardio.SimulatedCard = Foreign{}
)

// foreignATR is a card that is not TCOS: the PC/SC ATR of a contactless
// storage card (PC/SC part 3 form), well-formed but with other historical
// bytes.
var foreignATR = []byte{
	0x3B, 0x8F, 0x80, 0x01, 0x80, 0x4F, 0x0C, 0xA0, 0x00, 0x00, 0x03, 0x06,
	0x03, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x6A,
}

// Foreign is a card that is not an appliance card (a training prop for
// inserting smart cards that were not delivered, which the appliance manual,
// Smart Card Handling, warns of): its ATR is not TCOS 3.0 and it knows none
// of our files.
type Foreign struct{}

// ATR is a well-formed non-TCOS ATR.
func (Foreign) ATR() []byte { return bytes.Clone(foreignATR) }

// Reset does nothing: the card holds no state.
func (Foreign) Reset() {}

// Process answers 6A82 to SELECT, 6986 to READ BINARY and 6D00 to the rest.
func (Foreign) Process(cmd []byte) []byte {
	if len(cmd) < 4 {
		return []byte{0x67, 0x00}
	}
	var s uint16
	switch cmd[1] {
	case tcos.INSSelect:
		s = tcos.SWFileNotFound
	case tcos.INSReadBinary:
		s = tcos.SWNoCurrentEF
	default:
		s = tcos.SWINSNotSupported
	}
	return []byte{byte(s >> 8), byte(s)}
}
