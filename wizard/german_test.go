package wizard

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/i18n/i18ntest"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
)

// The wizard in German (docs/i18n.md): every screen from the German
// catalog, no English sentence left on it, every screen within 80x24 and
// every pad line within the display's 16 characters, although German is
// longer than English.

// newRigIn is newRig with the wizard speaking p's language.
func newRigIn(t *testing.T, n int, p *i18n.Printer) *rig {
	t.Helper()
	r := newRig(t, n)
	// main names the simulated HSM in the operator's language.
	r.relaunch(func(c *Config) { c.Printer, c.HSMName = p, p.T(i18n.HSMSimulated) })
	return r
}

// relaunch starts the rig's wizard anew with its configuration changed by
// mod (the audit trail goes on).
func (r *rig) relaunch(mod func(*Config)) {
	r.t.Helper()
	cfg := r.m.cfg
	mod(&cfg)
	r.m.env.trail.close()
	r.m = New(cfg)
	r.seen = newSecretsSeen()
	r.run(r.m.Init())
}

// english finds English words on screens that should be German: the
// literal parts of every English message, 15 characters or more, that no
// German message has (placeholders are cut out, as are names both
// languages share, like "Backup Key").
type english struct{ parts []string }

func newEnglish(t *testing.T) *english {
	t.Helper()
	var de strings.Builder
	for _, forms := range i18ntest.Texts(t, i18n.German) {
		for _, f := range forms {
			de.WriteString(flat(f) + "\n")
		}
	}
	placeholder := regexp.MustCompile(`\{\{[^}]*\}\}`)
	seen := map[string]bool{}
	e := &english{}
	for _, forms := range i18ntest.Texts(t, i18n.English) {
		for _, f := range forms {
			for _, part := range placeholder.Split(f, -1) {
				for _, line := range strings.Split(part, "\n") {
					p := flat(line)
					if len(p) >= 15 && !seen[p] && !strings.Contains(de.String(), p) {
						seen[p] = true
						e.parts = append(e.parts, p)
					}
				}
			}
		}
	}
	sort.Strings(e.parts)
	return e
}

// flat is s with its white space runs made single spaces.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// in says the first English part found in screen, or "".
func (e *english) in(screen string) string {
	// Read the side panel apart from the drawn pad beside it (columns
	// from padOuter+3 on), so that a wrapped sentence is read whole.
	var side []string
	for _, l := range strings.Split(screen, "\n") {
		if r := []rune(l); len(r) > padOuter+3 {
			side = append(side, string(r[padOuter+3:]))
		}
	}
	for _, text := range []string{flat(screen), flat(strings.Join(side, "\n"))} {
		for _, p := range e.parts {
			if strings.Contains(text, p) {
				return p
			}
		}
	}
	return ""
}

// germanWalk runs r's wizard through screens of every kind, checking each
// one after every key: it fits 80x24, its pad lines fit the display, and
// it says nothing in English.
type germanWalk struct {
	*rig
	en      *english
	checked int
}

func (g *germanWalk) press(keys ...string) {
	g.t.Helper()
	for _, k := range keys {
		g.rig.press(k)
		g.check(k)
	}
}

func (g *germanWalk) card(i int, pin string) {
	g.t.Helper()
	g.press(fmt.Sprintf("f%d", i), "enter")
	if pin != "" {
		g.press(pin, "enter")
	}
}

func (g *germanWalk) advance(d time.Duration) {
	g.t.Helper()
	g.rig.advance(d)
	g.check(fmt.Sprintf("%s later", d))
}

func (g *germanWalk) check(after string) {
	g.t.Helper()
	g.checked++
	s := g.screen()
	lines := strings.Split(s, "\n")
	if len(lines) > 24 {
		g.t.Errorf("after %s: %d lines:\n%s", after, len(lines), s)
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > 80 {
			g.t.Errorf("after %s: a line of %d cells: %q", after, w, l)
		}
	}
	if g.m.act != nil && g.m.screen == screenActivity {
		for _, l := range g.m.act.view().pad {
			if w := ansi.StringWidth(l); w > padInner {
				g.t.Errorf("after %s: pad line %q of %d characters", after, l, w)
			}
		}
	}
	if p := g.en.in(s); p != "" {
		g.t.Errorf("after %s: English %q on a German screen:\n%s", after, p, s)
	}
}

