package i18n_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/i18n/i18ntest"
)

// Both catalogs have every message, with the same placeholders, the right
// plural forms and pad lines that fit.
func TestCatalogs(t *testing.T) {
	i18ntest.CheckCatalogs(t)
}

// The locale decides as POSIX says: the first of LC_ALL, LC_MESSAGES and
// LANG that is set and not empty.
func TestFromEnv(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want i18n.Lang
	}{
		{map[string]string{}, i18n.English},
		{map[string]string{"LANG": "de_DE.UTF-8"}, i18n.German},
		{map[string]string{"LANG": "de"}, i18n.German},
		{map[string]string{"LANG": "de_AT.UTF-8"}, i18n.German},
		{map[string]string{"LANG": "de_CH@euro"}, i18n.German},
		{map[string]string{"LANG": "de.UTF-8"}, i18n.German},
		{map[string]string{"LANG": "DE_de"}, i18n.German},
		{map[string]string{"LANG": "en_US.UTF-8"}, i18n.English},
		{map[string]string{"LANG": "C"}, i18n.English},
		{map[string]string{"LANG": "POSIX"}, i18n.English},
		{map[string]string{"LANG": "C.UTF-8"}, i18n.English},
		{map[string]string{"LANG": "fr_FR.UTF-8"}, i18n.English},
		{map[string]string{"LANG": "dsb_DE.UTF-8"}, i18n.English}, // Lower Sorbian, in Germany: not German
		{map[string]string{"LANG": "dev"}, i18n.English},
		// LC_MESSAGES before LANG, LC_ALL before both.
		{map[string]string{"LANG": "en_US.UTF-8", "LC_MESSAGES": "de_DE.UTF-8"}, i18n.German},
		{map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "C"}, i18n.English},
		{map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "de_DE.UTF-8", "LC_ALL": "C"}, i18n.English},
		{map[string]string{"LANG": "C", "LC_MESSAGES": "C", "LC_ALL": "de_DE.UTF-8"}, i18n.German},
		// Set but empty is not set.
		{map[string]string{"LANG": "de_DE.UTF-8", "LC_MESSAGES": "", "LC_ALL": ""}, i18n.German},
		// Other categories do not choose the messages' language.
		{map[string]string{"LANG": "C", "LC_TIME": "de_DE.UTF-8", "LC_CTYPE": "de_DE.UTF-8"}, i18n.English},
	} {
		if got := i18n.FromEnv(func(k string) string { return tc.env[k] }); got != tc.want {
			t.Errorf("%v: %s, want %s", tc.env, got, tc.want)
		}
	}
}

func TestParseLang(t *testing.T) {
	for s, want := range map[string]i18n.Lang{"de": i18n.German, "en": i18n.English, "DE": i18n.German} {
		if got, err := i18n.ParseLang(s); err != nil || got != want {
			t.Errorf("%q: %s %v", s, got, err)
		}
	}
	for _, s := range []string{"", "fr", "de_DE", "german", "d"} {
		if _, err := i18n.ParseLang(s); err == nil {
			t.Errorf("%q was taken", s)
		}
	}
}

// PC/SC part 10's wLangId takes USB LANGIDs.
func TestLangID(t *testing.T) {
	if got := i18n.German.LangID(); got != 0x0407 {
		t.Errorf("German %#04x", got)
	}
	if got := i18n.English.LangID(); got != 0x0409 {
		t.Errorf("English %#04x", got)
	}
}

