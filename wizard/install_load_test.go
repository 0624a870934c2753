package wizard

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hsmcards/hsmcards/audit"
	"github.com/hsmcards/hsmcards/cardio"
	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/quorum"
	"github.com/hsmcards/hsmcards/tcos"
)

// install runs Install Backup Key through the menu up to the first prompt.
func (r *rig) install(scheme int, label string) {
	r.t.Helper()
	r.press("1", "enter") // menu: Install Backup Key
	if scheme == 1 {
		r.press("down")
	}
	r.press("enter", label, "enter")
}

func (r *rig) hsmKCV() string {
	r.t.Helper()
	info, ok, err := r.hsm.BackupKey(t0ctx())
	if err != nil || !ok {
		r.t.Fatalf("HSM holds no key: ok=%v err=%v", ok, err)
	}
	return kcvString(info.KCV)
}

// cardRecord reads simulated card i's share record the way the wizard does,
// in a reader of its own, with the factory PIN.
func (r *rig) cardRecord(i int) *quorum.Record {
	r.t.Helper()
	ctx := t0ctx()
	rd := cardio.NewSimReader([]cardio.SimulatedCard{r.cards[i-1]})
	if err := rd.Insert(1); err != nil {
		r.t.Fatal(err)
	}
	card, err := rd.Connect(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	defer card.Close()
	s := tcos.Open(card, tcos.Options{})
	if _, err := s.Identify(ctx); err != nil {
		r.t.Fatal(err)
	}
	if err := s.VerifyPIN(ctx, tcos.SlotBackupKey, []byte("123456")); err != nil {
		r.t.Fatal(err)
	}
	raw, err := s.ReadShareRecord(ctx)
	if err != nil {
		r.t.Fatal(err)
	}
	rec, err := quorum.Parse(raw)
	if err != nil {
		r.t.Fatalf("card %d: %v", i, err)
	}
	return rec
}

func TestInstallTwoOfThreeReadBackOutOfOrder(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "prod-cluster")
	r.expect("Write New Key", "press OK/Cancel", "2 of 3", `"prod-cluster"`)
	r.press("enter")
	r.expect("Insert 1. card", "Timeout in 1:00")
	r.card(1, "")
	r.expect("Enter PIN", "3 PIN tries left")
	r.press("123")
	r.expect("***")
	r.expectNot("123")
	r.press("456", "enter")
	r.expect("Share 1 written", "Insert 2. card")
	r.card(2, "123456")
	r.card(3, "123456")
	r.expect("All 3 shares are written", "Read New Key")
	r.press("enter")
	r.card(3, "123456") // the card left in the reader first, as the appliance manual suggests
	r.expect("share 1 of the 2 needed", "Insert 2. card")
	r.card(1, "123456")
	r.expect("Key loaded", "equal to the KCV on the cards")

	kcv := r.hsmKCV()
	for i := 1; i <= 3; i++ {
		if got := kcvString(r.cardRecord(i).KCV); got != kcv {
			t.Errorf("card %d KCV %s, HSM %s", i, got, kcv)
		}
	}
	r.expect("KCV " + kcv)
	if c := r.m.act.(*installOp); c.status().holds != holdsNothing || !bytes.Equal(c.key.Bytes(), make([]byte, quorum.KeySize)) || c.reading.key != nil {
		t.Error("key still held in memory after loading")
	}
	r.press("enter")
	r.expect("Main menu", "KCV "+kcv)
}

func TestInstallThreeOfFiveThenLoadFromOtherSubset(t *testing.T) {
	r := newRig(t, 5)
	r.install(1, "dc-east")
	r.expect("3 of 5")
	r.press("enter")
	for i := 1; i <= 5; i++ {
		r.card(i, "123456")
	}
	r.press("enter")
	r.card(5, "123456")
	r.card(2, "123456")
	r.card(4, "123456")
	r.expect("Key loaded")
	kcv := r.hsmKCV()
	r.press("enter")

	// Later: Load Backup Key from another subset, in another order.
	r.press("2", "enter")
	r.expect("Read Key")
	r.press("enter")
	r.card(3, "123456")
	r.expect(`Load Backup Key · 3 of 5 · "dc-east"`, "Read 1:…")
	r.card(1, "123456")
	r.card(4, "123456")
	r.expect("already holds this Backup Key", "KCV "+kcv)
	if got := r.hsmKCV(); got != kcv {
		t.Fatalf("HSM KCV changed: %s → %s", kcv, got)
	}
}

func TestReadingRefusesSameCardTwiceAndOtherKeySet(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("key-a")

	r.press("2", "enter", "enter") // Load Backup Key
	r.card(1, "123456")
	before := strings.Count(r.apdus(), "00 20 00 81 06")
	r.card(1, "") // same card again: refused at insertion, before any PIN
	r.expect("was already read in this run")
	if after := strings.Count(r.apdus(), "00 20 00 81 06"); after != before {
		t.Fatal("a PIN was sent to a card already read")
	}
}

