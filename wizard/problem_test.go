package wizard

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/cardset"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/i18n"
	"github.com/hsmcards/hsmcards/i18n/i18ntest"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/slotuser"
	"github.com/hsmcards/hsmcards/tcos"
)

// Every error is classified once; the words on screen are the wizard's own,
// never a lower layer's error string rewritten into a sentence.
func TestProblemWordsAreOurs(t *testing.T) {
	_, keyErr := quorum.NewKey([]byte{1}) // "quorum: a Backup Key is 32 bytes, not 1"
	for _, tc := range []struct {
		err   error
		cause cause
		out   audit.Outcome
		retry retry
	}{
		{&tcos.WrongPINError{TriesLeft: 2}, causeWrongPIN, audit.OutcomeWrongPIN, retryPIN},
		{&tcos.WrongPINError{TriesLeft: 0}, causeBlocked, audit.OutcomeBlocked, retryOther},
		{fmt.Errorf("verify: %w", tcos.ErrBlocked), causeBlocked, audit.OutcomeBlocked, retryOther},
		{fmt.Errorf("%w: its answer to reset is not TCOS 3.0", tcos.ErrForeignCard), causeForeign, audit.OutcomeRefused, retryOther},
		{cardio.ErrCardRemoved, causeRemoved, audit.OutcomeRemoved, retryCard},
		{fmt.Errorf("%w (Reader 0)", cardio.ErrReaderGone), causeUnplugged, audit.OutcomeNoReader, retryCard},
		{cardio.ErrNoService, causeNoService, audit.OutcomeNoReader, retryCard},
		{fmt.Errorf("%w (%w)", cardio.ErrCardMute, context.DeadlineExceeded), causeMute, audit.OutcomeTimeout, retryCard},
		{&cardio.PINPadError{SW: cardio.SWPadCancelled}, causePadCancelled, audit.OutcomeCancelled, retryCard},
		{&cardio.StorageError{Path: "/deck/card-02.json", Err: errors.New("read-only file system")}, causeStorage, audit.OutcomeError, retryCard},
		{fmt.Errorf("%w: for token %q", hsm.ErrWrongPIN, "appliance"), causeTokenWrongPIN, audit.OutcomeWrongPIN, retryCard},
		{hsm.ErrSOPINNeeded, causeSOPINNeeded, audit.OutcomeRefused, retryCard},
		{slotuser.ErrKeyChanged, causeKeyChanged, audit.OutcomeError, retryCard},
		{keyErr, causeUnknown, audit.OutcomeError, retryCard},
		{errors.New("pkcs11: CKR_DEVICE_ERROR"), causeUnknown, audit.OutcomeError, retryCard},
	} {
		p := classify(tc.err)
		if p.cause != tc.cause || p.outcome() != tc.out || p.retry() != tc.retry {
			t.Errorf("%v: cause %d outcome %s retry %d, want %d %s %d", tc.err, p.cause, p.outcome(), p.retry(), tc.cause, tc.out, tc.retry)
		}
		for _, l := range i18n.Langs() {
			e := &env{p: i18n.For(l)}
			n := e.problemNotice(p, tcos.SlotBackupKey, "Insert the card again.")
			said := strings.ToLower(n.text + " " + n.next)
			if msg := strings.ToLower(tc.err.Error()); strings.Contains(said, msg) {
				t.Errorf("%s %v: its own text reaches the screen: %q", l, tc.err, n.text)
			}
			if n.text == "" || !strings.HasSuffix(n.next, "Insert the card again.") {
				t.Errorf("%s %v: notice %+v", l, tc.err, n)
			}
			if p.cause == causeUnknown && n.details != tc.err.Error() {
				t.Errorf("%s %v: details %q, want the error as it is", l, tc.err, n.details)
			}
		}
	}
	// The storage problem names the file the simulated card could not save.
	p := classify(&cardio.StorageError{Path: "/deck/card-02.json", Err: errors.New("read-only file system")})
	if s := p.says(nil, tcos.SlotBackupKey); !strings.Contains(s, "/deck/card-02.json") {
		t.Errorf("storage problem without its path: %q", s)
	}
	// A timeout of the HSM is the HSM's, not a card's.
	if p := classifyHSM(context.DeadlineExceeded); p.cause != causeHSMTimeout {
		t.Errorf("HSM timeout classified as %d", p.cause)
	}
}

