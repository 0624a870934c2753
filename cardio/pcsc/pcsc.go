//go:build pcsc

package pcsc

// The reader: pcsc-lite through github.com/ebfe/scard. docs/pcsc.md says
// which pcsc-lite behaviour each part relies on. In short: every wait gets a
// PC/SC context of its own, so it can be cancelled (SCardCancel) without
// touching a step; the steps share one context per reader, made on the first
// step and made again when pcscd was restarted. A step is a shared
// connection inside a transaction; Close resets the card while the
// transaction still holds it, and keeps the connection for the next step
// while the card stays in the reader.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/part10"
)

// Supported reports whether this build can talk to pcsc-lite.
const Supported = true

// pnpNotification is the pseudo reader whose state changes when a reader is
// plugged or unplugged (docs/pcsc.md "Waiting for a card").
const pnpNotification = `\\?PnP?\Notification`

// stateMask keeps the state flags of a reader state; pcsc-lite puts an event
// counter in the upper 16 bits (docs/pcsc.md "Waiting for a card").
const stateMask = 0xFFFF

// settleTime bounds how long a failed command waits for pcscd to report that
// the card or reader went away before calling the card mute. pcscd notices a
// pulled card on its next poll of the driver (400 ms for drivers without
// hotplug events, such as vpcd); USB readers report it at once.
const settleTime = 1500 * time.Millisecond

// pcscError is a PC/SC failure mapped onto one of cardio's sentinels; both
// match with errors.Is. Its message is the sentinel's, short enough for a
// screen's header; Hint says what to do where that depends on the machine.
type pcscError struct {
	kind error       // cardio.ErrNoService, cardio.ErrCardRemoved, ...
	code scard.Error // what pcsc-lite said, 0 when we decided
}

func (e *pcscError) Error() string { return e.kind.Error() }

// Hint says how to get pcscd or a reader going; "" for the card's troubles,
// which the wizard explains.
func (e *pcscError) Hint() string {
	switch e.kind {
	case cardio.ErrNoService:
		return "start it: sudo systemctl start pcscd (Debian package pcscd)"
	case cardio.ErrNoReader:
		return "plug the reader in; pcsc_scan (Debian package pcsc-tools) shows the readers pcscd sees"
	}
	return ""
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
		return cardio.ErrNoService
	case scard.ErrNoReadersAvailable:
		return cardio.ErrNoReader
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable:
		return cardio.ErrReaderGone
	case scard.ErrNoSmartcard:
		return cardio.ErrNoCard
	case scard.ErrRemovedCard:
		return cardio.ErrCardRemoved
	case scard.ErrResetCard:
		return cardio.ErrCardReset
	case scard.ErrSharingViolation:
		return cardio.ErrSharing
	case scard.ErrUnresponsiveCard, scard.ErrUnpoweredCard, scard.ErrUnsupportedCard:
		return cardio.ErrCardMute
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

// staleContext reports the statuses of a call on a context that pcscd does
// not know (any more): pcscd stopped, or was restarted since the context was
// made (docs/pcsc.md "Contexts").
func staleContext(err error) bool {
	return errors.Is(err, scard.ErrNoService) || errors.Is(err, scard.ErrServiceStopped) ||
		errors.Is(err, scard.ErrInvalidHandle) || errors.Is(err, scard.ErrCommError)
}

// List lists the readers pcscd knows, in its order, by names that are safe
// to print (see shownNames); Open takes them back. No reader is an empty
// list; pcscd not running is an error matching cardio.ErrNoService.
func List(ctx context.Context) ([]string, error) {
	raw, err := listRaw(ctx)
	if err != nil {
		return nil, err
	}
	return shownNames(raw), nil
}

func listRaw(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := establish()
	if err != nil {
		return nil, err
	}
	defer sc.Release()
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("list readers", err)
	}
	return names, nil
}

