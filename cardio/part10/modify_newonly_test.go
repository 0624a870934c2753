package part10

import (
	"bytes"
	"testing"
	"time"
)

// TestModifyNewOnlyMarshal: a change whose current PIN was verified before
// asks the new PIN twice and nothing else (bConfirmPIN 01, two prompts).
func TestModifyNewOnlyMarshal(t *testing.T) {
	m := Modify{Timeout: 30 * time.Second, MinLen: 6, MaxLen: 15, Header: [4]byte{0x00, 0x24, 0x01, 0x81}, NewOnly: true}
	want := []byte{
		0x1E,       // bTimerOut: 30 s
		0x00,       // bTimerOut2
		0x82,       // bmFormatString: bytes, offset 0, left, ASCII
		0x00,       // bmPINBlockString
		0x00,       // bmPINLengthFormat
		0x00,       // bInsertionOffsetOld (unused)
		0x00,       // bInsertionOffsetNew
		0x0F, 0x06, // wPINMaxExtraDigit: max 15, min 6
		0x01,       // bConfirmPIN: new PIN twice, no current PIN
		0x02,       // bEntryValidationCondition: OK key
		0x02,       // bNumberMessage: two prompts
		0x09, 0x04, // wLangId 0x0409
		0x01,             // bMsgIndex1: new PIN
		0x02,             // bMsgIndex2: confirm
		0x00,             // bMsgIndex3: unused
		0x00, 0x00, 0x00, // bTeoPrologue
		0x05, 0x00, 0x00, 0x00, // ulDataLength 5
		0x00, 0x24, 0x01, 0x81, 0x00, // abData: CHANGE REFERENCE DATA P1 01, Lc placeholder
	}
	got, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("Marshal() =\n% X\nwant\n% X", got, want)
	}
}
