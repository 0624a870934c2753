package quorum

import (
	"bytes"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hashicorp/vault/shamir"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

var update = flag.Bool("update", false, "rewrite testdata/record-v1.txt and record-v2.txt")

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

// The worked examples of FORMAT.md: real 2-of-3 splits of the key 00 01 …
// 1f, made once with shamir.Split and fixed here. Format 1: the install;
// format 2: the same key re-issued as generation 2.
var (
	exampleKey    = mustHex("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	exampleShares = [][]byte{
		mustHex("a2ade2c58cdd0fb16052af6eacf5fa99c96b77711bbab01d7ac044c9f36b7d672c"),
		mustHex("f072ea2b50d7495bb427362d1b2d4aa13c3334f9697f3341f2351f9f895b0ada96"),
		mustHex("8ecf6e3e5172660c3181a4dd486ee71002e8c4e5317417d8ee0b78a3556e8d2c9e"),
	}
	exampleShares2 = [][]byte{
		mustHex("735f5b2a118bf7673141903289506895f84d40dff3058bee87d0ad8de21d556108"),
		mustHex("383e5e3536b9d1a9fa5643f980600446a6bb7e07a3d13ca2a7fb5401ca1d13b362"),
		mustHex("9a43a13295f8411cb0d297b330470592e6aa7005ca9c6a999d175fa6731dcd54c9"),
	}
)

// exampleRecord is share i of the format 1 example.
func exampleRecord(t testing.TB, share int) *Record {
	t.Helper()
	k, err := NewKey(exampleKey)
	if err != nil {
		t.Fatal(err)
	}
	var id KeySetID
	copy(id[:], mustHex("5f2c1d3e4b6a79880716253443526170"))
	return &Record{
		Format:     Format1,
		KeySetID:   id,
		Generation: 1,
		Label:      "Cluster Berlin",
		Created:    time.Date(2025, 3, 14, 14, 9, 26, 0, time.UTC),
		Scheme:     TwoOfThree,
		Share:      bytes.Clone(exampleShares[share]),
		KCV:        k.KCV(),
	}
}

// exampleRecord2 is share i of the format 2 example: the same key, re-issued
// as generation 2.
func exampleRecord2(t testing.TB, share int) *Record {
	t.Helper()
	k, err := NewKey(exampleKey)
	if err != nil {
		t.Fatal(err)
	}
	var id KeySetID
	copy(id[:], mustHex("b30a3267dfbd63a886cf59dbc1ae39e4"))
	return &Record{
		Format:     Format2,
		KeySetID:   id,
		Generation: 2,
		Label:      "Cluster Berlin",
		Created:    time.Date(2026, 1, 12, 9, 30, 0, 0, time.UTC),
		Scheme:     TwoOfThree,
		Share:      bytes.Clone(exampleShares2[share]),
		KCV:        k.KCV(),
		KeyCheck:   k.Check(),
	}
}

func exampleBytes(t testing.TB) []byte {
	t.Helper()
	b, err := exampleRecord(t, 0).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func exampleBytes2(t testing.TB) []byte {
	t.Helper()
	b, err := exampleRecord2(t, 0).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dump annotates an encoded record, one element a line, for the golden files
// and FORMAT.md.
func dump(b []byte) (string, error) {
	names := map[byte]string{
		tagVersion: "version", tagKeySetID: "key-set ID", tagLabel: "label (UTF-8)",
		tagCreated: "created (unix seconds)", tagScheme: "k, n", tagShare: "share (y[32], x)",
		tagKCV: "KCV", tagGeneration: "generation", tagKeyCheck: "key check",
		tagChecksum: "checksum (SHA-256[:8])",
	}
	var sb strings.Builder
	_, content, _, reason := readTLV(b)
	if reason != "" {
		return "", errors.New(reason)
	}
	hdr := b[:len(b)-len(content)]
	fmt.Fprintf(&sb, "% X  record\n", hdr)
	for len(content) > 0 {
		_, v, rest, reason := readTLV(content)
		if reason != "" {
			return "", errors.New(reason)
		}
		el := content[:len(content)-len(rest)]
		h := el[:len(el)-len(v)]
		fmt.Fprintf(&sb, "   % X  %s\n", h, names[el[0]])
		for len(v) > 0 {
			n := min(len(v), 16)
			fmt.Fprintf(&sb, "      % X\n", v[:n])
			v = v[n:]
		}
		content = rest
	}
	return sb.String(), nil
}

func TestExampleIsReal(t *testing.T) {
	for _, shares := range [][][]byte{exampleShares, exampleShares2} {
		for _, pair := range [][2]int{{0, 1}, {1, 2}, {2, 0}} {
			got, err := shamir.Combine([][]byte{shares[pair[0]], shares[pair[1]]})
			if err != nil || !bytes.Equal(got, exampleKey) {
				t.Fatalf("example shares %v do not rebuild the example key", pair)
			}
		}
	}
	// Shares of the two generations do not mix: one of each combines to
	// some other value, which the checks refuse.
	for _, i := range []int{0, 1, 2} {
		for _, j := range []int{0, 1, 2} {
			k, err := Combine(exampleRecord2(t, 0).KeySet(), [][]byte{exampleShares[i], exampleShares2[j]})
			if !errors.Is(err, ErrKCV) || k != nil {
				t.Fatalf("format 1 share %d with format 2 share %d: %v", i, j, err)
			}
		}
	}
	// And the examples' records rebuild it with their checks.
	for _, mk := range []func(testing.TB, int) *Record{exampleRecord, exampleRecord2} {
		c := NewCollector(nil)
		for _, i := range []int{2, 0} {
			if err := c.Add(mk(t, i)); err != nil {
				t.Fatal(err)
			}
		}
		k, err := c.Combine()
		if err != nil || !bytes.Equal(k.Bytes(), exampleKey) {
			t.Fatalf("Combine = %v", err)
		}
	}
}

// TestGolden pins the encodings of the FORMAT.md examples; run with -update
// to rewrite testdata/record-v1.txt and record-v2.txt, then paste them into
// FORMAT.md.
func TestGolden(t *testing.T) {
	for _, tc := range []struct {
		file string
		rec  func(testing.TB, int) *Record
	}{
		{"record-v1.txt", exampleRecord},
		{"record-v2.txt", exampleRecord2},
	} {
		t.Run(tc.file, func(t *testing.T) {
			b, err := tc.rec(t, 0).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			d, err := dump(b)
			if err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprintf("%s\n%s", hex.EncodeToString(b), d)
			path := filepath.Join("testdata", tc.file)
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Fatalf("encoding changed:\n got %s\nwant %s", got, want)
			}
			doc, err := os.ReadFile("FORMAT.md")
			if err != nil {
				t.Fatal(err)
			}
			// The document shows the example verbatim: hex on one line, and
			// the annotated dump as one block.
			doc = bytes.ReplaceAll(doc, []byte("\r\n"), []byte("\n"))
			if !bytes.Contains(doc, []byte(hex.EncodeToString(b)+"\n")) || !bytes.Contains(doc, []byte(d)) {
				t.Errorf("FORMAT.md does not show the example as in %s", path)
			}
			// And the example decodes to what it says.
			r, err := Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, tc.rec(t, 0)) {
				t.Fatalf("Parse(example) = %+v", r)
			}
		})
	}
}

// TestFormatDocFacts keeps the numbers FORMAT.md states true: the key check
// and KCV of the example key, the largest records.
func TestFormatDocFacts(t *testing.T) {
	doc, err := os.ReadFile("FORMAT.md")
	if err != nil {
		t.Fatal(err)
	}
	k, err := NewKey(exampleKey)
	if err != nil {
		t.Fatal(err)
	}
	kc, kv := k.Check(), k.KCV()
	for _, want := range []string{
		fmt.Sprintf("KCV `% X`", kv[:]),
		fmt.Sprintf("key check `% X`", kc[:]),
		"(a label of 128 bytes) is 219 bytes in format 1 and 243 in format 2",
	} {
		if !bytes.Contains(doc, []byte(want)) {
			t.Errorf("FORMAT.md does not say %q", want)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	recs := []*Record{exampleRecord(t, 1)}
	for _, s := range []Scheme{TwoOfThree, ThreeOfFive, {9, 9}} {
		_, g, err := Generate(strings.Repeat("é", MaxLabelLen), s, testNow)
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, g...)
	}
	edge := exampleRecord(t, 2)
	edge.Created = time.Unix(maxUnix, 0).UTC()
	edge.Label = strings.Repeat("🔑", MaxLabelLen) // 128 bytes: long-form length
	edge2 := exampleRecord2(t, 1)
	edge2.Created, edge2.Label = edge.Created, edge.Label
	edge2.Generation = 1<<32 - 1
	recs = append(recs, edge, edge2, exampleRecord2(t, 2))
	largest := map[*Record]int{edge: 219, edge2: 243}
	for i, r := range recs {
		b, err := r.Marshal()
		if err != nil {
			t.Fatalf("%d: %v", i, err)
		}
		if n, ok := largest[r]; len(b) > MaxRecordSize || ok && len(b) != n {
			t.Fatalf("%d: %d bytes (FORMAT.md: the largest record is %d)", i, len(b), n)
		}
		for _, pad := range []int{0, 1, MaxRecordSize - len(b)} {
			p, err := Parse(append(bytes.Clone(b), make([]byte, pad)...))
			if err != nil {
				t.Fatalf("%d, pad %d: %v", i, pad, err)
			}
			if !reflect.DeepEqual(p, r) {
				t.Fatalf("%d, pad %d: round trip changed the record", i, pad)
			}
		}
	}
}

func TestMarshalRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Record)
	}{
		{"empty label", func(r *Record) { r.Label = "" }},
		{"long label", func(r *Record) { r.Label = strings.Repeat("a", MaxLabelLen+1) }},
		{"control in label", func(r *Record) { r.Label = "a\x00b" }},
		{"scheme 1 of 3", func(r *Record) { r.Scheme = Scheme{1, 3} }},
		{"scheme 3 of 2", func(r *Record) { r.Scheme = Scheme{3, 2} }},
		{"scheme 2 of 10", func(r *Record) { r.Scheme = Scheme{2, 10} }},
		{"short share", func(r *Record) { r.Share = r.Share[:KeySize] }},
		{"long share", func(r *Record) { r.Share = append(r.Share, 1) }},
		{"no share", func(r *Record) { r.Share = nil }},
		{"x = 0", func(r *Record) { r.Share[KeySize] = 0 }},
		{"zero time", func(r *Record) { r.Created = time.Time{} }},
		{"year 10000", func(r *Record) { r.Created = time.Unix(maxUnix+1, 0) }},
		{"no format", func(r *Record) { r.Format = 0 }},
		{"format 3", func(r *Record) { r.Format = 3 }},
		{"generation 0", func(r *Record) { r.Generation = 0 }},
	}
	for _, tt := range tests {
		for _, mk := range []func(testing.TB, int) *Record{exampleRecord, exampleRecord2} {
			r := mk(t, 0)
			t.Run(fmt.Sprintf("%s/format %d", tt.name, r.Format), func(t *testing.T) {
				tt.change(r)
				if b, err := r.Marshal(); err == nil {
					t.Fatalf("Marshal = %X, want an error", b)
				}
			})
		}
	}
	// Format 1 has no place for a generation or a key check: a record that
	// carries either cannot be written as format 1.
	for name, change := range map[string]func(r *Record){
		"format 1, generation 2": func(r *Record) { r.Generation = 2 },
		"format 1, key check":    func(r *Record) { r.KeyCheck = exampleRecord2(t, 0).KeyCheck },
	} {
		r := exampleRecord(t, 0)
		change(r)
		if b, err := r.Marshal(); err == nil {
			t.Errorf("%s: Marshal = %X, want an error", name, b)
		}
	}
}