// Count chooses the plural form; the other placeholders are filled in.
func TestPlural(t *testing.T) {
	for _, tc := range []struct {
		lang i18n.Lang
		m    i18n.Message
		want string
	}{
		{i18n.English, i18n.CLIDeckRange{Count: 1, Card: 2}, "the deck has card 1 only, not 2"},
		{i18n.English, i18n.CLIDeckRange{Count: 3, Card: 4}, "the deck has cards 1 to 3, not 4"},
		{i18n.German, i18n.CLIDeckRange{Count: 1, Card: 2}, "der Kartensatz hat nur Karte 1, nicht 2"},
		{i18n.German, i18n.CLIDeckRange{Count: 3, Card: 4}, "der Kartensatz hat die Karten 1 bis 3, nicht 4"},
		{i18n.German, i18n.CLIVerifyIntact{Path: "a", Count: 1, ID: "x", From: "f", To: "t"}, "a: intakt: 1 Zeile, Trail x, f bis t UTC"},
		{i18n.German, i18n.CLIVerifyIntact{Path: "a", Count: 0, ID: "x", From: "f", To: "t"}, "a: intakt: 0 Zeilen, Trail x, f bis t UTC"},
		{i18n.German, i18n.CLIVerifyIntact{Path: "a", Count: 2, ID: "x", From: "f", To: "t"}, "a: intakt: 2 Zeilen, Trail x, f bis t UTC"},
		{i18n.German, i18n.CLINoCommand{Name: `a"b`}, `es gibt keinen Befehl "a\"b"`},
		{i18n.German, i18n.OpChangePIN, "Slot-PIN ändern"},
	} {
		if got := i18ntest.Say(t, i18n.For(tc.lang), tc.m); got != tc.want {
			t.Errorf("%s %T: %q, want %q", tc.lang, tc.m, got, tc.want)
		}
	}
}

func TestDates(t *testing.T) {
	at := time.Date(2025, 3, 9, 5, 4, 3, 0, time.UTC)
	en, de := i18n.For(i18n.English), i18n.For(i18n.German)
	for _, tc := range []struct{ got, want string }{
		{en.Date(at), "2025-03-09"}, {en.Clock(at), "05:04:03"}, {en.DateTime(at), "2025-03-09 05:04:03"},
		{de.Date(at), "09.03.2025"}, {de.Clock(at), "05:04:03"}, {de.DateTime(at), "09.03.2025 05:04:03"},
		{en.ClockMinutes(at), "05:04"}, {en.DateTimeMinutes(at), "2025-03-09 05:04"},
		{de.ClockMinutes(at), "05:04"}, {de.DateTimeMinutes(at), "09.03.2025 05:04"},
	} {
		if tc.got != tc.want {
			t.Errorf("%q, want %q", tc.got, tc.want)
		}
	}
}

// A nil Printer and an unknown language print English.
func TestFallbacks(t *testing.T) {
	var p *i18n.Printer
	if got := p.T(i18n.OpLoad); got != "Load Backup Key" || p.Lang() != i18n.English {
		t.Errorf("nil printer: %q %s", got, p.Lang())
	}
	if got := i18n.For("fr").T(i18n.OpLoad); got != "Load Backup Key" {
		t.Errorf("unknown language: %q", got)
	}
}

// Every message the catalogs hold is said somewhere in the program: no
// dead entries for translators to keep up.
func TestEveryMessageIsUsed(t *testing.T) {
	root := filepath.Dir(i18ntest.Dir())
	used := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inI18n := filepath.Dir(path) == i18ntest.Dir()
		// In package i18n a name is used where it is not declared: not in
		// its spec, not as a message method's receiver.
		decl := map[*ast.Ident]bool{}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.ValueSpec:
				for _, name := range n.Names {
					decl[name] = true
				}
			case *ast.TypeSpec:
				decl[n.Name] = true
			case *ast.FuncDecl:
				if n.Recv != nil {
					ast.Inspect(n.Recv, func(r ast.Node) bool {
						if id, ok := r.(*ast.Ident); ok {
							decl[id] = true
						}
						return true
					})
				}
			case *ast.SelectorExpr:
				if x, ok := n.X.(*ast.Ident); ok && x.Name == "i18n" {
					used[n.Sel.Name] = true
				}
			case *ast.Ident:
				if inI18n && !decl[n] {
					used[n.Name] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range i18ntest.Declared(t) {
		if !used[name] {
			t.Errorf("i18n.%s is never said", name)
		}
	}
}
