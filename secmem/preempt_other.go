//go:build !linux

package secmem

// WithoutAsyncPreemption does nothing where the memory defences are not
// measured (docs/security.md, "Secrets in memory"): it returns nil.
func WithoutAsyncPreemption() error { return nil }

// AsyncPreemptionOff reports true: there is nothing to turn off here.
func AsyncPreemptionOff() bool { return true }
