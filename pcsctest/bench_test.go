//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// selectMF is SELECT MF, no data, no FCP: the cheapest APDU with a 9000.
var selectMF = []byte{0x00, 0xA4, 0x00, 0x0C}

// BenchmarkAPDURoundTrip sends one APDU through pcscd+vpcd and through the
// in-process simulated reader, to the same kind of simulated card.
func BenchmarkAPDURoundTrip(b *testing.B) {
	b.Run("pcscd+vpcd", func(b *testing.B) {
		r := openReader(b)
		in := insert(b, simcard.New(serial(51)))
		if err := r.WaitForCard(within(b, stepTimeout)); err != nil {
			b.Fatal(err)
		}
		roundTrips(b, r)
		in.pull()
		if err := r.WaitForRemoval(within(b, stepTimeout)); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("sim", func(b *testing.B) {
		r := cardio.NewSimReader([]cardio.SimulatedCard{simcard.New(serial(52))})
		defer r.Close()
		if err := r.Insert(1); err != nil {
			b.Fatal(err)
		}
		roundTrips(b, r)
	})
}

func roundTrips(b *testing.B, r cardio.Reader) {
	ctx := context.Background()
	card, err := r.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer card.Close()
	for b.Loop() {
		rsp, err := card.Transmit(ctx, selectMF)
		if err != nil {
			b.Fatal(err)
		}
		if !bytes.Equal(rsp, []byte{0x90, 0x00}) {
			b.Fatalf("SELECT MF = % X", rsp)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N), "µs/apdu")
}

// BenchmarkWaitForCardCPU measures the CPU this process (and pcscd) spends
// while WaitForCard waits 10 s for a card that never comes. It should be
// near zero: the wait is one blocked GetStatusChange, not a polling loop.
// Run it with -benchtime=1x.
func BenchmarkWaitForCardCPU(b *testing.B) {
	const wait = 10 * time.Second
	r := openReader(b)
	var self, daemonMS float64
	for b.Loop() {
		before, pcscdBefore := cpuTime(b), pcscdCPU()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		err := r.WaitForCard(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) {
			b.Fatalf("WaitForCard with no card = %v, want DeadlineExceeded", err)
		}
		self += float64((cpuTime(b) - before).Microseconds()) / 1000
		daemonMS += float64((pcscdCPU() - pcscdBefore).Microseconds()) / 1000
	}
	b.ReportMetric(self/float64(b.N), "cpu-ms/wait")
	b.ReportMetric(daemonMS/float64(b.N), "pcscd-cpu-ms/wait")
}

// cpuTime is this process's user+system CPU time.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pcscdCPU is our pcscd's user+system CPU time from /proc (clock ticks of
// 10 ms on Linux), 0 if unreadable.
func pcscdCPU() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", daemon.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after "(comm)": state is field 3; utime and stime are 14 and 15.
	rest := string(b[strings.LastIndexByte(string(b), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond
}

// BenchmarkCardWriteVsBare measures one card write as the wizard does it
// (Connect, Identify, PIN status, VERIFY, read the old record, write and read
// back, Close) through cardio/pcsc, against a bare ebfe/scard replay of the
// very APDUs that step sent: a PC/SC context made once, SCardConnect, the
// APDUs, SCardDisconnect leaving the card as it is, no transaction, no
// reset. The two alternate in one run, each on a card of its own in one of
// vpcd's two readers (the same pcscd, driver and bridge code), so that
// neither finds the card as the other left it: cardio's card is touched by
// cardio only, as in the wizard, and the bare replay's card is put back to
// its state after reset outside the timed part. x-bare is the median of the
// per-pair ratios, so a pause of the machine in one pair does not move it.
func BenchmarkCardWriteVsBare(b *testing.B) {
	r := openReader(b)
	ours := insert(b, simcard.New(serial(61)))
	theirs := insertAt(b, card2Addr, simcard.New(serial(61)))
	bareReader := openReaderNamed(b, reader2Name)
	for _, rr := range []cardio.Reader{r, bareReader} {
		if err := rr.WaitForCard(within(b, stepTimeout)); err != nil {
			b.Fatal(err)
		}
	}
	defer func() {
		// The next benchmark's cards must not find these still reported.
		for _, p := range []struct {
			in *inserted
			r  cardio.Reader
		}{{ours, r}, {theirs, bareReader}} {
			p.in.pull()
			if err := p.r.WaitForRemoval(within(b, stepTimeout)); err != nil {
				b.Error(err)
			}
		}
	}()
	_, records, err := quorum.Generate("bench", quorum.TwoOfThree, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	rec, err := records[0].Marshal()
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()

	// The APDUs of one step, recorded as cardio sends them.
	rc := &recording{}
	if err := writeStepVia(ctx, r, rec, rc); err != nil {
		b.Fatal(err)
	}
	script := rc.cmds
	if len(script) == 0 {
		b.Fatal("the card step sent no APDU")
	}

	sc, err := scard.EstablishContext()
	if err != nil {
		b.Fatal(err)
	}
	defer sc.Release()
	bare := func() error {
		card, err := sc.Connect(reader2Name, scard.ShareShared, scard.ProtocolAny)
		if err != nil {
			return err
		}
		for i, cmd := range script {
			rsp, err := card.Transmit(cmd)
			if err != nil {
				card.Disconnect(scard.LeaveCard)
				return err
			}
			if want := rc.sws[i]; len(rsp) < 2 || !bytes.Equal(rsp[len(rsp)-2:], want[:]) {
				card.Disconnect(scard.LeaveCard)
				return fmt.Errorf("bare replay: APDU %d (% X) answered % X, the step had % X", i, cmd, rsp, want)
			}
		}
		return card.Disconnect(scard.LeaveCard)
	}
	// restore puts the bare replay's card back as a reset leaves it (MF
	// current, no PIN verified), for the next replay; it is not timed.
	restore := func() error {
		card, err := sc.Connect(reader2Name, scard.ShareShared, scard.ProtocolAny)
		if err != nil {
			return err
		}
		return card.Disconnect(scard.ResetCard)
	}
	if err := restore(); err != nil {
		b.Fatal(err)
	}

	// Each pair runs both writes back to back, in alternating order, so that
	// a drift of the machine's speed does not favour either.
	var ratios, oursNS, bareNS []float64
	flip := false
	for b.Loop() {
		var o, w time.Duration
		for i := range 2 {
			t0 := time.Now()
			if (i == 0) != flip {
				if err := writeStepVia(ctx, r, rec, nil); err != nil {
					b.Fatal(err)
				}
				o = time.Since(t0)
			} else {
				if err := bare(); err != nil {
					b.Fatal(err)
				}
				w = time.Since(t0)
				if err := restore(); err != nil {
					b.Fatal(err)
				}
			}
		}
		flip = !flip
		ratios = append(ratios, float64(o)/float64(w))
		oursNS = append(oursNS, float64(o))
		bareNS = append(bareNS, float64(w))
	}
	b.ReportMetric(median(ratios), "x-bare")
	b.ReportMetric(median(oursNS)/1e3, "µs/write")
	b.ReportMetric(median(bareNS)/1e3, "µs/bare")
	b.ReportMetric(float64(len(script)), "apdus/write")
}

// writeStepVia is the wizard's card write on r; rc, when not nil, records the
// APDUs sent and the status words they got.
func writeStepVia(ctx context.Context, r cardio.Reader, rec []byte, rc *recording) error {
	c, err := r.Connect(ctx)
	if err != nil {
		return err
	}
	defer c.Close()
	card := cardio.Card(c)
	if rc != nil {
		rc.Card = c
		card = rc
	}
	s := tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(ctx); err != nil {
		return err
	}
	if _, err := s.PINStatus(ctx, tcos.SlotBackupKey); err != nil {
		return err
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, factoryPIN); err != nil {
		return err
	}
	if _, err := s.ReadShareRecord(ctx); err != nil {
		return err
	}
	if err := s.WriteShareRecord(ctx, rec); err != nil {
		return err
	}
	return c.Close()
}

// recording is a Card that keeps a copy of every command and the status word
// it got.
type recording struct {
	cardio.Card
	cmds [][]byte
	sws  [][2]byte
}

func (rc *recording) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	rsp, err := rc.Card.Transmit(ctx, cmd)
	if err == nil && len(rsp) >= 2 {
		rc.cmds = append(rc.cmds, slices.Clone(cmd))
		rc.sws = append(rc.sws, [2]byte{rsp[len(rsp)-2], rsp[len(rsp)-1]})
	}
	return rsp, err
}

// median is the middle value of v (the mean of the two middle ones).
func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	n := len(s)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
