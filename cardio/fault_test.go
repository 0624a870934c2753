package cardio

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"
)

// recCard records the commands it processes and echoes them with 9000.
type recCard struct{ got [][]byte }

func (c *recCard) ATR() []byte { return []byte{0x3B, 0x00} }
func (c *recCard) Reset()      {}
func (c *recCard) Process(cmd []byte) []byte {
	c.got = append(c.got, append([]byte(nil), cmd...))
	return append(append([]byte(nil), cmd...), 0x90, 0x00)
}

var (
	cmdNoData = []byte{0x00, 0xB0, 0x00, 0x00, 0x10}
	cmdData   = []byte{0x00, 0xD6, 0x00, 0x00, 0x04, 1, 2, 3, 4}
)

func faultRig(t *testing.T) (*SimReader, *Faults, *recCard, Card) {
	t.Helper()
	rc := &recCard{}
	r := NewSimReader([]SimulatedCard{rc, &recCard{}})
	f := r.Faults()
	f.MuteWaits = false
	if err := r.Insert(1); err != nil {
		t.Fatal(err)
	}
	c, err := r.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r, f, rc, c
}

func TestFaultKinds(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		kind     FaultKind
		cmd      []byte
		wantErr  error
		reached  []byte // what the card got; nil: nothing
		present  bool
		respSame bool
	}{
		{FaultPull, cmdData, ErrCardRemoved, nil, false, false},
		{FaultTear, cmdData, ErrCardRemoved, []byte{0x00, 0xD6, 0x00, 0x00, 0x01, 1}, false, false},
		{FaultUnplug, cmdNoData, ErrReaderGone, nil, true, false},
		{FaultMute, cmdNoData, ErrCardMute, nil, true, false},
		{FaultGarble, cmdData, nil, []byte{0x00, 0xD6, 0x00, 0x00, 0x04, 1 ^ 0x5A, 2 ^ 0x5A, 3 ^ 0x5A, 4 ^ 0x5A}, true, false},
		{FaultNoise, cmdNoData, nil, cmdNoData, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.kind.String(), func(t *testing.T) {
			r, f, rc, c := faultRig(t)
			// The first command passes; the rule fires on the second.
			f.Arm(Rule{Kind: tt.kind, After: 1})
			if _, err := c.Transmit(ctx, tt.cmd); err != nil {
				t.Fatalf("first command: %v", err)
			}
			rc.got = nil
			resp, err := c.Transmit(ctx, tt.cmd)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("err %v, want %v", err, tt.wantErr)
			}
			var got []byte
			if len(rc.got) > 0 {
				got = rc.got[0]
			}
			if !bytes.Equal(got, tt.reached) {
				t.Errorf("card got % X, want % X", got, tt.reached)
			}
			if tt.kind == FaultNoise && bytes.Equal(resp[:len(resp)-2], tt.cmd) {
				t.Errorf("response not spoilt: % X", resp)
			}
			if f.Unplugged() != (tt.kind == FaultUnplug) {
				t.Errorf("unplugged %v", f.Unplugged())
			}
			if tt.kind != FaultUnplug && (r.Inserted() != 0) != tt.present {
				t.Errorf("inserted %d, want present %v", r.Inserted(), tt.present)
			}
			if n := len(f.Fired()); n != 1 || f.Fired()[0].Index != 1 {
				t.Errorf("fired %+v", f.Fired())
			}
			if len(f.Armed()) != 0 {
				t.Errorf("rule still armed")
			}
		})
	}
}

