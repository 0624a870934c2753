package tcos_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// The APDU budget of one card step, safety checks included.
const (
	maxWriteAPDUs = 7
	maxReadAPDUs  = 6
)

// writeStep and readStep run one full card step on the simulated reader and
// return the APDUs it took.
func writeStep(ctx context.Context, r *cardio.SimReader, rec []byte) (int, error) {
	c, err := r.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s := tcos.Open(c, tcos.Options{})
	err = writeCard(ctx, s, factoryPIN, rec)
	return s.APDUs(), err
}

func readStep(ctx context.Context, r *cardio.SimReader) (int, []byte, error) {
	c, err := r.Connect(ctx)
	if err != nil {
		return 0, nil, err
	}
	defer c.Close()
	s := tcos.Open(c, tcos.Options{})
	rec, err := readCard(ctx, s, factoryPIN)
	return s.APDUs(), rec, err
}

func TestAPDUBudget(t *testing.T) {
	ctx := context.Background()
	r := readerWith(t, simcard.New(testSerial))
	rec := bytes.Repeat([]byte{0x42}, 200)
	n, err := writeStep(ctx, r, rec)
	if err != nil {
		t.Fatal(err)
	}
	if n > maxWriteAPDUs {
		t.Errorf("writing a card took %d APDUs, budget %d", n, maxWriteAPDUs)
	}
	n, got, err := readStep(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if n > maxReadAPDUs {
		t.Errorf("reading a card took %d APDUs, budget %d", n, maxReadAPDUs)
	}
	if !bytes.Equal(got[:len(rec)], rec) {
		t.Error("read back a different record")
	}
	n, err = eraseStep(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if n > maxWriteAPDUs {
		t.Errorf("erasing a card took %d APDUs, budget %d", n, maxWriteAPDUs)
	}
	if _, got, err = readStep(ctx, r); err != nil || !bytes.Equal(got, make([]byte, tcos.ShareEFSize)) {
		t.Errorf("after the erase the slot reads % X…, %v", got[:8], err)
	}
}

// eraseStep is the erase of a card as the wizard runs it: the record read
// first (to say what it held), then erased.
func eraseStep(ctx context.Context, r *cardio.SimReader) (int, error) {
	c, err := r.Connect(ctx)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	s := tcos.Open(c, tcos.Options{})
	if _, err := readCard(ctx, s, factoryPIN); err != nil {
		return s.APDUs(), err
	}
	err = s.EraseShareRecord(ctx)
	return s.APDUs(), err
}

func BenchmarkWriteCard(b *testing.B) {
	ctx := context.Background()
	r := readerWith(b, simcard.New(testSerial))
	rec := bytes.Repeat([]byte{0x42}, 200)
	apdus := 0
	for b.Loop() {
		n, err := writeStep(ctx, r, rec)
		if err != nil {
			b.Fatal(err)
		}
		apdus = n
	}
	b.ReportMetric(float64(apdus), "apdus/op")
}

func BenchmarkReadCard(b *testing.B) {
	ctx := context.Background()
	r := readerWith(b, simcard.New(testSerial))
	if _, err := writeStep(ctx, r, []byte{1, 2, 3}); err != nil {
		b.Fatal(err)
	}
	apdus := 0
	for b.Loop() {
		n, _, err := readStep(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		apdus = n
	}
	b.ReportMetric(float64(apdus), "apdus/op")
}
