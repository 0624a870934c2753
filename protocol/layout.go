package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/hsmcards/hsmcards/i18n"
)

// The protocol is laid out once, as blocks, and each renderer (Markdown,
// PDF) draws the blocks its own way: both always say the same.

type blockKind int

const (
	bTitle      blockKind = iota // the document's title
	bSection                     // a session, the seal
	bSubsection                  // a ceremony, the people present
	bText                        // a paragraph
	bFields                      // label: value pairs
	bTable                       // a table, header row first
	bSignatures                  // a table with room to sign, header row first
)

type block struct {
	kind blockKind
	text string
	// rows: for bFields label and value; for bTable and bSignatures the
	// header row, then the rows.
	rows [][]string
	// weights are the tables' relative column widths; code marks columns
	// (and, for bFields, values) that hold hex.
	weights []float64
	code    []bool
	// keep is how many of the blocks after a heading belong on its page.
	keep int
}

// The protocol says once that every time is UTC; each is written in the
// language's form (i18n.Printer.Date, Clock).

// lay is the layout in one language.
type lay struct{ p *i18n.Printer }

func (l lay) clock(t time.Time) string { return l.p.Clock(t.UTC()) }

func (l lay) day(t time.Time) string { return l.p.Date(t.UTC()) }

// span writes a time range, with the day once when both are on it.
func (l lay) span(a, b time.Time) string {
	switch {
	case b.IsZero() || a.UTC().Truncate(time.Second).Equal(b.UTC().Truncate(time.Second)):
		return l.p.DateTime(a.UTC())
	case l.day(a) == l.day(b):
		return l.p.T(i18n.TimeSpan{Day: l.day(a), From: l.clock(a), To: l.clock(b)})
	}
	return l.p.T(i18n.TimeSpanDays{FromDay: l.day(a), From: l.clock(a), ToDay: l.day(b), To: l.clock(b)})
}

// field is a label and its value, for a bFields block.
func (l lay) field(label i18n.ID, value string) []string { return []string{l.p.T(label), value} }

// layout lays the protocol out in p's language.
func (p *Protocol) layout(pr *i18n.Printer) []block {
	l := lay{pr}
	var bs []block
	add := func(b block) { bs = append(bs, b) }
	add(block{kind: bTitle, text: pr.T(i18n.ReportTitle)})
	first, last := p.period()
	add(block{kind: bText, text: pr.T(i18n.ReportIntro{Trail: p.Trail, TrailID: p.TrailID, Period: l.span(first, last)})})
	for i, s := range p.Sessions {
		add(block{kind: bSection, text: pr.T(i18n.ReportSession{Number: i + 1, Period: l.span(s.Start, s.End)})})
		ended := l.clock(s.End)
		switch {
		case s.End.IsZero():
			ended = pr.T(i18n.ReportNoEnd)
		case s.Failed && s.EndDetail == "":
			ended = pr.T(i18n.ReportEndedError{Clock: ended})
		case s.Failed:
			ended = pr.T(i18n.ReportEndedFailed{Clock: ended, Detail: s.EndDetail})
		}
		add(block{kind: bFields, rows: [][]string{
			l.field(i18n.ReportFieldHost, s.Host),
			l.field(i18n.ReportFieldProgram, "hsmcards "+s.Version),
			l.field(i18n.ReportFieldTrailLines, pr.T(i18n.ReportLineRange{From: s.FirstLine, To: s.LastLine})),
			l.field(i18n.ReportFieldEnded, ended),
		}})
		if len(s.Ceremonies) == 0 {
			add(block{kind: bText, text: pr.T(i18n.ReportNoCeremony)})
		}
		for j, c := range s.Ceremonies {
			bs = append(bs, c.layout(l, fmt.Sprintf("%d.%d", i+1, j+1))...)
		}
		if len(s.Ceremonies) > 0 {
			bs = append(bs, s.signatures(l, i+1)...)
		}
	}
	add(block{kind: bSection, text: pr.T(i18n.ReportSeal)})
	add(block{kind: bFields, code: []bool{false, true, false, true, true}, rows: [][]string{
		l.field(i18n.ReportFieldTrail, p.Trail),
		l.field(i18n.ReportFieldTrailID, p.TrailID),
		l.field(i18n.ReportFieldLines, pr.T(i18n.ReportLineRange{From: 1, To: p.Head.Line})),
		l.field(i18n.ReportFieldFinalHash, p.Head.String()),
		l.field(i18n.ReportFieldShortForm, p.Head.Short()),
	}})
	add(block{kind: bText, text: pr.T(i18n.ReportSealText{Line: p.Head.Line, Trail: p.Trail})})
	add(block{kind: bFields, rows: [][]string{l.field(i18n.ReportFieldPlaceDate, "")}})
	return bs
}

