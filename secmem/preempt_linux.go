package secmem

import (
	"os"
	"strings"
	"syscall"
)

// asyncPreemptOff is the GODEBUG setting that stops the Go scheduler from
// preempting a goroutine with a signal (runtime package, "GODEBUG").
const asyncPreemptOff = "asyncpreemptoff=1"

// reexecMarker stops a second exec if the environment did not carry over.
const reexecMarker = "HSMCARDS_REEXEC"

// WithoutAsyncPreemption makes this process run without signal-based
// preemption: if GODEBUG does not say asyncpreemptoff=1 yet, it execs the
// program again (same binary, arguments and environment, plus that setting)
// and does not return; otherwise it returns nil at once. Call it first thing
// in main, before any secret exists.
//
// Why: to preempt a goroutine by a signal, the runtime saves every register
// of the interrupted code, vector registers included, into a frame on that
// goroutine's stack, and the kernel saves them again on the thread's signal
// stack. A goroutine preempted while it copies a key through a 16-byte
// register leaves half a key there, where no Wipe reaches it; the memory
// scans found exactly that under load (docs/security.md, "Secrets in
// memory"). The runtime reads this setting only at start, hence the exec.
// Goroutines still yield at every function call, which is all the wizard's
// short computations need.
func WithoutAsyncPreemption() error {
	godebug := os.Getenv("GODEBUG")
	if hasSetting(godebug, asyncPreemptOff) || os.Getenv(reexecMarker) != "" {
		os.Unsetenv(reexecMarker)
		return nil
	}
	if godebug != "" {
		godebug += ","
	}
	env := append(os.Environ(), "GODEBUG="+godebug+asyncPreemptOff, reexecMarker+"=1")
	return syscall.Exec("/proc/self/exe", os.Args, env)
}

// AsyncPreemptionOff reports whether this process runs without signal-based
// preemption (WithoutAsyncPreemption has run, or GODEBUG said so at start).
func AsyncPreemptionOff() bool {
	return hasSetting(os.Getenv("GODEBUG"), asyncPreemptOff)
}

// hasSetting reports whether the last word of godebug on setting's key is
// setting (GODEBUG is read left to right, the last word wins).
func hasSetting(godebug, setting string) bool {
	key := setting[:strings.IndexByte(setting, '=')+1]
	found := false
	for _, f := range strings.Split(godebug, ",") {
		if strings.HasPrefix(f, key) {
			found = f == setting
		}
	}
	return found
}
