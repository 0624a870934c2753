package secmem

// Do runs f. Built with GOEXPERIMENT=runtimesecret (Go 1.26 or later, on
// linux/amd64 and linux/arm64) it runs f under runtime/secret's Do: the
// registers and stack f used are erased when it returns, and the heap memory
// f allocated is erased once the garbage collector finds it unreachable.
// That reaches copies inside library code (crypto/rsa's OAEP buffers,
// math/big's numbers) that no Wipe can. In any other build, `go run .`
// included, Do just calls f, and Erases reports false: keep secrets in a
// Buffer and Wipe them there, which works in every build (docs/security.md,
// "Secrets in memory").
//
// f must not start goroutines that handle the secret, and what it hands back
// must go into memory the caller allocated (a Buffer): runtime/secret erases
// f's own allocations, results included, once they are unreachable.
func Do(f func()) { do(f) }

// Erases reports whether Do erases what f leaves behind in this build.
func Erases() bool { return erases }