// period is the first and last time in the trail.
func (p *Protocol) period() (time.Time, time.Time) {
	if len(p.Sessions) == 0 {
		return time.Time{}, time.Time{}
	}
	first, last := p.Sessions[0].Start, p.Sessions[len(p.Sessions)-1].End
	s := p.Sessions[len(p.Sessions)-1]
	if last.IsZero() && len(s.Ceremonies) > 0 {
		last = s.Ceremonies[len(s.Ceremonies)-1].End
	}
	return first, last
}

// layout lays out one ceremony, numbered n.
func (c *Ceremony) layout(l lay, n string) []block {
	pr := l.p
	outcome := outcomeWord(pr, c.Outcome)
	if !c.Summarised {
		outcome = pr.T(i18n.OutcomeNone)
	}
	bs := []block{{kind: bSubsection, text: pr.T(i18n.ReportCeremony{Number: n, Title: Title(pr, c.Operation), Outcome: outcome})}}
	fields := block{kind: bFields}
	field := func(label i18n.ID, value string, code bool) {
		if value != "" {
			fields.rows = append(fields.rows, l.field(label, value))
			fields.code = append(fields.code, code)
		}
	}
	field(i18n.ReportFieldTime, l.span(c.Start, c.End), false)
	field(i18n.ReportFieldLabel, c.Label, false)
	field(i18n.ReportFieldKeySetID, c.KeySetID, true)
	if c.Generation != 0 {
		field(i18n.ReportFieldGeneration, strconv.FormatUint(c.Generation, 10), false)
	}
	field(i18n.ReportFieldQuorum, quorumWords(pr, c.Scheme), false)
	field(i18n.ReportFieldKCV, c.KCV, true)
	field(i18n.ReportFieldHSM, c.HSM, false)
	field(i18n.ReportFieldReader, c.Reader, false)
	if c.Summarised {
		o := outcomeWord(pr, c.Outcome)
		if c.Detail != "" {
			o = pr.T(i18n.ReportOutcomeDetail{Outcome: o, Detail: c.Detail})
		}
		field(i18n.ReportFieldOutcome, o, false)
	}
	bs = append(bs, fields)
	if len(c.Cards) > 0 {
		bs = append(bs, c.cardTable(l))
	}
	if len(c.Problems) == 0 {
		return append(bs, block{kind: bText, text: pr.T(i18n.ReportFailuresNone)})
	}
	bs = append(bs, block{kind: bText, text: pr.T(i18n.ReportFailuresHeading)})
	t := block{kind: bTable, weights: []float64{1.1, 2.6, 3.4, 3}, code: []bool{false, true, false, false},
		rows: [][]string{{pr.T(i18n.ReportColTime), pr.T(i18n.ReportColCard), pr.T(i18n.ReportColWhat), pr.T(i18n.ReportColRecovered)}}}
	for _, p := range c.Problems {
		step, outcome := stepWord(pr, p.Step), outcomeWord(pr, p.Outcome)
		what := pr.T(i18n.ReportWhat{Step: step, Outcome: outcome})
		if p.Detail != "" {
			what = pr.T(i18n.ReportWhatDetail{Step: step, Outcome: outcome, Detail: p.Detail})
		}
		rec := pr.T(i18n.ReportNotRecovered)
		if !p.Recovered.IsZero() {
			by := stepWord(pr, p.Step) // recovered by the same step
			switch {
			case p.RecoveredCard != "" && p.RecoveredCard == p.Card:
				by = pr.T(i18n.ReportByRetry{Step: by})
			case p.RecoveredCard != "":
				by = pr.T(i18n.ReportByOtherCard{Step: by, Card: p.RecoveredCard})
			}
			rec = pr.T(i18n.ReportRecovered{Clock: l.clock(p.Recovered), By: by})
		}
		card := p.Card
		if card == "" {
			card = pr.T(i18n.ReportNoCard)
		}
		t.rows = append(t.rows, []string{l.clock(p.Time), card, what, rec})
	}
	return append(bs, t)
}

