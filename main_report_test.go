package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/audit"
)

// runCmd runs a command line as main does and returns what it printed and
// its exit status.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errs bytes.Buffer
	e := &env{stdout: &out, stderr: &errs}
	code = exitCode(run(args, e), e)
	return out.String(), errs.String(), code
}

// The Markdown protocol of the example trail is the committed one (after
// -update, TestExampleTrail writes it again).
func TestReportMarkdownGolden(t *testing.T) {
	want, err := os.ReadFile(exampleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	out, errs, code := runCmd(t, "report", exampleTrail)
	if code != 0 || out != string(want) {
		t.Fatalf("exit %d, %s\ngot:\n%s", code, errs, out)
	}
	// -o FILE.md writes the same, privately.
	md := filepath.Join(t.TempDir(), "protocol.md")
	if _, errs, code := runCmd(t, "report", "-o", md, exampleTrail); code != 0 {
		t.Fatal(errs)
	}
	if got, _ := os.ReadFile(md); !bytes.Equal(got, want) {
		t.Error("-o protocol.md differs from standard output")
	}
	if fi, _ := os.Stat(md); fi.Mode().Perm() != 0o600 {
		t.Errorf("protocol mode %v", fi.Mode().Perm())
	}
}

// The PDF keeps its text: pdftotext finds the key set, the KCV, every card,
// the signature lines and the final hash.
func TestReportPDFText(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("pdftotext is missing (Debian poppler-utils; test.sh installs it)")
		}
		t.Fatal("pdftotext is missing: .ci/debian-packages lists poppler-utils")
	}
	pdf := filepath.Join(t.TempDir(), "protocol.pdf")
	if _, errs, code := runCmd(t, "report", "-o", pdf, exampleTrail); code != 0 {
		t.Fatal(errs)
	}
	text, err := exec.Command("pdftotext", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(text)), " ")
	nospace := strings.Join(strings.Fields(string(text)), "")
	tr, err := audit.ReadFile(exampleTrail)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, ln := range tr.Lines {
		for _, v := range []string{ln.KeySetID, ln.KCV, ln.CardSerial, ln.Label} {
			if v != "" {
				want = append(want, v)
			}
		}
	}
	want = append(want, "Key ceremony protocol", "Install Backup Key", "Load Backup Key", "2 of 3",
		"Card holder", "Operator", "Witness", "Name", "Signature", "card taken out", "tried again", tr.ID)
	for _, w := range want {
		if !strings.Contains(flat, w) {
			t.Errorf("the PDF's text lacks %q", w)
		}
	}
	if !strings.Contains(nospace, tr.Head.String()) {
		t.Errorf("the PDF's text lacks the final hash %s", tr.Head)
	}
	if got := strings.Count(flat, "Card holder"); got != 5 {
		t.Errorf("%d card holders sign, want 3 at the install and 2 at the load", got)
	}
}

// audit verify: exit 0 and the head for an intact trail; exit 1 and the
// first line that does not fit for a changed, removed or reordered line.
func TestAuditVerify(t *testing.T) {
	data, err := os.ReadFile(exampleTrail)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := audit.Parse(data)
	out, errs, code := runCmd(t, "audit", "verify", exampleTrail)
	if code != 0 || !strings.Contains(out, "intact") || !strings.Contains(out, tr.Head.String()) || !strings.Contains(out, tr.Head.Short()) {
		t.Fatalf("intact: exit %d\n%s%s", code, out, errs)
	}
	ls := bytes.SplitAfter(data, []byte("\n"))
	ls = ls[:len(ls)-1]
	swap := func(i, j int) [][]byte {
		c := append([][]byte{}, ls...)
		c[i], c[j] = c[j], c[i]
		return c
	}
	changed := append([][]byte{}, ls...)
	changed[4] = bytes.Replace(changed[4], []byte(`"ok"`), []byte(`"error"`), 1)
	removed := append(append([][]byte{}, ls[:6]...), ls[7:]...)
	for _, tc := range []struct {
		name  string
		lines [][]byte
		want  string
	}{
		{"changed line", changed, "line 6 does not follow line 5"},
		{"removed line", removed, "line 7 says it is line 8"},
		{"reordered lines", swap(9, 10), "line 10 says it is line 11"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			os.WriteFile(path, bytes.Join(tc.lines, nil), 0o600)
			out, errs, code := runCmd(t, "audit", "verify", path)
			if code != exitFailure || out != "" || !strings.Contains(errs, "NOT INTACT") || !strings.Contains(errs, tc.want) {
				t.Fatalf("exit %d, stdout %q, stderr:\n%s", code, out, errs)
			}
			// No protocol for it either.
			if _, errs, code := runCmd(t, "report", path); code != exitFailure || !strings.Contains(errs, tc.want) || !strings.Contains(errs, "hint: hsmcards audit verify") {
				t.Fatalf("report of a broken trail: exit %d\n%s", code, errs)
			}
		})
	}
}

func TestReportRefusals(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "protocol.pdf")
	os.Symlink(filepath.Join(dir, "elsewhere.pdf"), link)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"report"}, exitUsage, "say which trail"},
		{[]string{"report", "-o", "x.txt", exampleTrail}, exitUsage, "say .pdf for PDF or .md for Markdown"},
		{[]string{"report", "-o", link, exampleTrail}, exitFailure, "-o: " + link + " is a symbolic link"},
		{[]string{"report", filepath.Join(dir, "none.jsonl")}, exitFailure, "no such file"},
		{[]string{"audit", "verify"}, exitUsage, "say which trail"},
		{[]string{"audit"}, exitUsage, "hsmcards audit verify FILE"},
	} {
		_, errs, code := runCmd(t, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%v: exit %d, %s", tc.args, code, errs)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "elsewhere.pdf")); err == nil {
		t.Error("the report was written through the link")
	}
}
