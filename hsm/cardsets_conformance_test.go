package hsm_test

import (
	"context"
	"crypto/rand"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/cardsetstest"
	"github.com/hsmcards/hsmcards/kcv"
)

// The simulated HSM's register does what every register must.
func TestSimCardSetsConformance(t *testing.T) {
	cardsetstest.Run(t, func(t *testing.T) cardsetstest.Subject {
		dir := t.TempDir()
		open := func(t *testing.T) *hsm.Sim {
			s, err := hsm.OpenSim(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		s := open(t)
		key := make([]byte, hsm.KeySize)
		rand.Read(key)
		info := hsm.KeyInfo{KeySetID: [16]byte{1}, Label: "conformance"}
		var err error
		if info.KCV, err = kcv.AES(key); err != nil {
			t.Fatal(err)
		}
		if _, err := s.LoadBackupKey(context.Background(), key, info, false); err != nil {
			t.Fatal(err)
		}
		return cardsetstest.Subject{Register: s, Key: info, Reopen: func(t *testing.T) hsm.CardSetRegister {
			s.Close()
			return open(t)
		}}
	})
}
