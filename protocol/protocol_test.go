package protocol

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
)

// trail builds a verified trail of events in a fresh file.
func trail(t *testing.T, events ...audit.Event) *audit.Trail {
	t.Helper()
	path := t.TempDir() + "/audit.jsonl"
	at := time.Date(2025, 3, 9, 5, 0, 0, 0, time.UTC)
	l, err := audit.OpenOptions(path, audit.Options{Version: "v1", Host: "console", Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		e.Time = at.Add(time.Duration(i+1) * time.Minute)
		if err := l.Record(e); err != nil {
			t.Fatal(err)
		}
	}
	l.CloseWith(audit.OutcomeError, "")
	tr, err := audit.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

const (
	cardA = "0A0A0A0A0A0A0A0A0A0A"
	cardB = "0B0B0B0B0B0B0B0B0B0B"
)

// Ceremonies are cut at summaries and at a change of operation; failures
// are matched with what recovered them.
func TestBuild(t *testing.T) {
	tr := trail(t,
		audit.Event{Operation: audit.OpLoad, Step: audit.StepStart, Outcome: audit.OutcomeOK},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepIdentify, CardSerial: cardA, Outcome: audit.OutcomeRefused, Detail: "a share of another key set"},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepIdentify, CardSerial: cardB, Outcome: audit.OutcomeOK, TriesLeft: audit.Tries(3)},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepVerifyPIN, CardSerial: cardB, Outcome: audit.OutcomeWrongPIN, TriesLeft: audit.Tries(2)},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepReadCard, CardSerial: cardB, Outcome: audit.OutcomeOK, ShareX: 77, Label: "dc-1"},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepLoadHSM, Outcome: audit.OutcomeTimeout},
		audit.Summary{Operation: audit.OpLoad, Outcome: audit.OutcomeError, KCV: "ABCDEF", Scheme: "2 of 3", CardsRead: []string{cardB}}.Event(),
		audit.Event{Operation: audit.OpInspect, Step: audit.StepIdentify, CardSerial: cardA, Outcome: audit.OutcomeOK},
		audit.Event{Operation: audit.OpInspect, Step: audit.StepIdentify, CardSerial: cardB, Outcome: audit.OutcomeOK},
		audit.Event{Operation: audit.OpEnroll, Step: audit.StepSummary, CardSerial: cardA, Outcome: audit.OutcomeOK, Generation: 4},
		audit.Event{Operation: "split_key", Step: audit.StepSummary, CardSerial: cardA, Outcome: audit.OutcomeOK},
	)
	p := Build(tr, "audit.jsonl")
	if len(p.Sessions) != 1 {
		t.Fatalf("%d sessions", len(p.Sessions))
	}
	s := p.Sessions[0]
	if !s.Failed || s.Host != "console" || s.FirstLine != 1 || s.LastLine != tr.Head.Line {
		t.Errorf("session %+v", s)
	}
	var ops []string
	for _, c := range s.Ceremonies {
		ops = append(ops, Title(nil, c.Operation))
	}
	if got := strings.Join(ops, "|"); got != "Load Backup Key|Inspect cards|Enroll PKCS#11 slot user card|Split key" {
		t.Fatalf("ceremonies %s", got)
	}
	load := s.Ceremonies[0]
	if load.Outcome != audit.OutcomeError || load.KCV != "ABCDEF" || load.Label != "dc-1" || len(load.Cards) != 2 {
		t.Errorf("load %+v", load)
	}
	if b := load.Cards[1]; b.ShareX != 77 || *b.TriesLeft != 2 || len(b.Done) != 1 || b.Done[0] != audit.StepReadCard {
		t.Errorf("card B %+v", b)
	}
	want := []struct {
		step      audit.Step
		recovered bool
		by        string
	}{
		{audit.StepIdentify, true, cardB}, // refused card A, card B taken instead
		{audit.StepVerifyPIN, false, ""},  // wrong PIN, never a right one after
		{audit.StepLoadHSM, false, ""},
	}
	if len(load.Problems) != len(want) {
		t.Fatalf("problems %+v", load.Problems)
	}
	for i, w := range want {
		pr := load.Problems[i]
		if pr.Step != w.step || pr.Recovered.IsZero() == w.recovered || pr.RecoveredCard != w.by {
			t.Errorf("problem %d: %+v", i, pr)
		}
	}
	if g := s.Ceremonies[2].Generation; g != 4 {
		t.Errorf("generation %d", g)
	}
	if got := strings.Join(s.Holders(), ","); got != cardA+","+cardB {
		t.Errorf("holders %s", got)
	}
}

