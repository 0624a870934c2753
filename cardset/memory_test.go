package cardset

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"

	"github.com/hsmcards/hsmcards/internal/memscan"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/secmem"
	"github.com/hsmcards/hsmcards/tcos"
)

// secretNeedles are the patterns a copy of secret leaves: any 15 or more
// contiguous bytes of it, and its 32-bit words byte-swapped (an AES key
// schedule kept as words).
func secretNeedles(name string, secret []byte) []memscan.Needle {
	ns := memscan.Windows(name, secret, 8)
	swapped := make([]byte, len(secret))
	for i := 0; i+4 <= len(secret); i += 4 {
		swapped[i], swapped[i+1], swapped[i+2], swapped[i+3] = secret[i+3], secret[i+2], secret[i+1], secret[i]
	}
	ns = append(ns, memscan.Windows(name+" word-swapped", swapped, 8)...)
	secmem.Wipe(swapped)
	return ns
}

// TestNoSecretCopiesAfterTheLifecycle: a whole re-issue (quorum read, key
// rebuilt, split anew, five cards written and read back, committed), then a
// verify of the new cards and the erase of an old one, each run as a
// tea.Cmd runs (a goroutine of its own), and everything ended: no copy of
// the key, an old share or a new share is left anywhere but on the cards
// (docs/security.md, "Secrets in memory").
func TestNoSecretCopiesAfterTheLifecycle(t *testing.T) {
	ctx := context.Background()
	key, recs, err := quorum.Generate("memory scan", quorum.TwoOfThree, day1)
	if err != nil {
		t.Fatal(err)
	}
	set := recs[0].KeySet()
	hsmKey := hsmKeyOfSet(set)
	// The cards: EF 4B01 of each in a Buffer of its own, so that what the
	// cards hold can be told from copies.
	cards := make([]*secmem.Buffer, 8)
	for i := range cards {
		if cards[i], err = secmem.NewBuffer(tcos.ShareEFSize); err != nil {
			t.Fatal(err)
		}
		defer cards[i].Destroy()
	}
	needles := secretNeedles("key", key.Bytes())
	for i, r := range recs {
		needles = append(needles, memscan.Windows(fmt.Sprintf("old share %d", i+1), r.Share[:quorum.KeySize], 8)...)
		b, err := r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		copy(cards[i+1].Bytes(), b)
		secmem.Wipe(b)
		r.Wipe()
	}
	reg := newMemRegister(t, registerOfSet(set, key.Check()))
	if _, err := memscan.Scan(needles...); errors.Is(err, errors.ErrUnsupported) {
		t.Skip(err)
	}
	c := func(i int) Card { return Card{Serial: sn(i), TriesLeft: 3, Raw: cards[i].Bytes()} }
	run := func(f func() error) {
		t.Helper()
		done := make(chan error)
		go func() { done <- f() }()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}

	var ri *Reissue
	run(func() (err error) {
		ri, err = NewReissue(reg.state(t), hsmKey)
		if err != nil {
			return err
		}
		for _, i := range []int{1, 2} {
			if _, err := ri.AddSource(c(i)); err != nil {
				return err
			}
		}
		_, err = ri.Rebuild()
		return err
	})
	run(func() error {
		_, err := ri.Plan(ctx, reg, Params{Scheme: quorum.ThreeOfFive, Now: day2})
		return err
	})
	for _, i := range []int{3, 4, 5, 6, 7} {
		run(func() error {
			w, err := ri.Target(c(i))
			if err != nil {
				return err
			}
			mem := cards[i].Bytes()
			secmem.Wipe(mem)
			copy(mem, w.Record())
			return ri.Written(w, mem)
		})
	}
	run(func() error { _, err := ri.Commit(ctx, reg, day2); return err })
	if ri.live() {
		t.Fatal("the committed re-issue still holds secret memory")
	}
	// The new shares, from the cards.
	for _, i := range []int{3, 4, 5, 6, 7} {
		r, err := quorum.Parse(cards[i].Bytes())
		if err != nil {
			t.Fatal(err)
		}
		needles = append(needles, memscan.Windows(fmt.Sprintf("new share on card %d", i), r.Share[:quorum.KeySize], 8)...)
		r.Wipe()
	}
	run(func() error {
		v, err := NewVerify(reg.state(t), hsmKey)
		if err != nil {
			return err
		}
		for _, i := range []int{3, 4, 5, 6} {
			if _, err := v.Add(c(i)); err != nil {
				return err
			}
		}
		rep, err := v.Finish()
		if err == nil && rep.Outcome != AllGood {
			err = fmt.Errorf("verify: %v", rep.Outcome)
		}
		return err
	})
	run(func() error {
		p, err := PlanErase(reg.state(t), hsmKey, c(1))
		if err != nil {
			return err
		}
		secmem.Wipe(cards[1].Bytes())
		_, err = Erased(ctx, reg, p)
		return err
	})

	key.Wipe()
	runtime.GC()
	runtime.GC()
	hits, err := memscan.Scan(needles...)
	if err != nil {
		t.Fatal(err)
	}
	var left []memscan.Hit
	onCards := 0
	for _, h := range hits {
		on := false
		for _, b := range cards {
			on = on || memscan.Within(h.Addr, b.Bytes())
		}
		if on {
			onCards++
		} else {
			left = append(left, h)
		}
	}
	// The scan sees the shares where they belong: on the cards.
	if onCards == 0 {
		t.Fatal("the scanner found no share on the cards")
	}
	if len(left) != 0 {
		t.Errorf("%d copies of secrets left after the lifecycle:\n%s", len(left), memscan.Report(left))
	}
	runtime.KeepAlive(key)
}
