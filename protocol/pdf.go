package protocol

import (
	"io"
	"strings"
	"unicode/utf8"

	"codeberg.org/go-pdf/fpdf"

	"github.com/hsmcards/hsmcards/i18n"
)

// Page geometry and type of the PDF, in millimetres and points: A4 with
// room to punch and file it.
const (
	pageMargin   = 18.0
	pageBottom   = 20.0
	fieldLabelW  = 42.0 // the least width of a field's label; a language's longer labels widen it
	lineH        = 5.2
	signatureRow = 14.0
	bodySize     = 10.0
	codeSize     = 9.0
	cellPad      = 1.5
	keepWithNext = 35.0 // a heading needs this much room below it, or it starts a new page
)

// pagesAlias is what fpdf replaces with the number of pages when it closes
// the document (its default alias).
const pagesAlias = "{nb}"

// WritePDF writes the protocol as a PDF of A4 pages, in pr's language (nil:
// English). It uses the standard PDF fonts (Helvetica, Courier), so the
// text stays text: pdftotext and a screen reader get it back, and nothing
// is embedded but the words. Their code page, Windows-1252, has German's
// umlauts and ß, and „“ too.
func (p *Protocol) WritePDF(w io.Writer, pr *i18n.Printer) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(pageMargin, pageMargin, pageMargin)
	pdf.SetAutoPageBreak(true, pageBottom)
	pdf.SetTitle(pr.T(i18n.ReportPDFTitle{TrailID: p.TrailID}), true)
	pdf.SetCreator("hsmcards report", true)
	pdf.SetProducer("hsmcards report", true)
	_, last := p.period()
	pdf.SetCreationDate(last) // the same trail makes the same file
	pdf.SetModificationDate(last)
	pdf.SetCatalogSort(true)
	pdf.AliasNbPages(pagesAlias)
	r := &pdfWriter{pdf: pdf, tr: translator(pdf)}
	pdf.SetFooterFunc(func() {
		pdf.SetY(-pageBottom + 6)
		pdf.SetFont("Helvetica", "", 8)
		pdf.SetTextColor(90, 90, 90)
		pdf.CellFormat(0, 4, r.tr(pr.T(i18n.ReportFooter{TrailID: p.TrailID, Hash: p.Head.Short(), Page: pdf.PageNo(), Pages: pagesAlias})),
			"", 0, "C", false, 0, "")
		pdf.SetTextColor(0, 0, 0)
	})
	pdf.AddPage()
	blocks := p.layout(pr)
	r.labelW = r.labelWidth(blocks)
	for i, b := range blocks {
		if b.keep > 0 {
			h := 0.0
			for _, next := range blocks[i+1 : min(len(blocks), i+1+b.keep)] {
				h += r.height(next)
			}
			r.room(h + 15)
		}
		r.block(b)
	}
	return pdf.Output(w)
}

type pdfWriter struct {
	pdf    *fpdf.Fpdf
	tr     func(string) string
	labelW float64 // the width of the fields' labels
}

// translator turns UTF-8 into the standard fonts' code page (Windows-1252);
// what it has no glyph for becomes "?", not silently something else.
func translator(pdf *fpdf.Fpdf) func(string) string {
	cp := pdf.UnicodeTranslatorFromDescriptor("")
	return func(s string) string {
		var b strings.Builder
		for _, r := range s {
			t := cp(string(r))
			if r >= utf8.RuneSelf && t == "." {
				t = "?"
			}
			b.WriteString(t)
		}
		return b.String()
	}
}

// labelWidth is the width of the fields' labels: the widest in blocks and
// room after it, at least fieldLabelW.
func (r *pdfWriter) labelWidth(blocks []block) float64 {
	r.font("B", bodySize)
	w := fieldLabelW
	for _, b := range blocks {
		if b.kind != bFields {
			continue
		}
		for _, row := range b.rows {
			w = max(w, r.pdf.GetStringWidth(r.tr(row[0]+":"))+3)
		}
	}
	return w
}

func (r *pdfWriter) width() float64 {
	w, _ := r.pdf.GetPageSize()
	return w - 2*pageMargin
}

// room starts a new page unless h millimetres are left on this one.
func (r *pdfWriter) room(h float64) {
	_, ph := r.pdf.GetPageSize()
	if r.pdf.GetY()+h > ph-pageBottom {
		r.pdf.AddPage()
	}
}

func (r *pdfWriter) font(style string, size float64) { r.pdf.SetFont("Helvetica", style, size) }

func (r *pdfWriter) block(b block) {
	pdf := r.pdf
	switch b.kind {
	case bTitle:
		r.font("B", 18)
		pdf.CellFormat(0, 10, r.tr(b.text), "", 1, "L", false, 0, "")
		pdf.Ln(2)
	case bSection:
		r.room(keepWithNext)
		pdf.Ln(4)
		r.font("B", 14)
		pdf.CellFormat(0, 8, r.tr(b.text), "B", 1, "L", false, 0, "")
		pdf.Ln(2)
	case bSubsection:
		r.room(keepWithNext)
		pdf.Ln(3)
		r.font("B", 12)
		pdf.MultiCell(0, 6, r.tr(b.text), "", "L", false)
		pdf.Ln(1)
	case bText:
		r.font("", bodySize)
		pdf.MultiCell(0, lineH, r.tr(b.text), "", "L", false)
		pdf.Ln(1.5)
	case bFields:
		for i, row := range b.rows {
			code := i < len(b.code) && b.code[i]
			r.field(row[0], row[1], code)
		}
		pdf.Ln(1.5)
	case bTable:
		r.table(b, lineH)
	case bSignatures:
		r.table(b, signatureRow)
	}
}

