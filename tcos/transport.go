package tcos

import (
	"context"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/secmem"
)

// maxChain bounds a 61xx GET RESPONSE chain, so that a card that keeps
// answering 61xx cannot hold the wizard forever (256 × 256 bytes is more than
// any short or extended response).
const maxChain = 256

// Transport sends Commands to a connected card. It handles 61xx (GET
// RESPONSE; docs/tcos.md) and 6Cxx (resend with Le = xx) transparently, since
// pcsc-lite and ebfe/scard pass them through raw; it counts the command APDUs
// it sends and writes the APDU log with secrets masked.
type Transport struct {
	card cardio.Card
	log  io.Writer
	n    int
	now  func() time.Time
}

// NewTransport returns a transport over card. log may be nil.
func NewTransport(card cardio.Card, log io.Writer) *Transport {
	return &Transport{card: card, log: log, now: time.Now}
}

// Count is the number of command APDUs sent so far, GET RESPONSE and 6Cxx
// resends included.
func (t *Transport) Count() int { return t.n }

// Transmit sends cmd and returns the card's final response: the data of a
// 61xx chain concatenated, or the answer to the 6Cxx resend. The error is
// only for transport failures (card removed, reader gone) and malformed
// responses; status words are in Response.SW (see Response.Err).
func (t *Transport) Transmit(ctx context.Context, cmd Command) (Response, error) {
	resp, err := t.transmit(ctx, cmd)
	if err != nil {
		return Response{}, err
	}
	if resp.SW&0xFF00 == SWWrongLe {
		// 6Cxx: the card tells the exact Le; ask again once.
		cmd.Ne = leToNe(byte(resp.SW))
		if resp, err = t.transmit(ctx, cmd); err != nil {
			return Response{}, err
		}
	}
	if resp.SW&0xFF00 != SWBytesAvailable {
		return resp, nil
	}
	// Room for the whole chain up front: a growing append would leave a
	// copy of a secret response behind in the array it outgrew.
	data := append(make([]byte, 0, (maxChain+1)*MaxNe), resp.Data...)
	forget := func(b []byte) {
		if cmd.SecretResponse {
			secmem.Wipe(b)
		}
	}
	forget(resp.Data)
	for range maxChain {
		get := Command{CLA: 0x00, INS: 0xC0, Ne: leToNe(byte(resp.SW)), SecretResponse: cmd.SecretResponse}
		if resp, err = t.transmit(ctx, get); err != nil {
			secmem.Wipe(data)
			return Response{}, err
		}
		data = append(data, resp.Data...)
		forget(resp.Data)
		if resp.SW&0xFF00 != SWBytesAvailable {
			return Response{Data: data, SW: resp.SW}, nil
		}
	}
	secmem.Wipe(data)
	return Response{}, errors.New("the card sent an endless response chain")
}

// errEmptyCommand guards Card.Transmit: ebfe/scard panics on an empty command.
var errEmptyCommand = errors.New("empty command apdu")

// transmit sends exactly one command APDU and logs it with its response.
func (t *Transport) transmit(ctx context.Context, cmd Command) (Response, error) {
	raw, err := cmd.Bytes()
	if err != nil {
		return Response{}, err
	}
	if len(raw) == 0 {
		return Response{}, errEmptyCommand
	}
	t.logCommand(cmd, raw)
	t.n++
	out, err := t.card.Transmit(ctx, raw)
	if cmd.SecretData {
		secmem.Wipe(raw)
	}
	if err != nil {
		t.logLine("! " + errWord(err))
		return Response{}, err
	}
	resp, err := ParseResponse(out)
	if err != nil {
		t.logLine("! " + err.Error())
		return Response{}, cardio.ErrCardMute
	}
	t.logResponse(resp, cmd.SecretResponse)
	return resp, nil
}

// errWord gives a log-safe description of a transport error: only the
// cardio sentinels and the context errors, which never hold secrets.
func errWord(err error) string {
	for _, e := range []error{cardio.ErrCardRemoved, cardio.ErrNoCard, cardio.ErrReaderGone,
		cardio.ErrCardReset, cardio.ErrSharing, cardio.ErrCardMute, cardio.ErrNoService,
		context.DeadlineExceeded, context.Canceled} {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	return "transmit failed"
}

// logCommand writes "> CLA INS P1 P2 [Lc data…] [Le]" with secret data bytes
// masked.
func (t *Transport) logCommand(cmd Command, raw []byte) {
	if t.log == nil {
		return
	}
	var b strings.Builder
	b.WriteString(">")
	for i, x := range raw {
		inData := len(cmd.Data) > 0 && i >= 5 && i < 5+len(cmd.Data)
		logByte(&b, x, inData && cmd.SecretData)
	}
	t.logLine(b.String())
}

// logResponse writes "< data… SW1 SW2" with secret data bytes masked.
func (t *Transport) logResponse(resp Response, secret bool) {
	if t.log == nil {
		return
	}
	var b strings.Builder
	b.WriteString("<")
	for _, x := range resp.Data {
		logByte(&b, x, secret)
	}
	logByte(&b, byte(resp.SW>>8), false)
	logByte(&b, byte(resp.SW), false)
	t.logLine(b.String())
}

// logLine writes one timestamped line in a single Write. Write errors are
// ignored: the APDU log is a diagnostic aid and must not abort a ceremony
// half-way through a set of cards.
func (t *Transport) logLine(s string) {
	if t.log == nil {
		return
	}
	line := t.now().UTC().Format(time.RFC3339Nano) + " " + s + "\n"
	_, _ = io.WriteString(t.log, line)
}

// logByte writes one byte of an APDU log line: " 9F", or " **" if secret.
func logByte(b *strings.Builder, x byte, secret bool) {
	b.WriteByte(' ')
	if secret {
		b.WriteString("**")
		return
	}
	const digits = "0123456789ABCDEF"
	b.WriteByte(digits[x>>4])
	b.WriteByte(digits[x&0x0F])
}

// logPad logs and counts a command the reader's PIN pad completes and sends
// itself: the host only knows its header.
func (t *Transport) logPad(tmpl [4]byte, what string) {
	t.n++
	if t.log == nil {
		return
	}
	var b strings.Builder
	b.WriteString(">")
	for _, x := range tmpl {
		logByte(&b, x, false)
	}
	b.WriteString(" # " + what + " on the reader's PIN pad")
	t.logLine(b.String())
}

// padResult maps what a PIN pad returned: its own errors pass through, the
// reader's 64xx/6B80 statuses become *cardio.PINPadError, and the card's
// status word maps like any response.
func (t *Transport) padResult(out []byte, err error) error {
	if err != nil {
		t.logLine("! " + padErrWord(err))
		return err
	}
	resp, perr := ParseResponse(out)
	if perr != nil {
		t.logLine("! " + perr.Error())
		return cardio.ErrCardMute
	}
	t.logResponse(resp, true)
	if cardio.IsPINPadStatus(resp.SW) {
		return &cardio.PINPadError{SW: resp.SW}
	}
	return resp.Err()
}

func padErrWord(err error) string {
	var pe *cardio.PINPadError
	if errors.As(err, &pe) {
		return pe.Error()
	}
	return errWord(err)
}
