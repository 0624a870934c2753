package wizard

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// Words and shapes the activities share: how a key set, a KCV and a card in
// the progress lines are written.

// kcvString is a KCV as the appliance shows it: 6 hex digits.
func kcvString(k [3]byte) string { return fmt.Sprintf("%X", k[:]) }

// setOf is what a record says about its key set, without the share.
func setOf(r *quorum.Record) quorum.KeySet { return r.KeySet() }

// describeSet names a key set the way the cards are known: label,
// generation (format 2 records carry it), creation date, quorum and KCV.
func describeSet(s quorum.KeySet) string {
	created := s.Created.UTC().Format("2006-01-02 15:04 MST")
	if s.Format == quorum.Format2 {
		return fmt.Sprintf("%q, generation %d, created %s, %d of %d, KCV %s", s.Label, s.Generation, created, s.Scheme.K, s.Scheme.N, kcvString(s.KCV))
	}
	return fmt.Sprintf("%q, created %s, %d of %d, KCV %s", s.Label, created, s.Scheme.K, s.Scheme.N, kcvString(s.KCV))
}

// shortSerial is the end of a card serial, enough to tell a deck apart.
func shortSerial(s tcos.Serial) string {
	h := s.String()
	return "…" + h[len(h)-6:]
}

// progressItem is card i of a progress line: its serial's end once done,
// "now" while it is asked for, "-" before.
func progressItem(i int, serial *tcos.Serial, now bool) string {
	switch {
	case serial != nil:
		return fmt.Sprintf("%d:%s", i, shortSerial(*serial))
	case now:
		return fmt.Sprintf("%d:now", i)
	}
	return fmt.Sprintf("%d:-", i)
}

func joinItems(items []string) string { return strings.Join(items, " ") }

func indexOf(list []tcos.Serial, s tcos.Serial) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// pinEvent says what the PIN pad's events need: a wrong PIN with the tries
// left, a PIN too short. what names the PIN asked.
func (f *frame) pinEvent(ev stepEvent, s *cardStep, what string) {
	switch ev.kind {
	case evWrongPIN:
		n := s.pinNotice(what)
		n.text = "Wrong PIN. " + n.text
		n.level = lvWarn
		f.note = n
	case evShortPIN:
		f.note = notice{level: lvWarn, text: fmt.Sprintf("A PIN has %d to %d digits.", tcos.MinPINLen, tcos.MaxPINLen), next: "Type the PIN again and press OK."}
	}
}

// discardIfResult releases what a command result brings back when no step
// is there to take it.
func (e *env) discardIfResult(msg tea.Msg) tea.Cmd {
	if _, ok := msg.(resultMsg); ok {
		return e.discard(msg)
	}
	return nil
}

// dayLayout is how the wizard writes a day: ISO 8601, as the appliance's
// console and the audit trail do.
const dayLayout = "2006-01-02"

// dayString is the day of t, in UTC.
func dayString(t time.Time) string { return t.UTC().Format(dayLayout) }