// expect fails unless the screen shows every one of want: an activity's
// pad and side panel read apart (see), any other screen whole.
func (g *germanWalk) expect(want ...string) {
	g.t.Helper()
	if g.m.act != nil && g.m.screen == screenActivity && g.m.instructorMenu() == "" {
		g.see(want...)
		return
	}
	g.rig.expect(want...)
}

// menu opens the main-menu entry whose English title is title.
func (g *germanWalk) menu(title string) {
	g.t.Helper()
	g.press(menuPath(g.t, title)...)
}

func TestGermanScreens(t *testing.T) {
	de := i18n.For(i18n.German)
	en := newEnglish(t)
	if len(en.parts) < 100 {
		t.Fatalf("only %d English parts to look for", len(en.parts))
	}
	g := &germanWalk{rig: newRigIn(t, 5, de), en: en}
	g.check("start")
	g.expect("Hauptmenü", "Backup Key installieren", "Strg+C beenden")

	// Install 2 of 3: no label, a short PIN, a wrong PIN, the last try, a
	// card written a moment ago, a card read twice, then loaded.
	g.press("1", "enter", "enter")
	g.expect("Bezeichnung", "2 von 3")
	g.press("enter")
	g.expect("Den Namen der Appliance")
	g.press("dc-frankfurt", "enter")
	g.expect("Key schreiben", "OK oder Abbruch")
	g.press("enter")
	g.expect("1. Karte stecken", "Zeitlimit in 1:00")
	g.card(1, "1234")
	g.expect("Eine PIN hat 6 bis 15 Ziffern")
	g.press("111111", "enter")
	g.expect("Falsche PIN", "2 PIN-Versuche übrig")
	g.press("222222", "enter")
	g.expect("LETZTER VERSUCH")
	g.press("123456", "enter")
	g.expect("Anteil 1 auf Karte")
	g.card(1, "")
	g.expect("hält schon Anteil 1")
	g.card(2, "123456")
	g.card(3, "123456")
	g.expect("Alle 3 Anteile sind geschrieben", "Neuen Key lesen")
	g.press("enter")
	g.card(2, "123456")
	g.card(2, "")
	g.expect("schon gelesen")
	g.card(3, "123456")
	g.expect("Key geladen", "ins HSM geladen", "Audit-Trail: Zeile")
	g.press("enter")

	// A second install over the first: the HSM's key is named, the card's
	// share is of the key in the HSM; a timeout, a pulled card, the quit
	// question with its Esc, then leaving with the key in memory.
	g.press("1", "enter", "down", "zweiter Satz", "enter")
	g.expect("hält schon den Backup Key")
	g.press("enter", "enter")
	g.advance(DefaultInsertTimeout + time.Second)
	g.expect("Zeit abgelaufen", "Der Schlüssel ist noch im Speicher")
	g.press("enter")
	g.card(1, "")
	g.press("f12")
	g.expect("herausgenommen")
	g.card(1, "123456")
	g.expect("Überschreiben?", "JETZT IM HSM GELADEN")
	g.press("esc")
	g.expect("Die Karte wurde nicht beschrieben")
	g.press("ctrl+c")
	g.expect("Jetzt beenden?", "Abbruch (Esc) geht zurück")
	g.press("esc")
	g.press("esc")
	g.expect("Diese Zeremonie verlassen?", "nur im Speicher")
	g.press("enter")
	g.expect("Hauptmenü")

	// Load: the HSM holds the key already.
	g.menu("Load Backup Key")
	g.expect("Key lesen", "aus einem Quorum")
	g.press("enter")
	g.card(1, "123456")
	g.expect("Anteil 1 von 2")
	g.card(3, "123456")
	g.expect("hält diesen Backup Key", "war schon geladen", "Audit-Trail: Zeile")
	g.press("enter")

	// Copy card 1 over card 2 (another share of the set), then onto card 4.
	g.menu("Copy a Backup Key share card")
	g.expect("Quelle stecken")
	g.card(1, "123456")
	g.expect("Ziel stecken", "Er liegt im Speicher")
	g.card(1, "")
	g.expect("die Quellkarte")
	g.card(2, "123456")
	g.expect("einen ANDEREN Anteil", "die übrige Karte des Satzes")
	g.press("esc")
	g.advance(DefaultInsertTimeout + time.Second)
	g.expect("Der Anteil ist noch im Speicher")
	g.press("enter")
	g.card(4, "123456")
	g.expect("Kopie schreiben?", "ist leer")
	g.press("enter")
	g.expect("Karte kopiert", "Audit-Trail: Zeile")
	g.press("enter")

	// Change the Backup Key PIN of card 4: new PINs that differ, the
	// factory PIN, then a new one.
	g.menu("Change the Backup Key share PIN")
	g.card(4, "123456")
	g.expect("Neue PIN")
	g.press("11223344", "enter", "11223355", "enter")
	g.expect("unterscheiden sich")
	g.press("123456", "enter", "123456", "enter")
	g.expect("Werks-PIN?")
	g.press("esc", "11223344", "enter", "11223344", "enter")
	g.expect("PIN geändert", "behält seine PIN")
	g.press("enter")

	// Inspect card 4, with its share's details.
	g.menu("Inspect a card")
	g.card(4, "")
	g.expect("Anteil zeigen?", "TCOS-3.0-Karte mit dem Profil der Appliance", "Backup-Key-Anteil:")
	g.press("enter", "11223344", "enter")
	g.expect("Karte geprüft", "erstellt 28.11.2026 05:00 UTC", "Schlüsselsatz")
	g.press("enter")

	// The PKCS#11 entries without a slot for user cards, the copy refusal.
	g.menu("Enroll a PKCS#11 slot user card")
	g.expect("Kein Slot", "kein PKCS#11-Slot für Benutzerkarten")
	g.press("enter")
	g.menu("Copy a PKCS#11 slot user card")
	g.expect("Nicht kopierbar")
	g.press("enter")

	// The instructor's menu, and a foreign card it swaps in.
	g.relaunch(func(c *Config) { c.Instructor = scenario.NewInstructor(g.sim, c.Printer) })
	g.check("the trainer's wizard")
	g.menu("Inspect a card")
	g.press("f5")
	g.instructor()
	g.check("the instructor's menu")
	g.expect("Ausbilder: etwas schiefgehen lassen", "fremde Karte tauschen")
	g.press("x")
	g.rig.expect("Übung: Karte 5 ist eine fremde Karte")
	g.card(5, "")
	g.expect("keine Chipkarte der Appliance", "Keine Karte der Appliance")
	g.press("enter")
	g.instructor("c")
	g.check("the deck restored")

	if g.checked < 100 {
		t.Fatalf("only %d screens checked", g.checked)
	}
}