func TestShareOfAnotherKeySetIsRefused(t *testing.T) {
	r := newRig(t, 6)
	for _, set := range []struct {
		label string
		cards []int
	}{{"key-a", []int{1, 2, 3}}, {"key-b", []int{4, 5, 6}}} {
		r.install(0, set.label)
		if set.label == "key-b" {
			r.expect("already holds Backup Key")
			r.press("enter")
		}
		r.press("enter")
		for _, i := range set.cards {
			r.card(i, "123456")
		}
		r.press("enter")
		r.card(set.cards[0], "123456")
		r.card(set.cards[1], "123456")
		r.expect("Key loaded")
		r.press("enter")
	}
	kcvB := r.hsmKCV()
	r.press("2", "enter", "enter") // Load Backup Key
	r.card(4, "123456")            // key B
	r.card(1, "123456")            // key A: refused
	r.expect("holds a share of a different Backup Key", `"key-a"`, `not of "key-b"`, "Insert 2. card")
	r.card(6, "123456")
	r.expect("already holds this Backup Key", "KCV "+kcvB)
}

func TestThreeWrongPINsBlockTheSlot(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "111111")
	r.expect("Wrong PIN", "2 PIN tries left")
	r.press("222222", "enter")
	r.expect("LAST TRY")
	r.press("333333", "enter")
	r.expect("blocked", "Insert 1. card")

	// Inserted again, the card is refused from the status query alone.
	verifies := strings.Count(r.apdus(), "00 20 00 81 06")
	r.card(1, "")
	r.expect("is blocked after three wrong PINs", "No PIN was sent")
	if got := strings.Count(r.apdus(), "00 20 00 81 06"); got != verifies {
		t.Fatal("a VERIFY with a PIN was sent to a blocked slot")
	}
	// The ceremony goes on with the other cards; the key is still in memory.
	if r.m.act.status().holds != holdsKey {
		t.Fatal("key lost")
	}
	r.card(2, "123456")
	r.expect("Share 1 written")
}

func TestTriesLeftQuerySpendsNoTry(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	for i := 0; i < 3; i++ {
		r.card(1, "")
		r.expect("3 PIN tries left")
		r.press("esc")
	}
	// The status query is VERIFY without data: Lc absent, answered 63C3.
	if !regexp.MustCompile(`> 00 20 00 81\n.*< 63 C3`).MatchString(r.apdus()) {
		t.Fatalf("no status-only VERIFY in the APDU log:\n%s", r.apdus())
	}
}

func TestPINNeverReachesScreenOrLog(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "")
	r.press("987654")
	if strings.Contains(r.screen(), "987654") {
		t.Fatal("PIN on screen")
	}
	r.press("enter")
	r.expect("Wrong PIN")
	if strings.Contains(r.apdus(), "39 38 37 36 35 34") || strings.Contains(r.apdus(), "393837363534") {
		t.Fatal("PIN in APDU log")
	}
}

func TestTimeoutEndsOnlyTheStep(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "123456")
	r.expect("Insert 2. card", "Timeout in 1:00")
	r.advance(45 * time.Second)
	r.expect("Timeout in 0:15")
	r.advance(16 * time.Second)
	r.expect("Timeout: No card was presented", "The key is still in memory", "Press OK to try this step again")
	pad := r.m.act.view().pad
	if strings.TrimSpace(pad[0]+pad[1]) != "" {
		t.Fatalf("pad shows %q after a timeout; the real one turns blank", pad)
	}
	r.press("enter")
	r.expect("Insert 2. card", "Timeout in 1:00")

	// A PIN timeout too: the card is released and no try is spent.
	r.card(2, "")
	r.press("12")
	r.advance(31 * time.Second)
	r.expect("The PIN was not entered within 30 seconds", "no PIN try was spent")
	r.press("enter")
	r.card(2, "123456")
	r.expect("Share 2 written")
}

func TestOverwriteNeedsConfirmation(t *testing.T) {
	r := newRig(t, 4)
	r.installSet("first")
	old := r.cardRecord(1)

	r.install(0, "second")
	r.press("enter") // agree to replace the HSM's key
	r.press("enter")
	r.card(1, "123456")
	r.expect("Overwrite card?", `holds a Backup Key share: "first"`, "2 of 3", "KCV "+kcvString(old.KCV),
		"LOADED IN THE HSM NOW", "irreversible")
	r.press("esc")
	r.expect("The card was not written", "Insert 1. card")
	if got := r.cardRecord(1); got.KeySetID != old.KeySetID {
		t.Fatal("card overwritten without confirmation")
	}
	r.card(4, "123456") // a fresh card needs no question
	r.expect("Share 1 written")
	r.card(1, "123456")
	r.press("enter")
	r.expect("Share 2 written")
	if got := r.cardRecord(1); got.KeySetID == old.KeySetID {
		t.Fatal("confirmed overwrite did not happen")
	}
}

