package hsm

// The card-set register: which card set (generation) of the Backup Key is
// current, and which were superseded, when, and which of their cards are
// still to collect (docs/lifecycle.md, "Where the generation lives"). It
// lives where the key lives, because only there does it speak for the key:
// a card cannot tell that it was superseded (every generation rebuilds the
// same key). This file is the interface and the encoding every backend
// stores; package cardset holds the rules that change it.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hsmcards/hsmcards/internal/safetext"
	"github.com/hsmcards/hsmcards/kcv"
)

// CardSets is the register's content. The zero value is an empty register:
// no card set recorded yet.
type CardSets struct {
	// Revision counts the register's changes; UpdateCardSets compares it.
	Revision uint64
	// KCV and KeyCheck identify the Backup Key this history is of (its
	// 3-byte KCV and its 16-byte key check, quorum/FORMAT.md). Zero while
	// the register is empty.
	KCV      [kcv.Size]byte
	KeyCheck [kcv.CheckSize]byte
	// Current is the card set that counts; nil while the register is empty.
	Current *CardSet
	// Superseded are the key's earlier card sets, oldest first.
	Superseded []SupersededSet
	// Uncommitted are card sets that a re-issue began to write and never
	// committed, oldest first: their cards never counted, and are refused
	// (docs/lifecycle.md, "Faults"). Their Created is when the re-issue
	// began.
	Uncommitted []CardSet
	// Abandoned are the key-set IDs of uncommitted re-issues that made room
	// in Uncommitted for newer ones, oldest first: their cards stay refused
	// as never counted, rather than reading as a newer generation made
	// elsewhere.
	Abandoned [][16]byte
}

// CardSet is one card set (generation) of the Backup Key, as its records
// describe it, and the cards known to hold it.
type CardSet struct {
	KeySetID   [16]byte
	Generation uint32
	Format     int // its records' format (quorum.Format1, quorum.Format2)
	Label      string
	Created    time.Time // UTC, whole seconds
	K, N       int
	// Serials are the cards known to hold a share of the set (card ICCSN,
	// tcos.Serial), in no particular order: for the current set, those
	// written or seen; for a superseded set, those still to collect.
	Serials [][10]byte
}

// SupersededSet is a card set that a re-issue replaced.
type SupersededSet struct {
	CardSet
	// On is when it was superseded (the re-issue's commit), UTC.
	On time.Time
	// By is the generation that superseded it.
	By uint32
}

// CardSetRegister keeps the register next to the Backup Key (the simulated
// HSM's state directory; for PKCS#11 a private token object beside the key,
// docs/lifecycle.md). It is one value replaced whole: the rules that change it
// are package cardset's.
type CardSetRegister interface {
	// CardSets reads the register. A register never written reads as the
	// zero CardSets; one that does not parse is an error matching
	// ErrCardSetsDamaged.
	CardSets(ctx context.Context) (CardSets, error)
	// UpdateCardSets replaces the register with next, whose Revision it
	// sets to prev+1, if the stored register is still at revision prev; if
	// not, it fails with ErrCardSetsChanged and changes nothing. The
	// replacement is atomic: a reader sees the old register or the new one,
	// even across a crash. An error other than ErrCardSetsChanged leaves it
	// unknown whether next was stored: read it again to tell.
	UpdateCardSets(ctx context.Context, prev uint64, next CardSets) error
}

// CardSetsNoter is a CardSetRegister that also says what it found beside
// the register and did not count (a PKCS#11 token's objects; the simulated
// HSM has nothing to say). The wizard shows the notes where it shows the
// register, and writes them to the audit trail.
type CardSetsNoter interface {
	CardSetRegister
	// CardSetsWithNotes reads the register as CardSets does, and the notes
	// of that same read.
	CardSetsWithNotes(ctx context.Context) (CardSets, []CardSetsNote, error)
}

// CardSetsNote is one thing a register's backend found and did not count
// (docs/lifecycle.md, "Where the generation lives").
type CardSetsNote struct {
	Kind CardSetsNoteKind
	// Objects is how many objects the note is about (NotePublic,
	// NoteLeftover).
	Objects int
	// KCV is the register's key, HSMKCV the Backup Key the HSM holds
	// (NoteOtherKey).
	KCV, HSMKCV [kcv.Size]byte
}

