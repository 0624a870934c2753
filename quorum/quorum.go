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
// bytes) (FORMAT.md).
type KCV [3]byte

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
	KeySetID KeySetID
	Label    string
	Created  time.Time
	Scheme   Scheme
	Share    []byte // Vault's format: y-bytes then x; secret
	KCV      KCV
}

// KeySet describes one Backup Key as its records tell it: everything the
// wizard may show, nothing secret.
type KeySet struct {
	ID      KeySetID
	Label   string
	Created time.Time
	Scheme  Scheme
	KCV     KCV
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