func TestPulledCardDuringPINEntry(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "")
	r.press("123")
	r.press("f12")
	r.expect("taken out before its step was done", "Insert 1. card")
	if st := r.m.act.(*installOp).step; len(st.fields) != 0 || st.state != stepInsert {
		t.Fatal("PIN digits kept after the card left")
	}
	r.card(1, "123456")
	r.expect("Share 1 written")
}

func TestLeavingWithKeyInMemoryAsksFirst(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "123456")
	r.press("esc")
	r.expect("Leave this ceremony?", "on 1 of 3 cards", "not in the HSM")
	r.press("esc")
	r.expect("Insert 2. card")
	r.press("ctrl+c")
	r.expect("Quit now?")
	r.press("esc")
	r.expect("Insert 2. card")
	r.press("esc", "enter")
	r.expect("Main menu")
	if r.m.act != nil {
		t.Fatal("ceremony kept")
	}
}

func TestAuditTrailTellsTheStory(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "audited")
	r.press("enter")
	r.card(1, "123456")
	r.card(2, "654321") // wrong
	r.press("123456", "enter")
	r.card(3, "123456")
	r.press("enter")
	r.card(2, "123456")
	r.card(3, "123456")
	r.expect("loaded into the simulated HSM")
	kcv := r.hsmKCV()

	var story []string
	for _, e := range r.auditEvents() {
		story = append(story, string(e.Step)+":"+string(e.Outcome))
		if e.Operation != audit.OpInstall || e.KCV != kcv || e.KeySetID == "" {
			t.Errorf("event %+v lacks the install's key set", e)
		}
	}
	want := "generate:ok identify:ok verify_pin:ok write_card:ok identify:ok verify_pin:wrong_pin verify_pin:ok write_card:ok " +
		"identify:ok verify_pin:ok write_card:ok identify:ok verify_pin:ok read_card:ok identify:ok verify_pin:ok read_card:ok load_hsm:ok register:ok summary:ok"
	if got := strings.Join(story, " "); got != want {
		t.Fatalf("audit story\n got %s\nwant %s", got, want)
	}
	raw, _ := os.ReadFile(r.auditPath)
	for _, secret := range []string{"123456", "654321"} {
		if strings.Contains(string(raw), secret) {
			t.Fatalf("audit log holds PIN %s", secret)
		}
	}
}

// A quit asked for while a card command runs waits for its result: the
// command must not find the ceremony's state wiped under it.
func TestQuitWaitsForTheRunningStep(t *testing.T) {
	r := newRig(t, 3)
	r.install(0, "lab")
	r.press("enter")
	r.card(1, "")
	r.press("123456")
	_, running := r.m.Update(keyMsgs("enter")[0]) // the PIN check starts; its command is held
	if !r.m.act.status().busy {
		t.Fatal("no step running")
	}
	r.press("ctrl+c")
	r.expect("Quit now?")
	r.press("enter")
	r.expect("Quitting as soon as the running step ends")
	if r.quit || r.m.act == nil {
		t.Fatal("quit while the card command ran")
	}
	writes := strings.Count(r.apdus(), "> 00 D6")
	r.run(running) // the card answers; the write that would follow is dropped, and the wizard quits
	if !r.quit {
		t.Fatal("no quit once the step ended")
	}
	if r.m.act != nil {
		t.Fatal("the ceremony outlived the quit")
	}
	if strings.Count(r.apdus(), "> 00 D6") != writes {
		t.Fatal("a share was written after the operator quit")
	}
}

// Agreeing at the start to replace the HSM's key covers that key only: if the
// HSM holds another one by the time the new key is read back, the operator
// sees both KCVs and is asked again.
func TestReplaceConsentCoversTheKeyShown(t *testing.T) {
	r := newRig(t, 6)
	r.installSet("first")
	r.install(0, "second")
	r.expect("already holds Backup Key")
	r.press("enter", "enter")
	for i := 4; i <= 6; i++ {
		r.card(i, "123456")
	}
	// Meanwhile another key lands in the HSM.
	other, _, err := quorum.Generate("meanwhile", quorum.TwoOfThree, r.clock)
	if err != nil {
		t.Fatal(err)
	}
	info := hsm.KeyInfo{Label: "meanwhile", KCV: other.KCV()}
	if _, err := r.hsm.LoadBackupKey(t0ctx(), other.Bytes(), info, true); err != nil {
		t.Fatal(err)
	}
	r.press("enter")
	r.card(4, "123456")
	r.card(5, "123456")
	r.expect("Replace HSM key?", "KCV "+kcvString(other.KCV()), `"meanwhile"`)
	if got := r.hsmKCV(); got != kcvString(other.KCV()) {
		t.Fatalf("the HSM's key was replaced without asking: %s", got)
	}
	r.press("enter")
	r.expect("loaded into the simulated HSM")
}
