package secmem_test

import (
	"bytes"
	"crypto/rand"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/secmem"
)

// TestDoErasesWhatFLeaves: a heap copy made inside Do and dropped is erased
// after a GC when this build erases (GOEXPERIMENT=runtimesecret; test.sh
// runs this test so too). Otherwise it is usually left where it was, which
// is why secrets live in a Buffer; whether the allocator has reused that
// memory by the time of the scan is luck, so that case is only logged.
func TestDoErasesWhatFLeaves(t *testing.T) {
	b, err := secmem.NewBuffer(32)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Destroy()
	rand.Read(b.Bytes())
	needle := memscan.New("secret", b.Bytes())
	var sink int
	done := make(chan struct{})
	go func() {
		defer close(done)
		secmem.Do(func() {
			c := bytes.Clone(b.Bytes()) // a library's internal copy
			sink = int(c[0])
		})
	}()
	<-done
	b.Wipe()
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needle)
	if err != nil {
		t.Fatal(err)
	}
	if secmem.Erases() && len(hits) != 0 {
		t.Errorf("Do erases, yet the copy is left:\n%s", memscan.Report(hits))
	}
	t.Logf("Erases %v: %d copies left", secmem.Erases(), len(hits))
	_ = sink
}