// Every cause has its words in every language: the catalogs key them by
// the cause (i18n.Cause...), and a cause without words would show nothing.
func TestEveryCauseHasWords(t *testing.T) {
	i18ntest.ForEachLang(t, func(t *testing.T, pr *i18n.Printer) {
		for c := causeWrongPIN; c <= causeUnknown; c++ {
			p := problem{cause: c, path: "/deck/card-01.json", set: &cardset.NotCurrentError{Generation: 1, By: 2, On: time.Date(2026, 1, 12, 5, 0, 0, 0, time.UTC)}}
			if p.says(pr, tcos.SlotPKCS11) == "" {
				t.Errorf("cause %d has no words", c)
			}
			w, ok := causeWords[c]
			if !ok {
				t.Errorf("cause %d is not in causeWords", c)
			}
			for _, m := range []i18n.Message{w.says, w.advice} {
				if m != nil {
					i18ntest.Say(t, pr, m)
				}
			}
		}
	})
}

// A late answer cannot drive a newer step: Cancel while a card is read
// ends the step at once; when the card's answer comes, it is discarded and
// the card released.
func TestLateAnswerIsDiscarded(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "late")
	r.press("enter", "f1")
	connect := r.update(tea.KeyPressMsg{Code: tea.KeyEnter}) // the card is read; its answer is held
	o := r.m.act.(*installOp)
	old := o.step
	r.press("esc")
	r.expect("Stopped waiting for the card", "Insert 1. card")
	if o.step == old || o.step.state != stepInsert {
		t.Fatal("no new step after Cancel")
	}
	r.run(connect) // the old step's answer arrives
	if o.step.state != stepInsert || old.state != stepEnded {
		t.Fatalf("the late answer drove a step: new %d, old %d", o.step.state, old.state)
	}
	r.expect("Insert 1. card")
	if len(r.m.env.opened) != 0 {
		t.Fatal("the card of the late answer is still open")
	}
	r.card(1, "123456") // the card can be used again
	r.expect("Share 1 written")
}

// What a card held, read before the question whether to overwrite it, is
// wiped when the step ends however it ends: the question times out, the
// card is pulled, or swapped for another with an F-key (which writes
// nothing and says so).
func TestOverwriteQuestionWipesWhatTheCardHeld(t *testing.T) {
	for _, how := range []string{"timeout", "pulled", "swapped"} {
		t.Run(how, func(t *testing.T) {
			r := newRig(t, 4)
			r.installSet("first")
			r.install(0, "second")
			r.press("enter", "enter") // replace the HSM's key; write
			r.card(1, "123456")
			r.expect("Overwrite card?")
			st := r.m.act.(*installOp).step
			rec := st.res.rec
			if rec == nil || isZero(rec.Share) {
				t.Fatal("no record read from the card")
			}
			switch how {
			case "timeout":
				r.advance(DefaultInsertTimeout + time.Second)
				r.expect("No answer within 1 minute", "nothing was written")
			case "pulled":
				r.press("f12")
				r.expect("taken out before its step was done", "nothing was written")
			case "swapped":
				r.press("f2")
				r.expect("taken out before its step was done", "nothing was written")
				r.expectNot("not written completely")
			}
			if !isZero(rec.Share) || st.state != stepEnded {
				t.Fatal("the card's old share outlived its step")
			}
			if got := r.cardRecord(1); got.Label != "first" {
				t.Fatalf("card 1 holds %q", got.Label)
			}
		})
	}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Joined errors (errors.Join: one per line) make one Details line, each
// part kept apart.
func TestJoinedErrorDetailsStayApart(t *testing.T) {
	err := errors.Join(cardset.ErrCommitUnknown, errors.New("pkcs11: C_CreateObject: CKR_DEVICE_ERROR"), errors.New("pkcs11: C_FindObjects: CKR_DEVICE_ERROR"))
	p := classifyHSM(err)
	if p.cause != causeCommitUnknown {
		t.Fatalf("cause %v", p.cause)
	}
	want := cardset.ErrCommitUnknown.Error() + "; pkcs11: C_CreateObject: CKR_DEVICE_ERROR; pkcs11: C_FindObjects: CKR_DEVICE_ERROR"
	if got := p.details(); got != want {
		t.Fatalf("details %q, want %q", got, want)
	}
	if got := safeDetail(err); got != want {
		t.Fatalf("audit detail %q, want %q", got, want)
	}
}
