//go:build pcsc

package pcsctest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
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