// CardSetsNoteKind says what a CardSetsNote is about.
type CardSetsNoteKind int

const (
	// NotePublic: objects under the register's name that anyone may
	// write without a PIN; never read, removed by the next update.
	NotePublic CardSetsNoteKind = iota + 1
	// NoteLeftover: earlier revisions an interrupted update left behind;
	// the newest counts, the next update removes them.
	NoteLeftover
	// NoteOtherKey: the register is the history of another Backup Key
	// than the HSM holds (it was replaced). It still refuses that key's
	// superseded cards; cardset starts a new history for the HSM's key at
	// its next load or re-issue.
	NoteOtherKey
)

func (n CardSetsNote) String() string {
	switch n.Kind {
	case NotePublic:
		return fmt.Sprintf("%d public object(s) under the name of the card-set register, which anyone can write: ignored", n.Objects)
	case NoteLeftover:
		return fmt.Sprintf("%d earlier revision(s) of the card-set register left by an interrupted update: the newest counts", n.Objects)
	case NoteOtherKey:
		return fmt.Sprintf("the card-set register is about the Backup Key with KCV %X, the HSM holds KCV %X", n.KCV, n.HSMKCV)
	}
	return fmt.Sprintf("card-set register note %d", int(n.Kind))
}

// Errors of the register, for errors.Is.
var (
	// ErrCardSetsChanged: the register changed since it was read (another
	// process, or the same one in another step); nothing was written.
	ErrCardSetsChanged = errors.New("the HSM's record of the card sets changed meanwhile")
	// ErrCardSetsDamaged: the stored register does not parse.
	ErrCardSetsDamaged = errors.New("the HSM's record of the card sets is damaged")
)

// Bounds of the register, so that a stored value from a file or a token is
// refused before it costs much. They are far above what a card set's life
// needs (docs/lifecycle.md).
const (
	// MaxCardSetsSize bounds the encoded register.
	MaxCardSetsSize = 64 << 10
	// MaxSuperseded bounds the superseded sets kept; cardset drops the
	// oldest of those with no card left to collect first.
	MaxSuperseded = 64
	// MaxSetSerials bounds the serials kept per card set (its n cards and
	// their copies).
	MaxSetSerials = 32
	// MaxUncommitted bounds the uncommitted re-issues kept; cardset moves
	// the oldest to Abandoned first.
	MaxUncommitted = 16
	// MaxAbandoned bounds the abandoned re-issues' IDs kept; cardset drops
	// the oldest first.
	MaxAbandoned = 128
	// maxLabelBytes bounds a label: 32 characters of at most 4 bytes, what
	// a share record carries (quorum.MaxLabelLen).
	maxLabelBytes = 128
	// maxShares is the largest n of a card set (quorum.MaxShares).
	maxShares = 9
)

// cardSetsJSON is the encoding (version 1), one JSON object:
//
//	{"v":1,"revision":N,"kcv":"<6 hex>","key_check":"<32 hex>",
//	 "current":SET,"superseded":[SET+{"superseded_on":T,"by":G},…],
//	 "uncommitted":[SET,…],"abandoned":["<32 hex>",…]}
//	SET = {"key_set_id":"<32 hex>","generation":G,"format":F,"label":"…",
//	       "created":"<RFC 3339>","k":K,"n":N,"serials":["<20 hex>",…]}
type cardSetsJSON struct {
	V           int              `json:"v"`
	Revision    uint64           `json:"revision"`
	KCV         string           `json:"kcv,omitempty"`
	KeyCheck    string           `json:"key_check,omitempty"`
	Current     *cardSetJSON     `json:"current"`
	Superseded  []supersededJSON `json:"superseded"`
	Uncommitted []cardSetJSON    `json:"uncommitted"`
	Abandoned   []string         `json:"abandoned,omitempty"`
}

type cardSetJSON struct {
	KeySetID   string    `json:"key_set_id"`
	Generation uint32    `json:"generation"`
	Format     int       `json:"format"`
	Label      string    `json:"label"`
	Created    time.Time `json:"created"`
	K          int       `json:"k"`
	N          int       `json:"n"`
	Serials    []string  `json:"serials"`
}

type supersededJSON struct {
	cardSetJSON
	On time.Time `json:"superseded_on"`
	By uint32    `json:"by"`
}

