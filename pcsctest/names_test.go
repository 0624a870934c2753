//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// A reader's name is whatever its driver's configuration (or its USB
// descriptor) says: here one with an OSC that retitles the terminal and a
// CSI colour. pcsc.List and Name give it without them, and the cleaned name
// opens the reader, whose card then works as any.
func TestReaderNameWithEscapes(t *testing.T) {
	const raw = "Evil\x1b]0;owned\x07 \x1b[31mPCD\x1b[0m"
	const shown = "Evil PCD 00 00"
	conf := filepath.Join(daemon.dir, "vpcd")
	orig, err := os.ReadFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	evil := bytes.Replace(orig, []byte(`FRIENDLYNAME "Virtual PCD"`), []byte(`FRIENDLYNAME "`+raw+`"`), 1)
	if bytes.Equal(evil, orig) {
		t.Fatalf("no FRIENDLYNAME \"Virtual PCD\" in %s:\n%s", conf, orig)
	}
	if err := daemon.stop(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		daemon.stop()
		if err := os.WriteFile(conf, orig, 0o644); err != nil {
			t.Error(err)
		}
		if err := daemon.start(); err != nil {
			t.Errorf("restart pcscd: %v", err)
		}
	})
	if err := os.WriteFile(conf, evil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := daemon.startShowing(shown); err != nil {
		t.Fatal(err)
	}

	// pcscd itself hands the name on as it is.
	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	rawNames, err := sc.ListReaders()
	sc.Release()
	if err != nil || !slices.Contains(rawNames, raw+" 00 00") {
		t.Fatalf("pcscd lists %q, %v; want %q among them", rawNames, err, raw+" 00 00")
	}
	names, err := pcsc.List(within(t, stepTimeout))
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if strings.ContainsAny(n, "\x1b\x07") {
			t.Errorf("pcsc.List gives %q", n)
		}
	}
	r, err := pcsc.Open(within(t, stepTimeout), shown)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if r.Name() != shown {
		t.Errorf("Name() = %q, want %q", r.Name(), shown)
	}
	in := waitIn(t, r, simcard.New(serial(82)))
	step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
		if got, err := s.Identify(ctx); err != nil || got != serial(82) {
			t.Fatalf("Identify on the reader with the cleaned name = %v, %v", got, err)
		}
	})
	waitOut(t, r, in)
}
