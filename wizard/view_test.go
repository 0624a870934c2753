package wizard

import (
	"strings"
	"testing"

	"github.com/charmbracelet/x/exp/golden"
)

// Golden views, plain text after ansi.Strip: what an 80x24 console shows.
// Regenerate with: go test ./wizard -run TestGolden -update
func TestGoldenMenu(t *testing.T) {
	r := newRig(t, 3)
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestGoldenInsertPrompt(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "prod-cluster")
	r.press("enter")
	r.advance(12e9)
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestGoldenPINEntryLastTry(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "prod-cluster")
	r.press("enter")
	r.card(1, "111111")
	r.press("222222", "enter", "1234")
	golden.RequireEqual(t, []byte(r.screen()))
}

func TestViewFits80x24(t *testing.T) {
	r := newRig(t, 5)
	check := func(when string) {
		t.Helper()
		lines := strings.Split(r.screen(), "\n")
		if len(lines) > 24 {
			t.Errorf("%s: %d lines", when, len(lines))
		}
		for _, l := range lines {
			if w := len([]rune(l)); w > 80 {
				t.Errorf("%s: line of %d cells: %q", when, w, l)
			}
		}
	}
	check("menu")
	r.install(1, "a-rather-long-cluster-name-here")
	check("setup done")
	r.press("enter")
	for i := 1; i <= 5; i++ {
		r.card(i, "")
		check("PIN prompt")
		r.press("123456", "enter")
		check("written")
	}
	r.press("enter")
	r.card(1, "123456")
	r.card(1, "")
	check("duplicate refused")
	r.press("esc")
	check("leave question")

	// With the instructor's fault layer, as main sets it up.
	r.sim.Faults()
	r.press("esc")
	check("instructor hint")
}

func TestPadShowsSeedPrompts(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	want := []struct {
		keys   []string
		l1, l2 string
	}{
		{nil, "Write New Key", "press OK/Cancel"},
		{[]string{"enter"}, "Insert 1. card", "press OK/Cancel"},
		{[]string{"f1", "enter"}, "Enter PIN", ""},
		{[]string{"1234"}, "Enter PIN", "****"},
		{[]string{"backspace"}, "Enter PIN", ""},
		{[]string{"123456", "enter"}, "Insert 2. card", "press OK/Cancel"},
	}
	for _, w := range want {
		r.press(w.keys...)
		l1, l2 := r.m.act.(*ceremony).display()
		if l1 != w.l1 || l2 != w.l2 {
			t.Fatalf("after %v the pad shows %q/%q, want %q/%q", w.keys, l1, l2, w.l1, w.l2)
		}
		if len(l1) > padInner || len(l2) > padInner {
			t.Fatalf("%q/%q does not fit 16 characters", l1, l2)
		}
	}
}

// Each menu entry's help fits its one line of an 80-column console.
func TestMenuHelpFitsOneLine(t *testing.T) {
	for _, it := range menuItems() {
		if n := len([]rune(it.help)); n > 78 {
			t.Errorf("%q: help of %d characters", it.title, n)
		}
	}
}