// Text from the trail cannot make Markdown of its own, and the PDF prints
// what its fonts cannot as "?".
func TestTextFromTheTrailStaysText(t *testing.T) {
	tr := trail(t, audit.Event{Operation: audit.OpInstall, Step: audit.StepGenerate, Outcome: audit.OutcomeOK,
		Label: "a|b *c* [x](http://e) <img> 東京"})
	p := Build(tr, "audit.jsonl")
	var md bytes.Buffer
	if err := p.WriteMarkdown(&md, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(md.String(), `a\|b \*c\* \[x\](http://e) \<img\> 東京`) {
		t.Errorf("label in Markdown:\n%s", md.String())
	}
	var pdf bytes.Buffer
	if err := p.WritePDF(&pdf, nil); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(pdf.Bytes(), []byte("%PDF-")) {
		t.Error("not a PDF")
	}
	tr1252 := translator(fpdf.New("P", "mm", "A4", ""))
	if got := tr1252("Süd 東京"); got != "S\xfcd ??" {
		t.Errorf("translated %q", got)
	}
}

// The protocol in German: its words, the quorum, days as DD.MM.YYYY; what
// the trail says in its own words (details) stays as recorded.
func TestGerman(t *testing.T) {
	tr := trail(t,
		audit.Event{Operation: audit.OpLoad, Step: audit.StepStart, Outcome: audit.OutcomeOK},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepVerifyPIN, CardSerial: cardB, Outcome: audit.OutcomeWrongPIN, TriesLeft: audit.Tries(2)},
		audit.Event{Operation: audit.OpLoad, Step: audit.StepVerifyPIN, CardSerial: cardB, Outcome: audit.OutcomeOK, TriesLeft: audit.Tries(3)},
		audit.Summary{Operation: audit.OpLoad, Outcome: audit.OutcomeError, Detail: "the HSM refused the key", Scheme: "3 of 5", CardsRead: []string{cardB}}.Event(),
	)
	var md bytes.Buffer
	if err := Build(tr, "audit.jsonl").WriteMarkdown(&md, i18n.For(i18n.German)); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Protokoll der Schlüsselzeremonie",
		"## Sitzung 1: 09.03.2025 05:00:00\n",
		"- **Zeit:** 09.03.2025 05:01:00 bis 05:04:00",
		"### 1.1 Backup Key laden: fehlgeschlagen",
		"- **Quorum:** 3 von 5",
		"- **Ergebnis:** fehlgeschlagen: the HSM refused the key",
		"| 05:02:00 | `" + cardB + "` | PIN eingegeben: falsche PIN | 05:03:00, PIN eingegeben, erneut versucht |",
		"- **Beendet:** 05:00:00 (mit einem Fehler)",
		"| Karteninhaber | `" + cardB + "` |  |  |",
	} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("lacks %q:\n%s", want, md.String())
		}
	}
}

// Lines are split in UTF-8 and come back in the fonts' code page: an
// umlaut at the start of a line is an umlaut, not U+FFFD.
func TestSplitKeepsTheCodePage(t *testing.T) {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.AddPage()
	r := &pdfWriter{pdf: pdf, tr: translator(pdf)}
	lines := r.split("PIN-Versuche übrig Schlüssel 0123456789ABCDEF0123456789ABCDEF", 25, false, "B")
	if len(lines) < 3 {
		t.Fatalf("not split: %q", lines)
	}
	all := strings.Join(lines, "|")
	if !strings.Contains(all, "\xfcbrig") || !strings.Contains(all, "Schl\xfcssel") || strings.Contains(all, "\uFFFD") {
		t.Errorf("%q", lines)
	}
	for _, l := range lines {
		if w := pdf.GetStringWidth(l); w > 25 {
			t.Errorf("%q is %.1f mm, wider than 25", l, w)
		}
	}
}
