package quorum

import (
	"bytes"
	"fmt"
	"time"

	"github.com/hsmcards/hsmcards/secmem"
)

// The record's BER-TLV layout; FORMAT.md is the reference and the golden
// tests keep the two in step.
const (
	// Version is the record format this package writes: format 2. Format
	// 1 records are read, and written again only as they are (a copy).
	Version = Format2

	tagRecord     = 0xE1 // private class, constructed, number 1: the whole record
	tagVersion    = 0x80 // context primitive tags, in this order
	tagKeySetID   = 0x81
	tagLabel      = 0x82
	tagCreated    = 0x83
	tagScheme     = 0x84
	tagShare      = 0x85
	tagKCV        = 0x86
	tagGeneration = 0x87 // format 2
	tagKeyCheck   = 0x88 // format 2
	// tagChecksum is the last element of every version, so that a damaged
	// record is told apart from one of a newer version.
	tagChecksum = 0x9E

	checksumSize = 8
	checksumTLV  = 2 + checksumSize

	// generationSize is the generation's length: unsigned 32-bit big-endian.
	generationSize = 4

	// The creation time is unix seconds, 8 bytes big-endian, within years
	// 1970..9999 (the range a screen can print).
	minUnix = 0
	maxUnix = 253402300799 // 9999-12-31T23:59:59Z
)

// corrupt wraps ErrCorrupt with a short reason. Reasons name fields, never
// their contents.
func corrupt(reason string) error { return fmt.Errorf("%w (%s)", ErrCorrupt, reason) }

// checksum is the first 8 bytes of SHA-256 over b. It catches accidental
// damage; it is no MAC (anyone can recompute it), the KCV check after
// combining is what catches a consistent but wrong share. It is our own
// SHA-256 (sha256.go): b holds the share.
func checksum(b []byte) [checksumSize]byte {
	h, err := sum256(b)
	if err != nil {
		// Only when no memory can be mapped at all (Key.KCV panics
		// then too).
		panic("quorum: no memory for the record checksum")
	}
	var c [checksumSize]byte
	copy(c[:], h[:checksumSize])
	secmem.Wipe(h[:])
	return c
}

// validate checks what Marshal writes and Parse accepts. Its errors carry no
// prefix: callers wrap them.
func (r *Record) validate() string {
	switch {
	case r.Format != Format1 && r.Format != Format2:
		return "unknown record format"
	case r.Generation < 1:
		return "generation 0"
	case r.Format == Format1 && r.Generation != 1:
		return "a format 1 record is generation 1"
	case r.Format == Format1 && r.KeyCheck != (KeyCheck{}):
		return "a format 1 record has no key check"
	}
	if err := ValidateLabel(r.Label); err != nil {
		return "invalid label"
	}
	if u := r.Created.Unix(); u < minUnix || u > maxUnix {
		return "creation time out of range"
	}
	if r.Scheme.Validate() != nil {
		return "invalid scheme"
	}
	if len(r.Share) != ShareSize {
		return "share has the wrong length"
	}
	if r.Share[ShareSize-1] == 0 {
		return "share has x = 0"
	}
	return ""
}

// appendTLV appends tag, a minimal definite length and v. v is at most 255
// bytes here, so the length is one byte or 81 xx. The value goes in through
// secmem.Copy (it may be the share). Marshal gives b room for the largest
// record, so b never grows there: a reallocation would leave a copy of what
// b held already.
func appendTLV(b []byte, tag byte, v []byte) []byte {
	b = append(b, tag)
	if len(v) >= 0x80 {
		b = append(b, 0x81)
	}
	b = append(b, byte(len(v)))
	n := len(b)
	b = append(b, make([]byte, len(v))...)
	secmem.Copy(b[n:], v)
	return b
}

// cloneSecret returns a copy of a secret in a fresh slice, made through
// secmem.Copy.
func cloneSecret(b []byte) []byte {
	out := make([]byte, len(b))
	secmem.Copy(out, b)
	return out
}

// Marshal encodes a record for the card (≤ 255 bytes, with checksum) in its
// Format. The creation time is stored in whole seconds. The result holds the share:
// clear it after writing it to the card.
func (r *Record) Marshal() ([]byte, error) {
	if reason := r.validate(); reason != "" {
		return nil, fmt.Errorf("quorum: cannot encode share record: %s", reason)
	}
	var created [8]byte
	u := uint64(r.Created.Unix())
	for i := range created {
		created[i] = byte(u >> (56 - 8*i))
	}

	// The record is built straight into the result, sized for the largest
	// record so that no reallocation leaves a stray copy of the share, and
	// with no buffer of its own for the content: one that does not escape
	// lives on the goroutine's stack, and a stack that grows meanwhile is
	// copied and the old one freed, share and all, where no wipe reaches.
	var gen [generationSize]byte
	g := uint32(r.Generation)
	gen[0], gen[1], gen[2], gen[3] = byte(g>>24), byte(g>>16), byte(g>>8), byte(g)
	elems := []struct {
		tag byte
		v   []byte
	}{
		{tagVersion, []byte{byte(r.Format)}},
		{tagKeySetID, r.KeySetID[:]},
		{tagLabel, []byte(r.Label)},
		{tagCreated, created[:]},
		{tagScheme, []byte{byte(r.Scheme.K), byte(r.Scheme.N)}},
		{tagShare, r.Share},
		{tagKCV, r.KCV[:]},
		{tagGeneration, gen[:]},
		{tagKeyCheck, r.KeyCheck[:]},
	}
	if r.Format == Format1 {
		elems = elems[:7]
	}
	n := checksumTLV
	for _, e := range elems {
		n += 2 + len(e.v)
		if len(e.v) >= 0x80 {
			n++
		}
	}
	out := make([]byte, 0, MaxRecordSize+3)
	out = append(out, tagRecord)
	if n >= 0x80 {
		out = append(out, 0x81)
	}
	out = append(out, byte(n))
	for _, e := range elems {
		out = appendTLV(out, e.tag, e.v)
	}
	sum := checksum(out)
	out = appendTLV(out, tagChecksum, sum[:])
	if len(out) > MaxRecordSize {
		secmem.Wipe(out)
		return nil, fmt.Errorf("quorum: share record is %d bytes, at most %d fit", len(out), MaxRecordSize)
	}
	return out, nil
}

