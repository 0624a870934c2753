package i18n

import (
	"embed"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"github.com/nicksnyder/go-i18n/v2/i18n/template"
	"golang.org/x/text/language"
)

// Message is a message of the catalogs: an ID (no placeholders) or a value
// of a message struct (its fields are the placeholders). Only this package
// declares messages, so the tests see them all.
type Message interface{ message() }

// ID is a message without placeholders; its value is its name.
type ID string

func (ID) message() {}

// catalogs are the languages' message files, <code>.toml.
//
//go:embed *.toml
var catalogs embed.FS

// Printer says messages in one language. A nil *Printer says them in
// English, so code that was handed none still prints words.
type Printer struct {
	lang Lang
	loc  *goi18n.Localizer
}

var (
	printersOnce sync.Once
	printers     map[Lang]*Printer
	bundleErr    error
)

// For is the Printer of l (English for a language it does not know).
func For(l Lang) *Printer {
	printersOnce.Do(loadCatalogs)
	if p, ok := printers[l]; ok {
		return p
	}
	return printers[English]
}

// loadCatalogs reads the embedded catalogs once. A catalog that does not
// parse leaves its language out (the tests catch that long before); English
// then stands in.
func loadCatalogs() {
	b := goi18n.NewBundle(language.English)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	printers = map[Lang]*Printer{}
	for _, l := range Langs() {
		if _, err := b.LoadMessageFileFS(catalogs, string(l)+".toml"); err != nil {
			bundleErr = errors.Join(bundleErr, err)
			continue
		}
		printers[l] = &Printer{lang: l, loc: goi18n.NewLocalizer(b, string(l))}
	}
	if printers[English] == nil {
		printers[English] = &Printer{lang: English, loc: goi18n.NewLocalizer(b, string(English))}
	}
}

// Lang is the printer's language.
func (p *Printer) Lang() Lang {
	if p == nil {
		return English
	}
	return p.lang
}

// T says m. It never fails: a message missing from the language falls back
// to English, and one missing everywhere prints as its ID in brackets (the
// tests make sure neither happens).
func (p *Printer) T(m Message) string {
	s, _ := p.Text(m)
	return s
}

// Text says m, and reports what T passes over: a message missing in the
// language, a template that does not run. For tests.
func (p *Printer) Text(m Message) (string, error) {
	if p == nil {
		p = For(English)
	}
	if p.loc == nil { // no catalog could be read
		return "[" + idOf(m) + "]", bundleErr
	}
	cfg := &goi18n.LocalizeConfig{MessageID: idOf(m), TemplateParser: parser}
	if _, ok := m.(ID); !ok {
		cfg.TemplateData = m
		cfg.PluralCount = countOf(m)
	}
	s, err := p.loc.Localize(cfg)
	if s == "" && err != nil {
		return "[" + idOf(m) + "]", err
	}
	return s, err
}

// parser runs the catalogs' templates; a placeholder that is not a field is
// an error, not "<no value>".
var parser = &template.TextParser{Option: "missingkey=error"}

// idOf is m's ID: an ID's value, or the message struct's type name.
func idOf(m Message) string {
	if id, ok := m.(ID); ok {
		return string(id)
	}
	return reflect.TypeOf(m).Name()
}

// countFields caches, per message type, the index of its Count field (-1:
// none).
var countFields sync.Map // reflect.Type → int

// countOf is m's Count field, which chooses the plural form, or nil.
func countOf(m Message) any {
	v := reflect.ValueOf(m)
	i, ok := countFields.Load(v.Type())
	if !ok {
		i = -1
		if f, found := v.Type().FieldByName("Count"); found && len(f.Index) == 1 {
			i = f.Index[0]
		}
		countFields.Store(v.Type(), i)
	}
	if i.(int) < 0 {
		return nil
	}
	return v.Field(i.(int)).Interface()
}

// Date is t's day in the language's form ("2025-03-09", "09.03.2025"), in
// t's own location: callers that mean UTC pass t.UTC().
func (p *Printer) Date(t time.Time) string { return t.Format(p.T(FormatDate)) }

// Clock is t's time of day ("05:00:00").
func (p *Printer) Clock(t time.Time) string { return t.Format(p.T(FormatClock)) }

// DateTime is t's day and time ("2025-03-09 05:00:00", "09.03.2025 05:00:00").
func (p *Printer) DateTime(t time.Time) string { return t.Format(p.T(FormatDateTime)) }

// ClockMinutes is t's time of day to the minute ("05:04").
func (p *Printer) ClockMinutes(t time.Time) string { return t.Format(p.T(FormatClockMinutes)) }

// DateTimeMinutes is t's day and time to the minute ("2025-03-09 05:04",
// "09.03.2025 05:04").
func (p *Printer) DateTimeMinutes(t time.Time) string { return t.Format(p.T(FormatDateTimeMinutes)) }

// String names the printer's language, for test names and logs.
func (p *Printer) String() string { return fmt.Sprintf("i18n.Printer(%s)", p.Lang()) }
