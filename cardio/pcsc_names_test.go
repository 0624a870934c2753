package cardio

import (
	"errors"
	"slices"
	"testing"

	"github.com/hsmcards/hsmcards/cardio/part10"
)

func TestPickReader(t *testing.T) {
	two := []string{"REINER SCT cyberJack e-com 00 00", "Virtual PCD 00 00"}
	tests := []struct {
		name    string
		names   []string
		want    string
		pick    string
		wantErr error
		multi   []string
	}{
		{name: "no reader", names: nil, wantErr: ErrNoReader},
		{name: "only reader", names: two[:1], pick: two[0]},
		{name: "several, none named", names: two, multi: two},
		{name: "exact name", names: two, want: "Virtual PCD 00 00", pick: two[1]},
		{name: "part of the name, any case", names: two, want: "cyberjack", pick: two[0]},
		{name: "unknown name", names: two, want: "Gemalto", wantErr: ErrNoReader},
		{name: "part that fits two", names: two, want: "00 00", multi: two},
		{
			name:  "exact beats part",
			names: []string{"Virtual PCD 00 00", "Virtual PCD 00 00 (2)"},
			want:  "Virtual PCD 00 00", pick: "Virtual PCD 00 00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := pickReader(tt.names, tt.want)
			var multi *MultipleReadersError
			switch {
			case tt.multi != nil:
				if !errors.As(err, &multi) || !slices.Equal(multi.Names, tt.multi) {
					t.Fatalf("pickReader = %q, %v; want MultipleReadersError%q", got, err, tt.multi)
				}
			case tt.wantErr != nil:
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("pickReader = %q, %v; want %v", got, err, tt.wantErr)
				}
			default:
				if err != nil || got != tt.pick {
					t.Fatalf("pickReader = %q, %v; want %q", got, err, tt.pick)
				}
			}
		})
	}
}

// The PIN-pad statuses part10 recognises are the ones PINPadError explains.
func TestPINPadStatusesAgree(t *testing.T) {
	pairs := [][2]uint16{
		{SWPadTimeout, part10.SWTimeout},
		{SWPadCancelled, part10.SWCancelled},
		{SWPadMismatch, part10.SWMismatch},
		{SWPadLength, part10.SWLength},
		{SWPadBadParams, part10.SWBadParams},
	}
	generic := (&PINPadError{SW: 0x6F00}).Error()
	for _, p := range pairs {
		if p[0] != p[1] {
			t.Errorf("cardio %04X != part10 %04X", p[0], p[1])
		}
		sw, ok := part10.ReaderStatus([]byte{byte(p[0] >> 8), byte(p[0])})
		if !ok || sw != p[0] {
			t.Errorf("part10.ReaderStatus(%04X) = %04X, %v", p[0], sw, ok)
		}
		if msg := (&PINPadError{SW: sw}).Error(); msg == generic {
			t.Errorf("PINPadError %04X has only the generic message", sw)
		}
	}
}
