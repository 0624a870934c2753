package part10

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

func TestParseFeatures(t *testing.T) {
	tests := []struct {
		name    string
		in      []byte
		want    Features
		wantErr bool
	}{
		{name: "empty reply", in: nil, want: Features{}},
		{
			// What a cyberJack-like reader announces: 06 and 07 only.
			name: "verify and modify",
			in: []byte{
				0x06, 0x04, 0x42, 0x33, 0x00, 0x06, // VERIFY_PIN_DIRECT → 0x42330006
				0x07, 0x04, 0x42, 0x33, 0x00, 0x07, // MODIFY_PIN_DIRECT → 0x42330007
			},
			want: Features{FeatureVerifyPINDirect: 0x42330006, FeatureModifyPINDirect: 0x42330007},
		},
		{
			// Big-endian: the first ioctl byte is the most significant.
			name: "byte order",
			in:   []byte{0x12, 0x04, 0x01, 0x02, 0x03, 0x04},
			want: Features{FeatureGetTLVProperties: 0x01020304},
		},
		{name: "truncated entry", in: []byte{0x06, 0x04, 0x42, 0x33, 0x00}, wantErr: true},
		{name: "trailing byte", in: []byte{0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07}, wantErr: true},
		{name: "length 2", in: []byte{0x06, 0x02, 0x42, 0x33, 0x00, 0x06}, wantErr: true},
		{
			name: "tag twice",
			in: []byte{
				0x06, 0x04, 0x42, 0x33, 0x00, 0x06,
				0x06, 0x04, 0x42, 0x33, 0x00, 0x08,
			},
			wantErr: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFeatures(tt.in)
			if tt.wantErr {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("ParseFeatures(% X) error = %v, want ErrMalformed", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseFeatures(% X): %v", tt.in, err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("ParseFeatures(% X) = %v, want %v", tt.in, got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Errorf("feature %02X = %#08x, want %#08x", byte(k), got[k], v)
				}
			}
		})
	}
}

func FuzzParseFeatures(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x06, 0x04, 0x42, 0x33, 0x00, 0x06, 0x07, 0x04, 0x42, 0x33, 0x00, 0x07})
	f.Add([]byte{0x06, 0x04, 0x42})
	f.Add([]byte{0x06, 0x05, 0x42, 0x33, 0x00, 0x06})
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseFeatures(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not match ErrMalformed", err)
			}
			return
		}
		// A valid list has one entry per 6 bytes, and re-encoding gives the
		// ioctls back where they were.
		if len(got)*6 != len(b) {
			t.Fatalf("%d features from %d bytes", len(got), len(b))
		}
		for i := 0; i < len(b); i += 6 {
			v := uint32(b[i+2])<<24 | uint32(b[i+3])<<16 | uint32(b[i+4])<<8 | uint32(b[i+5])
			if got[Feature(b[i])] != v {
				t.Fatalf("feature %02X = %#x, want %#x", b[i], got[Feature(b[i])], v)
			}
		}
	})
}

func TestVerifyMarshal(t *testing.T) {
	tests := []struct {
		name string
		v    Verify
		want []byte
	}{
		{
			name: "TCOS slot PIN, 30 s, 6..15 digits",
			v:    Verify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: [4]byte{0x00, 0x20, 0x00, 0x81}},
			want: []byte{
				0x1E,       // bTimerOut: 30 s
				0x00,       // bTimerOut2
				0x82,       // bmFormatString: bytes, offset 0, left, ASCII
				0x00,       // bmPINBlockString: no length field, block = typed digits
				0x00,       // bmPINLengthFormat: length not inserted
				0x0F, 0x06, // wPINMaxExtraDigit 0x060F: max 15, min 6 (LE)
				0x02,       // bEntryValidationCondition: OK key
				0x01,       // bNumberMessage: one prompt
				0x09, 0x04, // wLangId 0x0409 (LE)
				0x00,             // bMsgIndex: "enter PIN"
				0x00, 0x00, 0x00, // bTeoPrologue
				0x05, 0x00, 0x00, 0x00, // ulDataLength 5 (LE)
				0x00, 0x20, 0x00, 0x81, 0x00, // abData: VERIFY header, Lc placeholder
			},
		},
		{
			name: "timeout rounds up, other lengths and prompt",
			v:    Verify{Timeout: 1500 * time.Millisecond, MinLen: 4, MaxLen: 8, Header: [4]byte{0x80, 0x20, 0x01, 0x02}, MsgIndex: 1},
			want: []byte{
				0x02,       // bTimerOut: 1.5 s → 2 s
				0x00,       // bTimerOut2
				0x82,       // bmFormatString
				0x00,       // bmPINBlockString
				0x00,       // bmPINLengthFormat
				0x08, 0x04, // wPINMaxExtraDigit 0x0408: max 8, min 4
				0x02,       // bEntryValidationCondition
				0x01,       // bNumberMessage
				0x09, 0x04, // wLangId
				0x01,             // bMsgIndex
				0x00, 0x00, 0x00, // bTeoPrologue
				0x05, 0x00, 0x00, 0x00, // ulDataLength
				0x80, 0x20, 0x01, 0x02, 0x00, // abData
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.v.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Marshal() =\n% X\nwant\n% X", got, tt.want)
			}
		})
	}
}

