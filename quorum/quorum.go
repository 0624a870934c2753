// Package quorum makes, splits, encodes and rebuilds the Backup Key: a 32-byte
// AES key shared k-of-n with Shamir's scheme (in Vault's share format) across
// share cards. Each card holds one Record, encoded as in FORMAT.md.
//
// Shamir's scheme returns a wrong key for mixed, too few or damaged shares
// without any error; the record's key-set ID, checksum and KCV are what
// catch those (FORMAT.md, "What catches what"), and Collector applies all
// three. The splitting itself is in shamir.go, byte-compatible with
// github.com/hashicorp/vault/shamir.
package quorum

import (
	"errors"
	"time"
)

// KeySize is the Backup Key length: a 32-byte AES key (the appliance manual,
// Smart Card Handling, "Quorum").
const KeySize = 32

// ShareSize is the length of one share in Vault's format: one y byte per key
// byte, then the x coordinate.
const ShareSize = KeySize + 1

// MaxRecordSize is the largest encoded record: EF 4B01 holds ≤ 255 bytes
// (docs/tcos.md), one short APDU's worth.
const MaxRecordSize = 255

// MaxLabelLen is the longest label, in characters (runes): the one bound of
// share-record labels, for everything that takes or shows one
// (ValidateLabel checks it).
const MaxLabelLen = 32

// MaxShares is the largest n accepted; the appliance manual offers only
// 2-of-3 and 3-of-5.
const MaxShares = 9

// KCV is a key check value: the first 3 bytes of AES-256-ECB(key, 16 zero
// bytes) (FORMAT.md). It is what the appliance shows.
type KCV [3]byte

// KeyCheck is the key check of record format 2: AES-256-ECB(key, the block
// "hsmcards:chk" 00 00 00 00), all 16 bytes (FORMAT.md, "The key check"). It
// is the same for every card set (generation) of one key.
type KeyCheck [16]byte

// Record formats (FORMAT.md). Format 1 has no generation and no key check;
// format 2 adds both.
const (
	Format1 = 1
	Format2 = 2
)

// Generation counts the card sets of one Backup Key: the install writes
// generation 1, every re-issue the next (docs/lifecycle.md). A format 1
// record is generation 1: it was written before re-issuing existed.
type Generation uint32

// KeySetID identifies one generated Backup Key; every share of it carries it.
type KeySetID [16]byte

// Scheme is a k-of-n quorum.
type Scheme struct{ K, N int }

// The quorums the appliance manual offers.
var (
	TwoOfThree  = Scheme{2, 3}
	ThreeOfFive = Scheme{3, 5}
)

// Record is one share card's content (EF 4B01), documented in FORMAT.md.
type Record struct {
	// Format is the record format, Format1 or Format2: Parse sets it and
	// Marshal writes it, so a record read and written again (a copied card)
	// keeps its format byte for byte.
	Format     int
	KeySetID   KeySetID
	Generation Generation // 1 for a format 1 record
	Label      string
	Created    time.Time
	Scheme     Scheme
	Share      []byte // Vault's format: y-bytes then x; secret
	KCV        KCV
	KeyCheck   KeyCheck // format 2; zero in format 1
}

// KeySet describes one card set of a Backup Key as its records tell it:
// everything the wizard may show, nothing secret. Every record of one set
// says the same.
type KeySet struct {
	ID         KeySetID
	Format     int
	Generation Generation
	Label      string
	Created    time.Time
	Scheme     Scheme
	KCV        KCV
	KeyCheck   KeyCheck // zero for a format 1 set
}

// KeySet is what the record says about its card set, without the share.
func (r *Record) KeySet() KeySet {
	return KeySet{ID: r.KeySetID, Format: r.Format, Generation: r.Generation, Label: r.Label,
		Created: r.Created, Scheme: r.Scheme, KCV: r.KCV, KeyCheck: r.KeyCheck}
}

// Same reports whether two descriptions of a card set agree in every field.
func (s KeySet) Same(o KeySet) bool {
	return s.ID == o.ID && s.Format == o.Format && s.Generation == o.Generation && s.Label == o.Label &&
		s.Created.Equal(o.Created) && s.Scheme == o.Scheme && s.KCV == o.KCV && s.KeyCheck == o.KeyCheck
}

// Errors of parsing and collecting records, for errors.Is.
var (
	ErrEmpty          = errors.New("the card holds no Backup Key share")
	ErrCorrupt        = errors.New("the Backup Key share on the card is damaged")
	ErrOtherKeySet    = errors.New("this card holds a share of a different Backup Key")
	ErrDuplicateShare = errors.New("this share was already read")
	ErrTooFew         = errors.New("not enough shares to rebuild the Backup Key")
	ErrKCV            = errors.New("the rebuilt Backup Key does not match the cards' check value")
	// ErrUnknownVersion means the record is intact (its checksum holds) but
	// in a format version this program does not know, most likely newer.
	ErrUnknownVersion = errors.New("the Backup Key share on the card is in a format this hsmcards does not know")
)
