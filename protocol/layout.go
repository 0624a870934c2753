package protocol

import (
	"fmt"
	"strconv"
	"strings"
	"time"
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

// Time formats: the protocol says once that every time is UTC.
const (
	dayFormat  = "2006-01-02"
	timeFormat = "15:04:05"
)

func clock(t time.Time) string { return t.UTC().Format(timeFormat) }

func day(t time.Time) string { return t.UTC().Format(dayFormat) }

// span writes a time range, with the day once when both are on it.
func span(a, b time.Time) string {
	switch {
	case b.IsZero() || day(a)+clock(a) == day(b)+clock(b):
		return day(a) + " " + clock(a)
	case day(a) == day(b):
		return day(a) + " " + clock(a) + " to " + clock(b)
	}
	return day(a) + " " + clock(a) + " to " + day(b) + " " + clock(b)
}

// layout lays the protocol out.
func (p *Protocol) layout() []block {
	var bs []block
	add := func(b block) { bs = append(bs, b) }
	add(block{kind: bTitle, text: "Key ceremony protocol"})
	first, last := p.period()
	add(block{kind: bText, text: fmt.Sprintf(
		"The ceremonies recorded in the audit trail %s (trail ID %s), %s. All times are UTC. "+
			"This protocol is made from the trail alone, which never holds a PIN, a share or a key; "+
			"its last page seals the trail with the trail's final hash.",
		p.Trail, p.TrailID, span(first, last))})
	for i, s := range p.Sessions {
		add(block{kind: bSection, text: fmt.Sprintf("Session %d: %s", i+1, span(s.Start, s.End))})
		ended := clock(s.End)
		if s.Failed {
			why := s.EndDetail
			if why == "" {
				why = "on an error"
			}
			ended += " (" + why + ")"
		}
		if s.End.IsZero() {
			ended = "no end recorded (the program did not close the trail: it was killed, or crashed)"
		}
		add(block{kind: bFields, rows: [][]string{
			{"Host", s.Host},
			{"Program", "hsmcards " + s.Version},
			{"Trail lines", fmt.Sprintf("%d to %d", s.FirstLine, s.LastLine)},
			{"Ended", ended},
		}})
		if len(s.Ceremonies) == 0 {
			add(block{kind: bText, text: "No ceremony was recorded in this session."})
		}
		for j, c := range s.Ceremonies {
			bs = append(bs, c.layout(fmt.Sprintf("%d.%d", i+1, j+1))...)
		}
		if len(s.Ceremonies) > 0 {
			bs = append(bs, s.signatures(i+1)...)
		}
	}
	add(block{kind: bSection, text: "Seal"})
	add(block{kind: bFields, code: []bool{false, true, false, true, true}, rows: [][]string{
		{"Trail", p.Trail},
		{"Trail ID", p.TrailID},
		{"Lines", fmt.Sprintf("1 to %d", p.Head.Line)},
		{"Final hash", p.Head.String()},
		{"Short form", p.Head.Short()},
	}})
	add(block{kind: bText, text: fmt.Sprintf(
		"The final hash is the SHA-256 of line %d, which carries the hash of the line before it, and so on back to "+
			"the anchor: it stands for every line above. \"hsmcards audit verify %s\" must find the trail intact and "+
			"print this hash as the last line's. A trail that verifies but ends in another hash was cut or "+
			"rewritten after this protocol was signed; lines added later are not covered by it.",
		p.Head.Line, p.Trail)})
	add(block{kind: bFields, rows: [][]string{{"Place and date", ""}}})
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
func (c *Ceremony) layout(n string) []block {
	outcome := outcomeWord(c.Outcome)
	if !c.Summarised {
		outcome = "no summary recorded"
	}
	bs := []block{{kind: bSubsection, text: fmt.Sprintf("%s %s: %s", n, Title(c.Operation), outcome)}}
	fields := block{kind: bFields}
	field := func(label, value string, code bool) {
		if value != "" {
			fields.rows = append(fields.rows, []string{label, value})
			fields.code = append(fields.code, code)
		}
	}
	field("Time", span(c.Start, c.End), false)
	field("Appliance label", c.Label, false)
	field("Key-set ID", c.KeySetID, true)
	if c.Generation != 0 {
		field("Generation", strconv.FormatUint(c.Generation, 10), false)
	}
	field("Quorum", c.Scheme, false)
	field("KCV", c.KCV, true)
	field("HSM", c.HSM, false)
	field("Reader", c.Reader, false)
	if c.Summarised {
		o := outcomeWord(c.Outcome)
		if c.Detail != "" {
			o += ": " + c.Detail
		}
		field("Outcome", o, false)
	}
	bs = append(bs, fields)
	if len(c.Cards) > 0 {
		bs = append(bs, c.cardTable())
	}
	if len(c.Problems) == 0 {
		return append(bs, block{kind: bText, text: "Failures: none."})
	}
	bs = append(bs, block{kind: bText, text: "Failures and what recovered them:"})
	t := block{kind: bTable, weights: []float64{1.1, 2.6, 3.4, 3}, code: []bool{false, true, false, false},
		rows: [][]string{{"Time", "Card", "What happened", "Recovered"}}}
	for _, pr := range c.Problems {
		what := stepWord(pr.Step) + ": " + outcomeWord(pr.Outcome)
		if pr.Detail != "" {
			what += " (" + pr.Detail + ")"
		}
		rec := "not recovered in this ceremony"
		if !pr.Recovered.IsZero() {
			rec = clock(pr.Recovered) + ", " + pr.RecoveredBy
		}
		card := pr.Card
		if card == "" {
			card = "none"
		}
		t.rows = append(t.rows, []string{clock(pr.Time), card, what, rec})
	}
	return append(bs, t)
}

// signatures lays out the people present at session n: every card holder,
// the operator and a witness, each with room for a name and a signature.
func (s *Session) signatures(n int) []block {
	t := block{kind: bSignatures, weights: []float64{1.5, 2.9, 2.8, 2.8}, code: []bool{false, true, false, false},
		rows: [][]string{{"Role", "Card", "Name", "Signature"}}}
	for _, serial := range s.Holders() {
		t.rows = append(t.rows, []string{"Card holder", serial, "", ""})
	}
	t.rows = append(t.rows, []string{"Operator", "", "", ""}, []string{"Witness", "", "", ""})
	return []block{
		{kind: bSubsection, text: fmt.Sprintf("People present at session %d", n), keep: 2},
		{kind: bText, text: "By signing, each person confirms that the ceremonies above happened as written, " +
			"with the cards named, and that no PIN, share or key was written down or shown to anyone else."},
		t,
	}
}

// cardTable lists the ceremony's cards; the share x and tries left columns
// only when the trail says them for some card.
func (c *Ceremony) cardTable() block {
	var withX, withTries bool
	for _, card := range c.Cards {
		withX = withX || card.ShareX != 0
		withTries = withTries || card.TriesLeft != nil
	}
	t := block{kind: bTable, weights: []float64{3}, code: []bool{true}, rows: [][]string{{"Card serial"}}}
	col := func(header string, weight float64) {
		t.rows[0] = append(t.rows[0], header)
		t.weights = append(t.weights, weight)
		t.code = append(t.code, false)
	}
	if withX {
		col("Share x", 1)
	}
	if withTries {
		col("PIN tries left", 1.3)
	}
	col("Done with it", 4)
	for _, card := range c.Cards {
		row := []string{card.Serial}
		if withX {
			x := "not recorded"
			if card.ShareX != 0 {
				x = strconv.Itoa(card.ShareX)
			}
			row = append(row, x)
		}
		if withTries {
			tries := "not recorded"
			if card.TriesLeft != nil {
				tries = strconv.Itoa(*card.TriesLeft)
			}
			row = append(row, tries)
		}
		done := strings.Join(card.Done, ", ")
		if done == "" {
			done = "nothing completed"
		}
		t.rows = append(t.rows, append(row, done))
	}
	return t
}
