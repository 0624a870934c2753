// Package simcard is a simulated TCOS 3.0 card carrying the appliance's card
// profile (docs/tcos.md): an APDU processor that the simulated reader
// (cardio.SimReader) or the vpcd bridge hosts, a model of a real card's pace
// for training, and a persistent deck of such cards.
package simcard

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/hsmcards/hsmcards/tcos"
)

// Card constants (docs/tcos.md "Card profile").
const (
	maxTries    = tcos.MaxTries
	saltLen     = 16
	fdbDF       = 0x38 // FCP file descriptor byte of a DF (ISO 7816-4 table 12)
	fdbEF       = 0x01 // ... of a transparent working EF
	stateFormat = 1
	// challengeLen is what GET CHALLENGE hands out: 8 bytes, the size of
	// the challenge of a DES-based EXTERNAL AUTHENTICATE; any other Le is
	// answered 6C08.
	challengeLen = 8
	// maxNameLen bounds a DF name (ISO 7816-4 §8.2.1.2: 1 to 16 bytes).
	maxNameLen = 16
)

// FCP tags (ISO 7816-4 table 12) and the values the card puts there.
const (
	tagFCP       = 0x62
	tagSize      = 0x80 // bytes of data in a transparent EF
	tagFDB       = 0x82 // file descriptor byte
	tagFID       = 0x83
	tagDFName    = 0x84
	tagProp      = 0x85 // proprietary information
	tagSecAttr   = 0x86 // security attributes, in the form card-tcos.c reads
	tagSFI       = 0x88
	tagLifeCycle = 0x8A
	// lcsActivated is the life-cycle status byte "operational, activated"
	// (ISO 7816-4 table 13: 0000 01x1).
	lcsActivated = 0x05
)

// Proprietary information (tag 85) as OpenSC's card-tcos.c writes it when it
// creates files on a TCOS card: 01 "not invalidated, permanent", and for a
// working EF a second byte 00 "generic data file".
var (
	propDF = []byte{0x01}
	propEF = []byte{0x01, 0x00}
)

// access is what a command needs on a file.
type access int

const (
	always access = iota + 1
	// slotPINVerified: the local PIN of the file's slot DF is verified.
	slotPINVerified
)

// rule allows one instruction on a file. An instruction without a rule is
// refused (6982). The rules are both what the card enforces and what its
// FCP shows (tag 86), so the two cannot drift apart.
type rule struct {
	ins  byte
	need access
}

// file is one node of the card's fixed file tree.
type file struct {
	fid    uint16
	df     bool
	parent uint16
	sfi    byte   // 0: none
	name   []byte // DF name (tag 84); DFs of the slots only
	rules  []rule
}

// DF names: proprietary application identifiers (ISO 7816-5: a first
// nibble F is an AID nobody registered), the simulated card's own. The
// host never selects by name, so real cards may carry other names.
var (
	nameBackupDF = []byte("\xF0HSM-BACKUP")
	namePKCS11DF = []byte("\xF0HSM-PKCS11")
)

// tree is the profile's file system (docs/tcos.md "Card profile"). DF 4C00
// holds the public key of the slot user key pair in EF 4C01; its private
// key has no EF (keys.go).
var tree = []file{
	{fid: tcos.FIDMF, df: true, rules: []rule{{tcos.INSSelect, always}}},
	{fid: tcos.FIDGDO, parent: tcos.FIDMF, sfi: tcos.SFIGDO, rules: []rule{{tcos.INSReadBinary, always}}},
	{fid: tcos.FIDBackupDF, df: true, parent: tcos.FIDMF, name: nameBackupDF,
		rules: []rule{{tcos.INSSelect, always}}},
	{fid: tcos.FIDShareEF, parent: tcos.FIDBackupDF,
		rules: []rule{{tcos.INSReadBinary, slotPINVerified}, {tcos.INSUpdateBinary, slotPINVerified}}},
	{fid: tcos.FIDPKCS11DF, df: true, parent: tcos.FIDMF, name: namePKCS11DF,
		rules: []rule{{tcos.INSSelect, always}, {tcos.INSGenerateKeyPair, slotPINVerified},
			{tcos.INSMSE, always}, {tcos.INSPSO, slotPINVerified}}},
	{fid: tcos.FIDPublicKeyEF, parent: tcos.FIDPKCS11DF, rules: []rule{{tcos.INSReadBinary, always}}},
}