// The slot user cards in German: enroll (the plan to confirm), activate,
// the list, revoke.
func TestGermanSlotUserScreens(t *testing.T) {
	s := newSlotRig(t, 3)
	s.relaunch(func(c *Config) { c.Printer = i18n.For(i18n.German) })
	g := &germanWalk{rig: s.rig, en: newEnglish(t)}
	for i := 1; i <= 2; i++ {
		g.menu(menuEnroll)
		g.expect("Bezeichnung", "Registrierte Benutzerkarten: "+fmt.Sprint(i-1)+" von 5")
		g.press(fmt.Sprintf("Inhaber %d", i), "enter")
		g.expect("Registrieren", "Karte stecken")
		g.card(i, "123456")
		g.expect("Registrieren?", "geht an")
		g.press("enter")
		g.expect("Registriert", "niemand hat sie gesehen", "Audit-Trail: Zeile")
		g.press("enter")
	}
	g.menu(menuActivate)
	g.expect("Slot aktivieren", "Jede der 2 registrierten Karten")
	g.card(3, "")
	g.expect("keinen nutzbaren Datensatz")
	g.card(1, "654321")
	g.expect("Falsche PIN", "2 PIN-Versuche übrig")
	g.press("123456", "enter")
	g.expect("Slot aktiv", "ist AKTIV", "Audit-Trail: Zeile")
	g.press("enter")
	g.menu(menuList)
	g.expect("Benutzerkarten", "2 registriert", "Inhaber 1")
	g.press("enter")
	g.expect("Widerrufen?")
	g.press("enter")
	g.expect("ist widerrufen", "1 registriert", "Audit-Trail: Zeile")
	g.press("esc")
	g.expect("Hauptmenü")
}

