//go:build pcsc

package pcsctest

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardio/pcsc"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// What another program sends to learn whether the Backup Key slot's PIN is
// verified: SELECT DF 4B00 by path from the MF, then VERIFY without data
// (9000: verified; 63Cx: not, x tries left). See docs/pcsc.md "Resets".
var (
	selectBackupDF = []byte{0x00, 0xA4, 0x08, 0x0C, 0x02, 0x4B, 0x00}
	verifyStatus   = []byte{0x00, 0x20, 0x00, 0x81}
)

// otherProgram is a second PC/SC client on the machine, as another process
// would be: a context and a shared connection of its own.
type otherProgram struct {
	t  *testing.T
	sc *scard.Context
	h  *scard.Card
}

func connectOther(t *testing.T) *otherProgram {
	t.Helper()
	sc, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	h, err := sc.Connect(readerName, scard.ShareShared, scard.ProtocolAny)
	if err != nil {
		sc.Release()
		t.Fatal(err)
	}
	o := &otherProgram{t: t, sc: sc, h: h}
	t.Cleanup(func() { o.h.Disconnect(scard.LeaveCard); o.sc.Release() })
	return o
}

// transmit sends cmd and returns the status word, reconnecting once after
// a reset warning (another program reset the card: that is news, not an
// error, for this client).
func (o *otherProgram) transmit(cmd []byte) (uint16, error) {
	rsp, err := o.h.Transmit(cmd)
	if errors.Is(err, scard.ErrResetCard) {
		if err := o.h.Reconnect(scard.ShareShared, scard.ProtocolAny, scard.LeaveCard); err != nil {
			return 0, err
		}
		rsp, err = o.h.Transmit(cmd)
	}
	if err != nil {
		return 0, err
	}
	if len(rsp) < 2 {
		return 0, fmt.Errorf("answer % X has no status word", rsp)
	}
	return uint16(rsp[len(rsp)-2])<<8 | uint16(rsp[len(rsp)-1]), nil
}

// pinVerified asks the card, as another program, whether the Backup Key
// slot's PIN is verified.
func (o *otherProgram) pinVerified() bool {
	o.t.Helper()
	if sw, err := o.transmit(selectBackupDF); err != nil || sw != 0x9000 {
		o.t.Fatalf("SELECT DF 4B00 = %04X, %v", sw, err)
	}
	sw, err := o.transmit(verifyStatus)
	if err != nil {
		o.t.Fatalf("VERIFY status: %v", err)
	}
	if sw != 0x9000 && sw&0xFFF0 != 0x63C0 {
		o.t.Fatalf("VERIFY status = %04X, want 9000 or 63Cx", sw)
	}
	return sw == 0x9000
}

// verifyPIN verifies the factory PIN, as another program that knows it and
// then leaves the card as it is.
func (o *otherProgram) verifyPIN() {
	o.t.Helper()
	if sw, err := o.transmit(selectBackupDF); err != nil || sw != 0x9000 {
		o.t.Fatalf("SELECT DF 4B00 = %04X, %v", sw, err)
	}
	cmd := append([]byte{0x00, 0x20, 0x00, 0x81, byte(len(factoryPIN))}, factoryPIN...)
	if sw, err := o.transmit(cmd); err != nil || sw != 0x9000 {
		o.t.Fatalf("VERIFY = %04X, %v", sw, err)
	}
}

// After a step, the PIN the holder verified in it is not verified for
// anyone: not for another program, not for the next step.
func TestCloseLeavesNoPINVerified(t *testing.T) {
	r := openReader(t)
	in := waitIn(t, r, simcard.New(serial(71)))
	defer waitOut(t, r, in)
	for range 2 { // the first step on a new connection, then on the kept one
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
				t.Fatal(err)
			}
			if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil || !st.Verified {
				t.Fatalf("PINStatus after VERIFY = %+v, %v", st, err)
			}
		})
		other := connectOther(t)
		if other.pinVerified() {
			t.Fatal("another program finds the PIN of the step verified after Close")
		}
		other.h.Disconnect(scard.LeaveCard)
		step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
			if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil || st.Verified {
				t.Fatalf("PINStatus in the next step = %+v, %v; want not verified", st, err)
			}
		})
	}
}

// A card another program left verified is reset before the first step on
// it, also when the reader's kept connection belonged to an earlier card.
func TestFirstStepResetsWhatOthersLeft(t *testing.T) {
	r := openReader(t)
	in := waitIn(t, r, simcard.New(serial(72)))
	step(t, r, func(ctx context.Context, _ cardio.Card, s *tcos.Session) {
		if _, err := s.Identify(ctx); err != nil {
			t.Fatal(err)
		}
	})
	waitOut(t, r, in)

	in = waitIn(t, r, simcard.New(serial(73)))
	defer waitOut(t, r, in)
	other := connectOther(t)
	other.verifyPIN()
	if !other.pinVerified() {
		t.Fatal("the other program's VERIFY did not take")
	}
	other.h.Disconnect(scard.LeaveCard)
	step(t, r, func(ctx context.Context, card cardio.Card, s *tcos.Session) {
		// First, before anything selects a file (selecting another DF drops
		// the verification too): the card as the step finds it.
		rsp, err := card.Transmit(ctx, verifyStatus)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Equal(rsp, []byte{0x90, 0x00}) {
			t.Fatal("the first step found the PIN another program verified still verified")
		}
		if got, err := s.Identify(ctx); err != nil || got != serial(73) {
			t.Fatalf("Identify = %v, %v; want %v", got, err, serial(73))
		}
		if st, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil || st.Verified {
			t.Fatalf("PINStatus in the first step = %+v, %v; want not verified", st, err)
		}
	})
}

