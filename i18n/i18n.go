// Package i18n holds every sentence hsmcards shows a person, in one catalog
// per language (en.toml, de.toml), and picks the language: the locale
// (LC_ALL, then LC_MESSAGES, then LANG) or --lang.
//
// Text is never put together from sentence parts. Each message has an ID
// and, if it has placeholders, a struct type of the same name whose fields
// are the placeholders, so a caller cannot forget one or pass the wrong
// type:
//
//	p := i18n.For(i18n.German)
//	p.T(i18n.HelpFlagsHeading)                          // "Optionen:"
//	p.T(i18n.InspectTriesLeft{Count: 2, Max: 3})        // "2 von 3 PIN-Versuchen übrig"
//
// A field named Count chooses the plural form (CLDR's one/other). Dates and
// times are formatted by the Printer (Date, Clock, DateTime) in the
// language's own form and passed in as strings. The catalogs are checked by
// the tests (package i18ntest): every message in every language, the same
// placeholders, the plural forms, the PIN pad's 16 columns. docs/i18n.md
// says how to add a message or a language, and what stays English.
package i18n

import (
	"fmt"
	"strings"
)

// Lang is a language hsmcards speaks, by its ISO 639-1 code.
type Lang string

// The languages, each with a catalog <code>.toml.
const (
	English Lang = "en"
	German  Lang = "de"
)

// Langs are every language, English (the fallback) first.
func Langs() []Lang { return []Lang{English, German} }

// ParseLang reads a --lang value: "de" or "en".
func ParseLang(s string) (Lang, error) {
	for _, l := range Langs() {
		if strings.EqualFold(s, string(l)) {
			return l, nil
		}
	}
	return "", fmt.Errorf("unknown language %q", s)
}

// FromEnv chooses the language of the messages from the locale, as POSIX
// says a program finds its LC_MESSAGES category: the first of LC_ALL,
// LC_MESSAGES and LANG that is set and not empty decides. A locale of German
// (de, de_DE.UTF-8, de_AT, de_CH@euro...) gives German, anything else (C,
// POSIX, en_US.UTF-8, fr_FR...) English. getenv is os.Getenv, or a test's.
func FromEnv(getenv func(string) string) Lang {
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if loc := getenv(v); loc != "" {
			return fromLocale(loc)
		}
	}
	return English
}

// fromLocale reads a locale name, language[_territory][.codeset][@modifier].
func fromLocale(loc string) Lang {
	lang := loc
	if i := strings.IndexAny(loc, "_.@"); i >= 0 {
		lang = loc[:i]
	}
	if strings.EqualFold(lang, string(German)) {
		return German
	}
	return English
}

// USB language IDs (LANGIDs) for the PIN pad's own messages: PC/SC part 10
// §2.5.2 and §2.5.3, PIN_VERIFY_STRUCTURE and PIN_MODIFY_STRUCTURE, field
// wLangId, takes the USB-IF's LANGID table (docs/i18n.md, "The PIN pad's
// language").
const (
	langIDEnglishUS = 0x0409
	langIDGerman    = 0x0407 // German (Standard)
)

// LangID is l's USB language ID, the wLangId a PIN-pad reader shows its
// own prompts in.
func (l Lang) LangID() uint16 {
	if l == German {
		return langIDGerman
	}
	return langIDEnglishUS
}

// Pad display size: the recommended reader (the appliance manual, Smart
// Card Handling: REINER SCT cyberJack e-com) shows two lines of 16
// characters. Every message whose ID starts with "Pad" fits it in every
// language (i18ntest checks).
const (
	PadColumns = 16
	PadRows    = 2
)
