// Package quorum makes, splits, encodes and rebuilds the Backup Key: a 32-byte
// AES key shared k-of-n with Shamir's scheme (Vault's implementation) across
// share cards. Each card holds one Record, encoded as in FORMAT.md.
//
// Vault's Combine happily returns a wrong key for mixed, too few or damaged
// shares; the record's key-set ID, checksum and KCV are what catch those
// (DESIGN "Shamir, Vault's way"), and Collector applies all three.
package quorum

import (
	"errors"
	"time"
)

// KeySize is the Backup Key length: a 32-byte AES key (seed, "Quorum").
const KeySize = 32

// ShareSize is the length of one share in Vault's format: one y byte per key
// byte, then the x coordinate.
const ShareSize = KeySize + 1

// MaxRecordSize is the largest encoded record: EF 4B01 holds ≤ 255 bytes
// (DESIGN "Card profile on TCOS 3.0"), one short APDU's worth.
const MaxRecordSize = 255

// MaxLabelLen is the longest label, in characters (runes).
const MaxLabelLen = 32

// MaxShares is the largest n accepted; the seed offers only 2-of-3 and 3-of-5.
const MaxShares = 9

// KCV is a key check value: the first 3 bytes of AES-256-ECB(key, 16 zero
// bytes) (DESIGN "Share record").
type KCV [3]byte

// KeySetID identifies one generated Backup Key; every share of it carries it.
type KeySetID [16]byte

// Scheme is a k-of-n quorum.
type Scheme struct{ K, N int }

// The quorums the seed offers.
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
