package wizard

import (
	"errors"
	"sync"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
)

// trail writes audit events in the order they happen, on a goroutine of its
// own: Update only hands events over (no I/O there), and each write is synced
// by the audit package before the next.
type trail struct {
	ch   chan audit.Event
	done chan struct{}
	mu   sync.Mutex
	err  error // the last write failure, shown in the header

	sendMu sync.Mutex // guards closed and sends on ch
	closed bool
}

func newTrail(l *audit.Log) *trail {
	if l == nil {
		return nil
	}
	t := &trail{ch: make(chan audit.Event, 256), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for e := range t.ch {
			err := l.Record(e)
			if errors.Is(err, audit.ErrDigitsInDetail) {
				// A label or message with a long number in it: keep the
				// event, drop the words.
				e.Detail = ""
				err = l.Record(e)
			}
			if err != nil {
				t.mu.Lock()
				t.err = err
				t.mu.Unlock()
			}
		}
	}()
	return t
}

// record queues e; a nil or closed trail records nothing.
func (t *trail) record(e audit.Event) {
	if t == nil {
		return
	}
	t.sendMu.Lock()
	defer t.sendMu.Unlock()
	if !t.closed {
		t.ch <- e
	}
}

// close writes what is queued and stops; it may be called more than once.
func (t *trail) close() {
	if t == nil {
		return
	}
	t.sendMu.Lock()
	if !t.closed {
		t.closed = true
		close(t.ch)
	}
	t.sendMu.Unlock()
	<-t.done
}

// failure is the last write error, if any.
func (t *trail) failure() error {
	if t == nil {
		return nil
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.err
}

// outcomeOf classifies a card step's error for the audit trail.
func outcomeOf(err error) audit.Outcome {
	var wrong *tcos.WrongPINError
	var pad *cardio.PINPadError
	switch {
	case err == nil:
		return audit.OutcomeOK
	case errors.As(err, &wrong) && wrong.TriesLeft > 0:
		return audit.OutcomeWrongPIN
	case errors.Is(err, tcos.ErrBlocked), errors.As(err, &wrong):
		return audit.OutcomeBlocked
	case errors.Is(err, cardio.ErrCardRemoved), errors.Is(err, cardio.ErrNoCard):
		return audit.OutcomeRemoved
	case errors.Is(err, cardio.ErrReaderGone), errors.Is(err, cardio.ErrNoReader), errors.Is(err, cardio.ErrNoService):
		return audit.OutcomeNoReader
	case errors.Is(err, tcos.ErrForeignCard):
		return audit.OutcomeRefused
	case errors.As(err, &pad) && pad.SW == cardio.SWPadTimeout:
		return audit.OutcomeTimeout
	case errors.As(err, &pad) && pad.SW == cardio.SWPadCancelled:
		return audit.OutcomeCancelled
	}
	return audit.OutcomeError
}

// auditSlot names a card slot in the audit trail.
func auditSlot(s tcos.Slot) audit.Slot {
	if s == tcos.SlotPKCS11 {
		return audit.SlotPKCS11User
	}
	return audit.SlotBackupKey
}
