package wizard

import (
	"errors"
	"sync/atomic"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
)

// trail writes audit events in the order they happen, on a goroutine of its
// own: Update only hands events over on a channel (no I/O there, no lock),
// and each write is synced by the audit package before the next. Write
// failures come back the same way (failure).
type trail struct {
	ch      chan trailItem
	failed  chan error    // write failures, for the model
	done    chan struct{} // closed when the writer has stopped
	stopped atomic.Bool   // the writer stopped: events are dropped
}

// trailItem is an event to write, or (flushed set) the request to write
// what is queued and stop. With head set, the writer sends the trail's
// head once e is written (or why it is not).
type trailItem struct {
	e       audit.Event
	head    chan<- headResult
	flushed chan struct{}
}

// headResult is the trail's head after an event was written, or why the
// event was not.
type headResult struct {
	head audit.Head
	err  error
}

// trailQueue is how many events may wait for the writer; Update never waits
// for it unless that many are queued.
const trailQueue = 256

func newTrail(l *audit.Log) *trail {
	if l == nil {
		return nil
	}
	t := &trail{ch: make(chan trailItem, trailQueue), failed: make(chan error, 1), done: make(chan struct{})}
	go func() {
		defer close(t.done)
		for it := range t.ch {
			if it.flushed != nil {
				t.stopped.Store(true)
				close(it.flushed)
				return
			}
			err := l.Record(it.e)
			if errors.Is(err, audit.ErrDigitsInDetail) {
				// A label or message with a long number in it: keep the
				// event, drop the words.
				it.e.Detail = ""
				err = l.Record(it.e)
			}
			if err != nil {
				select {
				case t.failed <- err:
				default: // one report waits already
				}
			}
			if it.head != nil {
				// This goroutine is the trail's only writer while the
				// wizard runs: the head is the line just written.
				it.head <- headResult{head: l.Head(), err: err}
			}
		}
	}()
	return t
}

// record queues e; a nil or closed trail records nothing.
func (t *trail) record(e audit.Event) {
	if t == nil || t.stopped.Load() {
		return
	}
	t.ch <- trailItem{e: e}
}

// recordHead queues e and returns where the trail's head after e comes
// (buffered: the writer never waits for it), nil when nothing is written
// (no trail, or a closed one).
func (t *trail) recordHead(e audit.Event) <-chan headResult {
	if t == nil || t.stopped.Load() {
		return nil
	}
	ch := make(chan headResult, 1)
	t.ch <- trailItem{e: e, head: ch}
	return ch
}

// headCmd waits for the head ch brings and reports it as the sealedMsg of
// id; it gives up when the writer stops without writing it.
func (t *trail) headCmd(id stepID, ch <-chan headResult) tea.Cmd {
	return func() tea.Msg {
		var r headResult
		select {
		case r = <-ch:
		case <-t.done:
			select {
			case r = <-ch:
			default:
				return nil
			}
		}
		if r.err != nil {
			return nil // the header says the trail is not written
		}
		return sealedMsg{id: id, head: r.head}
	}
}

// sealedMsg is the audit trail's head right after an activity's summary
// line: the line and hash the result screen shows, so that a printed
// protocol seals the trail up to there (docs/wizard.md, "The audit
// trail's seal").
type sealedMsg struct {
	id   stepID
	head audit.Head
}

// close writes what is queued and stops; it may be called more than once,
// from any goroutine.
func (t *trail) close() {
	if t == nil {
		return
	}
	select {
	case <-t.done:
		return
	default:
	}
	flushed := make(chan struct{})
	select {
	case t.ch <- trailItem{flushed: flushed}:
		select {
		case <-flushed:
		case <-t.done: // another close stopped the writer first
		}
	case <-t.done:
	}
}

// failure is a write failure reported since the last call, or nil; it
// never waits.
func (t *trail) failure() error {
	if t == nil {
		return nil
	}
	select {
	case err := <-t.failed:
		return err
	default:
		return nil
	}
}