func (c CardSet) toJSON() cardSetJSON {
	j := cardSetJSON{KeySetID: hex.EncodeToString(c.KeySetID[:]), Generation: c.Generation, Format: c.Format,
		Label: c.Label, Created: c.Created.UTC(), K: c.K, N: c.N, Serials: []string{}}
	for _, s := range c.Serials {
		j.Serials = append(j.Serials, hex.EncodeToString(s[:]))
	}
	return j
}

// MarshalBinary encodes the register as every backend stores it. It refuses
// a register that ParseCardSets would refuse.
func (c CardSets) MarshalBinary() ([]byte, error) {
	if err := c.validate(); err != "" {
		return nil, fmt.Errorf("hsm: cannot encode the card sets: %s", err)
	}
	j := cardSetsJSON{V: 1, Revision: c.Revision, Superseded: []supersededJSON{}, Uncommitted: []cardSetJSON{}}
	if c.Current != nil {
		j.KCV, j.KeyCheck = hex.EncodeToString(c.KCV[:]), hex.EncodeToString(c.KeyCheck[:])
		cur := c.Current.toJSON()
		j.Current = &cur
	}
	for _, s := range c.Superseded {
		j.Superseded = append(j.Superseded, supersededJSON{cardSetJSON: s.CardSet.toJSON(), On: s.On.UTC(), By: s.By})
	}
	for _, u := range c.Uncommitted {
		j.Uncommitted = append(j.Uncommitted, u.toJSON())
	}
	for _, a := range c.Abandoned {
		j.Abandoned = append(j.Abandoned, hex.EncodeToString(a[:]))
	}
	b, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("hsm: %w", err)
	}
	if len(b) > MaxCardSetsSize {
		return nil, fmt.Errorf("hsm: the card sets take %d bytes, at most %d fit", len(b), MaxCardSetsSize)
	}
	return b, nil
}

// ParseCardSets decodes what MarshalBinary wrote. Errors match
// ErrCardSetsDamaged and name the field, never quote the input.
func ParseCardSets(b []byte) (CardSets, error) {
	bad := func(why string) (CardSets, error) {
		return CardSets{}, fmt.Errorf("%w (%s)", ErrCardSetsDamaged, why)
	}
	if len(b) > MaxCardSetsSize {
		return bad("too long")
	}
	var j cardSetsJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&j); err != nil {
		return bad("not a JSON record")
	}
	if _, err := dec.Token(); err != io.EOF {
		return bad("data after the record")
	}
	if j.V != 1 {
		return bad(fmt.Sprintf("unknown version %d", j.V))
	}
	c := CardSets{Revision: j.Revision}
	if j.Current != nil {
		if !decodeHex(c.KCV[:], j.KCV) {
			return bad("kcv")
		}
		if !decodeHex(c.KeyCheck[:], j.KeyCheck) {
			return bad("key check")
		}
		cur, why := j.Current.fromJSON()
		if why != "" {
			return bad("current set: " + why)
		}
		c.Current = &cur
	} else if j.KCV != "" || j.KeyCheck != "" {
		return bad("a key without a current set")
	}
	if len(j.Superseded) > MaxSuperseded {
		return bad("too many superseded sets")
	}
	for i, s := range j.Superseded {
		set, why := s.cardSetJSON.fromJSON()
		if why != "" {
			return bad(fmt.Sprintf("superseded set %d: %s", i+1, why))
		}
		c.Superseded = append(c.Superseded, SupersededSet{CardSet: set, On: s.On.UTC(), By: s.By})
	}
	if len(j.Uncommitted) > MaxUncommitted {
		return bad("too many uncommitted sets")
	}
	for i, u := range j.Uncommitted {
		set, why := u.fromJSON()
		if why != "" {
			return bad(fmt.Sprintf("uncommitted set %d: %s", i+1, why))
		}
		c.Uncommitted = append(c.Uncommitted, set)
	}
	if len(j.Abandoned) > MaxAbandoned {
		return bad("too many abandoned sets")
	}
	for i, a := range j.Abandoned {
		var id [16]byte
		if !decodeHex(id[:], a) {
			return bad(fmt.Sprintf("abandoned set %d", i+1))
		}
		c.Abandoned = append(c.Abandoned, id)
	}
	if why := c.validate(); why != "" {
		return bad(why)
	}
	return c, nil
}

