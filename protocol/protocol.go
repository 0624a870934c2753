// Package protocol turns an audit trail into the ceremony protocol: the paper
// that the card holders, the operator and a witness sign after a key
// ceremony. It lists every ceremony the trail holds (what was done, when, to
// which key and which cards, what went wrong and what recovered it), leaves
// a signature line for each person, and ends with the trail's final hash, so
// that the signed paper seals the trail (docs/audit.md).
//
// It reads only what the trail holds, and the trail never holds a PIN, a
// share or a key: neither can the protocol. It renders as Markdown or as
// PDF (codeberg.org/go-pdf/fpdf, text kept extractable).
package protocol

import (
	"slices"
	"time"

	"github.com/hsmcards/hsmcards/audit"
)

// Protocol is the protocol of one trail.
type Protocol struct {
	// Trail is the trail's name as the reader knows it (its file name).
	Trail string
	// TrailID is the anchor's random ID.
	TrailID string
	// Head is the trail's last line and its hash.
	Head audit.Head
	// Sessions are the program's runs, oldest first.
	Sessions []Session
}

// Session is one run of the program that wrote to the trail: one sitting at
// the console, with its own people present.
type Session struct {
	Start time.Time
	End   time.Time // zero when the trail has no end line for it (a crash, a kill)
	// Failed says the program ended on an error; EndDetail says more.
	Failed    bool
	EndDetail string
	Host      string
	Version   string
	// FirstLine and LastLine are the trail lines the session spans.
	FirstLine, LastLine int
	Ceremonies          []Ceremony
}

// Ceremony is one operation: an install, a load, a copy, an inspection...
type Ceremony struct {
	Operation  audit.Operation
	Start, End time.Time
	// Outcome is the summary's, or empty when the operation has none (PIN
	// changes and inspections record no summary) or was cut off.
	Outcome    audit.Outcome
	Summarised bool
	Detail     string // the summary's words
	Label      string // appliance label
	KeySetID   string
	KCV        string
	Scheme     string
	Generation uint64
	HSM        string
	Reader     string
	Cards      []Card
	Problems   []Problem
}

// Card is a card the ceremony handled.
type Card struct {
	Serial    string
	ShareX    int  // 0 when the trail does not say
	TriesLeft *int // the last the card said, if it did
	// Done lists the steps that did something with it, in order, each once
	// (write_card, read_card, ...).
	Done []audit.Step
}

// Problem is an event that did not go as planned, and what came of it.
type Problem struct {
	Time    time.Time
	Card    string
	Step    audit.Step
	Outcome audit.Outcome
	Detail  string
	// Recovered is when a later step of the same kind succeeded (zero: it
	// was not recovered in this ceremony), with card RecoveredCard ("" when
	// the step has none).
	Recovered     time.Time
	RecoveredCard string
}

// Build reads the protocol out of a verified trail; name is what the
// protocol calls the trail (its file name).
func Build(t *audit.Trail, name string) *Protocol {
	p := &Protocol{Trail: name, TrailID: t.ID, Head: t.Head}
	var s *Session
	var c *Ceremony
	closeCeremony := func() {
		if c != nil {
			s.Ceremonies = append(s.Ceremonies, *c)
			c = nil
		}
	}
	for _, ln := range t.Lines {
		e := ln.Event
		if e.Operation == audit.OpSession {
			switch e.Step {
			case audit.StepAnchor, audit.StepStart:
				if s != nil {
					closeCeremony()
					p.Sessions = append(p.Sessions, *s)
				}
				s = &Session{Start: e.Time, Host: ln.Host, Version: ln.Version, FirstLine: ln.Seq}
			case audit.StepEnd:
				closeCeremony()
				s.End = e.Time
				s.Failed, s.EndDetail = e.Outcome != "" && e.Outcome != audit.OutcomeOK, e.Detail
			}
			s.LastLine = ln.Seq
			continue
		}
		s.LastLine = ln.Seq
		if c == nil || c.Operation != e.Operation || e.Step == audit.StepStart || e.Step == audit.StepGenerate {
			closeCeremony()
			c = &Ceremony{Operation: e.Operation, Start: e.Time}
		}
		c.add(e)
		if e.Step == audit.StepSummary || e.Step == audit.StepEnd {
			closeCeremony()
		}
	}
	if s != nil {
		closeCeremony()
		p.Sessions = append(p.Sessions, *s)
	}
	return p
}

// add takes in one event of the ceremony.
func (c *Ceremony) add(e audit.Event) {
	c.End = e.Time
	for _, f := range []struct {
		dst *string
		v   string
	}{
		{&c.Label, e.Label}, {&c.KeySetID, e.KeySetID}, {&c.KCV, e.KCV}, {&c.Scheme, e.Scheme},
		{&c.HSM, e.HSM}, {&c.Reader, e.Reader},
	} {
		if f.v != "" {
			*f.dst = f.v
		}
	}
	if e.Generation != 0 {
		c.Generation = e.Generation
	}
	if e.Step == audit.StepSummary {
		c.Outcome, c.Summarised, c.Detail = e.Outcome, true, e.Detail
		for _, s := range e.CardsWritten {
			c.card(s)
		}
		for _, s := range e.CardsRead {
			c.card(s)
		}
	}
	var card *Card
	if e.CardSerial != "" {
		card = c.card(e.CardSerial)
		if e.ShareX != 0 {
			card.ShareX = e.ShareX
		}
		if e.TriesLeft != nil {
			n := *e.TriesLeft
			card.TriesLeft = &n
		}
	}
	if e.Outcome != "" && e.Outcome != audit.OutcomeOK {
		if e.Step != audit.StepSummary {
			c.Problems = append(c.Problems, Problem{Time: e.Time, Card: e.CardSerial, Step: e.Step, Outcome: e.Outcome, Detail: e.Detail})
		}
		return
	}
	c.recover(e)
	if card != nil && isDone(c.Operation, e.Step) && !slices.Contains(card.Done, e.Step) {
		card.Done = append(card.Done, e.Step)
	}
}

// recover marks the open problems that e, a step that went well, makes good:
// the same step on the same card (or on any card, when the problem had none
// or the card was refused and another one taken).
func (c *Ceremony) recover(e audit.Event) {
	if e.Step == audit.StepSummary || e.Step == audit.StepEnd {
		return
	}
	for i := range c.Problems {
		pr := &c.Problems[i]
		if !pr.Recovered.IsZero() || pr.Step != e.Step {
			continue
		}
		if pr.Card == "" || pr.Card == e.CardSerial || pr.Outcome == audit.OutcomeRefused || pr.Outcome == audit.OutcomeBlocked {
			pr.Recovered, pr.RecoveredCard = e.Time, e.CardSerial
		}
	}
}

// card finds or adds the card serial.
func (c *Ceremony) card(serial string) *Card {
	for i := range c.Cards {
		if c.Cards[i].Serial == serial {
			return &c.Cards[i]
		}
	}
	c.Cards = append(c.Cards, Card{Serial: serial})
	return &c.Cards[len(c.Cards)-1]
}

// Holders are the cards of the session's ceremonies whose holders sign,
// each once, in the order they first appear.
func (s *Session) Holders() []string {
	var out []string
	for _, c := range s.Ceremonies {
		for _, card := range c.Cards {
			if !slices.Contains(out, card.Serial) {
				out = append(out, card.Serial)
			}
		}
	}
	return out
}
