package wizard

import (
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/tcos"
	"github.com/hsmcards/hsmcards/tcos/simcard"
)

// An idle wizard wakes for nothing: at the main menu and at "Insert 1.
// card" (whose countdown changes every 5 s) it gets no message and draws
// no frame for a while; the renderer's own frame rate is FPS
// (docs/wizard.md, "Idle"). BenchmarkIdle reports what that costs.

// idleProgram is the wizard as a real program, as main runs it, counting
// its updates and the bytes it writes to the terminal.
type idleProgram struct {
	p       *tea.Program
	updates atomic.Int64
	out     atomic.Int64
	mu      sync.Mutex
	screen  string
	done    chan struct{}
}

type countingModel struct {
	*Model
	ip *idleProgram
}

func (c countingModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	c.ip.updates.Add(1)
	_, cmd := c.Model.Update(msg)
	v := ansi.Strip(c.Model.View().Content)
	c.ip.mu.Lock()
	c.ip.screen = v
	c.ip.mu.Unlock()
	return c, cmd
}

type countingWriter struct{ n *atomic.Int64 }

func (w countingWriter) Write(b []byte) (int, error) { w.n.Add(int64(len(b))); return len(b), nil }

func startIdle(tb testing.TB) *idleProgram {
	tb.Helper()
	var sc []cardio.SimulatedCard
	for i := range 3 {
		var s tcos.Serial
		copy(s[:], "IDLECARD0"+string(rune('1'+i)))
		sc = append(sc, simcard.New(s))
	}
	sim := cardio.NewSimReader(sc)
	h, err := hsm.OpenSim(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	ip := &idleProgram{done: make(chan struct{})}
	m := New(Config{Reader: sim, Sim: sim, HSM: h, Tick: DefaultTick, Watch: true})
	opts := append(ProgramOptions(), tea.WithInput(nil), tea.WithOutput(countingWriter{&ip.out}),
		tea.WithWindowSize(80, 24), tea.WithoutSignals())
	ip.p = tea.NewProgram(countingModel{m, ip}, opts...)
	go func() {
		defer close(ip.done)
		ip.p.Run()
	}()
	tb.Cleanup(func() {
		ip.p.Kill()
		<-ip.done
	})
	return ip
}

func (ip *idleProgram) waitFor(tb testing.TB, want string) {
	tb.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ip.mu.Lock()
		s := strings.Join(strings.Fields(ip.screen), " ")
		ip.mu.Unlock()
		if strings.Contains(s, want) {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("never showed %q", want)
		}
		time.Sleep(5 * time.Millisecond) // polling the program's state, not timing it
	}
}

func (ip *idleProgram) keys(ks ...string) {
	for _, k := range ks {
		for _, m := range keyMsgs(k) {
			ip.p.Send(m)
		}
	}
}

// toInsert opens Install and its first card prompt.
func (ip *idleProgram) toInsert(tb testing.TB) {
	tb.Helper()
	ip.keys("1", "enter")
	ip.waitFor(tb, "Label")
	ip.keys("idle", "enter")
	ip.waitFor(tb, "Write New Key")
	ip.keys("enter")
	ip.waitFor(tb, "Insert 1. card")
}

// idle lets the program alone for d (after it settled) and returns how many
// messages it got, how many bytes it drew and the CPU the process used.
func (ip *idleProgram) idle(d time.Duration) (updates, bytes int64, cpu time.Duration) {
	time.Sleep(300 * time.Millisecond) // the last frame is drawn: not timing, settling
	u0, b0, c0 := ip.updates.Load(), ip.out.Load(), processCPU()
	time.Sleep(d)
	return ip.updates.Load() - u0, ip.out.Load() - b0, processCPU() - c0
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func TestIdleWakesForNothing(t *testing.T) {
	for _, screen := range []string{"menu", "insert"} {
		t.Run(screen, func(t *testing.T) {
			ip := startIdle(t)
			ip.waitFor(t, "Main menu")
			if screen == "insert" {
				ip.toInsert(t)
			}
			// Shorter than a countdown step: not one message, not one byte.
			updates, bytes, _ := ip.idle(countdownStep / 4)
			if updates != 0 || bytes != 0 {
				t.Errorf("idle at the %s: %d updates, %d bytes drawn", screen, updates, bytes)
			}
		})
	}
}

// bareTicker returns the CPU a process spends for d doing nothing but wake
// at FPS, as Bubble Tea's renderer does: the floor under an idle wizard,
// whose cost per wake-up depends on the machine (a VM's timers cost more).
func bareTicker(d time.Duration) time.Duration {
	t := time.NewTicker(time.Second / FPS)
	defer t.Stop()
	end := time.After(d)
	c0 := processCPU()
	for {
		select {
		case <-t.C:
		case <-end:
			return processCPU() - c0
		}
	}
}

// BenchmarkIdle reports what an idle wizard costs per 10 s: CPU
// milliseconds of the whole process, updates and bytes drawn, and x-ticker,
// its CPU against a bare ticker at the renderer's frame rate measured just
// before in the same run (1 means the wizard costs what its renderer's
// wake-ups cost, nothing more). Run with -benchtime=1x: each iteration is
// 10 s of idle.
func BenchmarkIdle(b *testing.B) {
	const window = 10 * time.Second
	for _, screen := range []string{"menu", "insert"} {
		b.Run(screen, func(b *testing.B) {
			floor := bareTicker(window)
			ip := startIdle(b)
			ip.waitFor(b, "Main menu")
			if screen == "insert" {
				ip.toInsert(b)
			}
			var updates, bytes int64
			var cpu time.Duration
			b.ResetTimer()
			for range b.N {
				u, o, c := ip.idle(window)
				updates, bytes, cpu = updates+u, bytes+o, cpu+c
			}
			n := float64(b.N)
			b.ReportMetric(float64(cpu.Microseconds())/1000/n, "cpu-ms/10s")
			b.ReportMetric(float64(floor.Microseconds())/1000, "ticker-cpu-ms/10s")
			if floor > 0 {
				b.ReportMetric(float64(cpu)/n/float64(floor), "x-ticker")
			}
			b.ReportMetric(float64(updates)/n, "updates/10s")
			b.ReportMetric(float64(bytes)/n, "bytes/10s")
			b.ReportMetric(FPS, "fps")
		})
	}
}