// Every pad message with placeholders fits the display at its widest.
func TestPadMessagesFit(t *testing.T) {
	i18ntest.PadLines(t, i18n.PadInsertNth{Card: 9}, i18n.PadEnrolledCount{Count: 1}, i18n.PadEnrolledCount{Count: 99})
}

// The labels under the drawn pad fit its width in every language.
func TestPadKeyLabelsFit(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		for _, l := range strings.Split(padKeyLabels(p), "\n") {
			if w := ansi.StringWidth(l); w > padOuter {
				t.Errorf("%q is %d cells wide, the pad %d", l, w, padOuter)
			}
		}
	})
}

// Help lines are cut to the console's width by bubbles' help: in no
// language may one lose a key.
func TestHelpLinesKeepEveryKey(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		k := newKeys(p)
		ins := with(k.Insert, "F1–F9", k.Insert.Help().Desc)
		for name, line := range map[string][]key.Binding{
			"menu":    {k.Up, k.OK, k.Pick, k.Quit},
			"setup":   {k.Choose, k.Label, k.OK, k.Cancel},
			"pad":     {ins, k.Remove, k.Instructor, k.Quit},
			"login":   {k.Type, k.Delete, k.Other, k.OK, k.QuitNow},
			"readers": {k.Up, k.OK, k.QuitNow},
		} {
			if s := ansi.Strip(helpLine(line...)); strings.Contains(s, "…") || ansi.StringWidth(s) > helpWidth {
				t.Errorf("%s: %q", name, s)
			}
		}
		if s := ansi.Strip(instructorHelp(p, "F1–F9")); strings.Contains(s, "…") || ansi.StringWidth(s) > helpWidth {
			t.Errorf("instructor: %q", s)
		}
	})
}

// The training header line says a swapped card in full in every language:
// it is cut at the console's width.
func TestTrainingHeaderFits(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		for _, what := range []i18n.ID{i18n.InstrForeignProp, i18n.InstrBlockedProp, i18n.InstrOtherSetProp, i18n.InstrProp} {
			s := p.T(i18n.WizTrainingFaults{List: p.T(i18n.InstrSwapped{Card: 9, What: p.T(what)})})
			if w := ansi.StringWidth(s); w > 78 {
				t.Errorf("%q is %d cells wide", s, w)
			}
		}
	})
}

