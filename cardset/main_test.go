package cardset

import (
	"fmt"
	"os"
	"testing"

	"github.com/hsmcards/hsmcards/secmem"
)

// TestMain runs the tests as main runs the program: without signal-based
// preemption, whose register frames the memory scans would find by chance
// (secmem.WithoutAsyncPreemption).
func TestMain(m *testing.M) {
	if err := secmem.WithoutAsyncPreemption(); err != nil {
		fmt.Fprintln(os.Stderr, "cardset:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}