func TestModifyMarshal(t *testing.T) {
	m := Modify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: [4]byte{0x00, 0x24, 0x00, 0x81}}
	want := []byte{
		0x1E,       // bTimerOut: 30 s
		0x00,       // bTimerOut2
		0x82,       // bmFormatString: bytes, offset 0, left, ASCII
		0x00,       // bmPINBlockString
		0x00,       // bmPINLengthFormat
		0x00,       // bInsertionOffsetOld
		0x00,       // bInsertionOffsetNew
		0x0F, 0x06, // wPINMaxExtraDigit: max 15, min 6
		0x03,       // bConfirmPIN: current PIN + new PIN twice
		0x02,       // bEntryValidationCondition: OK key
		0x03,       // bNumberMessage: three prompts
		0x09, 0x04, // wLangId 0x0409
		0x00,             // bMsgIndex1: current PIN
		0x01,             // bMsgIndex2: new PIN
		0x02,             // bMsgIndex3: confirm
		0x00, 0x00, 0x00, // bTeoPrologue
		0x05, 0x00, 0x00, 0x00, // ulDataLength 5
		0x00, 0x24, 0x00, 0x81, 0x00, // abData: CHANGE REFERENCE DATA header, Lc placeholder
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal() =\n% X\nwant\n% X", got, want)
	}
}

func TestMarshalRejects(t *testing.T) {
	hdr := [4]byte{0x00, 0x20, 0x00, 0x81}
	bad := []Verify{
		{Timeout: 0, MinLen: 6, MaxLen: 15, Header: hdr},
		{Timeout: 256 * time.Second, MinLen: 6, MaxLen: 15, Header: hdr},
		{Timeout: time.Second, MinLen: 0, MaxLen: 15, Header: hdr},
		{Timeout: time.Second, MinLen: 6, MaxLen: 16, Header: hdr}, // cyberJack limit
		{Timeout: time.Second, MinLen: 8, MaxLen: 6, Header: hdr},
	}
	for _, v := range bad {
		if b, err := v.Marshal(); err == nil {
			t.Errorf("Verify%+v.Marshal() = % X, want error", v, b)
		}
		m := Modify{Timeout: v.Timeout, MinLen: v.MinLen, MaxLen: v.MaxLen, Header: v.Header}
		if b, err := m.Marshal(); err == nil {
			t.Errorf("Modify%+v.Marshal() = % X, want error", m, b)
		}
	}
	if _, err := (Verify{Timeout: 255 * time.Second, MinLen: 1, MaxLen: 15, Header: hdr}).Marshal(); err != nil {
		t.Errorf("edge values refused: %v", err)
	}
}

func TestReaderStatus(t *testing.T) {
	tests := []struct {
		rsp    []byte
		sw     uint16
		reader bool
	}{
		{[]byte{0x64, 0x00}, SWTimeout, true},
		{[]byte{0x64, 0x01}, SWCancelled, true},
		{[]byte{0x64, 0x02}, SWMismatch, true},
		{[]byte{0x64, 0x03}, SWLength, true},
		{[]byte{0x6B, 0x80}, SWBadParams, true},
		{[]byte{0x90, 0x00}, 0, false},
		{[]byte{0x63, 0xC2}, 0, false},
		{[]byte{0x64, 0xA1}, SWNoCard, true},
		{[]byte{0x64, 0xA2}, SWCardInactive, true},
		{[]byte{0x64, 0x04}, 0x6404, true}, // any 64xx: the PIN was not checked
		{[]byte{0x6B, 0x00}, 0, false},
		{[]byte{0x65, 0x81}, 0, false},
		{[]byte{0x01, 0x64, 0x00}, 0, false},
		{nil, 0, false},
	}
	for _, tt := range tests {
		sw, ok := ReaderStatus(tt.rsp)
		if sw != tt.sw || ok != tt.reader {
			t.Errorf("ReaderStatus(% X) = %04X, %v; want %04X, %v", tt.rsp, sw, ok, tt.sw, tt.reader)
		}
	}
}

// wLangId comes from the caller: English when none is given, German for a
// German wizard (docs/pcsc.md "PIN_VERIFY and PIN_MODIFY").
func TestLangID(t *testing.T) {
	hdr := [4]byte{0x00, 0x20, 0x00, 0x81}
	tests := []struct {
		name string
		lang uint16
		want [2]byte // little-endian
	}{
		{"default English", 0, [2]byte{0x09, 0x04}},
		{"English", LangEnglishUS, [2]byte{0x09, 0x04}},
		{"German", LangGerman, [2]byte{0x07, 0x04}},
		{"any LANGID", 0x040C, [2]byte{0x0C, 0x04}}, // French
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Verify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: hdr, LangID: tt.lang}.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]byte(v[9:11]); got != tt.want {
				t.Errorf("PIN_VERIFY wLangId bytes = % X, want % X", got, tt.want)
			}
			m, err := Modify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: hdr, LangID: tt.lang}.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			if got := [2]byte(m[12:14]); got != tt.want {
				t.Errorf("PIN_MODIFY wLangId bytes = % X, want % X", got, tt.want)
			}
			// Nothing else moves: the rest is the English structure's.
			ve, _ := Verify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: hdr}.Marshal()
			me, _ := Modify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: hdr}.Marshal()
			if !bytes.Equal(v[:9], ve[:9]) || !bytes.Equal(v[11:], ve[11:]) {
				t.Errorf("PIN_VERIFY differs beyond wLangId:\n% X\n% X", v, ve)
			}
			if !bytes.Equal(m[:12], me[:12]) || !bytes.Equal(m[14:], me[14:]) {
				t.Errorf("PIN_MODIFY differs beyond wLangId:\n% X\n% X", m, me)
			}
		})
	}
}