// isEmpty reports a blank slot: no bytes, all zeros or all FF (erased).
func isEmpty(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	first := b[0]
	if first != 0x00 && first != 0xFF {
		return false
	}
	for _, c := range b {
		if c != first {
			return false
		}
	}
	return true
}

// readTLV reads one element with a minimal definite length from b, returning
// its tag, value and the rest.
func readTLV(b []byte) (tag byte, v, rest []byte, reason string) {
	if len(b) < 2 {
		return 0, nil, nil, "truncated element"
	}
	tag = b[0]
	if tag&0x1F == 0x1F {
		return 0, nil, nil, "multi-byte tag"
	}
	n, hdr := int(b[1]), 2
	switch {
	case n < 0x80:
	case n == 0x81:
		if len(b) < 3 {
			return 0, nil, nil, "truncated length"
		}
		n, hdr = int(b[2]), 3
		if n < 0x80 {
			return 0, nil, nil, "non-minimal length"
		}
	default:
		return 0, nil, nil, "unsupported length form"
	}
	if len(b)-hdr < n {
		return 0, nil, nil, "truncated element"
	}
	return tag, b[hdr : hdr+n], b[hdr+n:], ""
}

// Parse decodes EF 4B01 contents in format 1 or 2. Empty contents (no bytes,
// all zeros or all FF) yield ErrEmpty, a failed checksum or malformed TLV
// ErrCorrupt, an intact record of another format ErrUnknownVersion. Zero padding after the
// record is allowed, anything else is not. The returned Share is a fresh
// copy: wipe it when done.
func Parse(b []byte) (*Record, error) {
	if isEmpty(b) {
		return nil, ErrEmpty
	}
	if b[0] != tagRecord {
		return nil, corrupt("not a share record")
	}
	_, content, pad, reason := readTLV(b)
	if reason != "" {
		return nil, corrupt(reason)
	}
	for _, c := range pad {
		if c != 0 {
			return nil, corrupt("data after the record")
		}
	}
	whole := b[:len(b)-len(pad)]
	if len(whole) > MaxRecordSize {
		return nil, corrupt("record too long")
	}

	// The checksum comes last in every version: verify it before trusting
	// anything else, the version included.
	if len(content) < checksumTLV {
		return nil, corrupt("no checksum")
	}
	body := content[:len(content)-checksumTLV]
	ck := content[len(content)-checksumTLV:]
	if ck[0] != tagChecksum || ck[1] != checksumSize {
		return nil, corrupt("no checksum")
	}
	sum := checksum(whole[:len(whole)-checksumTLV])
	if !bytes.Equal(sum[:], ck[2:]) {
		return nil, corrupt("checksum mismatch")
	}

	// The version comes first in every version.
	tag, v, body, reason := readTLV(body)
	if reason != "" || tag != tagVersion || len(v) != 1 {
		return nil, corrupt("no format version")
	}
	format := int(v[0])
	if format != Format1 && format != Format2 {
		return nil, fmt.Errorf("%w (version %d)", ErrUnknownVersion, format)
	}

	// Every field once, in this order, with these lengths (-1: checked
	// below); format 2 adds the last two.
	fields := []struct {
		tag  byte
		size int
		name string
	}{
		{tagKeySetID, len(KeySetID{}), "key-set ID"},
		{tagLabel, -1, "label"},
		{tagCreated, 8, "creation time"},
		{tagScheme, 2, "scheme"},
		{tagShare, ShareSize, "share"},
		{tagKCV, len(KCV{}), "KCV"},
		{tagGeneration, generationSize, "generation"},
		{tagKeyCheck, len(KeyCheck{}), "key check"},
	}
	if format == Format1 {
		fields = fields[:6]
	}
	var vals [8][]byte
	for i, f := range fields {
		tag, v, body, reason = readTLV(body)
		if reason != "" {
			return nil, corrupt(f.name + ": " + reason)
		}
		if tag != f.tag {
			return nil, corrupt("unexpected element where the " + f.name + " belongs")
		}
		if f.size >= 0 && len(v) != f.size {
			return nil, corrupt(f.name + " has the wrong length")
		}
		vals[i] = v
	}
	if len(body) != 0 {
		return nil, corrupt("unexpected element after the " + fields[len(fields)-1].name)
	}

	r := &Record{Format: format, Label: string(vals[1]), Generation: 1}
	copy(r.KeySetID[:], vals[0])
	var u uint64
	for _, c := range vals[2] {
		u = u<<8 | uint64(c)
	}
	if u > maxUnix {
		return nil, corrupt("creation time out of range")
	}
	r.Created = time.Unix(int64(u), 0).UTC()
	r.Scheme = Scheme{int(vals[3][0]), int(vals[3][1])}
	copy(r.KCV[:], vals[5])
	if format == Format2 {
		var g uint32
		for _, c := range vals[6] {
			g = g<<8 | uint32(c)
		}
		r.Generation = Generation(g)
		copy(r.KeyCheck[:], vals[7])
	}
	r.Share = cloneSecret(vals[4])
	if reason := r.validate(); reason != "" {
		r.Wipe()
		return nil, corrupt(reason)
	}
	return r, nil
}
