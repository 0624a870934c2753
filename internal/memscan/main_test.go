package memscan

import (
	"fmt"
	"os"
	"testing"

	"github.com/hsmcards/hsmcards/secmem"
)

// TestMain runs the scans as every scanning test must: without signal-based
// preemption (Scan refuses otherwise).
func TestMain(m *testing.M) {
	if err := secmem.WithoutAsyncPreemption(); err != nil {
		fmt.Fprintln(os.Stderr, "memscan:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