func TestFaultRuleSelectsCardAndCommand(t *testing.T) {
	ctx := context.Background()
	_, f, rc, c := faultRig(t)
	isUpdate := func(cmd []byte) bool { return len(cmd) > 1 && cmd[1] == 0xD6 }
	f.Arm(Rule{Kind: FaultGarble, Card: 2, Match: isUpdate})           // card 2 is not in
	f.Arm(Rule{Kind: FaultGarble, Card: 1, Match: isUpdate, After: 1}) // the second update
	f.Arm(Rule{Kind: FaultTear})                                       // the first command with data
	for _, cmd := range [][]byte{cmdNoData, cmdNoData} {
		if _, err := c.Transmit(ctx, cmd); err != nil {
			t.Fatal(err)
		}
	}
	if len(f.Fired()) != 0 {
		t.Fatalf("fired on commands without data: %+v", f.Fired())
	}
	if _, err := c.Transmit(ctx, cmdData); !errors.Is(err, ErrCardRemoved) {
		t.Fatalf("tear: %v", err)
	}
	if len(f.Armed()) != 2 || f.Fired()[0].Rule.Kind != FaultTear || f.Fired()[0].Index != 2 {
		t.Fatalf("armed %d fired %+v", len(f.Armed()), f.Fired())
	}
	_ = rc
}

func TestFaultUnplugReplug(t *testing.T) {
	ctx := context.Background()
	r, f, _, c := faultRig(t)
	f.Unplug()
	if _, err := c.Transmit(ctx, cmdNoData); !errors.Is(err, ErrReaderGone) {
		t.Errorf("Transmit: %v", err)
	}
	if _, err := r.Present(ctx); !errors.Is(err, ErrReaderGone) {
		t.Errorf("Present: %v", err)
	}
	if err := r.WaitForCard(ctx); !errors.Is(err, ErrReaderGone) {
		t.Errorf("WaitForCard: %v", err)
	}
	if err := r.Insert(2); !errors.Is(err, ErrReaderGone) {
		t.Errorf("Insert: %v", err)
	}
	if _, err := r.Connect(ctx); !errors.Is(err, ErrReaderGone) {
		t.Errorf("Connect: %v", err)
	}
	f.Replug()
	if ok, err := r.Present(ctx); err != nil || !ok {
		t.Errorf("after replug: %v %v", ok, err)
	}
	// The old connection is stale: the card was powered down.
	if _, err := c.Transmit(ctx, cmdNoData); !errors.Is(err, ErrCardRemoved) {
		t.Errorf("old connection: %v", err)
	}
	c2, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Transmit(ctx, cmdNoData); err != nil {
		t.Error(err)
	}
}

func TestFaultMuteWaitsForDeadlineOrRemoval(t *testing.T) {
	r, f, _, c := faultRig(t)
	f.MuteWaits = true
	f.Mute()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	if _, err := c.Transmit(ctx, cmdNoData); !errors.Is(err, ErrCardMute) {
		t.Errorf("deadline: %v", err)
	}
	// A removal ends the wait at once, whatever the deadline.
	done := make(chan error, 1)
	go func() {
		_, err := c.Transmit(context.Background(), cmdNoData)
		done <- err
	}()
	// The instructor keeps access to the reader while the card is silent.
	r.Remove()
	if err := <-done; !errors.Is(err, ErrCardRemoved) {
		t.Errorf("removal: %v", err)
	}
	// Reinserted, it answers again.
	r.Insert(1)
	c2, _ := r.Connect(context.Background())
	if _, err := c2.Transmit(context.Background(), cmdNoData); err != nil {
		t.Errorf("reinserted: %v", err)
	}
}

func TestFaultSubstituteRestore(t *testing.T) {
	ctx := context.Background()
	r, f, _, _ := faultRig(t)
	prop := &echoCard{}
	if err := f.Substitute(1, prop); err != nil {
		t.Fatal(err)
	}
	if r.Inserted() != 0 || !f.Substituted(1) {
		t.Fatal("card 1 still in after substitution")
	}
	r.Insert(1)
	c, _ := r.Connect(ctx)
	if !bytes.Equal(c.ATR(), prop.ATR()) {
		t.Error("the prop is not in the reader")
	}
	f.Unplug()
	f.Restore()
	if f.Unplugged() || f.Substituted(1) || r.Inserted() != 0 {
		t.Error("restore left a fault behind")
	}
	if err := f.Substitute(3, prop); err == nil {
		t.Error("substituted a card that does not exist")
	}
}
