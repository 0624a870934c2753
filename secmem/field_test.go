package secmem

import (
	"bytes"
	"testing"
)

func TestField(t *testing.T) {
	f, err := NewField(15)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Destroy()
	for _, c := range []byte("1234567890123456") {
		f.Append(c)
	}
	if f.Len() != 15 || string(f.Bytes()) != "123456789012345" || f.Cap() != 15 {
		t.Fatalf("after 16 digits: %q (len %d)", f.Bytes(), f.Len())
	}
	if f.Append('9') {
		t.Fatal("a full Field took a byte")
	}
	mem := f.buf.Bytes()
	f.Backspace()
	if f.Len() != 14 || mem[14] != 0 {
		t.Fatalf("Backspace left %q, last byte %#x", f.Bytes(), mem[14])
	}
	if b := f.Bytes(); cap(b) != len(b) {
		t.Fatal("Bytes can be appended to in place")
	}
	f.Clear()
	if f.Len() != 0 || !bytes.Equal(mem, make([]byte, 15)) {
		t.Fatalf("Clear left %q", mem)
	}
	if !f.Append('7') || string(f.Bytes()) != "7" {
		t.Fatal("a cleared Field is not usable")
	}
	f.Destroy()
	if f.Append('1') || f.Len() != 0 || len(f.Bytes()) != 0 {
		t.Fatal("a destroyed Field takes bytes")
	}
	f.Backspace()
	f.Clear()
	f.Destroy()
}
