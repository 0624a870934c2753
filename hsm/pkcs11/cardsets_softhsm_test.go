//go:build cgo && unix

package pkcs11

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/hsm/cardsetstest"
	"github.com/hsmcards/hsmcards/internal/pidlock"
)

// withKey opens a fresh token holding a Backup Key.
func withKey(t *testing.T) (*softHSM, *HSM, hsm.KeyInfo) {
	t.Helper()
	s := newSoftHSM(t, "appliance")
	p := s.open(t, "appliance")
	key, info := testKey(t, "cluster")
	if _, err := p.LoadBackupKey(context.Background(), key, info, false); err != nil {
		t.Fatal(err)
	}
	return s, p, info
}

// The token's register does what every register must.
func TestCardSetsConformance(t *testing.T) {
	cardsetstest.Run(t, func(t *testing.T) cardsetstest.Subject {
		s, p, info := withKey(t)
		return cardsetstest.Subject{Register: p, Key: info, Reopen: func(t *testing.T) hsm.CardSetRegister {
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			return s.open(t, "appliance")
		}}
	})
}

// registerOf is a register of the key info with the given revision, told
// apart by its label.
func registerOf(info hsm.KeyInfo, rev uint64, label string) hsm.CardSets {
	c := cardsetstest.Example(info)
	c.Revision, c.Current.Label = rev, label
	return c
}

func encodeRegister(t *testing.T, c hsm.CardSets) []byte {
	t.Helper()
	b, err := c.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// plantRegister creates a register object as someone else might: with the
// given label and value, private or public.
func plantRegister(t *testing.T, p *HSM, private bool, label string, value []byte) {
	t.Helper()
	if _, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, private),
		p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp),
		p11.NewAttribute(p11.CKA_LABEL, label),
		p11.NewAttribute(p11.CKA_VALUE, value),
	}); err != nil {
		t.Fatal(err)
	}
}

