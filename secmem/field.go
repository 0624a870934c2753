package secmem

// Field is a secret typed a byte at a time (a PIN, digit by digit), up to a
// fixed capacity, in a Buffer: it never grows, so no digit is left behind in
// an array an append outgrew, and a removed or cleared byte is zeroed at
// once. A Field is not safe for concurrent use.
type Field struct {
	buf *Buffer
	n   int
}

// NewField returns an empty Field for up to capacity bytes.
func NewField(capacity int) (*Field, error) {
	b, err := NewBuffer(capacity)
	if err != nil {
		return nil, err
	}
	return &Field{buf: b}, nil
}

// Append adds c; it reports false, changing nothing, when the Field is full
// or destroyed.
func (f *Field) Append(c byte) bool {
	mem := f.buf.Bytes()
	if f.n >= len(mem) {
		return false
	}
	mem[f.n] = c
	f.n++
	return true
}

// Backspace removes the last byte, zeroing it.
func (f *Field) Backspace() {
	if f.n > 0 {
		f.n--
		f.buf.Bytes()[f.n] = 0
	}
}

// Len is the number of bytes typed.
func (f *Field) Len() int { return f.n }

// Cap is the capacity.
func (f *Field) Cap() int { return f.buf.Len() }

// Bytes returns what was typed. The slice aliases the Field: it changes with
// it, Clear zeroes it, and it must not be used after Destroy.
func (f *Field) Bytes() []byte { return f.buf.Bytes()[:f.n:f.n] }

// Clear zeroes what was typed; the Field stays usable.
func (f *Field) Clear() {
	f.buf.Wipe()
	f.n = 0
}

// Destroy wipes and releases the Field.
func (f *Field) Destroy() {
	f.buf.Destroy()
	f.n = 0
}
