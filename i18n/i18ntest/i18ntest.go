// Package i18ntest checks hsmcards' message catalogs, for tests: that every
// language has every message and no other, that a message has the same
// placeholders in every language and only its struct's fields, that the
// plural forms are the ones the language needs, and that PIN-pad text fits
// the reader's 2x16 display in every language.
//
// It reads package i18n's source (the message declarations and the .toml
// catalogs beside them), so it runs where the module's source is: in `go
// test`.
package i18ntest

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"testing"
	"text/template"
	"text/template/parse"

	"github.com/BurntSushi/toml"
	"github.com/charmbracelet/x/ansi"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"

	"github.com/hsmcards/hsmcards/i18n"
)

// ForEachLang runs f as a subtest for every language.
func ForEachLang(t *testing.T, f func(t *testing.T, p *i18n.Printer)) {
	t.Helper()
	for _, l := range i18n.Langs() {
		t.Run(string(l), func(t *testing.T) { f(t, i18n.For(l)) })
	}
}

// Say is p.T(m), failing the test if the language lacks m or its template
// does not run (T would fall back quietly).
func Say(t testing.TB, p *i18n.Printer, m i18n.Message) string {
	t.Helper()
	s, err := p.Text(m)
	if err != nil {
		t.Errorf("%s: %T %v: %v", p.Lang(), m, m, err)
	}
	return s
}

// PadLines checks that every message, said in every language, fits the PIN
// pad's display: at most i18n.PadRows lines of i18n.PadColumns cells. Give
// messages with placeholders their widest values (the longest serial, the
// highest card number).
func PadLines(t testing.TB, msgs ...i18n.Message) {
	t.Helper()
	for _, l := range i18n.Langs() {
		p := i18n.For(l)
		for _, m := range msgs {
			if problem := padFit(Say(t, p, m)); problem != "" {
				t.Errorf("%s: %T %v on the pad: %s", l, m, m, problem)
			}
		}
	}
}

// padFit says why s does not fit the pad's display, or "".
func padFit(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > i18n.PadRows {
		return fmt.Sprintf("%d lines, the display has %d", len(lines), i18n.PadRows)
	}
	for _, l := range lines {
		if w := ansi.StringWidth(l); w > i18n.PadColumns {
			return fmt.Sprintf("%q is %d characters wide, the display %d", l, w, i18n.PadColumns)
		}
	}
	return ""
}

// Texts are the catalog of l as its file holds it: each message's
// templates (one per plural form), by ID. For tests that look for one
// language's words where another's should be.
func Texts(t testing.TB, l i18n.Lang) map[string][]string {
	t.Helper()
	for _, c := range catalogs(t) {
		if c.lang != l {
			continue
		}
		out := map[string][]string{}
		for id, m := range c.messages {
			for _, src := range forms(m) {
				out[id] = append(out[id], src)
			}
		}
		return out
	}
	t.Fatalf("no catalog of %s", l)
	return nil
}

// declared is what package i18n's source declares: its message IDs (the
// ID constants, name = value) and message structs (with a message method)
// with their fields.
type declared struct {
	ids     map[string]bool
	structs map[string][]string // type name → field names
}