// registerObjects lists the labels of the token's objects of the register's
// application, private first, found independently of readRegister.
func registerObjects(t *testing.T, p *HSM) (private, public []string) {
	t.Helper()
	for _, priv := range []bool{true, false} {
		hs, err := p.findObjects([]*p11.Attribute{
			p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp),
			p11.NewAttribute(p11.CKA_PRIVATE, priv),
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range hs {
			a, err := p.attrs(h, p11.CKA_LABEL)
			if err != nil {
				t.Fatal(err)
			}
			if priv {
				private = append(private, string(a[p11.CKA_LABEL]))
			} else {
				public = append(public, string(a[p11.CKA_LABEL]))
			}
		}
	}
	slices.Sort(private)
	return private, public
}

// TestCardSetsObjects: what the token holds under the register's name, what
// counts, what is noted, and what an update leaves.
func TestCardSetsObjects(t *testing.T) {
	type object struct {
		private bool
		label   string
		rev     uint64 // the value's revision; 0 for garbage
	}
	good := func(rev uint64) object { return object{true, cardSetsLabel(rev), rev} }
	tests := []struct {
		name    string
		objects []object
		want    uint64 // the revision that counts
		notes   []hsm.CardSetsNote
		damaged string // an object named when damaged
	}{
		{"none", nil, 0, nil, ""},
		{"one", []object{good(3)}, 3, nil, ""},
		{"interrupted update", []object{good(3), good(4)}, 4, []hsm.CardSetsNote{{Kind: hsm.NoteLeftover, Objects: 1}}, ""},
		{"earlier revision unreadable", []object{{true, cardSetsLabel(3), 0}, good(4)}, 4, []hsm.CardSetsNote{{Kind: hsm.NoteLeftover, Objects: 1}}, ""},
		{"public newer revision", []object{good(3), {false, cardSetsLabel(9), 9}}, 3, []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 1}}, ""},
		{"public only", []object{{false, cardSetsLabel(1), 1}, {false, "anything", 0}}, 0, []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 2}}, ""},
		{"newest unreadable", []object{good(3), {true, cardSetsLabel(4), 0}}, 0, nil, `"hsmcards-card-sets:4"`},
		{"newest holds another revision", []object{good(3), {true, cardSetsLabel(5), 4}}, 0, nil, `"hsmcards-card-sets:5"`},
		{"two of the newest", []object{good(3), good(3)}, 0, nil, `"hsmcards-card-sets:3"`},
		{"a private object hsmcards did not write", []object{good(3), {true, "hsmcards-card-sets", 3}}, 0, nil, `"hsmcards-card-sets"`},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, p, info := withKey(t)
			for i, o := range tt.objects {
				value := []byte("\x1b[2J not a register")
				if o.rev != 0 {
					value = encodeRegister(t, registerOf(info, o.rev, fmt.Sprintf("object %d", i)))
				}
				plantRegister(t, p, o.private, o.label, value)
			}
			before, beforePublic := registerObjects(t, p)
			got, notes, err := p.CardSetsWithNotes(ctx)
			if tt.damaged != "" {
				var oe *CardSetsObjectsError
				if !errors.Is(err, hsm.ErrCardSetsDamaged) || !errors.As(err, &oe) || !slices.Contains(oe.Objects, tt.damaged) || strings.Contains(err.Error(), "\x1b") {
					t.Fatalf("CardSetsWithNotes = %v, want damaged naming %s", err, tt.damaged)
				}
				if _, err := p.CardSets(ctx); !errors.Is(err, hsm.ErrCardSetsDamaged) {
					t.Fatalf("CardSets = %v", err)
				}
				// Nothing is written over it, whichever revision is given.
				for _, prev := range []uint64{3, 4, 5} {
					if err := p.UpdateCardSets(ctx, prev, cardsetstest.Example(info)); !errors.Is(err, hsm.ErrCardSetsDamaged) {
						t.Fatalf("UpdateCardSets(%d) over a damaged register: %v", prev, err)
					}
				}
				if after, afterPublic := registerObjects(t, p); !slices.Equal(after, before) || !slices.Equal(afterPublic, beforePublic) {
					t.Fatalf("objects %q, %q after refused updates; were %q, %q", after, afterPublic, before, beforePublic)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Revision != tt.want || !slices.Equal(notes, tt.notes) {
				t.Fatalf("read revision %d, notes %v; want %d, %v", got.Revision, notes, tt.want, tt.notes)
			}
			if tt.want > 0 {
				if want := registerOf(info, tt.want, got.Current.Label); !reflect.DeepEqual(got, want) || !strings.HasPrefix(got.Current.Label, "object ") {
					t.Fatalf("read %+v", got)
				}
			}
			// An update leaves one object: the next revision.
			if err := p.UpdateCardSets(ctx, tt.want, cardsetstest.Example(info)); err != nil {
				t.Fatal(err)
			}
			private, public := registerObjects(t, p)
			if !slices.Equal(private, []string{cardSetsLabel(tt.want + 1)}) || len(public) > 0 {
				t.Fatalf("after the update: private %q, public %q", private, public)
			}
			if _, notes, err := p.CardSetsWithNotes(ctx); err != nil || notes != nil {
				t.Fatalf("after the update: notes %v, %v", notes, err)
			}
		})
	}
}

// The register speaks for the key beside it: it is not lost when the token
// holds another key (its superseded cards are still refused, and still to
// collect), that is noted, and a history begins only for a key the token
// holds.
func TestCardSetsOfAnotherKey(t *testing.T) {
	ctx := context.Background()
	s := newSoftHSM(t, "appliance", "bare")
	p := s.open(t, "appliance")
	key, held := testKey(t, "cluster")
	if _, err := p.LoadBackupKey(ctx, key, held, false); err != nil {
		t.Fatal(err)
	}
	_, gone := testKey(t, "replaced")
	_, never := testKey(t, "never here")

	if err := p.UpdateCardSets(ctx, 0, registerOf(never, 0, "never")); !errors.Is(err, ErrCardSetsOtherKey) {
		t.Fatalf("a history of a key the token never held: %v", err)
	}
	plantRegister(t, p, true, cardSetsLabel(1), encodeRegister(t, registerOf(gone, 1, "gone")))
	got, notes, err := p.CardSetsWithNotes(ctx)
	if err != nil || got.KCV != gone.KCV || got.Revision != 1 {
		t.Fatalf("read %+v, %v", got, err)
	}
	if want := []hsm.CardSetsNote{{Kind: hsm.NoteOtherKey, KCV: gone.KCV, HSMKCV: held.KCV}}; !slices.Equal(notes, want) {
		t.Fatalf("notes %v, want %v", notes, want)
	}
	if !strings.Contains(notes[0].String(), fmt.Sprintf("%X", gone.KCV)) {
		t.Errorf("note %q does not name the register's key", notes[0])
	}
	// Its history goes on (an erased card of the replaced key).
	if err := p.UpdateCardSets(ctx, 1, registerOf(gone, 0, "gone, one card collected")); err != nil {
		t.Fatal(err)
	}
	// Another key's history cannot start over it.
	if err := p.UpdateCardSets(ctx, 2, registerOf(never, 0, "never")); !errors.Is(err, ErrCardSetsOtherKey) || !strings.Contains(err.Error(), fmt.Sprintf("%X", never.KCV)) {
		t.Fatalf("a history of a key the token never held: %v", err)
	}
	// The key the token holds starts its own.
	if err := p.UpdateCardSets(ctx, 2, registerOf(held, 0, "held")); err != nil {
		t.Fatal(err)
	}
	if got, notes, err := p.CardSetsWithNotes(ctx); err != nil || got.KCV != held.KCV || got.Revision != 3 || notes != nil {
		t.Fatalf("read %+v, notes %v, %v", got, notes, err)
	}

	// A token without a Backup Key starts no history.
	bare := s.open(t, "bare")
	if err := bare.UpdateCardSets(ctx, 0, registerOf(held, 0, "held")); !errors.Is(err, ErrCardSetsOtherKey) {
		t.Fatalf("a history in a token without a key: %v", err)
	}
	if err := bare.UpdateCardSets(ctx, 0, hsm.CardSets{}); err != nil {
		t.Fatalf("an empty register in a token without a key: %v", err)
	}
}