// TestCopyKeepsFormat: a record read from a card and written again (what
// Copy does) is byte-identical in either format (docs/lifecycle.md, "Copy").
func TestCopyKeepsFormat(t *testing.T) {
	for _, b := range [][]byte{exampleBytes(t), exampleBytes2(t)} {
		p, err := Parse(append(bytes.Clone(b), make([]byte, MaxRecordSize-len(b))...))
		if err != nil {
			t.Fatal(err)
		}
		again, err := p.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("format %d: written again as\n% X\nnot\n% X", p.Format, again, b)
		}
	}
}

func TestParseEmpty(t *testing.T) {
	for _, b := range [][]byte{nil, {}, {0}, make([]byte, MaxRecordSize), bytes.Repeat([]byte{0xFF}, MaxRecordSize)} {
		if _, err := Parse(b); err != ErrEmpty {
			t.Errorf("Parse(% X…) = %v, want ErrEmpty", b[:min(len(b), 4)], err)
		}
	}
}

// elem is one TLV for hand-built records; hdr, when set, replaces the
// tag-and-length header.
type elem struct {
	tag byte
	v   []byte
	hdr []byte
}

// exampleElems are the elements of the format 1 example, exampleElems2 of
// the format 2 one.
func exampleElems(t testing.TB) []elem { return elemsOf(exampleRecord(t, 0)) }

