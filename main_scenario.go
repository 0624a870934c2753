package main

import (
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/scenario"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// errScenarioNeedsSim: faults are injected only into the simulated reader.
var errScenarioNeedsSim = fail(i18n.CLIScenarioNeedsSim)

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
		return failWith(err, func(c string) i18n.Message { return i18n.CLIReadScenario{Cause: c} })
	}
	serials := make([]tcos.Serial, len(deck))
	for i, c := range deck {
		serials[i] = c.Serial()
	}
	if err := s.Apply(f, serials); err != nil {
		return failWith(err, func(c string) i18n.Message { return i18n.CLIScenarioApply{Path: path, Cause: c} })
	}
	return nil
}
