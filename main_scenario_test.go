package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

func TestScenarioFlagRefusals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sim") // t.TempDir is open to others (0755)
	os.Mkdir(dir, 0o700)
	bad := filepath.Join(dir, "bad.txt")
	os.WriteFile(bad, []byte("pull card=2\nexplode\n"), 0o600)
	far := filepath.Join(dir, "far.txt")
	os.WriteFile(far, []byte("foreign card=9\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sim-dir", dir, "--reader", "pcsc", "--scenario", bad}, "--scenario needs the simulated reader"},
		{[]string{"--sim-dir", dir, "--scenario", filepath.Join(dir, "none.txt")}, "no such file"},
		{[]string{"--sim-dir", dir, "--scenario", bad}, `line 2: unknown fault "explode"`},
		{[]string{"--sim-dir", dir, "--sim-cards", "3", "--scenario", far}, "there is no card 9 in a deck of"},
	} {
		err := run(tc.args, quiet())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: got %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestStartTrainingArmsExamples(t *testing.T) {
	deck, err := simcard.OpenDeck(t.TempDir(), 5)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("testdata/scenarios/*.txt")
	if len(files) == 0 {
		t.Fatal("no example scenarios")
	}
	for _, f := range files {
		sim := cardio.NewSimReader(deck.SimulatedCards())
		if err := startTraining(sim, deck.Cards(), f); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		fl := sim.FaultLayer()
		armed := len(fl.Armed())
		for i := 1; i <= 5; i++ {
			if fl.Substituted(i) {
				armed++
			}
		}
		if armed == 0 {
			t.Errorf("%s armed nothing", f)
		}
	}
	// Without a file, training still gets the fault layer (the instructor keys).
	sim := cardio.NewSimReader(deck.SimulatedCards())
	if err := startTraining(sim, deck.Cards(), ""); err != nil || sim.FaultLayer() == nil {
		t.Errorf("no fault layer: %v", err)
	}
}
