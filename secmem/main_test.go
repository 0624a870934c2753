package secmem

import (
	"fmt"
	"os"
	"testing"
)

// TestMain runs the tests as main runs the program: without signal-based
// preemption, whose register frames the memory scans would find by chance.
func TestMain(m *testing.M) {
	if err := WithoutAsyncPreemption(); err != nil {
		fmt.Fprintln(os.Stderr, "secmem:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
