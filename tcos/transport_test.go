package tcos

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/cardio"
)

// scriptCard is a cardio.Card that answers with a function and keeps every
// command buffer it was handed (without copying, to see wiping).
type scriptCard struct {
	answer func(cmd []byte) ([]byte, error)
	seen   [][]byte
	pad    cardio.PINPad
}

func (c *scriptCard) ATR() []byte { return ReferenceATR() }
func (c *scriptCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	c.seen = append(c.seen, cmd)
	return c.answer(cmd)
}
func (c *scriptCard) PINPad() cardio.PINPad { return c.pad }
func (c *scriptCard) Close() error          { return nil }

func TestTransportGetResponse(t *testing.T) {
	card := &scriptCard{answer: func(cmd []byte) ([]byte, error) {
		switch cmd[1] {
		case 0xB0:
			return []byte{1, 2, 0x61, 0x03}, nil
		case 0xC0:
			if cmd[4] != 0x03 {
				return []byte{0x67, 0x00}, nil
			}
			return []byte{3, 4, 5, 0x90, 0x00}, nil
		}
		return []byte{0x6D, 0x00}, nil
	}}
	tr := NewTransport(card, nil)
	resp, err := tr.Transmit(context.Background(), Command{INS: 0xB0, Ne: 5})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Data, []byte{1, 2, 3, 4, 5}) || resp.SW != SWOK {
		t.Fatalf("response %+v", resp)
	}
	if tr.Count() != 2 {
		t.Fatalf("Count = %d, want 2", tr.Count())
	}
	if !bytes.Equal(card.seen[1], []byte{0x00, 0xC0, 0x00, 0x00, 0x03}) {
		t.Fatalf("GET RESPONSE sent as % X", card.seen[1])
	}
}

func TestTransportWrongLe(t *testing.T) {
	card := &scriptCard{answer: func(cmd []byte) ([]byte, error) {
		if cmd[4] != 0x0C {
			return []byte{0x6C, 0x0C}, nil
		}
		return append(make([]byte, 12), 0x90, 0x00), nil
	}}
	tr := NewTransport(card, nil)
	resp, err := tr.Transmit(context.Background(), Command{INS: 0xB0, Ne: 256})
	if err != nil || len(resp.Data) != 12 || resp.SW != SWOK {
		t.Fatalf("response %+v, %v", resp, err)
	}
	if tr.Count() != 2 || !bytes.Equal(card.seen[1], []byte{0x00, 0xB0, 0x00, 0x00, 0x0C}) {
		t.Fatalf("Count %d, resend % X", tr.Count(), card.seen[1])
	}
}

func TestTransportEndlessChain(t *testing.T) {
	card := &scriptCard{answer: func([]byte) ([]byte, error) { return []byte{0x61, 0x01}, nil }}
	tr := NewTransport(card, nil)
	if _, err := tr.Transmit(context.Background(), Command{INS: 0xB0, Ne: 1}); err == nil {
		t.Fatal("endless 61xx chain accepted")
	}
	if tr.Count() > maxChain+1 {
		t.Fatalf("sent %d commands", tr.Count())
	}
}

func TestTransportErrors(t *testing.T) {
	var log bytes.Buffer
	card := &scriptCard{answer: func([]byte) ([]byte, error) { return nil, cardio.ErrCardRemoved }}
	tr := NewTransport(card, &log)
	if _, err := tr.Transmit(context.Background(), Command{INS: 0xB0, Ne: 1}); !errors.Is(err, cardio.ErrCardRemoved) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(log.String(), "! "+cardio.ErrCardRemoved.Error()) {
		t.Fatalf("log %q", log.String())
	}
	card.answer = func([]byte) ([]byte, error) { return []byte{0x90}, nil }
	if _, err := tr.Transmit(context.Background(), Command{INS: 0xB0, Ne: 1}); !errors.Is(err, cardio.ErrCardMute) {
		t.Fatalf("1-byte response: err = %v", err)
	}
	if _, err := tr.Transmit(context.Background(), Command{Data: make([]byte, 300)}); err == nil {
		t.Fatal("oversized command accepted")
	}
}

func TestTransportLogMasksSecrets(t *testing.T) {
	secretPIN := []byte("987654")
	share := []byte{0xDE, 0xAD, 0xBE, 0xEF}
	card := &scriptCard{answer: func(cmd []byte) ([]byte, error) {
		switch cmd[1] {
		case 0x20:
			return []byte{0x90, 0x00}, nil
		case 0xB0:
			return append(share[:2:2], 0x61, 0x02), nil
		case 0xC0:
			return append(share[2:4:4], 0x90, 0x00), nil
		}
		return []byte{0x6D, 0x00}, nil
	}}
	var log bytes.Buffer
	tr := NewTransport(card, &log)
	tr.now = func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 6, time.FixedZone("x", 3600)) }
	ctx := context.Background()
	if _, err := tr.Transmit(ctx, Command{INS: 0x20, P2: 0x81, Data: secretPIN, SecretData: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Transmit(ctx, Command{INS: 0xB0, Ne: 4, SecretResponse: true}); err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"2026-01-02T02:04:05.000000006Z > 00 20 00 81 06 ** ** ** ** ** **",
		"2026-01-02T02:04:05.000000006Z < 90 00",
		"2026-01-02T02:04:05.000000006Z > 00 B0 00 00 04",
		"2026-01-02T02:04:05.000000006Z < ** ** 61 02",
		"2026-01-02T02:04:05.000000006Z > 00 C0 00 00 02",
		"2026-01-02T02:04:05.000000006Z < ** ** 90 00",
		"",
	}, "\n")
	if log.String() != want {
		t.Fatalf("log:\n%s\nwant:\n%s", log.String(), want)
	}
	// The encoded VERIFY the card was handed is wiped after sending.
	if bytes.Contains(card.seen[0], secretPIN) {
		t.Fatalf("encoded PIN not wiped: % X", card.seen[0])
	}
	if string(secretPIN) != "987654" {
		t.Fatal("the caller's PIN was modified")
	}
}
