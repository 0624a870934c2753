package simcard

import (
	"errors"
	"math"
	"sync"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// Pace is how long a TCOS 3.0 card behind a PC/SC reader takes (docs/tcos.md
// "Pace"), for the simulated reader: cardio.SimReader.SetPace(NewPace(1)).
// The time of an exchange is the bytes on the line, framed as T=1 blocks at
// the rate the ATR's TA1 asks for (and the reader can do), plus the card's
// work for the command. It models the reference ATR; other cards in the
// simulated reader are timed as if they were one.
type Pace struct {
	// ClockHz is the clock the reader gives the card, at most the card's
	// maximum for its Fi (5 MHz for TA1 = 96).
	ClockHz float64
	// ReaderMaxBPS is the fastest bit rate the reader can run the card at;
	// a reader that cannot do the ATR's rate negotiates a slower one.
	ReaderMaxBPS float64
	// IFSD is the largest information field of a T=1 block the reader
	// takes from the card.
	IFSD int
	// Scale multiplies every time: 1 is a real card's pace, 2 twice as slow.
	Scale float64
}

var _ cardio.Pace = (*Pace)(nil)

// The model's defaults (docs/tcos.md "Pace").
const (
	// DefaultClockHz is the 4 MHz clock most readers give a card (the
	// default clock of the CCID readers pcsc-lite's CCID driver lists).
	DefaultClockHz = 4e6
	// DefaultReaderMaxBPS is the most common top rate CCID readers
	// announce (dwMaxDataRate 344 086 bit/s); above 250 000 bit/s, the
	// reference ATR's own rate at 4 MHz, so it does not bind by default.
	DefaultReaderMaxBPS = 344086
	// DefaultIFSD is what readers ask for with S(IFS request) after the
	// ATR: 254, the T=1 maximum.
	DefaultIFSD = 254
)

// NewPace is the default model, times scale (1: a real card's pace).
func NewPace(scale float64) *Pace {
	return &Pace{ClockHz: DefaultClockHz, ReaderMaxBPS: DefaultReaderMaxBPS, IFSD: DefaultIFSD, Scale: scale}
}

// link is what the reference ATR says about the line (ISO 7816-3 §8.3 and
// §11): the rate factors of TA1, the extra guard time of TC1, and for T=1
// the card's IFSC (TA3) and block waiting time integer (TB3).
type link struct {
	fi, di     float64
	fmax       float64 // Hz
	n          int     // extra guard time, TC1
	ifsc       int
	bwi        int
	negotiated bool // TA1 is not the default: a PPS exchange follows the ATR
}

// ISO 7816-3 table 7 (Fi and f max by TA1's high nibble) and table 8 (Di by
// its low nibble); zero marks an RFU value.
var (
	fiTable   = [16]float64{372, 372, 558, 744, 1116, 1488, 1860, 0, 0, 512, 768, 1024, 1536, 2048, 0, 0}
	fmaxTable = [16]float64{4e6, 5e6, 6e6, 8e6, 12e6, 16e6, 20e6, 0, 0, 5e6, 7.5e6, 10e6, 15e6, 20e6, 0, 0}
	diTable   = [16]float64{0, 1, 2, 4, 8, 16, 32, 64, 12, 20, 0, 0, 0, 0, 0, 0}
)

// Defaults of ISO 7816-3 where the ATR says nothing.
const (
	fd, dd     = 372, 1
	defaultBWI = 4
	defaultIFS = 32
)

var errPaceATR = errors.New("the answer to reset has no usable interface bytes")

// parseLink reads the interface bytes of atr.
func parseLink(atr []byte) (link, error) {
	l := link{fi: fd, di: dd, fmax: 5e6, ifsc: defaultIFS, bwi: defaultBWI}
	if len(atr) < 2 {
		return l, errPaceATR
	}
	y := atr[1] >> 4
	i := 2
	proto := -1     // the protocol the TD before this level named
	seenT1 := false // the first T=1 level after TD2 holds IFSC and BWI
	for level := 1; ; level++ {
		var ta, tb, tc byte
		var has [3]bool
		for k, dst := range []*byte{&ta, &tb, &tc} {
			if y&(1<<k) != 0 {
				if i >= len(atr) {
					return l, errPaceATR
				}
				*dst, has[k] = atr[i], true
				i++
			}
		}
		switch {
		case level == 1:
			if has[0] {
				fi, di := fiTable[ta>>4], diTable[ta&0x0F]
				if fi == 0 || di == 0 {
					return l, errPaceATR
				}
				l.fi, l.fmax, l.di = fi, fmaxTable[ta>>4], di
				l.negotiated = ta != 0x11
			}
			if has[2] {
				l.n = int(tc)
			}
		case level >= 3 && proto == 1 && !seenT1:
			seenT1 = true
			if has[0] {
				l.ifsc = int(ta)
			}
			if has[1] {
				l.bwi = int(tb >> 4)
			}
		}
		if y&8 == 0 {
			return l, nil
		}
		if i >= len(atr) {
			return l, errPaceATR
		}
		y, proto = atr[i]>>4, int(atr[i]&0x0F)
		i++
	}
}

// referenceLink is the line of the reference ATR.
var referenceLink = sync.OnceValue(func() link {
	l, err := parseLink(tcos.ReferenceATR())
	if err != nil {
		panic("simcard: the reference ATR does not parse: " + err.Error())
	}
	return l
})

// clock is the card clock in Hz.
func (p *Pace) clock() float64 {
	l := referenceLink()
	f := p.ClockHz
	if f <= 0 {
		f = DefaultClockHz
	}
	return math.Min(f, l.fmax)
}

// etu is one elementary time unit after the PPS, in seconds: Fi / (Di f),
// or longer if the reader cannot go that fast.
func (p *Pace) etu() float64 {
	l := referenceLink()
	rate := l.di * p.clock() / l.fi
	if p.ReaderMaxBPS > 0 {
		rate = math.Min(rate, p.ReaderMaxBPS)
	}
	return 1 / rate
}

// charETU is a T=1 character with its guard time: 12 + N etu, 11 for
// N = 255 (ISO 7816-3 §8.3, TC1).
func (p *Pace) charETU() float64 {
	if n := referenceLink().n; n != 255 {
		return float64(12 + n)
	}
	return 11
}

// T=1 framing (ISO 7816-3 §11.3): prologue NAD PCB LEN, epilogue LRC; an
// R-block acknowledges each block of a chain but the last; 22 etu of block
// guard time separate blocks that go opposite ways.
const (
	blockOverhead = 4
	rBlockLen     = 4
	sBlockLen     = 5 // an S-block with one byte of information
	bgtETU        = 22
)

// blocks is the characters and blocks of sending n bytes in chained
// blocks of at most ifs bytes, with the receiver's R-blocks.
func blocks(n, ifs int) (chars, count int) {
	parts := max(1, (n+ifs-1)/ifs)
	return n + parts*blockOverhead + (parts-1)*rBlockLen, 2*parts - 1
}

func (p *Pace) scaled(sec float64) time.Duration {
	s := p.Scale
	if s <= 0 {
		s = 1
	}
	return time.Duration(sec * s * float64(time.Second))
}

// activationCycles is when the card's answer may start after reset: ISO
// 7816-3 §6.2 allows 400 to 40 000 clock cycles; the model takes the most.
const activationCycles = 40000

// PowerUp is a reset: the card's activation, the ATR at the default rate
// (Fd = 372, Dd = 1), the PPS exchange to the ATR's rate, and the reader's
// S(IFS request) with the card's answer.
func (p *Pace) PowerUp(atr []byte) time.Duration {
	l := referenceLink()
	f := p.clock()
	etuDefault := fd / (dd * f)
	sec := activationCycles/f + float64(len(atr))*12*etuDefault
	if l.negotiated {
		sec += 2 * 4 * 12 * etuDefault // PPSS PPS0 PPS1 PCK, echoed
	}
	sec += (2*sBlockLen*p.charETU() + bgtETU) * p.etu()
	return p.scaled(sec)
}

// Exchange is the command's blocks to the card, the card's work (with its
// waiting time extensions, S(WTX), when the work outlasts the block waiting
// time), and the response's blocks back.
func (p *Pace) Exchange(cmd, resp []byte) time.Duration {
	l := referenceLink()
	ifsd := p.IFSD
	if ifsd <= 0 {
		ifsd = DefaultIFSD
	}
	cc, cb := blocks(len(cmd), l.ifsc)
	rc, rb := blocks(len(resp), ifsd)
	chars, count := cc+rc, cb+rb
	w := cardWork(cmd, resp).Seconds()
	// BWT = 11 etu + 2^BWI × 960 × Fd / f (ISO 7816-3 §11.4.3).
	bwt := 11*p.etu() + math.Ldexp(960*fd/p.clock(), l.bwi)
	if wtx := int(w / bwt); wtx > 0 {
		chars += wtx * 2 * sBlockLen
		count += wtx * 2
	}
	sec := (float64(chars)*p.charETU()+float64(count)*bgtETU)*p.etu() + w
	return p.scaled(sec)
}

// The card's work per command: estimates of a TCOS 3.0 card of its time
// (a Philips P5CT072 with an RSA coprocessor), not measurements
// (docs/tcos.md "Pace"). Writes to EEPROM dominate what is not RSA.
const (
	workReject   = 1 * time.Millisecond // a status word without work: 6982, 6A82, 6700, …
	workSelect   = 3 * time.Millisecond
	workRead     = 2 * time.Millisecond
	workCommand  = 2 * time.Millisecond // decode, check, answer
	workPage     = 3 * time.Millisecond // program one EEPROM page
	eepromPage   = 64                   // bytes per EEPROM page
	workResponse = 1 * time.Millisecond // GET RESPONSE
	workList     = 3 * time.Millisecond
	workRandom   = 3 * time.Millisecond
	workKeyGen   = 15 * time.Second       // RSA-2048 key pair; real cards vary widely
	workDecipher = 200 * time.Millisecond // RSA-2048 private key operation (CRT)
)

// cardWork is the card's time for cmd, which it answered with resp.
func cardWork(cmd, resp []byte) time.Duration {
	c, err := parseCommand(cmd)
	if err != nil || len(resp) < 2 {
		return workReject
	}
	sw1, sw2 := resp[len(resp)-2], resp[len(resp)-1]
	wrongPIN := sw1 == 0x63 && sw2&0xF0 == 0xC0
	done := sw1 == 0x90 || sw1 == 0x61 || (sw1 == 0x62 && sw2 == 0x82)
	if !done && !wrongPIN {
		return workReject
	}
	pages := func(n int) time.Duration { return time.Duration((n+eepromPage-1)/eepromPage) * workPage }
	switch c.ins {
	case tcos.INSSelect:
		return workSelect
	case tcos.INSReadBinary:
		return workRead
	case tcos.INSUpdateBinary:
		return workCommand + pages(len(c.data))
	case tcos.INSVerify:
		switch {
		case len(c.data) == 0:
			return workCommand // the PIN's state, nothing written
		case wrongPIN:
			return workCommand + workPage // the retry counter goes down
		}
		return workCommand + 2*workPage // down first, then back up
	case tcos.INSChangeRef:
		if wrongPIN {
			return workCommand + workPage
		}
		return workCommand + 3*workPage // counter down, new PIN, counter up
	case tcos.INSGetResponse:
		return workResponse
	case tcos.INSGetChallenge:
		return workRandom
	case tcos.INSListFiles:
		return workList
	case tcos.INSGenerateKeyPair:
		return workKeyGen + pages(tcos.KeyBits/8*5/2) // the private key in CRT form and the public EF
	case tcos.INSPSO:
		if c.cla&tcos.CLAChain != 0 {
			return workCommand // a part of the chain: collected only
		}
		return workDecipher
	}
	return workCommand
}
