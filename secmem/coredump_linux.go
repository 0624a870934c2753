package secmem

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// DisableCoreDumps stops the process from ever writing a core dump, which
// would hold every secret in memory: it sets RLIMIT_CORE to 0 (soft and hard,
// so it cannot be raised again without privilege) and clears the dumpable
// flag (prctl PR_SET_DUMPABLE 0), which also covers core_pattern pipes that
// ignore the limit and keeps other processes of the same user from attaching
// with ptrace or reading /proc/PID/mem. Call it first thing in main.
func DisableCoreDumps() error {
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{Cur: 0, Max: 0}); err != nil {
		return fmt.Errorf("cannot disable core dumps: setrlimit: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		return fmt.Errorf("cannot disable core dumps: prctl: %w", err)
	}
	return nil
}

// excludeFromCoreDump marks b's pages MADV_DONTDUMP, a second line of
// defence should core dumps be enabled again. Failure leaves only that second
// line missing, so it is ignored.
func excludeFromCoreDump(b []byte) { _ = unix.Madvise(b, unix.MADV_DONTDUMP) }