func exampleElems2(t testing.TB) []elem { return elemsOf(exampleRecord2(t, 0)) }

func elemsOf(r *Record) []elem {
	var created [8]byte
	u := r.Created.Unix()
	for i := range created {
		created[i] = byte(u >> (56 - 8*i))
	}
	es := []elem{
		{tag: tagVersion, v: []byte{byte(r.Format)}},
		{tag: tagKeySetID, v: r.KeySetID[:]},
		{tag: tagLabel, v: []byte(r.Label)},
		{tag: tagCreated, v: created[:]},
		{tag: tagScheme, v: []byte{byte(r.Scheme.K), byte(r.Scheme.N)}},
		{tag: tagShare, v: r.Share},
		{tag: tagKCV, v: r.KCV[:]},
	}
	if r.Format == Format2 {
		g := uint32(r.Generation)
		es = append(es, elem{tag: tagGeneration, v: []byte{byte(g >> 24), byte(g >> 16), byte(g >> 8), byte(g)}},
			elem{tag: tagKeyCheck, v: r.KeyCheck[:]})
	}
	return es
}

// build encodes elems in a record with a correct checksum, so that the parser
// is tested on structure rather than on the checksum.
func build(elems []elem, outerHdr []byte) []byte {
	var content []byte
	for _, e := range elems {
		if e.hdr != nil {
			content = append(content, e.hdr...)
			content = append(content, e.v...)
		} else {
			content = appendTLV(content, e.tag, e.v)
		}
	}
	n := len(content) + checksumTLV
	out := outerHdr
	if out == nil {
		out = []byte{tagRecord}
		if n >= 0x80 {
			out = append(out, 0x81)
		}
		out = append(out, byte(n))
	}
	out = append(out, content...)
	sum := checksum(out)
	return appendTLV(out, tagChecksum, sum[:])
}

