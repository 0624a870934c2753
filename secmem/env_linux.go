package secmem

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// wipeInitialEnv overwrites with zeros the value of every name=value entry
// in the environment block the kernel placed on the main thread's stack at
// exec (between env_start and env_end of /proc/self/stat, what
// /proc/self/environ shows). It works through /proc/self/mem, so that no Go
// pointer to memory outside the Go heap is made; failure leaves that copy,
// which only this process's own memory shows once it is not dumpable
// (DisableCoreDumps), so it is ignored.
func wipeInitialEnv(name string) {
	start, end, ok := envBlock()
	if !ok {
		return
	}
	mem, err := os.OpenFile("/proc/self/mem", os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer mem.Close()
	block := make([]byte, end-start)
	defer Wipe(block)
	n, _ := mem.ReadAt(block, int64(start))
	block = block[:n]
	prefix := []byte(name + "=")
	for off := 0; off < len(block); {
		entry := block[off:]
		if i := bytes.IndexByte(entry, 0); i >= 0 {
			entry = entry[:i]
		}
		if bytes.HasPrefix(entry, prefix) && len(entry) > len(prefix) {
			zeros := make([]byte, len(entry)-len(prefix))
			_, _ = mem.WriteAt(zeros, int64(start)+int64(off+len(prefix)))
		}
		off += len(entry) + 1
	}
}

// envBlock returns env_start and env_end from /proc/self/stat (fields 50
// and 51, proc(5); Linux 3.5 and later).
func envBlock() (start, end uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		return 0, 0, false
	}
	// Field 2, the command name, is in parentheses and may hold anything:
	// count from after its closing one (field 3 onwards).
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 51-2 {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(f[50-3], 10, 64)
	end, err2 := strconv.ParseUint(f[51-3], 10, 64)
	if err1 != nil || err2 != nil || end <= start || end-start > 1<<24 {
		return 0, 0, false
	}
	return start, end, true
}