func lookup(fid uint16) (file, bool) {
	for _, f := range tree {
		if f.fid == fid {
			return f, true
		}
	}
	return file{}, false
}

func child(parent, fid uint16) (file, bool) {
	f, ok := lookup(fid)
	if !ok || f.parent != parent || fid == tcos.FIDMF {
		return file{}, false
	}
	return f, true
}

// pinState is one slot PIN as stored: salted SHA-256, never the PIN itself
// (deck files get copied around), and its length, which CHANGE REFERENCE
// DATA needs to split old||new.
type pinState struct {
	Salt  []byte `json:"salt"`
	Hash  []byte `json:"hash"`
	Len   int    `json:"len"`
	Tries int    `json:"tries"`
}

func newPIN(pin []byte) pinState {
	p := pinState{Salt: make([]byte, saltLen), Len: len(pin), Tries: maxTries}
	rand.Read(p.Salt)
	p.Hash = hashPIN(p.Salt, pin)
	return p
}

func hashPIN(salt, pin []byte) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write(pin)
	return h.Sum(nil)
}

func (p *pinState) matches(pin []byte) bool {
	return subtle.ConstantTimeCompare(hashPIN(p.Salt, pin), p.Hash) == 1
}

func (p *pinState) valid() bool {
	return len(p.Salt) == saltLen && len(p.Hash) == sha256.Size &&
		p.Len >= tcos.MinPINLen && p.Len <= tcos.MaxPINLen && p.Tries >= 0 && p.Tries <= maxTries
}

// state is what survives a reset and, in a deck, a restart.
type state struct {
	Format    int      `json:"format"`
	Serial    []byte   `json:"serial"`
	BackupPIN pinState `json:"pin_4b00"`
	PKCS11PIN pinState `json:"pin_4c00"`
	Share     []byte   `json:"ef_4b01"`
	// Key is the slot user private key (PKCS#1 DER), reachable by no EF;
	// PubKey is EF 4C01 (keys.go). Both empty until GENERATE KEY PAIR.
	Key    []byte `json:"key_4c00,omitempty"`
	PubKey []byte `json:"ef_4c01,omitempty"`
}

func (s *state) validate() error {
	switch {
	case s.Format != stateFormat:
		return fmt.Errorf("unknown card state format %d", s.Format)
	case len(s.Serial) != len(tcos.Serial{}):
		return fmt.Errorf("card serial of %d bytes", len(s.Serial))
	case len(s.Share) != tcos.ShareEFSize:
		return fmt.Errorf("share file of %d bytes", len(s.Share))
	case !s.BackupPIN.valid() || !s.PKCS11PIN.valid():
		return fmt.Errorf("bad PIN record")
	}
	return s.validKey()
}

// Card is one simulated TCOS 3.0 card. It implements cardio.StorageReporter
// and is safe for concurrent use (the wizard and the vpcd bridge may both
// hold it).
type Card struct {
	mu sync.Mutex
	st state
	// save persists st; nil for an in-memory card. Its error is a
	// *cardio.StorageError naming the file.
	save func(data []byte) error
	// saveErr is the save failure of the last command, if it had one.
	saveErr error

	// Volatile state, lost on reset.
	df, ef   uint16 // current DF and EF (0: no current EF)
	verified bool   // the current DF's PIN is verified
	pending  []byte // response data waiting for GET RESPONSE
	keys     keyState
}

// New returns an in-memory card fresh from the factory: PINs 123456, empty
// share file.
func New(serial tcos.Serial) *Card {
	c := &Card{st: state{
		Format:    stateFormat,
		Serial:    serial[:],
		BackupPIN: newPIN([]byte(tcos.FactoryPIN)),
		PKCS11PIN: newPIN([]byte(tcos.FactoryPIN)),
		Share:     make([]byte, tcos.ShareEFSize),
	}}
	c.reset()
	return c
}

// Serial is the card's ICCSN, as EF.GDO holds it.
func (c *Card) Serial() tcos.Serial {
	c.mu.Lock()
	defer c.mu.Unlock()
	var s tcos.Serial
	copy(s[:], c.st.Serial)
	return s
}