// height estimates how tall b is drawn, to keep it on one page.
func (r *pdfWriter) height(b block) float64 {
	switch b.kind {
	case bText:
		r.font("", bodySize)
		return float64(len(r.split(b.text, r.width(), false, "")))*lineH + 1.5
	case bTable:
		return float64(len(b.rows))*(lineH+1) + 2
	case bSignatures:
		return lineH + 1.5 + float64(len(b.rows)-1)*signatureRow + 2
	}
	return 2 * lineH
}

// field writes "label  value", the value wrapped in its column; an empty
// value is a line to write on.
func (r *pdfWriter) field(label, value string, code bool) {
	pdf := r.pdf
	valueW := r.width() - r.labelW
	lines := r.split(value, valueW, code, "")
	r.room(float64(len(lines)) * lineH)
	x, y := pdf.GetXY()
	r.font("B", bodySize)
	pdf.CellFormat(r.labelW, lineH, r.tr(label+":"), "", 0, "L", false, 0, "")
	if value == "" {
		pdf.Line(x+r.labelW, y+lineH, x+r.width(), y+lineH)
		pdf.SetXY(x, y+lineH+2)
		return
	}
	r.setFont("", code)
	for i, l := range lines {
		pdf.SetXY(x+r.labelW, y+float64(i)*lineH)
		pdf.CellFormat(valueW, lineH, l, "", 0, "L", false, 0, "")
	}
	pdf.SetXY(x, y+float64(len(lines))*lineH)
}

func (r *pdfWriter) setFont(style string, code bool) {
	if code {
		r.pdf.SetFont("Courier", style, codeSize)
		return
	}
	r.font(style, bodySize)
}

// split breaks s into lines that fit w millimetres in the body or code
// font of style ("" or "B"), at spaces; a word longer than a line (hex) breaks anywhere. It
// splits the UTF-8 text and measures it in the fonts' code page (fpdf's
// SplitText reads its input as UTF-8, so it would garble every character
// of the code page above ASCII: ä, ü, ß...), and returns the lines in the
// code page.
func (r *pdfWriter) split(s string, w float64, code bool, style string) []string {
	r.setFont(style, code)
	w -= 2 * r.pdf.GetCellMargin() // CellFormat pads the text on both sides
	fits := func(t string) bool { return r.pdf.GetStringWidth(r.tr(t)) <= w }
	var lines []string
	line := ""
	for _, word := range strings.Fields(s) {
		if line != "" && fits(line+" "+word) {
			line += " " + word
			continue
		}
		if line != "" {
			lines = append(lines, r.tr(line))
		}
		for !fits(word) {
			rs := []rune(word)
			n := 1 // at least one character a line, however narrow
			for n < len(rs) && fits(string(rs[:n+1])) {
				n++
			}
			if n == len(rs) {
				break
			}
			lines = append(lines, r.tr(string(rs[:n])))
			word = string(rs[n:])
		}
		line = word
	}
	return append(lines, r.tr(line))
}

// table draws a table with a shaded header row, repeated on a new page.
// minRow is a row's least height (room to sign in signature tables).
func (r *pdfWriter) table(b block, minRow float64) {
	pdf := r.pdf
	total := 0.0
	for _, w := range b.weights {
		total += w
	}
	widths := make([]float64, len(b.weights))
	for i, w := range b.weights {
		widths[i] = r.width() * w / total
	}
	var row func(cells []string, header bool)
	row = func(cells []string, header bool) {
		lines := make([][]string, len(cells))
		h := minRow
		for i, c := range cells {
			code := !header && i < len(b.code) && b.code[i]
			style := ""
			if header {
				style = "B"
			}
			lines[i] = r.split(c, widths[i]-2*cellPad, code, style)
			h = max(h, float64(len(lines[i]))*lineH+1)
		}
		if header {
			h = 0 // a header row is as tall as its lines
			for _, l := range lines {
				h = max(h, float64(len(l))*lineH+1.5)
			}
		}
		_, ph := pdf.GetPageSize()
		if pdf.GetY()+h > ph-pageBottom {
			pdf.AddPage()
			if !header {
				row(b.rows[0], true)
			}
		}
		x, y := pdf.GetXY()
		for i := range cells {
			style := "D"
			if header {
				pdf.SetFillColor(225, 225, 225)
				style = "FD"
			}
			pdf.Rect(x, y, widths[i], h, style)
			r.setFont(map[bool]string{true: "B", false: ""}[header], !header && i < len(b.code) && b.code[i])
			for j, l := range lines[i] {
				pdf.SetXY(x+cellPad, y+0.5+float64(j)*lineH)
				pdf.CellFormat(widths[i]-2*cellPad, lineH, l, "", 0, "L", false, 0, "")
			}
			x += widths[i]
		}
		pdf.SetXY(pageMargin, y+h)
	}
	r.room(2 * (lineH + 1.5))
	row(b.rows[0], true)
	for _, cells := range b.rows[1:] {
		row(cells, false)
	}
	pdf.Ln(2)
}
