package secmem

import "testing"

// TestMain re-executed the test binary once, as main does the program.
func TestRunsWithoutAsyncPreemption(t *testing.T) {
	if !AsyncPreemptionOff() {
		t.Fatal("the tests run with signal-based preemption on")
	}
}

func TestHasSetting(t *testing.T) {
	for _, tt := range []struct {
		godebug string
		want    bool
	}{
		{"", false},
		{"asyncpreemptoff=1", true},
		{"gctrace=1,asyncpreemptoff=1", true},
		{"asyncpreemptoff=1,asyncpreemptoff=0", false}, // the last word wins
		{"asyncpreemptoff=0,asyncpreemptoff=1", true},
		{"xasyncpreemptoff=1", false},
		{"asyncpreemptoff=10", false},
	} {
		if got := hasSetting(tt.godebug, asyncPreemptOff); got != tt.want {
			t.Errorf("hasSetting(%q) = %v, want %v", tt.godebug, got, tt.want)
		}
	}
}
