//go:build !linux

package secmem

// wipeInitialEnv: elsewhere the process's initial environment block is left
// as it is.
func wipeInitialEnv(string) {}
