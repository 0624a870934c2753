//go:build pcsc

package cardio

// The PC/SC reader: pcsc-lite through github.com/ebfe/scard (DESIGN.md
// "PC/SC and the PIN-pad reader"). Every blocking call gets its own scard
// context, so a wait can be cancelled (SCardCancel) without touching a
// connected card, and a restarted pcscd is picked up by the next call.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio/part10"
)

// PCSCSupported reports whether this build can talk to pcsc-lite.
const PCSCSupported = true

// pnpNotification is the pseudo reader whose state changes when a reader is
// plugged or unplugged (DESIGN.md: ebfe/scard facts).
const pnpNotification = `\\?PnP?\Notification`

// stateMask keeps the state flags of EventState; the upper 16 bits are an
// event counter (DESIGN.md).
const stateMask = 0xFFFF

// settleTime bounds how long a failed command waits for pcscd to report that
// the card or reader went away before calling the card mute. pcscd notices a
// pulled card on its next poll of the driver (400 ms for drivers without
// hotplug events, such as vpcd); USB readers report it at once.
const settleTime = 1500 * time.Millisecond

// pcscError is a PC/SC failure mapped onto one of cardio's sentinels; both
// match with errors.Is.
type pcscError struct {
	kind error       // ErrNoService, ErrCardRemoved, ...
	code scard.Error // what pcsc-lite said, 0 when we decided
}

func (e *pcscError) Error() string {
	msg := e.kind.Error()
	if e.kind == ErrNoService {
		msg += "; start it with: sudo systemctl start pcscd (Debian package pcscd)"
	}
	if e.code != 0 {
		msg += fmt.Sprintf(" (PC/SC error 0x%08X)", uint32(e.code))
	}
	return msg
}

func (e *pcscError) Unwrap() []error {
	if e.code == 0 {
		return []error{e.kind}
	}
	return []error{e.kind, e.code}
}

// kindOf maps a pcsc-lite status onto a cardio sentinel, nil when none fits.
func kindOf(code scard.Error) error {
	switch code {
	case scard.ErrNoService, scard.ErrServiceStopped:
		return ErrNoService
	case scard.ErrNoReadersAvailable:
		return ErrNoReader
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return ErrReaderGone
	case scard.ErrNoSmartcard:
		return ErrNoCard
	case scard.ErrRemovedCard:
		return ErrCardRemoved
	case scard.ErrResetCard:
		return ErrCardReset
	case scard.ErrSharingViolation:
		return ErrSharing
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrUnsupportedCard:
		return ErrCardMute
	}
	return nil
}

// wrap turns an scard error into a *pcscError when it has a meaning for the
// operator, and otherwise says which operation failed.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	var code scard.Error
	if !errors.As(err, &code) {
		return err
	}
	if kind := kindOf(code); kind != nil {
		return &pcscError{kind: kind, code: code}
	}
	return fmt.Errorf("%s: %w", op, err)
}

// ambiguous are the statuses a failed card operation can have when the card
// was pulled, the reader unplugged or the card stopped answering; which one
// it was is read from the reader's state afterwards.
func ambiguous(code scard.Error) bool {
	switch code {
	case scard.ErrNotTransacted, scard.ErrCommError, scard.ErrCommDataLost,
		scard.ErrUnknownError, scard.ErrInternalError, scard.ErrInvalidHandle,
		scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrNoSmartcard:
		return true
	}
	return false
}

// ListPCSCReaders lists the readers pcscd knows, in its order. No reader is
// an empty list; pcscd not running is ErrNoService.
func ListPCSCReaders(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	defer sc.Release()
	return listReaders(sc)
}

func listReaders(sc *scard.Context) ([]string, error) {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("list readers", err)
	}
	return names, nil
}

// OpenPCSC opens a PC/SC reader: with name empty the only one connected (a
// *MultipleReadersError lists them when there are several), otherwise the one
// named name exactly or the only one whose name contains it (any case).
// Errors: ErrNoService when pcscd is not running, ErrNoReader when no reader
// fits.
func OpenPCSC(ctx context.Context, name string) (Reader, error) {
	names, err := ListPCSCReaders(ctx)
	if err != nil {
		return nil, err
	}
	pick, err := pickReader(names, name)
	if err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(context.Background())
	return &pcscReader{name: pick, life: life, stop: stop}, nil
}

func establish() (*scard.Context, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("connect to pcscd", err)
	}
	return sc, nil
}

