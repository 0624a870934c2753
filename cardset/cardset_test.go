package cardset

import (
	"context"
	"errors"
	"testing"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// TestStand: where each kind of card set stands, and the words of the
// refusal.
func TestStand(t *testing.T) {
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	g3 := g1.reshare(t, quorum.TwoOfThree, 3)
	sib := g1.reshare(t, quorum.TwoOfThree, 2) // another generation 2, made elsewhere
	unc := g1.reshare(t, quorum.ThreeOfFive, 3)
	f1 := g1.asFormat1(t)
	other := newSet(t, "Cluster Berlin", quorum.TwoOfThree)

	// After a re-issue: generation 2 current, 1 superseded on day2, an
	// uncommitted re-issue to 3.
	reg := registerOf(g2, 3, 4, 5)
	reg.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1)}), On: day2, By: 2}}
	reg.Uncommitted = []hsm.CardSet{cardSetOf(unc.set, nil)}

	tests := []struct {
		name string
		reg  hsm.CardSets
		set  quorum.KeySet
		want Standing
		msg  string
	}{
		{"empty register", hsm.CardSets{}, g1.set, Unrecorded, ""},
		{"current", reg, g2.set, Current, ""},
		{"superseded", reg, g1.set, Superseded, "generation 1, superseded on 2026-01-12 by generation 2: collect and erase this card"},
		{"uncommitted", reg, unc.set, Uncommitted, "generation 3 from a re-issue begun on 2026-01-12 that never counted: erase this card"},
		{"newer", reg, g3.set, Newer, "generation 3 of this Backup Key, newer than the HSM's current generation 2: made by a re-issue elsewhere"},
		{"sibling", reg, sib.set, Stale, "generation 2 of this Backup Key, but the HSM's current card set is generation 2: collect and erase this card"},
		{"another key", reg, other.set, Unrecorded, ""},
		// A format 1 set carries no key check: only its ID or its key tells.
		{"format 1, unlisted", reg, f1.set, Unrecorded, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, e := Stand(tt.reg, tt.set)
			if st != tt.want {
				t.Fatalf("Stand = %v, want %v", st, tt.want)
			}
			err := Admit(tt.reg, tt.set)
			if tt.msg == "" {
				if e != nil || err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var nc *NotCurrentError
			if !errors.As(err, &nc) || nc.Standing != tt.want || err.Error() != tt.msg {
				t.Fatalf("Admit = %v, want %q", err, tt.msg)
			}
		})
	}
	// Once rebuilt, the format 1 set's key is known: the register's key, an
	// older generation it does not list.
	if err := AdmitRebuilt(reg, f1.set, g1.key.Check()); err == nil {
		t.Fatal("an unlisted format 1 set of the register's key was admitted")
	}
	if err := AdmitRebuilt(reg, other.set, other.key.Check()); err != nil {
		t.Fatalf("another key: %v", err)
	}
}

// TestAdopt: install and load record the set; a newer set supersedes the
// current one; a superseded one is refused.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	other := newSet(t, "Elsewhere", quorum.ThreeOfFive)
	reg := newMemRegister(t, hsm.CardSets{})

	c, err := Adopt(ctx, reg, g1.set, g1.key.Check(), []tcos.Serial{sn(1), sn(2), sn(3)}, day1)
	if err != nil || c.Current == nil || c.Current.KeySetID != g1.set.ID || len(c.Current.Serials) != 3 || c.Revision != 1 {
		t.Fatalf("install: %+v, %v", c, err)
	}
	// A load of the same set adds the cards it read, once.
	c, err = Adopt(ctx, reg, g1.set, g1.key.Check(), []tcos.Serial{sn(1), sn(9)}, day1)
	if err != nil || len(c.Current.Serials) != 4 {
		t.Fatalf("load: %+v, %v", c, err)
	}
	writes := reg.writes
	if _, err := Adopt(ctx, reg, g1.set, g1.key.Check(), []tcos.Serial{sn(9)}, day1); err != nil || reg.writes != writes {
		t.Fatalf("a load that changes nothing wrote the register (%v)", err)
	}
	// A newer generation, after the operator agreed.
	c, err = Adopt(ctx, reg, g2.set, g1.key.Check(), []tcos.Serial{sn(4), sn(5)}, day2)
	if err != nil || c.Current.KeySetID != g2.set.ID || len(c.Superseded) != 1 || c.Superseded[0].KeySetID != g1.set.ID ||
		!c.Superseded[0].On.Equal(day2) || c.Superseded[0].By != 2 || len(c.Superseded[0].Serials) != 4 {
		t.Fatalf("newer: %+v, %v", c, err)
	}
	if len(Outstanding(c)) != 1 {
		t.Fatalf("Outstanding = %v", Outstanding(c))
	}
	// The superseded one again: refused, nothing written.
	writes = reg.writes
	var nc *NotCurrentError
	if _, err := Adopt(ctx, reg, g1.set, g1.key.Check(), nil, day3); !errors.As(err, &nc) || nc.Standing != Superseded || reg.writes != writes {
		t.Fatalf("superseded: %v", err)
	}
	// Another key (a Load that replaced the HSM's key) starts a new history.
	c, err = Adopt(ctx, reg, other.set, other.key.Check(), nil, day3)
	if err != nil || c.Current.KeySetID != other.set.ID || len(c.Superseded) != 0 || c.KCV != other.set.KCV {
		t.Fatalf("another key: %+v, %v", c, err)
	}
}

func TestCopied(t *testing.T) {
	ctx := context.Background()
	g1 := newSet(t, "Cluster Berlin", quorum.TwoOfThree)
	g2 := g1.reshare(t, quorum.TwoOfThree, 2)
	start := registerOf(g2, 3, 4, 5)
	start.Superseded = []hsm.SupersededSet{{CardSet: cardSetOf(g1.set, []tcos.Serial{sn(1)}), On: day2, By: 2}}
	reg := newMemRegister(t, start)
	c, err := Copied(ctx, reg, g2.set, sn(6))
	if err != nil || len(c.Current.Serials) != 4 {
		t.Fatalf("copy of a current card: %+v, %v", c.Current, err)
	}
	var nc *NotCurrentError
	if _, err := Copied(ctx, reg, g1.set, sn(7)); !errors.As(err, &nc) {
		t.Fatalf("copy of a superseded card: %v", err)
	}
	writes := reg.writes
	if _, err := Copied(ctx, reg, newSet(t, "Elsewhere", quorum.TwoOfThree).set, sn(7)); err != nil || reg.writes != writes {
		t.Fatalf("copy of another key's card: %v", err)
	}
}
