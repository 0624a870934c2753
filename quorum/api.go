package quorum

// This file fixes the quorum API the wizard codes against. Implementations
// replace the panics.

import (
	"errors"
	"time"
)

// KeySize is the Backup Key length: a 32-byte AES key (seed, "Quorum").
const KeySize = 32

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

// Key is a Backup Key held in memory. Wipe it when done.
type Key struct{}

// Bytes returns the key material. The slice aliases the Key: Wipe clears it.
func (k *Key) Bytes() []byte { panic("unimplemented") }

// KCV returns the key's check value.
func (k *Key) KCV() KCV { panic("unimplemented") }

// Wipe overwrites the key material with zeros.
func (k *Key) Wipe() { panic("unimplemented") }

// Generate makes a new Backup Key with crypto/rand and splits it into n share
// records.
func Generate(label string, s Scheme, now time.Time) (*Key, []*Record, error) {
	panic("unimplemented")
}

// Marshal encodes a record for the card (≤ 255 bytes, with checksum).
func (r *Record) Marshal() ([]byte, error) { panic("unimplemented") }

// Parse decodes EF 4B01 contents. Empty contents yield ErrEmpty, a failed
// checksum or malformed TLV ErrCorrupt.
func Parse(b []byte) (*Record, error) { panic("unimplemented") }

// Collector gathers share records read during one Key Reading.
type Collector struct{}

// NewCollector starts a collection; the first record fixes the key set,
// unless want is non-nil (then only that key set is accepted).
func NewCollector(want *KeySetID) *Collector { panic("unimplemented") }

// Add takes one more record: ErrOtherKeySet, ErrDuplicateShare refuse it.
func (c *Collector) Add(r *Record) error { panic("unimplemented") }

// Have and Need report progress: Have() of Need() shares.
func (c *Collector) Have() int { panic("unimplemented") }

// Need is k of the collected key set, 0 before the first record.
func (c *Collector) Need() int { panic("unimplemented") }

// Combine reconstructs the key when enough shares were added, and verifies its
// KCV against the records'. It never returns a wrong key without an error.
func (c *Collector) Combine() (*Key, error) { panic("unimplemented") }

// Errors of parsing and collecting records, for errors.Is.
var (
	ErrEmpty          = errors.New("the card holds no Backup Key share")
	ErrCorrupt        = errors.New("the Backup Key share on the card is damaged")
	ErrOtherKeySet    = errors.New("this card holds a share of a different Backup Key")
	ErrDuplicateShare = errors.New("this share was already read")
	ErrTooFew         = errors.New("not enough shares to rebuild the Backup Key")
	ErrKCV            = errors.New("the rebuilt Backup Key does not match the cards' check value")
)
