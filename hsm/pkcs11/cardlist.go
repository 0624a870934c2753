package pkcs11

// The user card slot's two kinds of objects (docs/pkcs11.md, "Slot user
// cards"), in the parts that need no token: the public records anyone can
// read (and write), and the slot's own list of its cards, a private object
// only a session logged in with the slot's user PIN can write, which says
// which records hsmcards wrote.

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/hsmcards/hsmcards/hsm"
)

const (
	// userCardLabel is the records' CKA_LABEL prefix, followed by the card
	// serial in 20 hex digits (their CKA_APPLICATION is userCardApp).
	userCardLabel = "hsmcards-user-card:"
	// maxCardList bounds an encoded list.
	maxCardList = 32 << 10
)

// recordLabel is the CKA_LABEL of card serial's record.
func recordLabel(serial [10]byte) string { return userCardLabel + hex.EncodeToString(serial[:]) }

// recordObject is one record object as read from the token.
type recordObject struct {
	label string // CKA_LABEL
	value []byte // CKA_VALUE
	card  hsm.UserCard
	err   error // it does not parse, or its label does not name its card
}

func parseRecordObject(label string, value []byte) recordObject {
	o := recordObject{label: label, value: value}
	o.card, o.err = hsm.ParseUserCard(value)
	if o.err == nil && label != recordLabel(o.card.Serial) {
		o.err = fmt.Errorf("%w: its label does not name its card", hsm.ErrUserCardRecord)
	}
	return o
}

func (o recordObject) refused(why hsm.Refusal) hsm.RefusedRecord {
	r := hsm.RefusedRecord{Reason: why}
	if o.err == nil {
		r.Serial, r.Label = o.card.Serial, o.card.Label
	}
	return r
}

// screen sorts records the way they can be sorted before the slot's user
// logs in: those that parse, one per card, and those hsmcards did not write
// or cannot use.
func screen(objs []recordObject) hsm.Records {
	var out hsm.Records
	count := map[[10]byte]int{}
	for _, o := range objs {
		if o.err == nil {
			count[o.card.Serial]++
		}
	}
	for _, o := range objs {
		switch {
		case o.err != nil:
			out.Refused = append(out.Refused, o.refused(hsm.RefusedMalformed))
		case count[o.card.Serial] > 1:
			out.Refused = append(out.Refused, o.refused(hsm.RefusedDuplicate))
		case o.card.Format < 2:
			out.Refused = append(out.Refused, o.refused(hsm.RefusedFormat1))
		default:
			out.Cards = append(out.Cards, o.card)
		}
	}
	return out
}

// cardList is the slot's own list of its cards.
type cardList struct {
	generation uint64
	cards      []listedCard
}

// listedCard is a card of the list: who it is, and the SHA-256 of the one
// record hsmcards wrote for it.
type listedCard struct {
	card   hsm.UserCard // without WrappedPIN
	record [sha256.Size]byte
}

// newCardList lists records, the encoded records of cards, in generation gen.
func newCardList(gen uint64, cards []hsm.UserCard, records [][]byte) cardList {
	l := cardList{generation: gen}
	for i, c := range cards {
		c.WrappedPIN = nil
		l.cards = append(l.cards, listedCard{card: c, record: sha256.Sum256(records[i])})
	}
	return l
}