// The helper processes of the register's tests: another hsmcards (or
// another program) using the same token. They print what they did, a line
// each.
const registerHelperEnv = "HSMCARDS_TEST_REGISTER_HELPER"

type registerHelper struct {
	Mode   string // "plant", "update", "count", "crash before", "crash after"
	Module string
	Info   hsm.KeyInfo
	Prev   uint64
	Label  string
	Count  int // "count": how many times to count up
}

func TestRegisterHelperProcess(t *testing.T) {
	spec := os.Getenv(registerHelperEnv)
	if spec == "" {
		t.Skip("the helper process of the card-set register's tests")
	}
	var h registerHelper
	if err := json.Unmarshal([]byte(spec), &h); err != nil {
		t.Fatal(err)
	}
	if h.Mode == "plant" {
		plantWithoutPIN(t, h)
		return
	}
	p, err := Open(h.Module, TokenByLabel("appliance"), []byte(testUserPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx := context.Background()
	p.hooks.lockBusy = func() { fmt.Println("busy") }
	switch h.Mode {
	case "update":
		err := p.UpdateCardSets(ctx, h.Prev, registerOf(h.Info, 0, h.Label))
		fmt.Printf("result changed=%v err=%v\n", errors.Is(err, hsm.ErrCardSetsChanged), err)
	case "crash before", "crash after":
		crash := func() { os.Exit(7) }
		if h.Mode == "crash before" {
			p.hooks.beforeRegisterCreate = crash
		} else {
			p.hooks.afterRegisterCreate = crash
		}
		err := p.UpdateCardSets(ctx, h.Prev, registerOf(h.Info, 0, h.Label))
		fmt.Printf("result err=%v\n", err)
	case "count":
		// Opened; the updates start together, once every helper is.
		// (Two SoftHSM2 processes starting at once can miss the token:
		// docs/pkcs11.md, "SoftHSM2 and several processes".)
		fmt.Println("ready")
		io.Copy(io.Discard, os.Stdin)
		// What cardset does: read, change, compare and swap, and on a
		// change read again.
		p.hooks.lockBusy = nil
		conflicts := 0
		for range h.Count {
			for {
				cur, err := p.CardSets(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var n int
				if _, err := fmt.Sscanf(cur.Current.Label, "count %d", &n); err != nil {
					t.Fatalf("label %q: %v", cur.Current.Label, err)
				}
				next := registerOf(h.Info, 0, fmt.Sprintf("count %d", n+1))
				// The work between the read and the write (cardset's, the
				// operator's), during which the others write: the
				// conflicts the compare and swap must catch.
				time.Sleep(time.Duration(mrand.IntN(20)) * time.Millisecond)
				err = p.UpdateCardSets(ctx, cur.Revision, next)
				if err == nil {
					break
				}
				if !errors.Is(err, hsm.ErrCardSetsChanged) {
					t.Fatal(err)
				}
				conflicts++
			}
		}
		fmt.Printf("result counted %d, %d conflicts\n", h.Count, conflicts)
	default:
		t.Fatalf("unknown mode %q", h.Mode)
	}
}

// plantWithoutPIN is a process without the token's user PIN: it opens a R/W
// session and never logs in. It cannot create a private object, sees no
// register, and can create public objects under the register's name and the
// load lock's.
func plantWithoutPIN(t *testing.T, h registerHelper) {
	var s tokenSession
	if err := s.openSession(h.Module, TokenByLabel("appliance"), "", nil); err != nil {
		t.Fatal(err)
	}
	defer s.closeSession()
	value, err := registerOf(h.Info, 99, "planted").MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	create := func(private bool, app, label string, value []byte) error {
		_, err := s.mod.ctx.CreateObject(s.session, []*p11.Attribute{
			p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
			p11.NewAttribute(p11.CKA_TOKEN, true),
			p11.NewAttribute(p11.CKA_PRIVATE, private),
			p11.NewAttribute(p11.CKA_APPLICATION, app),
			p11.NewAttribute(p11.CKA_LABEL, label),
			p11.NewAttribute(p11.CKA_VALUE, value),
		})
		return err
	}
	fmt.Printf("private %s\n", ckrOrOK(create(true, cardSetsApp, cardSetsLabel(99), value)))
	seen, err := s.findObjects([]*p11.Attribute{p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp)})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("sees %d\n", len(seen))
	fmt.Printf("public %s\n", ckrOrOK(create(false, cardSetsApp, cardSetsLabel(99), value)))
	lock, _ := json.Marshal(lockRecord{Nonce: "planted", PID: 1, Host: "elsewhere", Since: time.Now().UTC()})
	fmt.Printf("public lock %s\n", ckrOrOK(create(false, lockApp, lockLabel, lock)))
}

func ckrOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return ckrName(err)
}

// runRegisterHelper starts a helper process and returns its output lines.
func runRegisterHelper(t *testing.T, h registerHelper) (lines <-chan string, wait func() error) {
	t.Helper()
	lines, _, wait = startRegisterHelper(t, h)
	return lines, wait
}

// startRegisterHelper starts a helper process and returns its output lines
// and its standard input.
func startRegisterHelper(t *testing.T, h registerHelper) (lines <-chan string, stdin io.WriteCloser, wait func() error) {
	t.Helper()
	spec, _ := json.Marshal(h)
	cmd := exec.Command(os.Args[0], "-test.run=^TestRegisterHelperProcess$", "-test.v")
	cmd.Env = append(os.Environ(), registerHelperEnv+"="+string(spec))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdin, err = cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ch := make(chan string)
	go func() {
		defer close(ch)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch, stdin, func() error { stdin.Close(); return cmd.Wait() }
}

// results runs a helper to its end and returns the lines it printed that
// are not the test framework's.
func results(t *testing.T, h registerHelper) []string {
	t.Helper()
	lines, wait := runRegisterHelper(t, h)
	var out []string
	for l := range lines {
		if !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- ") && l != "PASS" && !strings.HasPrefix(l, "ok ") {
			out = append(out, l)
		}
	}
	if err := wait(); err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 7 || !strings.HasPrefix(h.Mode, "crash") {
			t.Fatalf("helper %s: %v (said %q)", h.Mode, err, out)
		}
		out = append(out, "exit 7")
	}
	return out
}