func TestParseStrict(t *testing.T) {
	with := func(i int, e elem) func([]elem) []elem {
		return func(es []elem) []elem { es[i] = e; return es }
	}
	tests := []struct {
		name   string
		change func([]elem) []elem
		outer  []byte
		want   error
	}{
		{name: "valid", change: func(es []elem) []elem { return es }},
		{name: "version 3", change: with(0, elem{tag: tagVersion, v: []byte{3}}), want: ErrUnknownVersion},
		{name: "version 2 without its fields", change: with(0, elem{tag: tagVersion, v: []byte{2}}), want: ErrCorrupt},
		{name: "format 2 fields in version 1", change: func(es []elem) []elem { return append(es, exampleElems2(t)[7:]...) }, want: ErrCorrupt},
		{name: "version 0", change: with(0, elem{tag: tagVersion, v: []byte{0}}), want: ErrUnknownVersion},
		{name: "version 2 bytes", change: with(0, elem{tag: tagVersion, v: []byte{0, 1}}), want: ErrCorrupt},
		{name: "version not first", change: func(es []elem) []elem { es[0], es[1] = es[1], es[0]; return es }, want: ErrCorrupt},
		{name: "no version", change: func(es []elem) []elem { return es[1:] }, want: ErrCorrupt},
		{name: "no KCV", change: func(es []elem) []elem { return es[:6] }, want: ErrCorrupt},
		{name: "no share", change: func(es []elem) []elem { return append(es[:5], es[6]) }, want: ErrCorrupt},
		{name: "unknown tag", change: func(es []elem) []elem { return append(es, elem{tag: 0x87, v: []byte{0}}) }, want: ErrCorrupt},
		{name: "field twice", change: func(es []elem) []elem { return append(es, es[6]) }, want: ErrCorrupt},
		{name: "swapped fields", change: func(es []elem) []elem { es[3], es[4] = es[4], es[3]; return es }, want: ErrCorrupt},
		{name: "short key-set ID", change: with(1, elem{tag: tagKeySetID, v: make([]byte, 15)}), want: ErrCorrupt},
		{name: "short time", change: with(3, elem{tag: tagCreated, v: []byte{0x67, 0xd4, 0x38, 0x6e}}), want: ErrCorrupt},
		{name: "time after 9999", change: with(3, elem{tag: tagCreated, v: bytes.Repeat([]byte{0xFF}, 8)}), want: ErrCorrupt},
		{name: "scheme 3 bytes", change: with(4, elem{tag: tagScheme, v: []byte{2, 3, 0}}), want: ErrCorrupt},
		{name: "scheme 1 of 3", change: with(4, elem{tag: tagScheme, v: []byte{1, 3}}), want: ErrCorrupt},
		{name: "scheme 4 of 3", change: with(4, elem{tag: tagScheme, v: []byte{4, 3}}), want: ErrCorrupt},
		{name: "scheme 2 of 10", change: with(4, elem{tag: tagScheme, v: []byte{2, 10}}), want: ErrCorrupt},
		{name: "short share", change: with(5, elem{tag: tagShare, v: make([]byte, KeySize)}), want: ErrCorrupt},
		{name: "long share", change: with(5, elem{tag: tagShare, v: append(bytes.Clone(exampleShares[0]), 1)}), want: ErrCorrupt},
		{name: "share x = 0", change: with(5, elem{tag: tagShare, v: append(bytes.Clone(exampleShares[0][:KeySize]), 0)}), want: ErrCorrupt},
		{name: "long KCV", change: with(6, elem{tag: tagKCV, v: make([]byte, 4)}), want: ErrCorrupt},
		{name: "empty label", change: with(2, elem{tag: tagLabel, v: nil}), want: ErrCorrupt},
		{name: "label with NUL", change: with(2, elem{tag: tagLabel, v: []byte("a\x00b")}), want: ErrCorrupt},
		{name: "label with ESC", change: with(2, elem{tag: tagLabel, v: []byte("\x1b[31mred")}), want: ErrCorrupt},
		{name: "label not UTF-8", change: with(2, elem{tag: tagLabel, v: []byte{0xC3, 0x28}}), want: ErrCorrupt},
		{name: "label 33 chars", change: with(2, elem{tag: tagLabel, v: bytes.Repeat([]byte("a"), 33)}), want: ErrCorrupt},
		{name: "non-minimal length", change: with(2, elem{hdr: []byte{tagLabel, 0x81, 14}, v: []byte("Cluster Berlin")}), want: ErrCorrupt},
		{name: "indefinite length", change: with(2, elem{hdr: []byte{tagLabel, 0x80}, v: []byte("Cluster Berlin\x00\x00")}), want: ErrCorrupt},
		{name: "two-byte length", change: with(2, elem{hdr: []byte{tagLabel, 0x82, 0, 14}, v: []byte("Cluster Berlin")}), want: ErrCorrupt},
		{name: "multi-byte tag", change: func(es []elem) []elem { return append(es, elem{hdr: []byte{0x9F, 0x20, 1}, v: []byte{0}}) }, want: ErrCorrupt},
		{name: "non-minimal outer length", change: func(es []elem) []elem { return es }, outer: []byte{tagRecord, 0x81, 111}, want: ErrCorrupt},
		{name: "other outer tag", change: func(es []elem) []elem { return es }, outer: []byte{0xE2, 111}, want: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := build(tt.change(exampleElems(t)), tt.outer)
			r, err := Parse(b)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Parse: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) || r != nil {
				t.Fatalf("Parse = %v, %v; want %v", r, err, tt.want)
			}
			if tt.want == ErrCorrupt && errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("%v is both corrupt and of an unknown version", err)
			}
		})
	}
}

