package wizard

import (
	"strings"
	"testing"

	"github.com/hsmcards/hsmcards/audit"
)

// The card tools tell their story in the audit trail too, through their
// card steps: each card identified, each PIN, each read and write, and the
// summary.
func TestCardToolsWriteTheAuditTrail(t *testing.T) {
	r := newRig(t, 4)
	r.installSet("audited-tools")

	r.choose("Copy a Backup Key share card")
	r.card(1, "123456")
	r.card(4, "123456")
	r.press("enter") // write the copy to the empty card
	r.expect("Copy written")
	r.press("enter")

	r.choose("Change the Backup Key share PIN")
	r.card(2, "111111") // a wrong current PIN, found when the change is sent
	r.press("246802", "enter", "246802", "enter")
	r.expect("Wrong PIN")
	r.press("123456", "enter", "246802", "enter", "246802", "enter")
	r.expect("was changed")
	r.press("enter")

	var story []string
	for _, e := range r.auditEvents() {
		if e.Operation == audit.OpCopy || e.Operation == audit.OpChangePIN {
			story = append(story, string(e.Operation)+"/"+string(e.Step)+":"+string(e.Outcome))
		}
	}
	want := "copy/identify:ok copy/verify_pin:ok copy/read_card:ok copy/identify:ok copy/verify_pin:ok copy/write_card:ok copy/register:ok copy/summary:ok " +
		"change_pin/identify:ok change_pin/verify_pin:wrong_pin change_pin/change_pin:ok change_pin/summary:ok"
	if got := strings.Join(story, " "); got != want {
		t.Fatalf("audit story\n got %s\nwant %s", got, want)
	}
}