// A process without the user PIN cannot plant a register, nor see one; what
// it can plant (public objects under the register's name, a public load
// lock) is ignored, noted and removed, and holds no update off.
func TestCardSetsWithoutPIN(t *testing.T) {
	ctx := context.Background()
	s, p, info := withKey(t)
	if err := p.UpdateCardSets(ctx, 0, registerOf(info, 0, "ours")); err != nil {
		t.Fatal(err)
	}
	got := results(t, registerHelper{Mode: "plant", Module: s.module, Info: info})
	if want := []string{"private CKR_USER_NOT_LOGGED_IN", "sees 0", "public ok", "public lock ok"}; !slices.Equal(got, want) {
		t.Fatalf("the process without a PIN: %q, want %q", got, want)
	}
	// A fresh look at the token store (loadlock.go): this process wrote
	// last and would not see the other's objects otherwise.
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = s.open(t, "appliance")
	p.hooks.lockWait = 500 * time.Millisecond
	c, notes, err := p.CardSetsWithNotes(ctx)
	if err != nil || c.Revision != 1 || c.Current.Label != "ours" {
		t.Fatalf("read %+v, %v", c, err)
	}
	if want := []hsm.CardSetsNote{{Kind: hsm.NotePublic, Objects: 1}}; !slices.Equal(notes, want) {
		t.Fatalf("notes %v, want %v", notes, want)
	}
	if err := p.UpdateCardSets(ctx, 1, registerOf(info, 0, "ours again")); err != nil {
		t.Fatalf("an update beside a public lock: %v", err)
	}
	if _, public := registerObjects(t, p); len(public) > 0 {
		t.Fatalf("public objects left: %q", public)
	}
}