// TestParseStrict2 is TestParseStrict's cases that format 2 adds.
func TestParseStrict2(t *testing.T) {
	with := func(i int, e elem) func([]elem) []elem {
		return func(es []elem) []elem { es[i] = e; return es }
	}
	tests := []struct {
		name   string
		change func([]elem) []elem
		want   error
	}{
		{name: "valid", change: func(es []elem) []elem { return es }},
		{name: "version 1 with format 2 fields", change: with(0, elem{tag: tagVersion, v: []byte{1}}), want: ErrCorrupt},
		{name: "generation 0", change: with(7, elem{tag: tagGeneration, v: []byte{0, 0, 0, 0}}), want: ErrCorrupt},
		{name: "generation 3 bytes", change: with(7, elem{tag: tagGeneration, v: []byte{0, 0, 2}}), want: ErrCorrupt},
		{name: "generation 8 bytes", change: with(7, elem{tag: tagGeneration, v: []byte{0, 0, 0, 0, 0, 0, 0, 2}}), want: ErrCorrupt},
		{name: "key check 8 bytes", change: with(8, elem{tag: tagKeyCheck, v: make([]byte, 8)}), want: ErrCorrupt},
		{name: "key check 3 bytes", change: with(8, elem{tag: tagKeyCheck, v: make([]byte, 3)}), want: ErrCorrupt},
		{name: "no key check", change: func(es []elem) []elem { return es[:8] }, want: ErrCorrupt},
		{name: "no generation", change: func(es []elem) []elem { return append(es[:7], es[8]) }, want: ErrCorrupt},
		{name: "generation and key check swapped", change: func(es []elem) []elem { es[7], es[8] = es[8], es[7]; return es }, want: ErrCorrupt},
		{name: "generation before the KCV", change: func(es []elem) []elem { es[6], es[7] = es[7], es[6]; return es }, want: ErrCorrupt},
		{name: "element after the key check", change: func(es []elem) []elem { return append(es, elem{tag: 0x89, v: []byte{0}}) }, want: ErrCorrupt},
		{name: "key check twice", change: func(es []elem) []elem { return append(es, es[8]) }, want: ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Parse(build(tt.change(exampleElems2(t)), nil))
			if tt.want == nil {
				if err != nil || r.Format != Format2 || r.Generation != 2 {
					t.Fatalf("Parse = %+v, %v", r, err)
				}
				return
			}
			if !errors.Is(err, tt.want) || r != nil || errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("Parse = %v, %v; want %v", r, err, tt.want)
			}
		})
	}
}