// ATR is the TCOS 3.0 ATR of docs/tcos.md (OpenSC knows it as a Philips
// P5CT072 with TCOS 3.0).
func (c *Card) ATR() []byte { return tcos.ReferenceATR() }

// Reset drops every verification state and makes the MF current.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

func (c *Card) reset() {
	c.df, c.ef, c.verified, c.pending = tcos.FIDMF, 0, false, nil
	c.endChain()
	c.keys = keyState{}
}

// marshal encodes the persistent state.
func (c *Card) marshal() ([]byte, error) { return json.MarshalIndent(&c.st, "", "  ") }

// persist saves the state after a change. On failure it keeps the error
// for StorageFailure and reports false; the command then undoes its change
// and answers 6581 (memory failure), as a card whose EEPROM write failed
// would.
func (c *Card) persist() bool {
	if c.save == nil {
		return true
	}
	b, err := c.marshal()
	if err == nil {
		err = c.save(b)
	}
	if err != nil {
		c.saveErr = err
		return false
	}
	return true
}

// Process handles one command APDU and returns the response APDU (at least
// SW1 SW2). It never panics on any input. A command whose result could not
// be saved answers 6581, keeps no change but a spent PIN try, and leaves
// the reason for StorageFailure.
func (c *Card) Process(cmd []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.saveErr = nil
	return c.process(cmd).Bytes()
}

// StorageFailure is the save error (a *cardio.StorageError) of the last
// command, which answered 6581; nil if it saved all it had to.
func (c *Card) StorageFailure() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saveErr
}

func sw(x uint16) tcos.Response { return tcos.Response{SW: x} }

func ok(data []byte) tcos.Response { return tcos.Response{Data: data, SW: tcos.SWOK} }

func (c *Card) process(raw []byte) tcos.Response {
	cmd, err := parseCommand(raw)
	if err != nil {
		c.pending = nil
		c.endChain()
		return sw(tcos.SWWrongLength)
	}
	if cmd.cla == tcos.CLAISO && cmd.ins == tcos.INSGetResponse {
		return c.getResponse(cmd)
	}
	c.pending = nil
	if r, handled := c.keyCommand(cmd); handled {
		return r
	}
	switch cmd.cla {
	case tcos.CLATCOS:
		if cmd.ins == tcos.INSListFiles {
			return c.listFiles(cmd)
		}
		return sw(tcos.SWCLANotSupported)
	case tcos.CLAISO:
	default:
		return sw(tcos.SWCLANotSupported)
	}
	switch cmd.ins {
	case tcos.INSSelect:
		return c.selectFile(cmd)
	case tcos.INSReadBinary:
		return c.readBinary(cmd)
	case tcos.INSUpdateBinary:
		return c.updateBinary(cmd)
	case tcos.INSVerify:
		return c.verify(cmd)
	case tcos.INSChangeRef:
		return c.changeRef(cmd)
	case tcos.INSGetChallenge:
		return c.getChallenge(cmd)
	}
	return sw(tcos.SWINSNotSupported)
}

// answer hands out data the host asked ne bytes of: all of it when it fits,
// else the first ne bytes and 61xx for the rest (GET RESPONSE), or, without
// an Le field, 61xx for all of it, as a T=0 card answers a case 3 command.
func (c *Card) answer(cmd command, data []byte) tcos.Response {
	n := min(cmd.ne, len(data))
	if n == len(data) {
		return ok(data)
	}
	c.pending = data[n:]
	return tcos.Response{Data: data[:n], SW: tcos.SWBytesAvailable | uint16(byte(min(len(c.pending), maxNeShort)))}
}

// getResponse hands out data a case 3 SELECT or a decipher left pending
// with 61xx.
func (c *Card) getResponse(cmd command) tcos.Response {
	if cmd.p1 != 0 || cmd.p2 != 0 {
		c.pending = nil
		return sw(tcos.SWWrongP1P2)
	}
	if len(c.pending) == 0 || len(cmd.data) > 0 {
		c.pending = nil
		return sw(tcos.SWConditions)
	}
	if cmd.ne == 0 || (cmd.ne > len(c.pending) && !cmd.wantsAll()) {
		return sw(tcos.SWWrongLe | uint16(byte(min(len(c.pending), maxNeShort))))
	}
	pending := c.pending
	c.pending = nil
	return c.answer(cmd, pending)
}