// signatures lays out the people present at session n: every card holder,
// the operator and a witness, each with room for a name and a signature.
func (s *Session) signatures(l lay, n int) []block {
	pr := l.p
	t := block{kind: bSignatures, weights: []float64{1.9, 2.9, 2.6, 2.6}, code: []bool{false, true, false, false},
		rows: [][]string{{pr.T(i18n.ReportColRole), pr.T(i18n.ReportColCard), pr.T(i18n.ReportColName), pr.T(i18n.ReportColSignature)}}}
	for _, serial := range s.Holders() {
		t.rows = append(t.rows, []string{pr.T(i18n.ReportRoleHolder), serial, "", ""})
	}
	t.rows = append(t.rows, []string{pr.T(i18n.ReportRoleOperator), "", "", ""}, []string{pr.T(i18n.ReportRoleWitness), "", "", ""})
	return []block{
		{kind: bSubsection, text: pr.T(i18n.ReportPeople{Number: n}), keep: 2},
		{kind: bText, text: pr.T(i18n.ReportSignaturesText)},
		t,
	}
}

// quorumWords says the trail's quorum, "2 of 3" (audit.Event.Scheme), in
// pr's language; a quorum written otherwise stays as it is.
func quorumWords(pr *i18n.Printer, scheme string) string {
	var k, n int
	if _, err := fmt.Sscanf(scheme, "%d of %d", &k, &n); err != nil || fmt.Sprintf("%d of %d", k, n) != scheme {
		return scheme
	}
	return pr.T(i18n.ReportQuorum{K: k, N: n})
}

// cardTable lists the ceremony's cards; the share x and tries left columns
// only when the trail says them for some card.
func (c *Ceremony) cardTable(l lay) block {
	pr := l.p
	var withX, withTries bool
	for _, card := range c.Cards {
		withX = withX || card.ShareX != 0
		withTries = withTries || card.TriesLeft != nil
	}
	t := block{kind: bTable, weights: []float64{3}, code: []bool{true}, rows: [][]string{{pr.T(i18n.ReportColSerial)}}}
	col := func(header i18n.ID, weight float64) {
		t.rows[0] = append(t.rows[0], pr.T(header))
		t.weights = append(t.weights, weight)
		t.code = append(t.code, false)
	}
	if withX {
		col(i18n.ReportColShareX, 1)
	}
	if withTries {
		col(i18n.ReportColTriesLeft, 1.3)
	}
	col(i18n.ReportColDone, 4)
	for _, card := range c.Cards {
		row := []string{card.Serial}
		if withX {
			x := pr.T(i18n.NotRecorded)
			if card.ShareX != 0 {
				x = strconv.Itoa(card.ShareX)
			}
			row = append(row, x)
		}
		if withTries {
			tries := pr.T(i18n.NotRecorded)
			if card.TriesLeft != nil {
				tries = strconv.Itoa(*card.TriesLeft)
			}
			row = append(row, tries)
		}
		var done []string
		for _, step := range card.Done {
			done = append(done, doneWord(pr, c.Operation, step))
		}
		d := strings.Join(done, pr.T(i18n.ListSeparator))
		if d == "" {
			d = pr.T(i18n.NothingComplete)
		}
		t.rows = append(t.rows, append(row, d))
	}
	return t
}
