package pkcs11

// The card-set register in a token (docs/lifecycle.md, "Where the generation
// lives"; docs/pkcs11.md, "The card-set register"), in the parts that need no
// token: the objects' label, and which of the objects found counts. The
// Backup Key object cannot carry the register (it is not modifiable, and a
// load replacing the key creates it anew), so the register is a companion
// object: private (only a session logged in with the token's user PIN reads or
// writes it), not modifiable, one per revision. An update creates the next
// revision before it removes the old one, so the newest always counts.

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/hsmcards/hsmcards/hsm"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

const (
	// cardSetsApp is the register objects' CKA_APPLICATION.
	cardSetsApp = "hsmcards card sets"
	// cardSetsLabelPrefix is their CKA_LABEL, followed by the revision in
	// decimal.
	cardSetsLabelPrefix = "hsmcards-card-sets:"
	// maxObjectLabel bounds a label quoted in a message.
	maxObjectLabel = 64
)

// cardSetsLabel is the CKA_LABEL of the register object of revision rev.
func cardSetsLabel(rev uint64) string {
	return cardSetsLabelPrefix + strconv.FormatUint(rev, 10)
}

// parseCardSetsLabel reads a label cardSetsLabel wrote: the prefix and a
// revision in canonical decimal (no sign, no leading zero, no space).
func parseCardSetsLabel(label string) (uint64, bool) {
	digits, ok := strings.CutPrefix(label, cardSetsLabelPrefix)
	if !ok || digits == "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	rev, err := strconv.ParseUint(digits, 10, 64)
	return rev, err == nil
}

// registerObject is one private object of the register's application, as
// read from the token.
type registerObject struct {
	label string // CKA_LABEL, as it is
	value []byte // CKA_VALUE
}

// describe names the object for a message: its label quoted, cleaned and
// cut short.
func (o registerObject) describe() string {
	l := safetext.Clean(o.label)
	if len(l) > maxObjectLabel {
		l = l[:maxObjectLabel] + "…"
	}
	return strconv.Quote(l)
}

// placed is what the register objects say: the register, the object that
// holds it (-1 when there is none: an empty register), and the earlier
// revisions beside it.
type placed struct {
	sets      hsm.CardSets
	counts    int
	leftovers []int
}

// placeRegister decides which of the private register objects counts: the
// one of the highest revision, whose value must parse and carry that
// revision. The others are leftovers of an interrupted update, whatever they
// hold. It fails closed: an object it cannot place (a label hsmcards does not
// write), two objects of the highest revision, or a highest one that does not
// parse make the register damaged, never fall back to an older revision,
// which could hold a set since superseded (docs/pkcs11.md, "The card-set
// register"). The error lists the objects at fault; the caller adds the
// token.
func placeRegister(objs []registerObject) (placed, *CardSetsObjectsError) {
	p := placed{counts: -1}
	var high uint64
	var top, foreign []int
	for i, o := range objs {
		rev, ok := parseCardSetsLabel(o.label)
		switch {
		case !ok:
			foreign = append(foreign, i)
		case len(top) == 0 || rev > high:
			top, high = []int{i}, rev
		case rev == high:
			top = append(top, i)
		}
	}
	damaged := func(why, hint string, which []int) (placed, *CardSetsObjectsError) {
		e := &CardSetsObjectsError{msg: why, hint: hint}
		for _, i := range which {
			e.Objects = append(e.Objects, objs[i].describe())
		}
		return placed{counts: -1}, e
	}
	switch {
	case len(foreign) > 0:
		return damaged("private objects of the register's application that hsmcards did not write", "remove them with the token's tools", foreign)
	case len(top) == 0:
		return p, nil
	case len(top) > 1:
		return damaged(fmt.Sprintf("%d objects of revision %d, and hsmcards will not choose", len(top), high),
			"compare them with the token's tools and remove all but the right one", top)
	}
	sets, err := hsm.ParseCardSets(objs[top[0]].value)
	if err != nil {
		why := "the newest revision does not parse"
		if _, reason, ok := strings.Cut(err.Error(), "("); ok {
			why += " (" + reason
		}
		return damaged(why, fallBack, top)
	}
	if sets.Revision != high {
		return damaged(fmt.Sprintf("the newest object holds revision %d, not %d as its label says", sets.Revision, high), fallBack, top)
	}
	p.sets, p.counts = sets, top[0]
	for i := range objs {
		if i != p.counts {
			p.leftovers = append(p.leftovers, i)
		}
	}
	return p, nil
}

// fallBack is the hint when the newest revision is damaged.
const fallBack = "remove it with the token's tools: the revision before it then counts, which may be older than the last re-issue"

// CardSetsObjectsError says the token's card-set register objects do not
// make one register: hsmcards does not choose among them, nor take an older
// revision (which could make a superseded card set current again). It
// matches hsm.ErrCardSetsDamaged. The token's own tools remove an object;
// the revision before it then counts (docs/pkcs11.md, "The card-set
// register").
type CardSetsObjectsError struct {
	// Token is the token.
	Token Token
	// Objects name the objects at fault by their labels, cleaned.
	Objects   []string
	msg, hint string
}

func (e *CardSetsObjectsError) Error() string {
	return fmt.Sprintf("pkcs11: %v in token %s: %s: %s; %s", hsm.ErrCardSetsDamaged, e.Token, e.msg, strings.Join(e.Objects, ", "), e.hint)
}

// Is makes the error match hsm.ErrCardSetsDamaged.
func (e *CardSetsObjectsError) Is(target error) bool { return target == hsm.ErrCardSetsDamaged }

// ErrCardSetsOtherKey refuses to start a card-set history for a Backup Key
// the token does not hold (docs/pkcs11.md, "The card-set register"): the
// register speaks for the key beside it.
var ErrCardSetsOtherKey = errors.New("pkcs11: the card sets are of a Backup Key the token does not hold")