// While a step holds the card, another program's command does not reach it,
// also right after the reset that begins the first step; once the step is
// over, the command finds the PIN no longer verified.
func TestStepShutsOutOtherPrograms(t *testing.T) {
	r := openReader(t)
	in := waitIn(t, r, simcard.New(serial(74)))
	defer waitOut(t, r, in)
	other := connectOther(t) // connected before the step, as a program already running
	ctx := within(t, stepTimeout)
	card, err := r.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer card.Close()
	if err := tcos.Open(card, tcos.Options{}).VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		sw  uint16
		err error
	}
	got := make(chan answer, 1)
	go func() {
		// The step selected DF 4B00 and verified its PIN: VERIFY without
		// data would answer 9000 if it reached the card now.
		sw, err := other.transmit(verifyStatus)
		got <- answer{sw, err}
	}()
	select {
	case a := <-got:
		if a.err == nil && a.sw == 0x9000 {
			t.Fatal("another program's command reached the card during the step, PIN verified")
		}
		if !errors.Is(a.err, scard.ErrSharingViolation) {
			t.Fatalf("another program's command during the step = %04X, %v; want a sharing violation", a.sw, a.err)
		}
		t.Log("another program's command during the step: sharing violation")
		return
	case <-time.After(300 * time.Millisecond):
		// It waits for the transaction: it must not see the step's PIN
		// once the step lets go.
		t.Log("another program's command during the step waits")
	}
	if err := card.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case a := <-got:
		if a.err == nil && a.sw == 0x9000 {
			t.Fatal("another program's waiting command found the step's PIN verified")
		}
	case <-time.After(stepTimeout):
		t.Fatal("another program's command still waits after the step")
	}
}

// resetCounter is a simulated card that reports each reset.
type resetCounter struct {
	*simcard.Card
	resets chan struct{}
}

func (c *resetCounter) Reset() {
	c.Card.Reset()
	select {
	case c.resets <- struct{}{}:
	default:
	}
}

// childEnv names the role of a helper process (see TestMain).
const childEnv = "HSMCARDS_PCSCTEST_CHILD"

// startChild runs a helper process in role and returns once it printed
// want; it is killed at the end of the test.
func startChild(t testing.TB, role, want string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+role)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line := make(chan string, 1)
	go func() {
		l, _ := bufio.NewReader(out).ReadString('\n')
		line <- strings.TrimSpace(l)
	}()
	select {
	case l := <-line:
		if l != want {
			t.Fatalf("helper process %s: %q %s", role, l, stderr.String())
		}
	case <-time.After(stepTimeout):
		t.Fatalf("helper process %s said nothing: %s", role, stderr.String())
	}
	return cmd
}

// child runs a helper process's role and returns its exit code.
func child(role string) int {
	switch role {
	case "verify-and-hang":
		// A wizard in the middle of a step: the PIN verified, the card held.
		r, err := pcsc.Open(context.Background(), readerName)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		ctx := context.Background()
		card, err := r.Connect(ctx)
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		if err := tcos.Open(card, tcos.Options{}).VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("verified")
		select {} // until killed
	}
	fmt.Println("unknown role", role)
	return 2
}

// A process killed in the middle of a step, its PIN verified, leaves the
// card to nobody verified: pcscd resets the card of the transaction the
// dead process held (docs/pcsc.md "Resets"), the reason a step holds one
// from Connect to Close.
func TestKilledStepLeavesNoPINVerified(t *testing.T) {
	r := openReader(t)
	rc := &resetCounter{Card: simcard.New(serial(75)), resets: make(chan struct{}, 16)}
	in := waitIn(t, r, rc)
	defer waitOut(t, r, in)
	// Another program is connected all along: pcscd then never powers the
	// card down as unused (which would end the verification too, and hide
	// whether the dead process's transaction was reset).
	other := connectOther(t)

	cmd := startChild(t, "verify-and-hang", "verified")
	for len(rc.resets) > 0 { // the resets before and in the step
		<-rc.resets
	}
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()

	// pcscd resets the card once it has cleaned up after the dead process.
	// It releases the transaction a moment before that reset (docs/pcsc.md
	// "Resets"), so the other program asks only once the reset was seen.
	select {
	case <-rc.resets:
	case <-time.After(stepTimeout):
		t.Fatal("pcscd did not reset the card of the killed process's transaction")
	}
	if other.pinVerified() {
		t.Fatal("the PIN verified by a killed process is still verified")
	}
}
