package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/i18n"
)

// locale is an environment with only these variables set.
func locale(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// runIn runs a command line as main does, in the environment getenv.
func runIn(getenv func(string) string, args ...string) (stdout, stderr string, code int) {
	var out, errs bytes.Buffer
	e := &env{stdout: &out, stderr: &errs, getenv: getenv}
	code = exitCode(run(args, e), e)
	return out.String(), errs.String(), code
}

var german = locale("LANG", "de_DE.UTF-8")

// The language: --lang first, then LC_ALL, LC_MESSAGES and LANG; the last
// --lang counts, wherever it stands; a value after a flag that takes one is
// not a --lang.
func TestLanguageChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		args   []string
		want   i18n.Lang
	}{
		{"no locale", locale(), nil, i18n.English},
		{"LANG de", german, nil, i18n.German},
		{"LANG de_AT", locale("LANG", "de_AT.UTF-8"), nil, i18n.German},
		{"LANG C", locale("LANG", "C"), nil, i18n.English},
		{"LC_MESSAGES over LANG", locale("LANG", "C", "LC_MESSAGES", "de_DE.UTF-8"), nil, i18n.German},
		{"LC_ALL over both", locale("LANG", "de_DE.UTF-8", "LC_MESSAGES", "de_DE.UTF-8", "LC_ALL", "en_GB.UTF-8"), nil, i18n.English},
		{"--lang en over LANG de", german, []string{"--lang", "en"}, i18n.English},
		{"--lang=de over LC_ALL C", locale("LC_ALL", "C"), []string{"--lang=de"}, i18n.German},
		{"-lang de", locale(), []string{"-lang", "de"}, i18n.German},
		{"after the arguments", locale(), []string{"report", "x.jsonl", "--lang", "de"}, i18n.German},
		{"the last counts", locale(), []string{"--lang", "de", "--lang", "en"}, i18n.English},
		{"a value is no flag", locale(), []string{"--audit", "--lang", "x"}, i18n.English},
		{"after --", locale(), []string{"report", "--", "--lang", "de"}, i18n.English},
		{"an unknown --lang keeps the locale's", german, []string{"--lang", "fr"}, i18n.German},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := &env{stdout: io.Discard, stderr: io.Discard, getenv: tc.getenv}
			args := append(append([]string{}, tc.args...), "--help")
			if err := run(args, e); !errors.Is(err, flag.ErrHelp) && tc.name != "an unknown --lang keeps the locale's" {
				t.Logf("run: %v", err)
			}
			if got := e.p.Lang(); got != tc.want {
				t.Errorf("%s, want %s", got, tc.want)
			}
		})
	}
	// A --lang that names no language is refused in the locale's.
	_, errs, code := runIn(german, "--lang", "fr")
	if code != exitUsage || !strings.Contains(errs, "--lang fr: de oder en angeben") || !strings.Contains(errs, "hsmcards: Hinweis: ") {
		t.Errorf("exit %d\n%s", code, errs)
	}
}

// Every command's help in German: the German words, the flags with two
// dashes, 80 columns; with --lang en the English help, as without a locale.
func TestHelpInGerman(t *testing.T) {
	for _, c := range commands() {
		t.Run("hsmcards "+c.name, func(t *testing.T) {
			words := strings.Fields(c.name)
			help, _, code := runIn(german, append(append([]string{}, words...), "--help")...)
			if code != exitOK {
				t.Fatalf("exit %d", code)
			}
			if want := strings.TrimSpace("Aufruf: hsmcards " + c.name); !strings.HasPrefix(help, want) {
				t.Errorf("help starts %q", help[:min(len(help), 40)])
			}
			for _, w := range []string{"\nOptionen:\n", "--lang de|en", "Deutsch oder Englisch"} {
				if !strings.Contains(help, w) {
					t.Errorf("lacks %q:\n%s", w, help)
				}
			}
			for _, english := range []string{"usage:", "flags:", "commands:", "(default ", "exit status", " the ", " and "} {
				if strings.Contains(help, english) {
					t.Errorf("English %q in the German help:\n%s", english, help)
				}
			}
			for _, l := range strings.Split(help, "\n") {
				if n := len([]rune(l)); n > helpWidth {
					t.Errorf("%d columns: %q", n, l)
				}
				if f := strings.Fields(l); len(f) > 0 && strings.HasPrefix(f[0], "-") && !strings.HasPrefix(f[0], "--") && f[0] != "-o," {
					t.Errorf("a flag with one dash: %q", l)
				}
			}
			english, _, _ := runIn(german, append(append([]string{}, words...), "--help", "--lang", "en")...)
			plain, _, _ := runIn(locale(), append(append([]string{}, words...), "--help")...)
			if english != plain || english == help {
				t.Errorf("--lang en under a German locale is not the English help:\n%s", english)
			}
		})
	}
	help, _, _ := runIn(german, "--help")
	for _, want := range []string{"--sim-dir VERZEICHNIS", "--audit DATEI", "--insert-timeout ZEIT", "(Vorgabe: 1m0s)", "Befehle:",
		"vpcd", "inspect", "report", "audit verify", "„hsmcards help BEFEHL“"} {
		if !strings.Contains(help, want) {
			t.Errorf("hsmcards --help in German lacks %q", want)
		}
	}
}

