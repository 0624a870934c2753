// Package secmem keeps secrets (the Backup Key, shares, PINs) out of places
// they could outlive their use: core dumps, swap, and stray copies in memory.
//
// It offers DisableCoreDumps for the process, Lock and Unlock to pin a
// slice's pages in RAM, Buffer for a key that lives outside the Go heap, and
// Wipe to zero a slice. None of it is perfect (the kernel, the terminal and
// the card reader see secrets too); it narrows the window.
package secmem

import (
	"errors"
	"fmt"
	"runtime"
)

// Wipe zeroes b. It is not inlined and keeps b alive past the loop so the
// compiler cannot drop the stores as dead. Then it overwrites the vector
// registers that copies of b went through (scrubVectors).
//
//go:noinline
func Wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
	runtime.KeepAlive(b)
	scrubVectors()
}

// Copy copies src into dst like the built-in copy, and returns the bytes
// copied, but byte by byte through general registers: the built-in copy
// moves memory through vector registers, which keep a secret after the copy
// until other vector work overwrites them, and which a signal to the thread
// saves into memory no wipe reaches (docs/security.md, "Secrets in memory").
// Use it for secrets; Wipe then clears what the built-in copy left.
//
//go:noinline
func Copy(dst, src []byte) int {
	n := min(len(dst), len(src))
	for i := range n {
		dst[i] = src[i]
	}
	return n
}

// scrubZeros is what scrubVectors copies: nothing secret. scrubLen is a
// variable so that the copy is runtime memmove's, not one the compiler
// unrolls through a single register.
var (
	scrubZeros [256]byte
	scrubLen   = len(scrubZeros)
)

// scrubVectors overwrites the vector registers that copying memory uses.
// A copy of a secret (a share into a record, a record into a buffer) goes
// through them, and they keep it until other vector work overwrites them; a
// signal to the thread meanwhile (the garbage collector sends them) saves
// them into the signal frame, in memory no wipe reaches (docs/security.md,
// "Secrets in memory"). Copying 256 bytes loads them all: on amd64 Go's
// memmove moves 129 to 256 bytes through sixteen vector registers at once.
//
//go:noinline
func scrubVectors() {
	var dst [256]byte
	copy(dst[:scrubLen], scrubZeros[:scrubLen])
	opaque(dst[:])
}

// opaque keeps the compiler from dropping the copy above as dead.
//
//go:noinline
func opaque([]byte) {}

// LockError means a secret's memory could not be locked into RAM, most often
// because RLIMIT_MEMLOCK is too small or the process lacks CAP_IPC_LOCK
// (EPERM, ENOMEM, EAGAIN). The key still works; the wizard shows the error
// once so the operator knows it may reach swap. Match the cause with
// errors.Is (e.g. syscall.EPERM).
type LockError struct {
	Err error
}

func (e *LockError) Error() string {
	return fmt.Sprintf("cannot lock key memory: %v; the key may be swapped to disk", e.Err)
}

// Unwrap returns the system's reason.
func (e *LockError) Unwrap() error { return e.Err }

// Lock locks the pages holding b into RAM so they are never written to swap.
// Locks do not nest and cover whole pages: unlocking any slice on a page
// unlocks all of it, so prefer a Buffer, which owns its pages. When the
// system refuses, Lock returns a *LockError.
func Lock(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := mlock(b); err != nil {
		return &LockError{Err: err}
	}
	return nil
}

// Unlock undoes Lock for the pages holding b.
func Unlock(b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if err := munlock(b); err != nil {
		return fmt.Errorf("cannot unlock key memory: %w", err)
	}
	return nil
}

// Buffer is a fixed-size buffer for one secret, allocated outside the Go
// heap with an anonymous private mmap (where the OS has one).
//
// Why: the Go runtime may leave copies of a secret behind wherever it copies
// memory (growing a goroutine stack, append reallocating, any future moving
// collector), and freed heap memory keeps its bytes until it is reused, so
// wiping one slice does not wipe every copy. An mmap'd region is never touched
// by the garbage collector: it stays at one address, so Wipe really clears the
// only copy. It is also locked into RAM where allowed (see Locked) and, on
// Linux, left out of core dumps.
//
// A Buffer is not safe for concurrent use. Call Destroy when done; a Buffer
// that becomes unreachable undestroyed is wiped and released by the runtime.
type Buffer struct {
	mem     []byte
	locked  bool
	lockErr error
	cleanup runtime.Cleanup
}

// region is what a Buffer's cleanup needs: it must not refer to the Buffer.
type region struct {
	mem    []byte
	locked bool
}

func (r region) release() {
	Wipe(r.mem)
	if r.locked {
		_ = munlock(r.mem) // the mapping goes away next, locked or not
	}
	_ = free(r.mem) // unmapping a mapping we own fails only on a bug
}

// NewBuffer allocates a zeroed n-byte Buffer. It fails only if the memory
// cannot be allocated; when it cannot be locked, the Buffer works unlocked
// and LockError says why.
func NewBuffer(n int) (*Buffer, error) {
	if n <= 0 {
		return nil, errors.New("secret buffer size must be positive")
	}
	mem, err := alloc(n)
	if err != nil {
		return nil, fmt.Errorf("cannot allocate secret buffer: %w", err)
	}
	b := &Buffer{mem: mem}
	if err := Lock(mem); err != nil {
		b.lockErr = err
	} else {
		b.locked = true
	}
	excludeFromCoreDump(mem)
	b.cleanup = runtime.AddCleanup(b, region.release, region{mem, b.locked})
	return b, nil
}

// Bytes returns the buffer's memory (n bytes), or nil after Destroy. Do not
// keep it past Destroy: the memory is unmapped and touching it faults.
func (b *Buffer) Bytes() []byte {
	if b == nil {
		return nil
	}
	return b.mem
}

// Len returns n, or 0 after Destroy.
func (b *Buffer) Len() int {
	if b == nil {
		return 0
	}
	return len(b.mem)
}

// Locked reports whether the buffer is locked into RAM.
func (b *Buffer) Locked() bool { return b != nil && b.locked }

// LockError returns why the buffer could not be locked (a *LockError), or
// nil if it is locked.
func (b *Buffer) LockError() error {
	if b == nil {
		return nil
	}
	return b.lockErr
}

// Wipe zeroes the buffer; it stays usable.
func (b *Buffer) Wipe() {
	if b != nil {
		Wipe(b.mem)
	}
}

// Destroy wipes, unlocks and releases the buffer. Calling it again, or on a
// nil Buffer, does nothing.
func (b *Buffer) Destroy() {
	if b == nil || b.mem == nil {
		return
	}
	b.cleanup.Stop()
	region{b.mem, b.locked}.release()
	b.mem = nil
	b.locked = false
}
