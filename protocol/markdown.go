package protocol

import (
	"bufio"
	"io"
	"strings"

	"github.com/hsmcards/hsmcards/i18n"
)

// WriteMarkdown writes the protocol as Markdown (CommonMark with GitHub's
// tables), in pr's language (nil: English).
func (p *Protocol) WriteMarkdown(w io.Writer, pr *i18n.Printer) error {
	bw := bufio.NewWriter(w)
	for i, b := range p.layout(pr) {
		if i > 0 {
			bw.WriteString("\n")
		}
		switch b.kind {
		case bTitle:
			bw.WriteString("# " + mdText(b.text) + "\n")
		case bSection:
			bw.WriteString("## " + mdText(b.text) + "\n")
		case bSubsection:
			bw.WriteString("### " + mdText(b.text) + "\n")
		case bText:
			bw.WriteString(mdText(b.text) + "\n")
		case bFields:
			for j, r := range b.rows {
				v := mdText(r[1])
				if j < len(b.code) && b.code[j] {
					v = "`" + r[1] + "`"
				}
				if v == "" {
					v = "\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_\\_"
				}
				bw.WriteString("- **" + mdText(r[0]) + ":** " + v + "\n")
			}
		case bTable, bSignatures:
			for j, r := range b.rows {
				cells := make([]string, len(r))
				for k, c := range r {
					switch {
					case j > 0 && k < len(b.code) && b.code[k] && c != "":
						cells[k] = "`" + c + "`"
					default:
						cells[k] = mdText(c)
					}
				}
				bw.WriteString("| " + strings.Join(cells, " | ") + " |\n")
				if j == 0 {
					bw.WriteString("|" + strings.Repeat(" --- |", len(r)) + "\n")
				}
			}
		}
	}
	return bw.Flush()
}

// mdEscaper makes text from the trail (labels, details, host names) plain
// text in Markdown: no emphasis, links, HTML or table cells of its own.
var mdEscaper = strings.NewReplacer(
	`\`, `\\`, "`", "\\`", "*", `\*`, "_", `\_`, "[", `\[`, "]", `\]`,
	"<", `\<`, ">", `\>`, "|", `\|`, "#", `\#`, "~", `\~`, "&", `&amp;`,
)

func mdText(s string) string { return mdEscaper.Replace(s) }
