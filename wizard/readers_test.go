package wizard

import (
	"context"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
)

func TestChooseAmongSeveralReaders(t *testing.T) {
	h, err := hsm.OpenSim(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sim := cardio.NewSimReader(nil)
	var asked []string
	open := func(_ context.Context, name string) (cardio.Reader, error) {
		asked = append(asked, name)
		if name == "Broken Reader 00 00" {
			return nil, cardio.ErrReaderGone
		}
		return sim, nil
	}
	r := &rig{t: t}
	r.m = New(Config{HSM: h, ReaderChoices: []string{"Broken Reader 00 00", "REINER SCT cyberJack ecom_a 00 00"}, OpenReader: open})
	r.run(r.m.Init())
	r.expect("Choose the card reader", "> 1 Broken Reader 00 00", "2 REINER SCT cyberJack ecom_a")
	r.press("enter")
	r.expect("Problem: The card reader is not connected", "Choose the card reader")
	r.press("down", "enter")
	r.expect("Main menu", "Reader: Simulated reader")
	if len(asked) != 2 || asked[1] != "REINER SCT cyberJack ecom_a 00 00" {
		t.Fatalf("opened %q", asked)
	}
}