func (d *declared) all() []string {
	var out []string
	for id := range d.ids {
		out = append(out, id)
	}
	for s := range d.structs {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Dir is package i18n's source directory.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// Declared are the messages package i18n declares: its IDs and message
// structs, by name.
func Declared(t testing.TB) []string {
	t.Helper()
	return declarations(t).all()
}

// declarations reads the message declarations of package i18n's source.
func declarations(t testing.TB) *declared {
	t.Helper()
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(Dir(), "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	for _, path := range paths {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	d := &declared{ids: map[string]bool{}, structs: map[string][]string{}}
	structs := map[string][]string{}
	marked := map[string]bool{}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch decl := decl.(type) {
			case *ast.GenDecl:
				for _, spec := range decl.Specs {
					switch spec := spec.(type) {
					case *ast.ValueSpec:
						if id, ok := spec.Type.(*ast.Ident); !ok || id.Name != "ID" || decl.Tok != token.CONST {
							continue
						}
						for i, name := range spec.Names {
							lit, ok := spec.Values[i].(*ast.BasicLit)
							if !ok || lit.Value != `"`+name.Name+`"` {
								t.Errorf("i18n.%s: an ID's value is its name", name.Name)
							}
							d.ids[name.Name] = true
						}
					case *ast.TypeSpec:
						st, ok := spec.Type.(*ast.StructType)
						if !ok {
							continue
						}
						var fields []string
						for _, f := range st.Fields.List {
							if len(f.Names) == 0 {
								t.Errorf("i18n.%s: a message struct embeds nothing (its fields are its placeholders)", spec.Name.Name)
							}
							for _, n := range f.Names {
								fields = append(fields, n.Name)
							}
						}
						structs[spec.Name.Name] = fields
					}
				}
			case *ast.FuncDecl:
				if decl.Recv != nil && decl.Name.Name == "message" {
					if id, ok := decl.Recv.List[0].Type.(*ast.Ident); ok {
						marked[id.Name] = true
					}
				}
			}
		}
	}
	for name := range marked {
		if name == "ID" {
			continue
		}
		fields, ok := structs[name]
		if !ok {
			t.Errorf("i18n.%s has a message method but is no struct", name)
		}
		d.structs[name] = fields
	}
	return d
}

// catalog is one language's messages as its file holds them.
type catalog struct {
	lang     i18n.Lang
	messages map[string]*goi18n.Message
}

// catalogs reads every .toml catalog beside package i18n's source.
func catalogs(t testing.TB) []catalog {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(Dir(), "*.toml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no catalogs in %s: %v", Dir(), err)
	}
	var out []catalog
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mf, err := goi18n.ParseMessageFileBytes(data, path, map[string]goi18n.UnmarshalFunc{"toml": toml.Unmarshal})
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(path), err)
			continue
		}
		l, err := i18n.ParseLang(strings.TrimSuffix(filepath.Base(path), ".toml"))
		if err != nil {
			t.Errorf("%s: a catalog of a language package i18n does not list (i18n.Langs)", filepath.Base(path))
			continue
		}
		c := catalog{lang: l, messages: map[string]*goi18n.Message{}}
		for _, m := range mf.Messages {
			c.messages[m.ID] = m
		}
		out = append(out, c)
	}
	for _, l := range i18n.Langs() {
		if !slices.ContainsFunc(out, func(c catalog) bool { return c.lang == l }) {
			t.Errorf("language %s has no catalog %s.toml", l, l)
		}
	}
	return out
}

// forms are a message's plural forms that have text, by CLDR name.
func forms(m *goi18n.Message) map[string]string {
	out := map[string]string{}
	for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			out[name] = s
		}
	}
	return out
}

