package wizard

import (
	"testing"
	"time"
)

// A countdown shows 5-second steps while more than 15 s are left, then
// seconds, never less than is left; the wizard wakes when it changes.
func TestCountdownSteps(t *testing.T) {
	for _, tc := range []struct{ left, shown, next time.Duration }{
		{60 * time.Second, 60 * time.Second, 5 * time.Second},
		{58 * time.Second, 60 * time.Second, 3 * time.Second},
		{17500 * time.Millisecond, 20 * time.Second, 2500 * time.Millisecond},
		{15 * time.Second, 15 * time.Second, time.Second},
		{14500 * time.Millisecond, 15 * time.Second, 500 * time.Millisecond},
		{200 * time.Millisecond, time.Second, 200 * time.Millisecond},
		{0, 0, 0},
	} {
		if got := shownLeft(tc.left); got != tc.shown {
			t.Errorf("shownLeft(%s) = %s, want %s", tc.left, got, tc.shown)
		}
		if got := untilChange(tc.left); got != tc.next {
			t.Errorf("untilChange(%s) = %s, want %s", tc.left, got, tc.next)
		}
	}
}