// Open opens a PC/SC reader: with name empty the only one connected (a
// *MultipleReadersError lists them when there are several), otherwise the one
// named name exactly or the only one whose name contains it (any case), by
// the names List gives. Errors match cardio.ErrNoService when pcscd is not
// running, cardio.ErrNoReader when no reader fits.
func Open(ctx context.Context, name string) (cardio.Reader, error) {
	raw, err := listRaw(ctx)
	if err != nil {
		return nil, err
	}
	shown := shownNames(raw)
	i, err := pickReader(shown, name)
	if err != nil {
		return nil, err
	}
	life, stop := context.WithCancel(context.Background())
	return &reader{raw: raw[i], name: shown[i], life: life, stop: stop}, nil
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

// reader is one PC/SC reader, by name.
type reader struct {
	raw  string // the name pcscd knows it by
	name string // the name shown (shownNames)
	life context.Context
	stop context.CancelFunc

	mu sync.Mutex // guards the fields below
	// sc is the context of Connect and of its steps' card calls: made on the
	// first step, dropped when pcscd went away or was restarted.
	sc *scard.Context
	// idle is the last step's connection, its card reset by that step's
	// Close, kept for the next step until the card leaves (see card.Close).
	idle *conn
	// pad is what the reader said about its PIN pad, once it said it.
	pad padInfo
}

var errClosed = fmt.Errorf("%w: the reader was closed", cardio.ErrReaderGone)

func (r *reader) Name() string { return r.name }

// op derives a context that also ends when the reader is closed.
func (r *reader) op(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if r.life.Err() != nil {
		return nil, nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.life, cancel)
	return ctx, func() { stop(); cancel() }, nil
}

func (r *reader) readerGone() error {
	return fmt.Errorf("%w (%s)", cardio.ErrReaderGone, r.name)
}

// context returns the steps' PC/SC context, making it if needed.
func (r *reader) context() (*scard.Context, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.life.Err() != nil {
		return nil, errClosed
	}
	if r.sc == nil {
		sc, err := establish()
		if err != nil {
			return nil, err
		}
		r.sc = sc
	}
	return r.sc, nil
}

// forget drops the steps' context sc after pcscd lost it; the next step
// makes a new one, and asks the reader about its PIN pad again.
func (r *reader) forget(sc *scard.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sc != sc {
		return
	}
	if r.idle != nil {
		r.idle.h.Disconnect(scard.LeaveCard)
		r.idle = nil
	}
	r.sc = nil
	r.pad = padInfo{}
	sc.Release()
}

// conn is a connection to the card in the reader, on the steps' context.
type conn struct {
	sc  *scard.Context
	h   *scard.Card
	atr []byte
}

// keep stores the connection of a step whose Close has just reset the card,
// for the next step. A connection of a context that was replaced meanwhile,
// or of a closed reader, is let go instead.
func (r *reader) keep(k *conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.life.Err() != nil || r.sc != k.sc {
		k.h.Disconnect(scard.LeaveCard)
		return
	}
	if r.idle != nil { // two steps at once on one reader: keep the later
		r.idle.h.Disconnect(scard.LeaveCard)
	}
	r.idle = k
}

// takeIdle hands the kept connection to a new step, nil when there is none.
func (r *reader) takeIdle() *conn {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.idle
	r.idle = nil
	return c
}

// dropIdle lets go of the kept connection once its card has left the
// reader: pcscd counts a connection to a card that is gone as a user of the
// reader until it is closed, which would keep another program from having
// the next card to itself.
func (r *reader) dropIdle() {
	if c := r.takeIdle(); c != nil {
		c.h.Disconnect(scard.LeaveCard)
	}
}

// Present asks pcscd for the reader's state without waiting.
func (r *reader) Present(ctx context.Context) (bool, error) {
	ctx, cancel, err := r.op(ctx)
	if err != nil {
		return false, err
	}
	defer cancel()
	// A context of its own, as for the waits: SCardCancel on it ends this
	// call alone.
	sc, err := establish()
	if err != nil {
		return false, err
	}
	defer sc.Release()
	uncancel := cancelOn(ctx, sc)
	defer uncancel()
	rs := []scard.ReaderState{{Reader: r.raw, CurrentState: scard.StateUnaware}}
	err = sc.GetStatusChange(rs, 0)
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	if err != nil {
		return false, wrap("read the reader state", err)
	}
	ev := rs[0].EventState & stateMask
	if ev&(scard.StateUnknown|scard.StateEmpty) != 0 {
		r.dropIdle()
	}
	if ev&scard.StateUnknown != 0 {
		return false, r.readerGone()
	}
	return ev&scard.StatePresent != 0, nil
}

// WaitForCard blocks in GetStatusChange until a card is in the reader. The
// reader vanishing during the wait is ErrReaderGone; a reader that is absent
// when the wait starts is waited for (pcscd's PnP notification), so that the
// wizard can report the unplugged reader once and then simply wait again.
func (r *reader) WaitForCard(ctx context.Context) error {
	return r.wait(ctx, func(ev scard.StateFlag) bool { return ev&scard.StatePresent != 0 }, false)
}

// WaitForRemoval blocks until the reader is empty; an unplugged reader is
// empty too.
func (r *reader) WaitForRemoval(ctx context.Context) error {
	return r.wait(ctx, func(ev scard.StateFlag) bool { return ev&scard.StateEmpty != 0 }, true)
}

func (r *reader) wait(ctx context.Context, done func(scard.StateFlag) bool, goneIsDone bool) error {
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
	// changes (docs/pcsc.md "Waiting for a card"). The first call, all
	// unaware, returns at once.
	states := []scard.ReaderState{
		{Reader: r.raw, CurrentState: scard.StateUnaware},
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
			r.dropIdle()
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
		if ev&(scard.StateUnknown|scard.StateEmpty) != 0 {
			r.dropIdle()
		}
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

// Connect begins a step: on the connection the last step kept, when its
// card is still in the reader, else on a new shared connection (T=0 or T=1)
// to a card it resets first (see card.Close for why that is enough).
// BeginTransaction waits while another program holds one; pcsc-lite offers
// no way to cancel that wait, so ctx is only checked before.
func (r *reader) Connect(ctx context.Context) (cardio.Card, error) {
	if r.life.Err() != nil {
		return nil, errClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if k := r.takeIdle(); k != nil {
		if c := r.resume(k); c != nil {
			return c.ready(nil)
		}
	}
	c, err := r.dial()
	if err != nil {
		return nil, err
	}
	return c.ready(c.open())
}

// ready finishes Connect: it asks for the PIN pad, or closes the card after
// err.
func (c *card) ready(err error) (cardio.Card, error) {
	if err == nil {
		c.pad, err = c.r.pinPad(c)
	}
	if err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// dial connects to the card on the steps' context. A context pcscd does not
// know any more (it was restarted since the last step) is replaced, once.
func (r *reader) dial() (*card, error) {
	for try := 0; ; try++ {
		sc, err := r.context()
		if err != nil {
			return nil, err
		}
		h, err := sc.Connect(r.raw, scard.ShareShared, scard.ProtocolAny)
		if err == nil {
			return &card{r: r, conn: conn{sc: sc, h: h}}, nil
		}
		if staleContext(err) {
			r.forget(sc)
			if try == 0 {
				continue
			}
		}
		return nil, wrap("connect to the card", err)
	}
}

// Close ends every wait on this reader and lets go of its connection and
// context.
func (r *reader) Close() error {
	r.stop()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.idle != nil {
		r.idle.h.Disconnect(scard.LeaveCard)
		r.idle = nil
	}
	if r.sc != nil {
		r.sc.Release()
		r.sc = nil
	}
	return nil
}

// card is a connected card for one step, inside the step's transaction from
// Connect to Close. After Close it refuses every command: its connection may
// already be the next step's.
type card struct {
	r *reader
	conn
	pad *pinPad // nil without VERIFY_PIN_DIRECT

	// mu is held by each command and by Close, so that no command of this
	// step can reach the card once Close has let it go.
	mu       sync.Mutex
	begun    bool // the transaction is ours
	closed   bool
	closeErr error
}

// errCardClosed is a command on a Card after its Close.
var errCardClosed = errors.New("the card's step is over")

// open begins the first step on a new connection: it takes the transaction,
// resets the card inside it, so that no other program's command comes
// between the reset and the step's first, and reads the ATR.
func (c *card) open() error {
	if err := c.begin(); err != nil {
		return err
	}
	if err := c.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.ResetCard); err != nil {
		return c.classify("reset the card", err)
	}
	st, err := c.h.Status()
	if err != nil {
		return c.fail("read the card status", err)
	}
	c.atr = append([]byte(nil), st.Atr...)
	return nil
}

// resume begins a step on the kept connection k. It returns nil when k no
// longer has its card (it left the reader, the reader went, pcscd lost the
// connection): the step then starts on a new connection. Another program's
// reset since is fine: the card is as fresh as ours would have left it.
func (r *reader) resume(k *conn) *card {
	err := k.h.BeginTransaction()
	if errors.Is(err, scard.ErrResetCard) {
		if err = k.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.LeaveCard); err == nil {
			err = k.h.BeginTransaction()
		}
	}
	if err == nil {
		return &card{r: r, conn: *k, begun: true}
	}
	k.h.Disconnect(scard.LeaveCard)
	if staleContext(err) {
		r.forget(k.sc)
	}
	return nil
}

// begin takes the transaction. A reset by another program since we
// connected makes BeginTransaction fail with a reset warning: reconnect,
// leaving the card as it is (just reset), and try once more.
func (c *card) begin() error {
	for try := 0; ; try++ {
		err := c.h.BeginTransaction()
		if err == nil {
			c.begun = true
			return nil
		}
		if errors.Is(err, scard.ErrResetCard) && try == 0 {
			if err := c.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.LeaveCard); err != nil {
				return c.classify("reconnect to the card", err)
			}
			continue
		}
		return c.classify("begin a transaction", err)
	}
}

func (c *card) ATR() []byte { return append([]byte(nil), c.atr...) }

func (c *card) PINPad() cardio.PINPad {
	if c.pad == nil {
		return nil // a typed nil would not compare equal to nil
	}
	return c.pad
}

var errEmptyCommand = errors.New("empty command APDU")

// Transmit sends one APDU. pcsc-lite cannot cancel a transmission, so ctx
// is checked before it starts.
func (c *card) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	if len(cmd) == 0 {
		return nil, errEmptyCommand // scard would panic on it
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, errCardClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rsp, err := c.h.Transmit(cmd)
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
// After another program's reset it reconnects and takes the transaction
// again (so the step can be retried on this same Card) and reports
// ErrCardReset. Statuses that do not say what happened are settled by
// looking at the reader.
func (c *card) fail(op string, err error) error {
	if errors.Is(err, scard.ErrResetCard) {
		c.begun = false
		if rerr := c.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.LeaveCard); rerr != nil {
			return c.classify("reconnect to the card", rerr)
		}
		if rerr := c.begin(); rerr != nil {
			return rerr
		}
		return &pcscError{kind: cardio.ErrCardReset, code: scard.ErrResetCard}
	}
	return c.classify(op, err)
}

// classify is fail without the recovery from a reset. The context of a
// pcscd that stopped is dropped, so the next step makes a new one.
func (c *card) classify(op string, err error) error {
	if errors.Is(err, scard.ErrNoService) || errors.Is(err, scard.ErrServiceStopped) {
		c.r.forget(c.sc)
	}
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
func (c *card) diagnose(op string, code scard.Error) error {
	rs := []scard.ReaderState{{Reader: c.r.raw, CurrentState: scard.StateUnaware}}
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
			return &pcscError{kind: cardio.ErrReaderGone, code: code}
		case ev&scard.StateEmpty != 0:
			return &pcscError{kind: cardio.ErrCardRemoved, code: code}
		case ev&scard.StateMute != 0:
			return &pcscError{kind: cardio.ErrCardMute, code: code}
		}
		rs[0].CurrentState = rs[0].EventState &^ scard.StateChanged
	}
	if kind := kindOf(code); kind != nil && kind != cardio.ErrNoCard {
		return &pcscError{kind: kind, code: code}
	}
	return &pcscError{kind: cardio.ErrCardMute, code: code}
}

// Close ends the step. It resets the card while the step's transaction
// still holds it (SCardReconnect with SCARD_RESET_CARD, which keeps the
// transaction), then ends the transaction: no other program's command
// reaches the card while a PIN of this step is still verified. The
// connection is then kept for the next step (see reader.keep).
//
// What the resets protect: a PIN verified in a step must not stay verified
// once the step is over, for another program, for a later step, or for the
// next holder of the card. This reset gives that, after every step. If the
// process dies in a step, pcscd resets the card of the transaction it held
// (docs/pcsc.md "Resets"). The reset in open is for a card this reader has
// not held since it was inserted: what another program left on it (a PIN
// verified, a file selected) is undone before the first step. A card kept
// on this reader's connection was reset by the last step's Close, and is
// the same card while the connection lives (pcsc-lite ends a connection's
// use when its card is removed), so it needs no second reset: a reset at
// both ends of every step would cost a reset per step for nothing. What
// another program does on the card between two steps stays out of reach
// (docs/pcsc.md "Resets").
//
// If the reset fails with the card still there, the connection is closed
// with a reset instead. A card that is already gone needs no reset, nor does
// one the step never had the transaction of: nothing of the step reached
// it, and a reset then could hit another program's session.
func (c *card) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.closed {
		c.closed = true
		c.closeErr = c.close()
	}
	return c.closeErr
}

