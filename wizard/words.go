package wizard

import (
	"fmt"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/i18n"
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
// generation (format 2 records carry it), creation time (UTC), quorum and
// KCV.
func describeSet(p *i18n.Printer, s quorum.KeySet) string {
	created := p.DateTimeMinutes(s.Created.UTC())
	if s.Format == quorum.Format2 {
		return p.T(i18n.WizKeySetGen{Label: s.Label, Generation: int(s.Generation), Created: created, K: s.Scheme.K, N: s.Scheme.N, KCV: kcvString(s.KCV)})
	}
	return p.T(i18n.WizKeySet{Label: s.Label, Created: created, K: s.Scheme.K, N: s.Scheme.N, KCV: kcvString(s.KCV)})
}

// quorumWords is a quorum in words ("2 of 3").
func quorumWords(p *i18n.Printer, s quorum.Scheme) string {
	return p.T(i18n.WizQuorum{K: s.K, N: s.N})
}

// shortSerial is the end of a card serial, enough to tell a deck apart.
func shortSerial(s tcos.Serial) string {
	h := s.String()
	return "…" + h[len(h)-6:]
}

// progressItem is card i of a progress line: its serial's end once done,
// "now" while it is asked for, "-" before.
func progressItem(p *i18n.Printer, i int, serial *tcos.Serial, now bool) string {
	switch {
	case serial != nil:
		return fmt.Sprintf("%d:%s", i, shortSerial(*serial))
	case now:
		return fmt.Sprintf("%d:%s", i, p.T(i18n.WizProgressNow))
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
// left, a PIN too short. kind is the PIN asked.
func (f *frame) pinEvent(ev stepEvent, s *cardStep, kind pinKind) {
	switch ev.kind {
	case evWrongPIN:
		n := s.pinNotice(kind)
		n.text = sentences(f.t(i18n.CauseWrongPIN), n.text)
		n.level = lvWarn
		f.note = n
	case evShortPIN:
		f.note = notice{level: lvWarn, text: f.t(i18n.WizPINLength{Min: tcos.MinPINLen, Max: tcos.MaxPINLen}), next: f.t(i18n.WizTypePINAgain)}
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

// dayString is the day of t, in UTC, as p's language writes it (English:
// ISO 8601, as the appliance's console and the audit trail do).
func dayString(p *i18n.Printer, t time.Time) string { return p.Date(t.UTC()) }