func TestParseDamage(t *testing.T) {
	t.Run("format 1", func(t *testing.T) { testParseDamage(t, exampleBytes(t), exampleShares[0], exampleElems(t)) })
	t.Run("format 2", func(t *testing.T) { testParseDamage(t, exampleBytes2(t), exampleShares2[0], exampleElems2(t)) })
}

func testParseDamage(t *testing.T, b, share []byte, elems []elem) {
	check := func(t *testing.T, what string, d []byte) {
		t.Helper()
		r, err := Parse(d)
		if !errors.Is(err, ErrCorrupt) || r != nil {
			t.Fatalf("%s: Parse = %v, %v; want ErrCorrupt", what, r, err)
		}
		msg := err.Error()
		if strings.Contains(msg, hexOf(share[:4])) || strings.Contains(strings.ToUpper(msg), strings.ToUpper(hexOf(share[:4]))) ||
			strings.Contains(msg, string(share[:4])) {
			t.Fatalf("%s: error %q shows share bytes", what, msg)
		}
	}
	for n := 1; n < len(b); n++ {
		check(t, fmt.Sprintf("truncated to %d", n), b[:n])
		// A truncated record on a card is followed by its zero padding.
		check(t, fmt.Sprintf("truncated to %d, padded", n), append(bytes.Clone(b[:n]), make([]byte, MaxRecordSize-n)...))
	}
	padded := append(bytes.Clone(b), make([]byte, MaxRecordSize-len(b))...)
	for i := range padded {
		for bit := range 8 {
			d := bytes.Clone(padded)
			d[i] ^= 1 << bit
			check(t, fmt.Sprintf("bit %d of byte %d flipped", bit, i), d)
		}
	}
	ff := append(bytes.Clone(b), bytes.Repeat([]byte{0xFF}, MaxRecordSize-len(b))...)
	check(t, "FF padding", ff)
	check(t, "over 255 bytes", build(append(elems, elem{tag: 0x89, v: make([]byte, 150)}), nil))
}