// Plurals and dates in the German form.
func TestGermanPluralsAndDates(t *testing.T) {
	de := i18n.For(i18n.German)
	for _, tc := range []struct{ got, want string }{
		{triesLeft(de, 1), "1 PIN-Versuch übrig"},
		{triesLeft(de, 2), "2 PIN-Versuche übrig"},
		{triesLeft(de, 0), "0 PIN-Versuche übrig"},
		{durationWords(de, time.Minute), "1 Minute"},
		{durationWords(de, 3*time.Minute), "3 Minuten"},
		{durationWords(de, 30*time.Second), "30 Sekunden"},
		{durationWords(de, time.Second), "1 Sekunde"},
		{describeSet(de, setFor("prod", time.Date(2026, 3, 9, 5, 4, 3, 0, time.UTC))), "„prod“, erstellt 09.03.2026 05:04 UTC, 2 von 3, KCV 000000"},
		{describeSet(nil, setFor("prod", time.Date(2026, 3, 9, 5, 4, 3, 0, time.UTC))), `"prod", created 2026-03-09 05:04 UTC, 2 of 3, KCV 000000`},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

// The audit trail stays English whatever the operator reads: a German
// ceremony records the same words as an English one.
func TestGermanCeremonyRecordsEnglish(t *testing.T) {
	words := func(p *i18n.Printer) []string {
		r := newRigIn(t, 3, p)
		r.install(0, "lab")
		r.press("enter")
		r.card(1, "123456")
		r.card(1, "") // refused: written a moment ago
		r.card(2, "111111")
		var out []string
		for _, e := range r.auditEvents() {
			out = append(out, fmt.Sprintf("%s/%s/%s/%s", e.Operation, e.Step, e.Outcome, e.Detail))
		}
		return out
	}
	en, de := words(nil), words(i18n.For(i18n.German))
	if strings.Join(en, "\n") != strings.Join(de, "\n") {
		t.Fatalf("the German ceremony records other words:\n%s\n---\n%s", strings.Join(en, "\n"), strings.Join(de, "\n"))
	}
	for _, w := range de {
		for _, r := range w {
			if r > 0x7f {
				t.Errorf("a German letter in the trail: %q", w)
			}
		}
	}
}

// Golden screens of the install and load flows, in English and in German,
// at 80x24. Regenerate with: go test ./wizard -run TestGoldenFlows -update
func TestGoldenFlows(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		r := newRigIn(t, 3, p)
		shot := func(name string) {
			t.Helper()
			t.Run(name, func(t *testing.T) { golden.RequireEqual(t, []byte(stable(r.screen()))) })
		}
		r.press("1", "enter", "prod-cluster")
		shot("install-setup")
		r.press("enter", "enter")
		r.advance(12 * time.Second)
		shot("install-insert")
		r.card(1, "111111")
		r.press("222222", "enter", "1234")
		shot("install-pin-last-try")
		r.press("backspace", "123456", "enter")
		r.card(2, "123456")
		r.card(3, "123456")
		shot("install-written")
		r.press("enter")
		r.card(3, "123456")
		r.card(1, "123456")
		shot("install-loaded")
		r.press("enter")

		// A load on a new node: another HSM, the same cards.
		h, err := hsm.OpenSim(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		r.relaunch(func(c *Config) { c.HSM = h })
		r.press("2", "enter")
		shot("load-start")
		r.press("enter")
		r.card(2, "123456")
		shot("load-card-read")
		r.card(1, "123456")
		shot("load-loaded")
	})
}

// setFor is a 2-of-3 key set named label, created at t.
func setFor(label string, t time.Time) quorum.KeySet {
	return quorum.KeySet{Label: label, Created: t, Scheme: quorum.TwoOfThree}
}

// The card set's life in German (docs/lifecycle.md): Re-issue, then Load
// refusing a superseded card, Verify, Erase with and without its question,
// and the register's note on the menu; each screen after every key fits
// 80x24, its pad lines 16 characters, and says nothing in English.
func TestGermanCardSetScreens(t *testing.T) {
	de := i18n.For(i18n.German)
	r := newRigIn(t, 6, de)
	g := &germanWalk{rig: r, en: newEnglish(t)}
	g.menu("Install Backup Key")
	g.press("leben", "enter", "enter")
	for i := 1; i <= 3; i++ {
		g.card(i, "123456")
	}
	g.press("enter")
	g.card(1, "123456")
	g.card(2, "123456")
	g.expect("Key geladen", "Das HSM führt den Kartensatz als gültigen: Generation 1, 3 Karten bekannt")
	g.press("enter")
	g.expect("Kartensatz: „leben“, Generation 1, 2 von 3, 3 Karten bekannt.")

	// Re-issue from cards 1 and 2 onto 3 (of the old set: asks), 4, 5.
	g.menu(menuReissue)
	g.expect("Kartensatz neu ausgeben", "derselbe Schlüssel")
	g.card(1, "123456")
	g.expect("von „leben“, Generation 1", "1 der 2 nötigen")
	g.card(1, "")
	g.expect("schon gelesen")
	g.card(2, "123456")
	g.expect("Neuer Kartensatz: Generation 2", "Bezeichnung: leben", "Quorum (↑/↓)")
	g.press("enter")
	g.expect("als noch nicht gültig eingetragen")
	g.card(3, "123456")
	g.expect("Überschreiben?", "eine Karte des Satzes, der neu ausgegeben wird", "Anteil 1 des neuen Satzes")
	g.press("esc")
	g.expect("Die Karte wurde nicht beschrieben")
	g.card(4, "123456")
	g.expect("Anteil 1 des neuen Satzes auf Karte")
	g.card(5, "123456")
	g.card(6, "123456")
	g.expect("Neu ausgegeben", "Generation 2 (2 von 3, „leben“) ist jetzt der gültige Kartensatz",
		"Generation 1 ist abgelöst", "Generation 1, abgelöst 28.11.2026: 3 Karten einsammeln:", "Audit-Trail: Zeile")
	g.press("enter")
	g.expect("Kartensatz: „leben“, Generation 2, 2 von 3, 3 Karten bekannt. 3 abgelöste Karten einzusammeln und zu löschen.")

	// Load refuses card 1: superseded, with the German day.
	g.menu("Load Backup Key")
	g.press("enter")
	g.card(1, "123456")
	g.expect("Diese Karte hält Generation 1, am 28.11.2026 durch Generation 2 abgelöst")
	g.press("esc")

	// Verify 4, 5, 6: all good; then 1, 4, 5: card 1 not checked.
	g.menu(menuVerify)
	g.expect("Kartensatz prüfen", "Jeder Inhaber")
	for _, i := range []int{4, 5, 6} {
		g.card(i, "123456")
	}
	g.expect("3 Karten vorgelegt", "Karte", "Urteil", "gelesen")
	g.press("esc")
	g.expect("Satz geprüft", "Alle 3 Karten des Satzes sind gut", "Es ist der Backup Key des HSM", "gut", "Audit-Trail: Zeile")
	g.press("enter")
	g.menu(menuVerify)
	for _, i := range []int{1, 4, 5} {
		g.card(i, "123456")
	}
	g.press("esc")
	g.expect("abgelöst, Gen. 1", "1 Karte eines nicht gültigen Kartensatzes wurde nicht geprüft")
	g.press("enter")

	// Erase card 1 (superseded: no question), then card 5 (current: asks).
	g.menu(menuErase)
	g.expect("Karte löschen", "Die zu löschende Karte stecken")
	g.card(1, "123456")
	g.expect("Karte gelöscht", "am 28.11.2026 durch Generation 2 abgelöst", "Ihre PIN ist unverändert", "hielt Anteil", "Audit-Trail: Zeile")
	g.press("enter")
	g.menu(menuErase)
	g.card(5, "123456")
	g.expect("Karte löschen?", "der GÜLTIGE Kartensatz", "Das HSM kennt 3 Karten dieses Satzes", "OK löscht sie endgültig")
	g.press("esc")
	g.expect("Nicht gelöscht", "Die Karte wurde nicht gelöscht")
	g.press("enter")

	// A note of the register's backend on the German menu; with two, what
	// does not fit 80x24 is cut.
	g.relaunch(func(c *Config) {
		c.HSM = notingHSM{Sim: r.hsm, notes: []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 2}}}
	})
	g.check("the menu with a note")
	g.expect("Der Token des HSM hält 2 öffentliche Objekte unter dem Namen des", "und die nächste Änderung entfernt sie.")
	g.relaunch(func(c *Config) {
		c.HSM = notingHSM{Sim: r.hsm, notes: []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 2}, {Kind: hsm.NoteLeftover, Objects: 1}}}
	})
	g.check("the menu with two notes")
	g.expect("2 öffentliche Objekte", "…")
	if g.checked < 60 {
		t.Fatalf("only %d screens checked", g.checked)
	}
}

