package main

import (
	"errors"
	"fmt"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// scenarioUsage is the --scenario flag's help.
const scenarioUsage = "training: the simulated reader and cards suffer the faults of the scenario `FILE`, e.g. testdata/scenarios/pulled-then-wrong-pin.txt (format: go doc ./scenario)"

// errScenarioNeedsSim: faults are injected only into the simulated reader.
var errScenarioNeedsSim = errors.New("--scenario needs the simulated reader (--reader sim)")

// startTraining turns on the simulated reader's fault layer, which also
// enables the instructor's keys (ctrl+f), and arms the scenario at path, if
// any. Props (foreign, blocked, other-key-set cards) live in memory only: the
// deck on disk is never changed by a scenario.
func startTraining(sim *cardio.SimReader, deck []*simcard.Card, path string) error {
	f := sim.Faults()
	if path == "" {
		return nil
	}
	s, err := scenario.ParseFile(path)
	if err != nil {
		return fmt.Errorf("reading the scenario: %w", err)
	}
	serials := make([]tcos.Serial, len(deck))
	for i, c := range deck {
		serials[i] = c.Serial()
	}
	if err := s.Apply(f, serials); err != nil {
		return fmt.Errorf("scenario %s: %w", path, err)
	}
	return nil
}
