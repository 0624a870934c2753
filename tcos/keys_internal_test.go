package tcos

import (
	"bytes"
	"context"
	"testing"
)

func TestTransmitChained(t *testing.T) {
	tests := []struct {
		name    string
		n       int
		failAt  int // part answered 6A80 (0: none)
		wantCmd []string
		wantSW  uint16
	}{
		{"fits", 10, 0, []string{"002A8086 0A"}, SWOK},
		{"two parts", 257, 0, []string{"102A8086 FF", "002A8086 02"}, SWOK},
		{"three parts", 600, 0, []string{"102A8086 FF", "102A8086 FF", "002A8086 5A"}, SWOK},
		{"refused first", 600, 1, []string{"102A8086 FF"}, SWWrongData},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			var data []byte
			card := &scriptCard{answer: func(cmd []byte) ([]byte, error) {
				got = append(got, hexHead(cmd))
				data = append(data, cmd[5:5+int(cmd[4])]...)
				if len(got) == tt.failAt {
					return []byte{0x6A, 0x80}, nil
				}
				return []byte{0x90, 0x00}, nil
			}}
			in := make([]byte, tt.n)
			for i := range in {
				in[i] = byte(i)
			}
			resp, err := NewTransport(card, nil).TransmitChained(context.Background(), Command{INS: 0x2A, P1: 0x80, P2: 0x86, Data: in, Ne: MaxNe})
			if err != nil {
				t.Fatal(err)
			}
			if resp.SW != tt.wantSW {
				t.Errorf("SW %04X, want %04X", resp.SW, tt.wantSW)
			}
			if len(got) != len(tt.wantCmd) {
				t.Fatalf("sent %v, want %v", got, tt.wantCmd)
			}
			for i := range got {
				if got[i] != tt.wantCmd[i] {
					t.Errorf("part %d: %s, want %s", i, got[i], tt.wantCmd[i])
				}
			}
			if tt.failAt == 0 && !bytes.Equal(data, in) {
				t.Error("the parts do not add up to the data")
			}
		})
	}
}

// hexHead is "CLA INS P1 P2 Lc" as "CCIIPPPP LL".
func hexHead(cmd []byte) string {
	const d = "0123456789ABCDEF"
	var b []byte
	for i, x := range cmd[:5] {
		if i == 4 {
			b = append(b, ' ')
		}
		b = append(b, d[x>>4], d[x&15])
	}
	return string(b)
}