// Refusals and hints in German: one line and a hint, the exit status as in
// English; a refused path is worded from its kind.
func TestRefusalsInGerman(t *testing.T) {
	dir := t.TempDir()
	link := filepath.Join(dir, "link.jsonl")
	os.Symlink(filepath.Join(dir, "target"), link)
	open := filepath.Join(dir, "open.jsonl")
	os.WriteFile(open, nil, 0o600)
	os.Chmod(open, 0o644)
	sim := filepath.Join(dir, "sim")
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"--colour"}, exitUsage, []string{"unbekannte Option --colour", "Hinweis: hsmcards --help nennt die Optionen und Befehle"}},
		{[]string{"--insert-timeout", "5x"}, exitUsage, []string{"--insert-timeout 5x: keine Dauer"}},
		{[]string{"--sim-cards", "0"}, exitUsage, []string{"--sim-cards 0: ein simulierter Kartensatz hat 1 bis 9 Karten"}},
		{[]string{"--sim-dir", sim, "extra"}, exitUsage, []string{`unerwartetes Argument "extra"`}},
		{[]string{"--sim-dir", sim, "--reader", "usb"}, exitUsage, []string{`unbekannter Kartenleser "usb"`}},
		{[]string{"--sim-dir", sim, "--hsm", "cloud"}, exitFailure, []string{`unbekanntes HSM "cloud"`}},
		{[]string{"vpcd", "--sim-dir", filepath.Join(dir, "sim2"), "--sim-cards", "2", "7"}, exitUsage, []string{"der Kartensatz hat die Karten 1 bis 2, nicht 7"}},
		{[]string{"vpcd", "--sim-dir", sim, "1", "192.0.2.7:35963"}, exitFailure, []string{"ist nicht auf diesem Rechner", "Hinweis: pcscd mit vpcd hier"}},
		{[]string{"help", "nothing"}, exitUsage, []string{`es gibt keinen Befehl "nothing"`, "Hinweis: hsmcards help nennt die Befehle"}},
		{[]string{"inspect", "--json=maybe"}, exitUsage, []string{"--json maybe: weder true noch false", "Hinweis: hsmcards inspect --help sagt"}},
		{[]string{"--sim-dir", sim, "--audit", link}, exitFailure, []string{"--audit: " + link + " ist ein symbolischer Link", "Hinweis: die Datei oder das Verzeichnis selbst nennen"}},
		{[]string{"--sim-dir", sim, "--audit", open}, exitFailure, []string{"--audit: " + open + " können andere Benutzer lesen oder schreiben (Modus 0644)", "Hinweis: chmod 600 " + open}},
		{[]string{"report", filepath.Join(dir, "none.jsonl")}, exitFailure, []string{"none.jsonl: keine solche Datei"}},
		{[]string{"report", "-o", "x.txt", exampleTrail}, exitUsage, []string{"-o x.txt: .pdf für PDF oder .md für Markdown angeben"}},
	} {
		_, errs, code := runIn(german, tc.args...)
		lines := strings.Split(strings.TrimSpace(errs), "\n")
		if code != tc.code || len(lines) > 2 || len(lines) == 2 && !strings.HasPrefix(lines[1], "hsmcards: Hinweis: ") {
			t.Errorf("%v: exit %d, want %d:\n%s", tc.args, code, tc.code, errs)
		}
		for _, w := range tc.want {
			if !strings.Contains(errs, w) {
				t.Errorf("%v: %q lacks %q", tc.args, errs, w)
			}
		}
	}
}

// The protocol in German: the Markdown golden (TestExampleTrail -update
// writes it), from --lang de or the locale; --lang en over a German locale
// is the English one.
func TestReportInGerman(t *testing.T) {
	want, err := os.ReadFile(exampleProtocolDE)
	if err != nil {
		t.Fatal(err)
	}
	english, err := os.ReadFile(exampleProtocol)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		getenv func(string) string
		args   []string
		want   []byte
	}{
		{german, []string{"report", exampleTrail}, want},
		{locale(), []string{"report", "--lang", "de", exampleTrail}, want},
		{locale("LC_ALL", "de_CH.UTF-8", "LANG", "C"), []string{"report", exampleTrail}, want},
		{german, []string{"report", exampleTrail, "--lang", "en"}, english},
	} {
		out, errs, code := runIn(tc.getenv, tc.args...)
		if code != exitOK || out != string(tc.want) {
			t.Errorf("%v: exit %d %s\n%s", tc.args, code, errs, out)
		}
	}
	for _, w := range []string{"# Protokoll der Schlüsselzeremonie", "### 1.1 Backup Key installieren: erledigt", "**Quorum:** 2 von 3",
		"Anteil geschrieben, erneut versucht", "| Karteninhaber |", "## Siegel", "**Ort und Datum:**"} {
		if !strings.Contains(string(want), w) {
			t.Errorf("the German protocol lacks %q", w)
		}
	}
	// Days in the German form: the trail's first day, DD.MM.YYYY.
	tr, err := audit.ReadFile(exampleTrail)
	if err != nil {
		t.Fatal(err)
	}
	if day := tr.Lines[0].Time.UTC().Format("02.01.2006"); !strings.Contains(string(want), "## Sitzung 1: "+day) {
		t.Errorf("the German protocol does not date session 1 %s", day)
	}
}

