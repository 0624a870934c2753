//go:build unix

package secmem

import "golang.org/x/sys/unix"

func mlock(b []byte) error   { return unix.Mlock(b) }
func munlock(b []byte) error { return unix.Munlock(b) }

// alloc maps n bytes of anonymous, private, zeroed memory outside the Go
// heap; the kernel rounds the mapping up to whole pages.
func alloc(n int) ([]byte, error) {
	return unix.Mmap(-1, 0, n, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
}

func free(b []byte) error { return unix.Munmap(b) }