// Two processes update the register at once: the first stops under the
// locks, after it read the register and before it creates the next
// revision; the second waits for it, then finds the register changed.
func TestCardSetsTwoProcesses(t *testing.T) {
	ctx := context.Background()
	s, p, info := withKey(t)
	if err := p.UpdateCardSets(ctx, 0, registerOf(info, 0, "start")); err != nil {
		t.Fatal(err)
	}
	reached, release := make(chan struct{}), make(chan struct{})
	p.hooks.beforeRegisterCreate = func() { close(reached); <-release }
	done := make(chan error, 1)
	go func() { done <- p.UpdateCardSets(ctx, 1, registerOf(info, 0, "first")) }()
	<-reached

	lines, wait := runRegisterHelper(t, registerHelper{Mode: "update", Module: s.module, Info: info, Prev: 1, Label: "second"})
	var said []string
	for l := range lines {
		if l == "busy" || strings.HasPrefix(l, "result ") {
			said = append(said, l)
			break
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("the first update: %v", err)
	}
	for l := range lines {
		if strings.HasPrefix(l, "result ") {
			said = append(said, l)
		}
	}
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	if len(said) != 2 || said[0] != "busy" || !strings.HasPrefix(said[1], "result changed=true") {
		t.Fatalf("the second process said %q; want it to wait, then find the register changed", said)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = s.open(t, "appliance")
	c, notes, err := p.CardSetsWithNotes(ctx)
	if err != nil || c.Revision != 2 || c.Current.Label != "first" || notes != nil {
		t.Fatalf("the register: %+v, notes %v, %v", c, notes, err)
	}
}

// Three processes count up in the register at once, each as cardset does
// (read, compare and swap, read again on a change): no update is lost.
// SoftHSM2 2.6.1 would lose some without the host lock (docs/pkcs11.md, "One
// load at a time").
func TestCardSetsRace(t *testing.T) {
	ctx := context.Background()
	s, p, info := withKey(t)
	if err := p.UpdateCardSets(ctx, 0, registerOf(info, 0, "count 0")); err != nil {
		t.Fatal(err)
	}
	const procs, each = 3, 25
	type run struct {
		lines <-chan string
		start io.Closer
		wait  func() error
		all   []string
	}
	var runs []*run
	for range procs {
		l, in, w := startRegisterHelper(t, registerHelper{Mode: "count", Module: s.module, Info: info, Count: each})
		r := &run{lines: l, start: in, wait: w}
		runs = append(runs, r)
		for l := range r.lines {
			r.all = append(r.all, l)
			if l == "ready" {
				break
			}
		}
	}
	for _, r := range runs {
		r.start.Close()
	}
	conflicts := 0
	for i, r := range runs {
		var result string
		all := r.all
		for l := range r.lines {
			all = append(all, l)
			if strings.HasPrefix(l, "result ") {
				result = l
			}
		}
		if err := r.wait(); err != nil {
			t.Fatalf("helper %d: %v\n%s", i, err, strings.Join(all, "\n"))
		}
		var n, c int
		if _, err := fmt.Sscanf(result, "result counted %d, %d conflicts", &n, &c); err != nil || n != each {
			t.Fatalf("helper %d said %q", i, result)
		}
		conflicts += c
	}
	t.Logf("%d updates, %d compare-and-swap conflicts", procs*each, conflicts)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	p = s.open(t, "appliance")
	c, notes, err := p.CardSetsWithNotes(ctx)
	if err != nil || notes != nil {
		t.Fatalf("the register: notes %v, %v", notes, err)
	}
	if want := fmt.Sprintf("count %d", procs*each); c.Revision != 1+procs*each || c.Current.Label != want {
		t.Fatalf("revision %d says %q; want revision %d saying %q", c.Revision, c.Current.Label, 1+procs*each, want)
	}
}

// A process dies in the middle of an update: before it created the next
// revision (the old one counts), or after (two revisions, the newer counts).
// Either way the register reads right, the dead process's load lock is no
// obstacle, and the next update leaves one object.
func TestCardSetsCrash(t *testing.T) {
	tests := []struct {
		mode      string
		want      uint64
		wantLabel string
		notes     []hsm.CardSetsNote
	}{
		{"crash before", 1, "start", nil},
		{"crash after", 2, "crashed", []hsm.CardSetsNote{{Kind: hsm.NoteLeftover, Objects: 1}}},
	}
	ctx := context.Background()
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			s, p, info := withKey(t)
			if err := p.UpdateCardSets(ctx, 0, registerOf(info, 0, "start")); err != nil {
				t.Fatal(err)
			}
			if got := results(t, registerHelper{Mode: tt.mode, Module: s.module, Info: info, Prev: 1, Label: "crashed"}); !slices.Equal(got, []string{"exit 7"}) {
				t.Fatalf("the helper said %q", got)
			}
			if err := p.Close(); err != nil {
				t.Fatal(err)
			}
			p = s.open(t, "appliance")
			p.hooks.lockWait = 500 * time.Millisecond
			c, notes, err := p.CardSetsWithNotes(ctx)
			if err != nil || c.Revision != tt.want || c.Current.Label != tt.wantLabel || !slices.Equal(notes, tt.notes) {
				t.Fatalf("read %+v, notes %v, %v", c, notes, err)
			}
			if err := p.UpdateCardSets(ctx, tt.want, registerOf(info, 0, "after")); err != nil {
				t.Fatalf("the update after the crash: %v", err)
			}
			if private, _ := registerObjects(t, p); !slices.Equal(private, []string{cardSetsLabel(tt.want + 1)}) {
				t.Fatalf("objects after the update: %q", private)
			}
		})
	}
}