// Every verdict of Verify's table fits its column in every language.
func TestVerdictWordsFit(t *testing.T) {
	var copyOf tcos.Serial
	refused := &cardset.NotCurrentError{Generation: 999}
	cases := []cardset.CardResult{
		{Verdict: cardset.Pending}, {Verdict: cardset.Good}, {Verdict: cardset.Good, CopyOf: &copyOf},
		{Verdict: cardset.Bad, Reason: cardset.Disagrees}, {Verdict: cardset.Bad}, {Verdict: cardset.Undecided},
		{Verdict: cardset.NotChecked, Reason: cardset.Unreadable, Err: tcos.ErrBlocked},
		{Verdict: cardset.NotChecked, Reason: cardset.Unreadable, Err: cardio.ErrCardRemoved},
		{Verdict: cardset.NotChecked, Reason: cardset.EmptySlot}, {Verdict: cardset.NotChecked, Reason: cardset.Damaged},
		{Verdict: cardset.NotChecked, Reason: cardset.UnknownFormat}, {Verdict: cardset.NotChecked, Reason: cardset.OtherSet},
	}
	for _, s := range []cardset.Standing{cardset.Superseded, cardset.Stale, cardset.Uncommitted} {
		cases = append(cases, cardset.CardResult{Verdict: cardset.NotChecked, Reason: cardset.NotCurrent, Standing: s, Refused: refused})
	}
	i18ntest.ForEachLang(t, func(t *testing.T, p *i18n.Printer) {
		for _, c := range cases {
			if w := verdictWord(p, c); ansi.StringWidth(w) > verdictWidth {
				t.Errorf("%+v: %q is wider than %d", c, w, verdictWidth)
			}
		}
	})
}