// selectFile is SELECT (docs/tcos.md "SELECT"): P1 00 the MF (or a child
// FID of the current DF), 02 an EF under the current DF, 03 the parent DF,
// 04 a DF by name (first or next occurrence, the whole name or its start),
// 08 a path from the MF, 09 a path from the current DF; P2 0C returns
// nothing, 04 the FCP.
func (c *Card) selectFile(cmd command) tcos.Response {
	occurrence := cmd.p2 & 0x03
	if ret := cmd.p2 &^ 0x03; (ret != 0x0C && ret != 0x04) ||
		(occurrence != 0 && (cmd.p1 != 0x04 || occurrence != 0x02)) {
		return sw(tcos.SWWrongP1P2)
	}
	d := cmd.data
	var (
		target file
		found  bool
	)
	switch cmd.p1 {
	case 0x00:
		switch {
		case len(d) == 0 || bytes.Equal(d, []byte{0x3F, 0x00}):
			target, found = lookup(tcos.FIDMF)
		case len(d) == 2:
			target, found = child(c.df, fid(d))
		default:
			return sw(tcos.SWWrongLength)
		}
	case 0x02:
		if len(d) != 2 {
			return sw(tcos.SWWrongLength)
		}
		target, found = child(c.df, fid(d))
		found = found && !target.df
	case 0x03:
		if len(d) != 0 {
			return sw(tcos.SWWrongLength)
		}
		if c.df != tcos.FIDMF {
			cur, _ := lookup(c.df)
			target, found = lookup(cur.parent)
		}
	case 0x04:
		if len(d) == 0 || len(d) > maxNameLen {
			return sw(tcos.SWWrongLength)
		}
		target, found = c.byName(d, occurrence == 0x02)
	case 0x08, 0x09:
		if len(d) == 0 || len(d)%2 != 0 {
			return sw(tcos.SWWrongLength)
		}
		start := uint16(tcos.FIDMF)
		if cmd.p1 == 0x09 {
			start = c.df
		}
		target, found = walk(start, d)
	default:
		return sw(tcos.SWWrongP1P2)
	}
	if !found {
		return sw(tcos.SWFileNotFound)
	}
	if target.df && !c.allowed(target.fid, tcos.INSSelect) {
		return sw(tcos.SWSecurityStatus)
	}
	newDF, newEF := target.fid, uint16(0)
	if !target.df {
		newDF, newEF = target.parent, target.fid
	}
	if newDF != c.df {
		c.verified = false // verification state is per DF
		c.keys.mse = false
	}
	c.df, c.ef = newDF, newEF
	if cmd.p2&^0x03 == 0x0C {
		return ok(nil)
	}
	fcp := c.fcp(target)
	if cmd.ne != 0 && cmd.ne < len(fcp) {
		return sw(tcos.SWWrongLe | uint16(len(fcp)))
	}
	return c.answer(cmd, fcp)
}

// byName finds the DF whose name starts with prefix (ISO 7816-4 §7.1.1:
// selection by a whole or partial DF name): the first in the tree, or with
// next the first after the current DF.
func (c *Card) byName(prefix []byte, next bool) (file, bool) {
	past := !next
	for _, f := range tree {
		if !past {
			past = f.fid == c.df
			continue
		}
		if f.df && len(f.name) > 0 && bytes.HasPrefix(f.name, prefix) {
			return f, true
		}
	}
	return file{}, false
}

func fid(b []byte) uint16 { return uint16(b[0])<<8 | uint16(b[1]) }

// walk follows a path of FIDs from start; every step but the last must be a DF.
func walk(start uint16, path []byte) (file, bool) {
	cur := start
	var f file
	for i := 0; i < len(path); i += 2 {
		if i > 0 && !f.df {
			return file{}, false
		}
		var found bool
		if f, found = child(cur, fid(path[i:])); !found {
			return file{}, false
		}
		cur = f.fid
	}
	return f, true
}

