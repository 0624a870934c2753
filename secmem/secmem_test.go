package secmem

import (
	"bytes"
	"errors"
	"strings"
	"syscall"
	"testing"
)

func TestWipe(t *testing.T) {
	for _, n := range []int{0, 1, 32, 4097} {
		b := bytes.Repeat([]byte{0xA5}, n)
		Wipe(b)
		if !bytes.Equal(b, make([]byte, n)) {
			t.Errorf("Wipe left bytes in a %d-byte slice", n)
		}
	}
	Wipe(nil) // must not panic
}

func TestBufferRoundTrip(t *testing.T) {
	for _, n := range []int{1, 32, 4096, 4097, 3 * 4096} {
		b, err := NewBuffer(n)
		if err != nil {
			t.Fatalf("NewBuffer(%d): %v", n, err)
		}
		p := b.Bytes()
		if len(p) != n || b.Len() != n {
			t.Fatalf("NewBuffer(%d) gives %d bytes (Len %d)", n, len(p), b.Len())
		}
		if !bytes.Equal(p, make([]byte, n)) {
			t.Errorf("NewBuffer(%d) is not zeroed", n)
		}
		for i := range p {
			p[i] = byte(i*7 + 1)
		}
		q := b.Bytes()
		for i := range q {
			if q[i] != byte(i*7+1) {
				t.Fatalf("byte %d reads back %#x", i, q[i])
			}
		}
		if b.Locked() != (b.LockError() == nil) {
			t.Errorf("Locked %v but LockError %v", b.Locked(), b.LockError())
		}
		if err := b.LockError(); err != nil {
			checkLockError(t, err)
		}
		b.Wipe()
		if !bytes.Equal(p, make([]byte, n)) {
			t.Errorf("Buffer.Wipe left bytes in %d bytes", n)
		}
		b.Destroy()
	}
}

func TestBufferDestroyIdempotent(t *testing.T) {
	b, err := NewBuffer(32)
	if err != nil {
		t.Fatal(err)
	}
	copy(b.Bytes(), "0123456789abcdef0123456789abcdef")
	b.Destroy()
	if b.Bytes() != nil || b.Len() != 0 || b.Locked() {
		t.Errorf("after Destroy: Bytes %v, Len %d, Locked %v", b.Bytes(), b.Len(), b.Locked())
	}
	b.Destroy()
	b.Wipe() // a no-op on a destroyed buffer, not a fault
	var nb *Buffer
	nb.Destroy()
	nb.Wipe()
	if nb.Bytes() != nil || nb.Locked() || nb.LockError() != nil {
		t.Error("nil Buffer is not empty")
	}
}

func TestNewBufferRejectsSize(t *testing.T) {
	for _, n := range []int{0, -1} {
		if b, err := NewBuffer(n); err == nil {
			b.Destroy()
			t.Errorf("NewBuffer(%d) succeeded", n)
		}
	}
}

// TestLock locks a small heap slice: as root, or within RLIMIT_MEMLOCK, it
// works; otherwise it must be the documented *LockError.
func TestLock(t *testing.T) {
	b := make([]byte, 64)
	err := Lock(b)
	if err != nil {
		checkLockError(t, err)
		t.Logf("Lock refused here: %v", err)
		return
	}
	if err := Unlock(b); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	if err := Lock(nil); err != nil {
		t.Errorf("Lock(nil): %v", err)
	}
	if err := Unlock(nil); err != nil {
		t.Errorf("Unlock(nil): %v", err)
	}
}

func TestLockErrorText(t *testing.T) {
	err := error(&LockError{Err: syscall.EPERM})
	want := "cannot lock key memory: operation not permitted; the key may be swapped to disk"
	if err.Error() != want {
		t.Errorf("got %q, want %q", err, want)
	}
	if !errors.Is(err, syscall.EPERM) {
		t.Error("LockError does not unwrap to its cause")
	}
}

// checkLockError checks err is the error the wizard shows once when a key
// cannot be locked.
func checkLockError(t *testing.T, err error) {
	t.Helper()
	var le *LockError
	if !errors.As(err, &le) {
		t.Fatalf("lock failure %v (%T) is not a *LockError", err, err)
	}
	if s := err.Error(); !strings.HasPrefix(s, "cannot lock key memory: ") || !strings.HasSuffix(s, "; the key may be swapped to disk") {
		t.Errorf("lock error text %q", s)
	}
}

func TestCopy(t *testing.T) {
	src := []byte("0123456789abcdef0123456789abcdef!")
	for _, n := range []int{0, 1, 16, 33, 40} {
		dst := make([]byte, n)
		got := Copy(dst, src)
		want := copy(make([]byte, n), src)
		if got != want || string(dst[:got]) != string(src[:got]) {
			t.Errorf("Copy into %d bytes: %d, %q", n, got, dst)
		}
	}
	// Wipe still zeroes, and leaves what it scrubs with untouched.
	b := []byte{1, 2, 3}
	Wipe(b)
	if b[0]|b[1]|b[2] != 0 {
		t.Fatal("Wipe left bytes")
	}
	for _, c := range scrubZeros {
		if c != 0 {
			t.Fatal("scrubVectors' source is not zeros")
		}
	}
}