func (c *card) close() error {
	if !c.begun {
		return released(c.h.Disconnect(scard.LeaveCard))
	}
	resetErr := c.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.ResetCard)
	endErr := c.h.EndTransaction(scard.LeaveCard)
	if resetErr == nil && endErr == nil {
		k := c.conn
		c.r.keep(&k)
		return nil
	}
	disp := scard.LeaveCard
	if resetErr != nil && !gone(resetErr) {
		disp = scard.ResetCard
	}
	discErr := c.h.Disconnect(disp)
	for _, err := range []error{resetErr, endErr, discErr} {
		if err := released(err); err != nil {
			return err
		}
	}
	return nil
}

// released is the error of letting go of a card, nil when it says only that
// the card or reader is gone.
func released(err error) error {
	if err == nil || gone(err) {
		return nil
	}
	return wrap("release the card", err)
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

// padInfo is what a reader said about its PIN pad (GET_FEATURE_REQUEST).
type padInfo struct {
	known          bool // the reader answered; the rest is its answer
	verify, modify uint32
	hasVerify      bool
	canModify      bool
}

// pinPad returns the reader's PIN pad for the step, nil when it has none.
// The features belong to the reader, not the card, so the reader is asked
// once, on its first step, and its answer kept until pcscd goes away. Only a
// clear answer is kept: a list, or a driver that does not take the control
// code (vpcd). A failed request is asked again next step, so a passing fault
// never turns a PIN-pad reader into one that has the PIN typed on the host
// for the rest of the run. Only a card that went away is an error.
func (r *reader) pinPad(c *card) (*pinPad, error) {
	r.mu.Lock()
	info := r.pad
	r.mu.Unlock()
	if !info.known {
		rsp, err := c.h.Control(part10.IoctlGetFeatureRequest, nil)
		switch {
		case errors.Is(err, scard.ErrRemovedCard), errors.Is(err, scard.ErrReaderUnavailable):
			return nil, c.fail("ask the reader's features", err)
		case errors.Is(err, scard.ErrUnsupportedFeature):
			info = padInfo{known: true}
		case err != nil:
			return nil, nil
		default:
			// A reader that garbles its feature list is not one to trust
			// with a PIN: no pad.
			info = padInfo{known: true}
			if f, perr := part10.ParseFeatures(rsp); perr == nil {
				info.verify, info.hasVerify = f[part10.FeatureVerifyPINDirect]
				info.modify, info.canModify = f[part10.FeatureModifyPINDirect]
			}
		}
		r.mu.Lock()
		if r.sc == c.sc {
			r.pad = info
		}
		r.mu.Unlock()
	}
	if !info.hasVerify {
		return nil, nil
	}
	return &pinPad{c: c, verify: info.verify, modify: info.modify, canModify: info.canModify}, nil
}

// pinPad is the reader's PIN pad (part 10 VERIFY_PIN_DIRECT and, when
// announced, MODIFY_PIN_DIRECT).
type pinPad struct {
	c              *card
	verify, modify uint32
	canModify      bool
}

// errNoModify is ModifyPIN on a reader that did not announce it.
var errNoModify = errors.New("this reader's PIN pad cannot change PINs")

// VerifyPIN has the reader collect the PIN and send the VERIFY template. The
// reader's own timeout (req.Timeout) bounds it; pcsc-lite cannot cancel a
// control call, so ctx is checked before it starts.
func (p *pinPad) VerifyPIN(ctx context.Context, req cardio.PINVerify) ([]byte, error) {
	b, err := part10.Verify{
		Timeout: req.Timeout, MinLen: req.MinLen, MaxLen: req.MaxLen, Header: req.APDU, LangID: req.LangID,
	}.Marshal()
	if err != nil {
		return nil, err
	}
	return p.run(ctx, p.verify, b)
}

// ModifyPIN has the reader collect the current PIN (unless req.NewOnly) and
// the new one twice.
func (p *pinPad) ModifyPIN(ctx context.Context, req cardio.PINModify) ([]byte, error) {
	if !p.canModify {
		return nil, errNoModify
	}
	b, err := part10.Modify{
		Timeout: req.Timeout, MinLen: req.MinLen, MaxLen: req.MaxLen, Header: req.APDU,
		NewOnly: req.NewOnly, LangID: req.LangID,
	}.Marshal()
	if err != nil {
		return nil, err
	}
	return p.run(ctx, p.modify, b)
}

func (p *pinPad) CanModify() bool { return p.canModify }

func (p *pinPad) run(ctx context.Context, ioctl uint32, in []byte) ([]byte, error) {
	p.c.mu.Lock()
	defer p.c.mu.Unlock()
	if p.c.closed {
		return nil, errCardClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rsp, err := p.c.h.Control(ioctl, in)
	if err != nil {
		return nil, p.c.fail("PIN pad", err)
	}
	if sw, ok := part10.ReaderStatus(rsp); ok {
		return nil, &cardio.PINPadError{SW: sw}
	}
	return rsp, nil
}
