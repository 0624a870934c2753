package memscan

import (
	"crypto/rand"
	"errors"
	"runtime"
	"testing"
)

// TestScanFindsAndForgets: a secret on the heap is found where it is, and
// no longer once wiped; a strided copy is found by a strided needle; the
// needles themselves are no copy.
func TestScanFindsAndForgets(t *testing.T) {
	secret := make([]byte, 32)
	rand.Read(secret)
	spread := make([]byte, 3*len(secret))
	rand.Read(spread)
	for i, c := range secret {
		spread[3*i] = c
	}
	whole, strided := New("secret", secret), Strided("spread", secret, 3)
	windows := Windows("secret", secret, 8)
	if len(windows) != 4 {
		t.Fatalf("%d windows of 8 in 32 bytes", len(windows))
	}
	needles := append([]Needle{whole, strided}, windows...)

	hits, err := Scan(needles...)
	if errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	for _, h := range hits {
		switch {
		case Within(h.Addr, secret):
			found[h.Needle] = true
		case h.Needle == "spread" && Within(h.Addr, spread):
			found["spread"] = true
		default:
			t.Errorf("unexpected %s", h)
		}
	}
	for _, n := range needles {
		if !found[n.Name] {
			t.Errorf("%s not found in place:\n%s", n.Name, Report(hits))
		}
	}

	clear(secret)
	clear(spread)
	runtime.KeepAlive(secret)
	runtime.KeepAlive(spread)
	hits, err = Scan(needles...)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 0 {
		t.Errorf("found after wiping:\n%s", Report(hits))
	}
}

func TestWindows(t *testing.T) {
	got := Windows("k", make([]byte, 20), 8)
	var names []string
	for _, n := range got {
		names = append(names, n.Name)
	}
	want := []string{"k[0:8]", "k[8:16]", "k[12:20]"}
	if len(names) != len(want) {
		t.Fatalf("windows %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("windows %v, want %v", names, want)
		}
	}
}