// The German PDF keeps its umlauts as text: pdftotext gets them back.
func TestReportPDFInGerman(t *testing.T) {
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") == "" {
			t.Skip("pdftotext is missing (Debian poppler-utils; test.sh installs it)")
		}
		t.Fatal("pdftotext is missing: .ci/debian-packages lists poppler-utils")
	}
	pdf := filepath.Join(t.TempDir(), "protokoll.pdf")
	_, errs, code := runIn(german, "report", "-o", pdf, exampleTrail)
	if code != exitOK || !strings.Contains(errs, "das Protokoll von "+exampleTrail+" steht in "+pdf) {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	text, err := exec.Command("pdftotext", "-enc", "UTF-8", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	flat := strings.Join(strings.Fields(string(text)), " ")
	for _, w := range []string{"Protokoll der Schlüsselzeremonie", "Backup Key installieren", "Backup Key laden", "2 von 3",
		"Störungen und was sie behob", "Karte entnommen", "erneut versucht", "übrig", "Unterschrift",
		"Zeuge", "Ort und Datum", "End-Hash", "Seite 1 von", "„hsmcards audit verify install-load.jsonl“", "Schlüssel"} {
		if !strings.Contains(flat, w) {
			t.Errorf("the German PDF's text lacks %q", w)
		}
	}
	if got := strings.Count(flat, "Karteninhaber"); got != 5 {
		t.Errorf("%d card holders sign, want 5", got)
	}
	if strings.Contains(flat, "?") {
		t.Errorf("a character the PDF's fonts lack became \"?\":\n%s", flat)
	}
}

// audit verify and inspect speak German too; inspect's JSON stays English.
func TestVerifyAndInspectInGerman(t *testing.T) {
	data, err := os.ReadFile(exampleTrail)
	if err != nil {
		t.Fatal(err)
	}
	n := bytes.Count(data, []byte("\n")) // the example's lines, as -update recorded them
	out, _, code := runIn(german, "audit", "verify", exampleTrail)
	if code != exitOK || !strings.Contains(out, fmt.Sprintf("intakt: %d Zeilen", n)) || !strings.Contains(out, fmt.Sprintf("End-Hash (Zeile %d): ", n)) || !strings.Contains(out, "Kurzform: ") {
		t.Errorf("exit %d\n%s", code, out)
	}
	ls := bytes.SplitAfter(data, []byte("\n"))
	ls[4] = bytes.Replace(ls[4], []byte(`"ok"`), []byte(`"error"`), 1)
	broken := filepath.Join(t.TempDir(), "audit.jsonl")
	os.WriteFile(broken, bytes.Join(ls, nil), 0o600)
	_, errs, code := runIn(german, "audit", "verify", broken)
	if code != exitFailure || !strings.Contains(errs, "NICHT INTAKT: Zeile 6 passt nicht in die Kette") || !strings.Contains(errs, "\nZeile 6: {") {
		t.Errorf("exit %d\n%s", code, errs)
	}

	simDir := inspectDeck(t)
	out, _, code = runIn(german, "inspect", "--sim-dir", simDir, "--card", "2")
	for _, w := range []string{"Kartenleser:                     Simulated reader", "Karte:                           simulierte Karte 2",
		"TCOS 3.0:                        erkannt", "PIN des Backup-Key-Slots:        GESPERRT (dreimal falsche PIN)",
		"PIN des PKCS#11-Benutzer-Slots:  3 von 3 PIN-Versuchen übrig", "Anteilsdatensatz:                nicht gelesen",
		"Es wurde keine PIN abgefragt und kein PIN-Versuch verbraucht."} {
		if !strings.Contains(out, w) {
			t.Errorf("inspect's text lacks %q:\n%s", w, out)
		}
	}
	if code != exitBlocked {
		t.Errorf("exit %d", code)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > helpWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	out, _, _ = runIn(german, "inspect", "--sim-dir", simDir, "--card", "2", "--json")
	if !strings.Contains(out, `"share_record": "not read: reading it needs the slot PIN`) || !strings.Contains(out, `"name": "Backup Key slot"`) {
		t.Errorf("inspect's JSON is not the English one:\n%s", out)
	}
}

// The wizard speaks the language main chose: prepareWizard hands it the
// printer (and with it the PIN pad's wLangId).
func TestWizardGetsTheLanguage(t *testing.T) {
	for _, l := range i18n.Langs() {
		o := &options{reader: "sim", hsm: "sim", simDir: filepath.Join(t.TempDir(), "sim"), simCards: 1, p: i18n.For(l)}
		s, err := prepareWizard(o)
		if err != nil {
			t.Fatal(err)
		}
		s.close()
		if got := s.cfg.Printer.Lang(); got != l {
			t.Errorf("the wizard speaks %s, want %s", got, l)
		}
	}
}