// cancelOn makes the end of ctx cancel sc's GetStatusChange (SCardCancel
// from another goroutine is what pcsc-lite provides for this). Call the
// returned func before releasing sc.
func cancelOn(ctx context.Context, sc *scard.Context) (done func()) {
	var wg sync.WaitGroup
	wg.Add(1)
	stop := context.AfterFunc(ctx, func() {
		defer wg.Done()
		sc.Cancel()
	})
	return func() {
		if stop() {
			wg.Done() // the cancel never ran
		}
		wg.Wait()
	}
}

// pcscReader is one PC/SC reader, by name.
type pcscReader struct {
	name string
	life context.Context // ends on Close, cancelling every wait
	stop context.CancelFunc
}

var errPCSCClosed = fmt.Errorf("%w: the reader was closed", ErrReaderGone)

func (r *pcscReader) Name() string { return r.name }

// op derives a context that also ends when the reader is closed.
func (r *pcscReader) op(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if r.life.Err() != nil {
		return nil, nil, errPCSCClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.life, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

func (r *pcscReader) readerGone() error {
	return fmt.Errorf("%w (%s)", ErrReaderGone, r.name)
}

// Present asks pcscd for the reader's state without waiting.
func (r *pcscReader) Present(ctx context.Context) (bool, error) {
	_, cancel, err := r.op(ctx) // GetStatusChange with timeout 0 does not wait
	if err != nil {
		return false, err
	}
	defer cancel()
	sc, err := establish()
	if err != nil {
		return false, err
	}
	defer sc.Release()
	ev, err := r.state(sc)
	if err != nil {
		return false, err
	}
	if ev&scard.StateUnknown != 0 {
		return false, r.readerGone()
	}
	return ev&scard.StatePresent != 0, nil
}

// state reads the reader's current state flags (timeout 0, unaware).
func (r *pcscReader) state(sc *scard.Context) (scard.StateFlag, error) {
	rs := []scard.ReaderState{{Reader: r.name, CurrentState: scard.StateUnaware}}
	if err := sc.GetStatusChange(rs, 0); err != nil {
		return 0, wrap("read the reader state", err)
	}
	return rs[0].EventState & stateMask, nil
}

// WaitForCard blocks in GetStatusChange until a card is in the reader. The
// reader vanishing during the wait is ErrReaderGone; a reader that is absent
// when the wait starts is waited for (pcscd's PnP notification), so that the
// wizard can report the unplugged reader once and then simply wait again.
func (r *pcscReader) WaitForCard(ctx context.Context) error {
	return r.wait(ctx, func(ev scard.StateFlag) bool { return ev&scard.StatePresent != 0 }, false)
}

// WaitForRemoval blocks until the reader is empty; an unplugged reader is
// empty too.
func (r *pcscReader) WaitForRemoval(ctx context.Context) error {
	return r.wait(ctx, func(ev scard.StateFlag) bool { return ev&scard.StateEmpty != 0 }, true)
}

func (r *pcscReader) wait(ctx context.Context, done func(scard.StateFlag) bool, goneIsDone bool) error {
	ctx, cancel, err := r.op(ctx)
	if err != nil {
		return err
	}
	defer cancel()
	sc, err := establish()
	if err != nil {
		return err
	}
	defer sc.Release()
	uncancel := cancelOn(ctx, sc)
	defer uncancel()

	// The same slice goes to every call: scard updates EventState in place and
	// we feed it back as CurrentState, so each call blocks until something
	// changes (DESIGN.md). The first call, all unaware, returns at once.
	states := []scard.ReaderState{
		{Reader: r.name, CurrentState: scard.StateUnaware},
		{Reader: pnpNotification, CurrentState: scard.StateUnaware},
	}
	seen := false // the reader was there during this wait
	for {
		timeout := time.Duration(-1) // infinite: ctx ends it through SCardCancel
		if dl, ok := ctx.Deadline(); ok {
			timeout = max(time.Until(dl), 0)
		}
		err := sc.GetStatusChange(states, timeout)
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return ctx.Err()
		case errors.Is(err, scard.ErrTimeout):
			return context.DeadlineExceeded
		case errors.Is(err, scard.ErrNoReadersAvailable):
			// Older pcsc-lite answers this instead of waiting on PnP.
			if goneIsDone {
				return nil
			}
			if seen {
				return r.readerGone()
			}
			return wrap("wait for a card", err)
		default:
			return wrap("wait for a card", err)
		}
		ev := states[0].EventState & stateMask
		if ev&scard.StateUnknown != 0 {
			if goneIsDone {
				return nil
			}
			if seen {
				return r.readerGone()
			}
		} else {
			seen = true
			if done(ev) {
				return nil
			}
		}
		for i := range states {
			// Keep the event counter; drop CHANGED and IGNORE so that a
			// reader that comes back is reported again.
			states[i].CurrentState = states[i].EventState &^ (scard.StateChanged | scard.StateIgnore)
		}
	}
}

// Connect connects shared (T=0 or T=1), resets the card so nothing verified
// by anyone survives, and begins the step's transaction. BeginTransaction
// waits while another program holds one; pcsc-lite offers no way to cancel
// that wait, so ctx is only checked before.
func (r *pcscReader) Connect(ctx context.Context) (Card, error) {
	_, cancel, err := r.op(ctx)
	if err != nil {
		return nil, err
	}
	defer cancel()
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	card, err := sc.Connect(r.name, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		sc.Release()
		return nil, wrap("connect to the card", err)
	}
	c := &pcscCard{r: r, sc: sc, card: card}
	if err := c.begin(scard.ResetCard); err != nil {
		card.Disconnect(scard.LeaveCard)
		sc.Release()
		return nil, err
	}
	st, err := card.Status()
	if err != nil {
		err = c.fail("read the card status", err)
		c.Close()
		return nil, err
	}
	c.atr = append([]byte(nil), st.Atr...)
	pad, err := c.probePad()
	if err != nil {
		c.Close()
		return nil, err
	}
	if pad != nil {
		c.pad = pad
	}
	return c, nil
}

// Close ends every wait on this reader.
func (r *pcscReader) Close() error {
	r.stop()
	return nil
}

// pcscCard is a connected card inside its step's transaction.
type pcscCard struct {
	r    *pcscReader
	sc   *scard.Context
	card *scard.Card
	atr  []byte
	pad  *pcscPad // nil without VERIFY_PIN_DIRECT

	closeOnce sync.Once
	closeErr  error
}

// begin reconnects with disp (ResetCard on Connect, LeaveCard after someone
// else's reset) and takes the transaction. A reset by another program in
// between makes BeginTransaction fail with a reset warning: reconnect once
// more, leaving the card.
func (c *pcscCard) begin(disp scard.Disposition) error {
	for try := 0; ; try++ {
		if err := c.card.Reconnect(scard.ShareShared, scard.ProtocolAny, disp); err != nil {
			return c.classify("reconnect to the card", err)
		}
		err := c.card.BeginTransaction()
		if err == nil {
			return nil
		}
		if errors.Is(err, scard.ErrResetCard) && try == 0 {
			disp = scard.LeaveCard
			continue
		}
		return c.classify("begin a transaction", err)
	}
}

// probePad asks the reader for its part 10 features. Readers without them,
// and vpcd, which answers no SCardControl, give a nil pad; only a card that
// went away is an error.
func (c *pcscCard) probePad() (*pcscPad, error) {
	rsp, err := c.card.Control(part10.IoctlGetFeatureRequest, nil)
	if err != nil {
		var code scard.Error
		if errors.As(err, &code) && (code == scard.ErrRemovedCard || code == scard.ErrReaderUnavailable) {
			return nil, c.fail("ask the reader's features", err)
		}
		return nil, nil
	}
	f, err := part10.ParseFeatures(rsp)
	if err != nil {
		return nil, nil
	}
	verify, ok := f[part10.FeatureVerifyPINDirect]
	if !ok {
		return nil, nil
	}
	modify, canModify := f[part10.FeatureModifyPINDirect]
	return &pcscPad{c: c, verify: verify, modify: modify, canModify: canModify}, nil
}

func (c *pcscCard) ATR() []byte { return append([]byte(nil), c.atr...) }

func (c *pcscCard) PINPad() PINPad {
	if c.pad == nil {
		return nil // a typed nil would not compare equal to nil
	}
	return c.pad
}

var errEmptyCommand = errors.New("empty command APDU")

// Transmit sends one APDU. pcsc-lite cannot cancel a transmission, so ctx
// is checked before it starts.
func (c *pcscCard) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) == 0 {
		return nil, errEmptyCommand // scard would panic on it
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rsp, err := c.card.Transmit(cmd)
	if err != nil {
		return nil, c.fail("transmit", err)
	}
	if len(rsp) < 2 {
		// No status word: vpcd answers this way when its card vanishes in
		// the middle of a command. Settle what happened from the reader.
		return nil, c.diagnose("transmit", 0)
	}
	return rsp, nil
}