// fcp is the file's FCP template (tag 62, docs/tcos.md "FCP"), its data
// objects in the order of ISO 7816-4 table 12: size (80, EFs), file
// descriptor (82), FID (83), DF name (84), proprietary information (85),
// security attributes (86), SFI (88), life-cycle status (8A).
func (c *Card) fcp(f file) []byte {
	var body []byte
	put := func(tag byte, v ...byte) { body = append(append(body, tag, byte(len(v))), v...) }
	if !f.df {
		n := len(c.efData(f.fid))
		put(tagSize, byte(n>>8), byte(n))
		put(tagFDB, fdbEF)
	} else {
		put(tagFDB, fdbDF)
	}
	put(tagFID, byte(f.fid>>8), byte(f.fid))
	if len(f.name) > 0 {
		put(tagDFName, f.name...)
	}
	if f.df {
		put(tagProp, propDF...)
	} else {
		put(tagProp, propEF...)
	}
	put(tagSecAttr, secAttr(f.rules)...)
	if f.sfi != 0 {
		put(tagSFI, f.sfi<<3) // ISO 7816-4 §8.2.1.1: SFI in bits 8 to 4
	}
	put(tagLifeCycle, lcsActivated)
	return append([]byte{tagFCP, byte(len(body))}, body...)
}

// secAttr encodes rules as the security attributes OpenSC's card-tcos.c
// reads from tag 86 (docs/tcos.md "Security attributes"): one 6-byte entry
// per instruction, its INS, the PIN reference that must be verified (00:
// none), a 2-byte key reference of an authentication that would do instead
// (00 00: none needed; FF FF: no such key, the PIN alone), and FF FF as in
// the default entries card-tcos.c writes. card-tcos.c reads a zero key
// reference as "no condition" and lets it replace the PIN condition before
// it; FF FF keeps the PIN visible (opensc-explorer shows "CHV129 TERM").
func secAttr(rules []rule) []byte {
	var out []byte
	for _, r := range rules {
		pin, key := byte(0), byte(0)
		if r.need == slotPINVerified {
			pin, key = tcos.PINRef, 0xFF
		}
		out = append(out, r.ins, pin, key, key, 0xFF, 0xFF)
	}
	return out
}

// efData is the live content of a transparent EF.
func (c *Card) efData(fid uint16) []byte {
	switch fid {
	case tcos.FIDGDO:
		return append([]byte{tcos.TagICCSN, byte(len(c.st.Serial))}, c.st.Serial...)
	case tcos.FIDShareEF:
		return c.st.Share
	case tcos.FIDPublicKeyEF:
		return c.st.PubKey
	}
	return nil
}

// allowed applies the file's rule for ins. A PIN counts only while the
// file's slot DF (the DF itself, or an EF's parent) is current: verification
// is per DF.
func (c *Card) allowed(fid uint16, ins byte) bool {
	f, found := lookup(fid)
	if !found {
		return false
	}
	for _, r := range f.rules {
		if r.ins != ins {
			continue
		}
		switch r.need {
		case always:
			return true
		case slotPINVerified:
			df := f.fid
			if !f.df {
				df = f.parent
			}
			return c.verified && c.df == df
		}
	}
	return false
}

// binaryTarget resolves the EF and offset of READ/UPDATE BINARY: P1 bit 8
// set means SFI in P1 bits 1–5 and an 8-bit offset in P2 (the EF becomes
// current); otherwise a 15-bit offset into the current EF.
func (c *Card) binaryTarget(cmd command) (fid uint16, off int, bad uint16) {
	if cmd.p1&0x80 == 0 {
		if c.ef == 0 {
			return 0, 0, tcos.SWNoCurrentEF
		}
		return c.ef, int(cmd.p1)<<8 | int(cmd.p2), 0
	}
	sfi := cmd.p1 & 0x1F
	if cmd.p1&0x60 != 0 || sfi == 0 {
		return 0, 0, tcos.SWWrongP1P2
	}
	for _, f := range tree {
		if !f.df && f.parent == c.df && f.sfi == sfi {
			c.ef = f.fid
			return f.fid, int(cmd.p2), 0
		}
	}
	return 0, 0, tcos.SWFileNotFound
}

// binaryFile is the EF contents and offset READ or UPDATE BINARY addresses,
// once the access rule allows it and the offset lies inside the file; bad is
// the status word otherwise.
func (c *Card) binaryFile(cmd command) (data []byte, off int, bad uint16) {
	fid, off, bad := c.binaryTarget(cmd)
	if bad != 0 {
		return nil, 0, bad
	}
	if !c.allowed(fid, cmd.ins) {
		return nil, 0, tcos.SWSecurityStatus
	}
	data = c.efData(fid)
	if fid == tcos.FIDPublicKeyEF && len(data) == 0 {
		return nil, 0, tcos.SWRefNotFound // no key pair generated yet
	}
	if off >= len(data) {
		return nil, 0, tcos.SWWrongOffset
	}
	return data, off, 0
}