// pluralForms are the CLDR cardinal forms that whole numbers reach in l.
func pluralForms(l i18n.Lang) []string {
	names := map[plural.Form]string{plural.Other: "other", plural.Zero: "zero", plural.One: "one", plural.Two: "two", plural.Few: "few", plural.Many: "many"}
	seen := map[string]bool{}
	tag := language.Make(string(l))
	for n := range 10000 {
		seen[names[plural.Cardinal.MatchPlural(tag, n, 0, 0, 0, 0)]] = true
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// placeholders are the fields a template refers to ({{.Name}},
// {{printf "%q" .Name}}).
func placeholders(src string) (map[string]bool, error) {
	trees, err := parse.Parse("m", src, "{{", "}}", template.FuncMap{}, builtins())
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	var walk func(n parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n != nil {
				for _, c := range n.Nodes {
					walk(c)
				}
			}
		case *parse.ActionNode:
			walk(n.Pipe)
		case *parse.PipeNode:
			for _, c := range n.Cmds {
				walk(c)
			}
		case *parse.CommandNode:
			for _, a := range n.Args {
				walk(a)
			}
		case *parse.FieldNode:
			out[n.Ident[0]] = true
		case *parse.IfNode:
			walk(n.Pipe)
			walk(n.List)
			walk(n.ElseList)
		}
	}
	for _, tr := range trees {
		walk(tr.Root)
	}
	return out, nil
}

// builtins are text/template's own functions, for parse.Parse.
func builtins() template.FuncMap {
	f := template.FuncMap{}
	for _, name := range []string{"and", "call", "html", "index", "slice", "js", "len", "not", "or", "print", "printf", "println", "urlquery", "eq", "ge", "gt", "le", "lt", "ne"} {
		f[name] = fmt.Sprint
	}
	return f
}

// CheckCatalogs checks the catalogs against the messages package i18n
// declares: every language has each message and no other; each message's
// placeholders are its struct's fields, all of them, in every language;
// messages with a Count field have exactly the language's plural forms and
// others only "other"; every template runs; no text starts or ends with a
// space (but a ...Separator); every Pad... message without placeholders fits the pad display
// (PadLines checks those with placeholders, given their widest values).
func CheckCatalogs(t testing.TB) {
	t.Helper()
	d := declarations(t)
	all := d.all()
	if len(all) == 0 {
		t.Fatal("package i18n declares no messages")
	}
	for _, c := range catalogs(t) {
		for _, id := range all {
			if _, ok := c.messages[id]; !ok {
				t.Errorf("%s.toml lacks %s", c.lang, id)
			}
		}
		for id := range c.messages {
			if !slices.Contains(all, id) {
				t.Errorf("%s.toml has %s, which package i18n does not declare", c.lang, id)
			}
		}
		needed := pluralForms(c.lang)
		for _, id := range all {
			m, ok := c.messages[id]
			if !ok {
				continue
			}
			fields, isStruct := d.structs[id]
			counted := slices.Contains(fields, "Count")
			fs := forms(m)
			var have []string
			for f := range fs {
				have = append(have, f)
			}
			sort.Strings(have)
			switch {
			case counted && !slices.Equal(have, needed):
				t.Errorf("%s.toml %s: plural forms %v, %s needs %v", c.lang, id, have, c.lang, needed)
			case !counted && !slices.Equal(have, []string{"other"}):
				t.Errorf("%s.toml %s: forms %v without a Count field to choose one", c.lang, id, have)
			}
			used := map[string]bool{}
			data := map[string]any{}
			for _, f := range fields {
				data[f] = 0
			}
			for form, src := range fs {
				if strings.TrimSpace(src) != src && !strings.HasSuffix(id, "Separator") {
					t.Errorf("%s.toml %s (%s): starts or ends with white space: %q", c.lang, id, form, src)
				}
				ph, err := placeholders(src)
				if err != nil {
					t.Errorf("%s.toml %s (%s): %v", c.lang, id, form, err)
					continue
				}
				for p := range ph {
					used[p] = true
					if !slices.Contains(fields, p) {
						t.Errorf("%s.toml %s (%s): {{.%s}} is not a field of i18n.%s", c.lang, id, form, p, id)
					}
				}
				tmpl, err := template.New(id).Option("missingkey=error").Parse(src)
				if err == nil {
					err = tmpl.Execute(new(strings.Builder), data)
				}
				if err != nil {
					t.Errorf("%s.toml %s (%s): %v", c.lang, id, form, err)
				}
				if !isStruct && strings.HasPrefix(id, "Pad") {
					if problem := padFit(src); problem != "" {
						t.Errorf("%s.toml %s on the pad: %s", c.lang, id, problem)
					}
				}
			}
			for _, f := range fields {
				if !used[f] {
					t.Errorf("%s.toml %s never says its field %s", c.lang, id, f)
				}
			}
		}
	}
}