func FuzzParse(f *testing.F) {
	b := exampleBytes(f)
	f.Add(b)
	f.Add(append(bytes.Clone(b), make([]byte, MaxRecordSize-len(b))...))
	f.Add(b[:len(b)/2])
	f.Add(make([]byte, MaxRecordSize))
	f.Add(bytes.Repeat([]byte{0xFF}, 16))
	es := exampleElems(f)
	es[0] = elem{tag: tagVersion, v: []byte{3}}
	f.Add(build(es, nil))
	es = exampleElems(f)
	es[2] = elem{tag: tagLabel, v: []byte(strings.Repeat("🔑", MaxLabelLen))}
	f.Add(build(es, nil))
	b2 := exampleBytes2(f)
	f.Add(b2)
	f.Add(append(bytes.Clone(b2), make([]byte, MaxRecordSize-len(b2))...))
	es = exampleElems2(f)
	es[2] = elem{tag: tagLabel, v: []byte(strings.Repeat("🔑", MaxLabelLen))}
	f.Add(build(es, nil))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := Parse(in)
		if err != nil {
			if r != nil {
				t.Fatal("Parse returned a record and an error")
			}
			if !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("parsed record does not marshal: %v", err)
		}
		if !bytes.Equal(out, in[:len(out)]) || !bytes.Equal(in[len(out):], make([]byte, len(in)-len(out))) {
			t.Fatalf("re-marshal differs:\n in % X\nout % X", in, out)
		}
		if !utf8.ValidString(r.Label) {
			t.Fatal("parsed label is not UTF-8")
		}
		if safetext.Clean(r.Label) != r.Label {
			t.Fatalf("parsed label %q holds what a terminal acts on", r.Label)
		}
		if r.Generation < 1 || r.Format == Format1 && (r.Generation != 1 || r.KeyCheck != (KeyCheck{})) {
			t.Fatalf("format %d record of generation %d", r.Format, r.Generation)
		}
	})
}

// FuzzParseBody fuzzes what lies inside a record with a valid checksum, which
// random bytes almost never reach through FuzzParse.
func FuzzParseBody(f *testing.F) {
	b := exampleBytes(f)
	f.Add(b[2 : len(b)-checksumTLV])
	es := exampleElems(f)
	es[2] = elem{tag: tagLabel, v: []byte(strings.Repeat("🔑", MaxLabelLen))}
	long := build(es, nil)
	f.Add(long[3 : len(long)-checksumTLV])
	f.Add([]byte{tagVersion, 1, 2})
	b2 := exampleBytes2(f)
	f.Add(b2[2 : len(b2)-checksumTLV])
	es = exampleElems2(f)
	es[2] = elem{tag: tagLabel, v: []byte(strings.Repeat("🔑", MaxLabelLen))}
	long2 := build(es, nil)
	f.Add(long2[3 : len(long2)-checksumTLV])
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body)+checksumTLV > 0xFF {
			return
		}
		in := build([]elem{{hdr: []byte{}, v: body}}, nil)
		r, err := Parse(in)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrUnknownVersion) {
				t.Fatalf("unexpected error kind: %v", err)
			}
			return
		}
		if safetext.Clean(r.Label) != r.Label {
			t.Fatalf("parsed label %q holds what a terminal acts on", r.Label)
		}
		out, err := r.Marshal()
		if err != nil {
			t.Fatalf("parsed record does not marshal: %v", err)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("re-marshal differs:\n in % X\nout % X", in, out)
		}
	})
}