// readBinary is READ BINARY. A short Le 00 on a shorter rest answers 6Cxx
// with the exact length; a longer Le (or an extended 00 00) the rest with
// 6282; an offset past the end 6B00.
func (c *Card) readBinary(cmd command) tcos.Response {
	if len(cmd.data) > 0 || cmd.ne == 0 {
		return sw(tcos.SWWrongLength)
	}
	data, off, bad := c.binaryFile(cmd)
	if bad != 0 {
		return sw(bad)
	}
	rest := data[off:]
	switch {
	case cmd.wantsAll() && !cmd.extended && len(rest) < maxNeShort:
		return sw(tcos.SWWrongLe | uint16(len(rest)))
	case cmd.ne > len(rest):
		return tcos.Response{Data: bytes.Clone(rest), SW: tcos.SWEndOfFile}
	}
	return ok(bytes.Clone(rest[:cmd.ne]))
}

// updateBinary is UPDATE BINARY; nothing is changed unless it is saved.
func (c *Card) updateBinary(cmd command) tcos.Response {
	if len(cmd.data) == 0 || cmd.ne != 0 {
		return sw(tcos.SWWrongLength)
	}
	data, off, bad := c.binaryFile(cmd)
	if bad != 0 {
		return sw(bad)
	}
	if off+len(cmd.data) > len(data) {
		return sw(tcos.SWWrongLength)
	}
	dst := data[off : off+len(cmd.data)]
	old := bytes.Clone(dst)
	defer clear(old) // it may be a share record
	copy(dst, cmd.data)
	if !c.persist() {
		copy(dst, old)
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// slotPIN is the local PIN of the current DF, nil in the MF.
func (c *Card) slotPIN(p2 byte) (*pinState, uint16) {
	if p2 != tcos.PINRef {
		return nil, tcos.SWRefNotFound
	}
	switch c.df {
	case tcos.FIDBackupDF:
		return &c.st.BackupPIN, 0
	case tcos.FIDPKCS11DF:
		return &c.st.PKCS11PIN, 0
	}
	return nil, tcos.SWRefNotFound
}

// wrongPIN spends a try; the last one answers 63C0, later verifies 6983. The
// try stays spent even if it cannot be saved: a file system that refuses
// must not give anyone free tries.
func (c *Card) wrongPIN(p *pinState) tcos.Response {
	c.verified = false
	if p.Tries > 0 {
		p.Tries--
	}
	if !c.persist() {
		return sw(tcos.SWMemoryFailure)
	}
	return sw(tcos.SWWrongPIN | uint16(p.Tries))
}

// rightPIN resets the retry counter and marks the DF verified; if the reset
// counter cannot be saved, neither happens.
func (c *Card) rightPIN(p *pinState) bool {
	if p.Tries != maxTries {
		spent := p.Tries
		p.Tries = maxTries
		if !c.persist() {
			p.Tries = spent
			c.verified = false
			return false
		}
	}
	c.verified = true
	return true
}

// livePIN is the slot PIN that VERIFY or CHANGE REFERENCE DATA (P1 00, P2
// the PIN reference) addresses, if it is not blocked; bad is the status word
// otherwise.
func (c *Card) livePIN(cmd command) (*pinState, uint16) {
	if cmd.p1 != 0 {
		return nil, tcos.SWWrongP1P2
	}
	p, bad := c.slotPIN(cmd.p2)
	if bad != 0 {
		return nil, bad
	}
	if p.Tries == 0 {
		return nil, tcos.SWBlocked
	}
	return p, 0
}

// verify is VERIFY 00 20 00 81 [Lc PIN]; without data it reports the state
// without spending a try (docs/tcos.md "VERIFY").
func (c *Card) verify(cmd command) tcos.Response {
	p, bad := c.livePIN(cmd)
	if bad != 0 {
		return sw(bad)
	}
	if cmd.ne != 0 {
		return sw(tcos.SWWrongLength)
	}
	if len(cmd.data) == 0 {
		if c.verified {
			return ok(nil)
		}
		return sw(tcos.SWWrongPIN | uint16(p.Tries))
	}
	if !p.matches(cmd.data) {
		return c.wrongPIN(p)
	}
	if !c.rightPIN(p) {
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// changeRef is CHANGE REFERENCE DATA 00 24 00 81 Lc old||new: the card knows
// the stored PIN's length, so old is the first that many bytes. With P1 01
// (00 24 01 81 Lc new) the data is the new PIN alone, taken only while the
// slot's DF is verified (docs/tcos.md "CHANGE REFERENCE DATA").
func (c *Card) changeRef(cmd command) tcos.Response {
	if cmd.p1 == 0x01 {
		return c.changeRefNewOnly(cmd)
	}
	p, bad := c.livePIN(cmd)
	if bad != 0 {
		return sw(bad)
	}
	if len(cmd.data) < p.Len || cmd.ne != 0 {
		return sw(tcos.SWWrongLength)
	}
	old, fresh := cmd.data[:p.Len], cmd.data[p.Len:]
	if !p.matches(old) {
		return c.wrongPIN(p)
	}
	if !digits(fresh) {
		if !c.rightPIN(p) {
			return sw(tcos.SWMemoryFailure)
		}
		return sw(tcos.SWWrongData)
	}
	was := *p
	*p = newPIN(fresh)
	if !c.persist() {
		*p = was
		c.verified = false
		return sw(tcos.SWMemoryFailure)
	}
	c.verified = true
	return ok(nil)
}

// changeRefNewOnly is CHANGE REFERENCE DATA 00 24 01 81 Lc new, after the
// PIN was verified in this DF (6982 otherwise).
func (c *Card) changeRefNewOnly(cmd command) tcos.Response {
	p, bad := c.slotPIN(cmd.p2)
	switch {
	case bad != 0:
		return sw(bad)
	case p.Tries == 0:
		return sw(tcos.SWBlocked)
	case cmd.ne != 0:
		return sw(tcos.SWWrongLength)
	case !c.verified:
		return sw(tcos.SWSecurityStatus)
	case !digits(cmd.data):
		return sw(tcos.SWWrongData)
	}
	was := *p
	*p = newPIN(cmd.data)
	if !c.persist() {
		*p = was
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// digits: 6–15 ASCII digits (docs/tcos.md "Card profile").
func digits(pin []byte) bool {
	if len(pin) < tcos.MinPINLen || len(pin) > tcos.MaxPINLen {
		return false
	}
	for _, d := range pin {
		if d < '0' || d > '9' {
			return false
		}
	}
	return true
}

// getChallenge is GET CHALLENGE 00 84 00 00 08: 8 random bytes. Another Le
// answers 6C08, so a host that asks for more gets it 8 bytes at a time.
func (c *Card) getChallenge(cmd command) tcos.Response {
	switch {
	case cmd.p1 != 0 || cmd.p2 != 0:
		return sw(tcos.SWWrongP1P2)
	case len(cmd.data) > 0 || cmd.ne == 0:
		return sw(tcos.SWWrongLength)
	case cmd.ne != challengeLen:
		return sw(tcos.SWWrongLe | challengeLen)
	}
	b := make([]byte, challengeLen)
	rand.Read(b)
	return ok(b)
}

// listFiles is TCOS LIST FILES 80 AA 01|02 00: the FIDs of the DFs (01) or
// EFs (02) in the current DF, 2 bytes each.
func (c *Card) listFiles(cmd command) tcos.Response {
	if (cmd.p1 != 0x01 && cmd.p1 != 0x02) || cmd.p2 != 0 {
		return sw(tcos.SWWrongP1P2)
	}
	if len(cmd.data) > 0 {
		return sw(tcos.SWWrongLength)
	}
	var out []byte
	for _, f := range tree {
		if f.parent == c.df && f.fid != tcos.FIDMF && f.df == (cmd.p1 == 0x01) {
			out = append(out, byte(f.fid>>8), byte(f.fid))
		}
	}
	if cmd.ne != 0 && cmd.ne < len(out) {
		return sw(tcos.SWWrongLe | uint16(len(out)))
	}
	return ok(out)
}