func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	_, err := hex.Decode(dst, []byte(s))
	return err == nil
}

func (j cardSetJSON) fromJSON() (CardSet, string) {
	c := CardSet{Generation: j.Generation, Format: j.Format, Label: j.Label, Created: j.Created.UTC(), K: j.K, N: j.N}
	if !decodeHex(c.KeySetID[:], j.KeySetID) {
		return CardSet{}, "key-set ID"
	}
	if len(j.Serials) > MaxSetSerials {
		return CardSet{}, "too many serials"
	}
	for _, s := range j.Serials {
		var sn [10]byte
		if !decodeHex(sn[:], s) {
			return CardSet{}, "serial"
		}
		c.Serials = append(c.Serials, sn)
	}
	return c, ""
}

// validate checks a register: each set well formed, generations rising from
// the superseded sets to the current one, no key-set ID twice. It returns
// the reason, "" when it holds.
func (c CardSets) validate() string {
	if c.Current == nil {
		if c.KCV != ([kcv.Size]byte{}) || c.KeyCheck != ([kcv.CheckSize]byte{}) {
			return "a key without a current set"
		}
		if len(c.Superseded) > 0 || len(c.Uncommitted) > 0 || len(c.Abandoned) > 0 {
			return "earlier or uncommitted sets without a current set"
		}
		return ""
	}
	if len(c.Superseded) > MaxSuperseded {
		return "too many superseded sets"
	}
	if len(c.Uncommitted) > MaxUncommitted {
		return "too many uncommitted sets"
	}
	if len(c.Abandoned) > MaxAbandoned {
		return "too many abandoned sets"
	}
	ids := map[[16]byte]bool{}
	prev := uint32(0)
	for i, s := range c.Superseded {
		if why := s.CardSet.validate(); why != "" {
			return fmt.Sprintf("superseded set %d: %s", i+1, why)
		}
		if s.Generation <= prev {
			return "superseded generations out of order"
		}
		if s.By <= s.Generation || s.On.Before(s.Created) || s.On.Year() > 9999 {
			return fmt.Sprintf("superseded set %d: when or by what", i+1)
		}
		if ids[s.KeySetID] {
			return "a key-set ID twice"
		}
		ids[s.KeySetID] = true
		prev = s.Generation
	}
	if why := c.Current.validate(); why != "" {
		return "current set: " + why
	}
	if c.Current.Generation <= prev {
		return "the current generation is not the newest"
	}
	if ids[c.Current.KeySetID] {
		return "a key-set ID twice"
	}
	ids[c.Current.KeySetID] = true
	for i, u := range c.Uncommitted {
		if why := u.validate(); why != "" {
			return fmt.Sprintf("uncommitted set %d: %s", i+1, why)
		}
		if ids[u.KeySetID] {
			return "a key-set ID twice"
		}
		ids[u.KeySetID] = true
	}
	return ""
}

func (c CardSet) validate() string {
	switch {
	case c.Generation < 1:
		return "generation 0"
	case c.Format != 1 && c.Format != 2:
		return "format"
	case c.Format == 1 && c.Generation != 1:
		return "a format 1 set is generation 1"
	case c.K < 2 || c.N < c.K || c.N > maxShares:
		return "quorum"
	case c.Label == "" || len(c.Label) > maxLabelBytes || safetext.Clean(c.Label) != c.Label:
		return "label"
	case c.Created.Unix() < 0 || c.Created.Year() > 9999 || c.Created.Nanosecond() != 0:
		return "creation time"
	case len(c.Serials) > MaxSetSerials:
		return "too many serials"
	}
	for i, s := range c.Serials {
		if slices.Contains(c.Serials[:i], s) {
			return "a serial twice"
		}
	}
	return ""
}

// CardSetsOf returns the card-set register of h, if its backend keeps one:
// h itself, or the HSM inside WithUserSlot.
func CardSetsOf(h HSM) (CardSetRegister, bool) {
	for h != nil {
		if r, ok := h.(CardSetRegister); ok {
			return r, true
		}
		w, ok := h.(withUserSlot)
		if !ok {
			return nil, false
		}
		h = w.HSM
	}
	return nil, false
}