// fail maps a failed card operation onto the sentinel the operator needs.
// After another program's reset it reconnects (so the step can be retried
// on this same Card) and reports ErrCardReset. Statuses that do not say what
// happened are settled by looking at the reader.
func (c *pcscCard) fail(op string, err error) error {
	if errors.Is(err, scard.ErrResetCard) {
		if rerr := c.begin(scard.LeaveCard); rerr != nil {
			return rerr
		}
		return &pcscError{kind: ErrCardReset, code: scard.ErrResetCard}
	}
	return c.classify(op, err)
}

// classify is fail without the recovery from a reset.
func (c *pcscCard) classify(op string, err error) error {
	var code scard.Error
	if errors.As(err, &code) && ambiguous(code) {
		return c.diagnose(op, code)
	}
	return wrap(op, err)
}

// diagnose decides between a pulled card, an unplugged reader and a mute
// card from the reader's state, giving pcscd up to settleTime to notice a
// removal it has not polled yet. This is a bounded wait on pcscd, not a
// retry loop: GetStatusChange returns on the first change.
func (c *pcscCard) diagnose(op string, code scard.Error) error {
	rs := []scard.ReaderState{{Reader: c.r.name, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(settleTime)
	for {
		err := c.sc.GetStatusChange(rs, max(time.Until(deadline), 0))
		if errors.Is(err, scard.ErrTimeout) {
			break
		}
		if err != nil {
			return wrap(op, err)
		}
		ev := rs[0].EventState & stateMask
		switch {
		case ev&scard.StateUnknown != 0:
			return &pcscError{kind: ErrReaderGone, code: code}
		case ev&scard.StateEmpty != 0:
			return &pcscError{kind: ErrCardRemoved, code: code}
		case ev&scard.StateMute != 0:
			return &pcscError{kind: ErrCardMute, code: code}
		}
		rs[0].CurrentState = rs[0].EventState &^ scard.StateChanged
	}
	if kind := kindOf(code); kind != nil && kind != ErrNoCard {
		return &pcscError{kind: kind, code: code}
	}
	return &pcscError{kind: ErrCardMute, code: code}
}

// Close ends the transaction and disconnects with a reset, so no PIN stays
// verified after the step. A card that is already gone needs no reset.
func (c *pcscCard) Close() error {
	c.closeOnce.Do(func() {
		endErr := c.card.EndTransaction(scard.LeaveCard)
		discErr := c.card.Disconnect(scard.ResetCard)
		c.sc.Release()
		for _, err := range []error{endErr, discErr} {
			if err != nil && !gone(err) {
				c.closeErr = wrap("release the card", err)
				return
			}
		}
	})
	return c.closeErr
}

// gone reports statuses that mean there is no card left to reset.
func gone(err error) bool {
	var code scard.Error
	if !errors.As(err, &code) {
		return false
	}
	switch code {
	case scard.ErrRemovedCard, scard.ErrNoSmartcard, scard.ErrReaderUnavailable,
		scard.ErrUnknownReader, scard.ErrResetCard, scard.ErrInvalidHandle,
		scard.ErrNotTransacted, scard.ErrNoService:
		return true
	}
	return false
}

// pcscPad is the reader's PIN pad (part 10 VERIFY_PIN_DIRECT and, when
// announced, MODIFY_PIN_DIRECT).
type pcscPad struct {
	c              *pcscCard
	verify, modify uint32
	canModify      bool
}

// errNoModify is ModifyPIN on a reader that did not announce it.
var errNoModify = errors.New("this reader's PIN pad cannot change PINs")

// VerifyPIN has the reader collect the PIN and send the VERIFY template. The
// reader's own timeout (req.Timeout) bounds it; pcsc-lite cannot cancel a
// control call, so ctx is checked before it starts.
func (p *pcscPad) VerifyPIN(ctx context.Context, req PINVerify) ([]byte, error) {
	b, err := part10.Verify{Timeout: req.Timeout, MinLen: req.MinLen, MaxLen: req.MaxLen, Header: req.APDU}.Marshal()
	if err != nil {
		return nil, err
	}
	return p.run(ctx, p.verify, b)
}

// ModifyPIN has the reader collect the current PIN (unless req.NewOnly) and
// the new one twice.
func (p *pcscPad) ModifyPIN(ctx context.Context, req PINModify) ([]byte, error) {
	if !p.canModify {
		return nil, errNoModify
	}
	b, err := part10.Modify{Timeout: req.Timeout, MinLen: req.MinLen, MaxLen: req.MaxLen, Header: req.APDU, NewOnly: req.NewOnly}.Marshal()
	if err != nil {
		return nil, err
	}
	return p.run(ctx, p.modify, b)
}

func (p *pcscPad) CanModify() bool { return p.canModify }

func (p *pcscPad) run(ctx context.Context, ioctl uint32, in []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rsp, err := p.c.card.Control(ioctl, in)
	if err != nil {
		return nil, p.c.fail("PIN pad", err)
	}
	if sw, ok := part10.ReaderStatus(rsp); ok {
		return nil, &PINPadError{SW: sw}
	}
	return rsp, nil
}