// audit compares the records with the list: the records it vouches for
// (by index), those it does not, and its cards without a record.
func audit(objs []recordObject, list cardList) (vouched map[int]bool, d hsm.Discrepancies) {
	vouched = map[int]bool{}
	found := make([]bool, len(list.cards))
	for i, o := range objs {
		if o.err != nil {
			d.Refused = append(d.Refused, o.refused(hsm.RefusedMalformed))
			continue
		}
		sum := sha256.Sum256(o.value)
		why := hsm.RefusedUnlisted
		for j, c := range list.cards {
			switch {
			case c.record == sum && !found[j]:
				found[j], vouched[i] = true, true
			case c.record == sum:
				why = hsm.RefusedDuplicate
			case c.card.Serial == o.card.Serial && why == hsm.RefusedUnlisted:
				why = hsm.RefusedAltered
				if o.card.Generation < list.generation {
					why = hsm.RefusedOutdated
				}
			}
		}
		if vouched[i] {
			continue
		}
		if o.card.Format < 2 && why == hsm.RefusedUnlisted {
			why = hsm.RefusedFormat1
		}
		d.Refused = append(d.Refused, o.refused(why))
	}
	// A card whose record was replaced is named by the refused record; the
	// missing are those with no record at all.
	named := map[[10]byte]bool{}
	for _, r := range d.Refused {
		named[r.Serial] = true
	}
	for j, c := range list.cards {
		if !found[j] && !named[c.card.Serial] {
			d.Missing = append(d.Missing, c.card)
		}
	}
	return vouched, d
}

// cardListJSON is the list's CKA_VALUE (version 1):
//
//	{"v":1,"gen":N,"cards":[{"serial":"<20 hex>","label":"...",
//	 "enrolled":"<RFC 3339>","public_key":"<base64 DER>",
//	 "record_sha256":"<64 hex>"}, ...]}
type cardListJSON struct {
	V          int              `json:"v"`
	Generation uint64           `json:"gen"`
	Cards      []listedCardJSON `json:"cards"`
}

type listedCardJSON struct {
	Serial    string    `json:"serial"`
	Label     string    `json:"label"`
	Enrolled  time.Time `json:"enrolled"`
	PublicKey string    `json:"public_key"`
	Record    string    `json:"record_sha256"`
}

func (l cardList) marshal() ([]byte, error) {
	j := cardListJSON{V: 1, Generation: l.generation, Cards: []listedCardJSON{}}
	for _, c := range l.cards {
		j.Cards = append(j.Cards, listedCardJSON{
			Serial: hex.EncodeToString(c.card.Serial[:]), Label: c.card.Label, Enrolled: c.card.Enrolled.UTC(),
			PublicKey: base64.StdEncoding.EncodeToString(c.card.PublicKey), Record: hex.EncodeToString(c.record[:]),
		})
	}
	return json.Marshal(j)
}

var errCardList = errors.New("the slot's own list of cards is damaged")

func parseCardList(b []byte) (cardList, error) {
	bad := func(why string) (cardList, error) { return cardList{}, fmt.Errorf("%w (%s)", errCardList, why) }
	if len(b) > maxCardList {
		return bad("too long")
	}
	var j cardListJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return bad("not JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("data after the list")
	}
	if j.V != 1 {
		return bad(fmt.Sprintf("unknown version %d", j.V))
	}
	l := cardList{generation: j.Generation}
	seen := map[[10]byte]bool{}
	for i, c := range j.Cards {
		var lc listedCard
		var err error
		switch {
		case len(c.Serial) != 2*len(lc.card.Serial), len(c.Record) != 2*len(lc.record):
			return bad(fmt.Sprintf("card %d", i+1))
		case hsm.CheckCardLabel(c.Label) != nil, c.Enrolled.IsZero():
			return bad(fmt.Sprintf("card %d", i+1))
		}
		if _, err = hex.Decode(lc.card.Serial[:], []byte(c.Serial)); err != nil {
			return bad(fmt.Sprintf("card %d", i+1))
		}
		if _, err = hex.Decode(lc.record[:], []byte(c.Record)); err != nil {
			return bad(fmt.Sprintf("card %d", i+1))
		}
		if lc.card.PublicKey, err = base64.StdEncoding.Strict().DecodeString(c.PublicKey); err != nil || len(lc.card.PublicKey) == 0 {
			return bad(fmt.Sprintf("card %d", i+1))
		}
		if seen[lc.card.Serial] {
			return bad(fmt.Sprintf("card %d twice", i+1))
		}
		seen[lc.card.Serial] = true
		lc.card.Label, lc.card.Enrolled, lc.card.Generation, lc.card.Format = c.Label, c.Enrolled.UTC(), j.Generation, 2
		l.cards = append(l.cards, lc)
	}
	return l, nil
}
