package secmem

import (
	"os"
	"unsafe"
)

// FromEnv moves the value of the environment variable name into a Buffer
// and removes the variable from the process: for a PIN handed over in the
// environment. It returns nil (and no error) when the variable is unset or
// empty; it fails only when the Buffer cannot be allocated.
//
// A value in the environment has copies the caller never sees: the Go
// runtime's (which os.Getenv returns), and the environment block the kernel
// gave the process, which /proc/PID/environ shows and which stays for the
// process's life. FromEnv overwrites both with zeros (the second on Linux
// only) and unsets the variable, so child processes do not inherit it and
// the Buffer is the only copy left. Keep the Buffer reachable while its
// bytes are in use and Destroy it when done.
func FromEnv(name string) (*Buffer, error) {
	v, ok := os.LookupEnv(name)
	if !ok || v == "" {
		os.Unsetenv(name)
		return nil, nil
	}
	b, err := NewBuffer(len(v))
	if err != nil {
		return nil, err
	}
	copy(b.Bytes(), v)
	// The runtime's copy: os.LookupEnv returned the value part of the
	// "name=value" string the runtime made at start-up (or os.Setenv
	// built), on the heap. Nothing else reads that string once the variable
	// is unset.
	Wipe(unsafe.Slice(unsafe.StringData(v), len(v)))
	os.Unsetenv(name)
	wipeInitialEnv(name)
	return b, nil
}
