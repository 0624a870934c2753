//go:build goexperiment.runtimesecret && linux && (amd64 || arm64)

package secmem

import "runtime/secret"

const erases = true

func do(f func()) { secret.Do(f) }