// The object as hsmcards creates it: private, neither modifiable nor
// copyable; the token keeps it so (SoftHSM2 refuses to change it).
func TestCardSetsTemplate(t *testing.T) {
	ctx := context.Background()
	_, p, info := withKey(t)
	if err := p.UpdateCardSets(ctx, 0, registerOf(info, 0, "x")); err != nil {
		t.Fatal(err)
	}
	hs, err := p.findObjects([]*p11.Attribute{p11.NewAttribute(p11.CKA_APPLICATION, cardSetsApp)})
	if err != nil || len(hs) != 1 {
		t.Fatalf("%d objects, %v", len(hs), err)
	}
	a, err := p.attrs(hs[0], p11.CKA_PRIVATE, p11.CKA_MODIFIABLE, p11.CKA_COPYABLE, p11.CKA_TOKEN, p11.CKA_LABEL)
	if err != nil {
		t.Fatal(err)
	}
	if !decodeBool(a[p11.CKA_PRIVATE]) || decodeBool(a[p11.CKA_MODIFIABLE]) || decodeBool(a[p11.CKA_COPYABLE]) || !decodeBool(a[p11.CKA_TOKEN]) ||
		string(a[p11.CKA_LABEL]) != cardSetsLabel(1) {
		t.Fatalf("attributes %v", a)
	}
	err = p.mod.ctx.SetAttributeValue(p.session, hs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_VALUE, []byte("{}"))})
	if !isCKR(err, p11.CKR_ACTION_PROHIBITED) && !isCKR(err, p11.CKR_ATTRIBUTE_READ_ONLY) {
		t.Fatalf("changing the register in place: %v", err)
	}
	if _, err := p.mod.ctx.CopyObject(p.session, hs[0], []*p11.Attribute{p11.NewAttribute(p11.CKA_LABEL, cardSetsLabel(2))}); err == nil {
		t.Fatal("the register was copied")
	}
}

// An update waits while another process holds the host's lock, and says
// who, and that nothing was recorded, when it gives up.
func TestCardSetsUpdateWaitsForTheHostLock(t *testing.T) {
	_, p, info := withKey(t)
	p.hooks.lockWait = 300 * time.Millisecond
	path, err := filepath.EvalSymlinks(p.mod.secret.file())
	if err != nil {
		t.Fatal(err)
	}
	other, err := pidlock.Acquire(path)
	if err != nil {
		t.Fatal(err)
	}
	err = p.UpdateCardSets(context.Background(), 0, registerOf(info, 0, "x"))
	var busy *BusyError
	if !errors.As(err, &busy) || busy.Undone != "recorded" || !strings.Contains(err.Error(), fmt.Sprintf("process %d on this host", os.Getpid())) ||
		!strings.Contains(err.Error(), "nothing was recorded") {
		t.Fatalf("UpdateCardSets under another's host lock: %v", err)
	}
	if err := other.Release(); err != nil {
		t.Fatal(err)
	}
	if c, err := p.CardSets(context.Background()); err != nil || c.Revision != 0 {
		t.Fatalf("after a busy update: %+v, %v", c, err)
	}
}
