// Package simcard is a simulated TCOS 3.0 card carrying the appliance profile
// (DESIGN "Card profile on TCOS 3.0"): an APDU processor that the simulated
// reader (cardio.SimReader) or the vpcd bridge hosts, and a persistent deck of
// such cards for training.
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

// Profile files (DESIGN profile) and TCOS constants.
const (
	fidMF       = 0x3F00
	fidGDO      = 0x2F02
	fidBackupDF = 0x4B00
	fidShareEF  = 0x4B01
	fidPKCS11DF = 0x4C00

	pinRef      = 0x81 // local PIN of each slot DF
	maxTries    = tcos.MaxTries
	factoryPIN  = "123456" // seed: "These PINs are preset to 123456"
	saltLen     = 16
	fdbDF       = 0x38 // FCP file descriptor byte of a DF (ISO 7816-4 table 12)
	fdbEF       = 0x01 // ... of a transparent working EF
	claISO      = 0x00
	claTCOS     = 0x80 // proprietary class, for LIST FILES only
	insList     = 0xAA
	insGetResp  = 0xC0
	insSelect   = 0xA4
	insRead     = 0xB0
	insUpdate   = 0xD6
	insVerify   = 0x20
	insChange   = 0x24
	stateFormat = 1
)

// file is one node of the card's fixed file tree.
type file struct {
	fid    uint16
	df     bool
	parent uint16
	sfi    byte // 0: none
}

// tree is the profile's file system. DF 4C00 holds the public key of the
// slot user key pair in EF 4C01; its private key has no EF (keys.go).
var tree = []file{
	{fid: fidMF, df: true},
	{fid: fidGDO, parent: fidMF, sfi: 2},
	{fid: fidBackupDF, df: true, parent: fidMF},
	{fid: fidShareEF, parent: fidBackupDF},
	{fid: fidPKCS11DF, df: true, parent: fidMF},
	{fid: fidPubKeyEF, parent: fidPKCS11DF},
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
	if !ok || f.parent != parent || fid == fidMF {
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

// Card is one simulated TCOS 3.0 card. It implements cardio.SimulatedCard and
// is safe for concurrent use (the wizard and the vpcd bridge may both hold it).
type Card struct {
	mu   sync.Mutex
	st   state
	save func(data []byte) error // persists st; nil for an in-memory card

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
		BackupPIN: newPIN([]byte(factoryPIN)),
		PKCS11PIN: newPIN([]byte(factoryPIN)),
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

// ATR is the TCOS 3.0 ATR of DESIGN.
func (c *Card) ATR() []byte { return tcos.ReferenceATR() }

// Reset drops every verification state and makes the MF current.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.reset()
}

func (c *Card) reset() {
	c.df, c.ef, c.verified, c.pending = fidMF, 0, false, nil
	c.endChain()
	c.keys = keyState{}
}

// marshal encodes the persistent state.
func (c *Card) marshal() ([]byte, error) { return json.MarshalIndent(&c.st, "", "  ") }

// persist saves the state after a change; a failure answers 6581 (memory
// failure), as a card whose EEPROM write failed would.
func (c *Card) persist() bool {
	if c.save == nil {
		return true
	}
	b, err := c.marshal()
	if err != nil {
		return false
	}
	return c.save(b) == nil
}

// Process handles one command APDU and returns the response APDU (at least
// SW1 SW2). It never panics on any input.
func (c *Card) Process(cmd []byte) []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.process(cmd).Bytes()
}

func sw(x uint16) tcos.Response { return tcos.Response{SW: x} }

func ok(data []byte) tcos.Response { return tcos.Response{Data: data, SW: tcos.SWOK} }

func (c *Card) process(raw []byte) tcos.Response {
	cmd, err := tcos.ParseCommand(raw)
	if err != nil {
		c.pending = nil
		c.endChain()
		return sw(tcos.SWWrongLength)
	}
	if cmd.CLA == claISO && cmd.INS == insGetResp {
		return c.getResponse(cmd)
	}
	c.pending = nil
	if r, handled := c.keyCommand(cmd); handled {
		return r
	}
	switch cmd.CLA {
	case claTCOS:
		if cmd.INS == insList {
			return c.listFiles(cmd)
		}
		return sw(tcos.SWCLANotSupported)
	case claISO:
	default:
		return sw(tcos.SWCLANotSupported)
	}
	switch cmd.INS {
	case insSelect:
		return c.selectFile(cmd)
	case insRead:
		return c.readBinary(cmd)
	case insUpdate:
		return c.updateBinary(cmd)
	case insVerify:
		return c.verify(cmd)
	case insChange:
		return c.changeRef(cmd)
	}
	return sw(tcos.SWINSNotSupported)
}

// getResponse hands out data a case 3 SELECT left pending with 61xx.
func (c *Card) getResponse(cmd tcos.Command) tcos.Response {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		c.pending = nil
		return sw(tcos.SWWrongP1P2)
	}
	if len(c.pending) == 0 || len(cmd.Data) > 0 {
		c.pending = nil
		return sw(tcos.SWConditions)
	}
	if cmd.Ne == 0 || (cmd.Ne > len(c.pending) && cmd.Ne != tcos.MaxNe) {
		return sw(tcos.SWWrongLe | uint16(len(c.pending)))
	}
	n := min(cmd.Ne, len(c.pending))
	data := c.pending[:n]
	c.pending = c.pending[n:]
	if len(c.pending) > 0 {
		return tcos.Response{Data: data, SW: tcos.SWBytesAvailable | uint16(byte(min(len(c.pending), tcos.MaxNe)))}
	}
	c.pending = nil
	return ok(data)
}

// selectFile is SELECT (DESIGN facts): P1 00 MF (or a child FID of the
// current DF), 02 EF under the current DF, 03 parent DF, 08 path from the MF,
// 09 path from the current DF; P2 0C no data, 04 FCP.
func (c *Card) selectFile(cmd tcos.Command) tcos.Response {
	if cmd.P2 != 0x0C && cmd.P2 != 0x04 {
		return sw(tcos.SWWrongP1P2)
	}
	d := cmd.Data
	var (
		target file
		found  bool
	)
	switch cmd.P1 {
	case 0x00:
		switch {
		case len(d) == 0 || bytes.Equal(d, []byte{0x3F, 0x00}):
			target, found = lookup(fidMF)
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
		if c.df != fidMF {
			cur, _ := lookup(c.df)
			target, found = lookup(cur.parent)
		}
	case 0x08, 0x09:
		if len(d) == 0 || len(d)%2 != 0 {
			return sw(tcos.SWWrongLength)
		}
		start := uint16(fidMF)
		if cmd.P1 == 0x09 {
			start = c.df
		}
		target, found = walk(start, d)
	default:
		return sw(tcos.SWWrongP1P2)
	}
	if !found {
		return sw(tcos.SWFileNotFound)
	}
	newDF, newEF := target.fid, uint16(0)
	if !target.df {
		newDF, newEF = target.parent, target.fid
	}
	if newDF != c.df {
		c.verified = false // DESIGN: verification state is per DF
		c.keys.mse = false
	}
	c.df, c.ef = newDF, newEF
	if cmd.P2 == 0x0C {
		return ok(nil)
	}
	fcp := c.fcp(target)
	switch {
	case cmd.Ne == 0:
		// Case 3 with data to return: T=0 style 61xx, fetched by GET RESPONSE.
		c.pending = fcp
		return sw(tcos.SWBytesAvailable | uint16(len(fcp)))
	case cmd.Ne < len(fcp):
		return sw(tcos.SWWrongLe | uint16(len(fcp)))
	}
	return ok(fcp)
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

// fcp is a minimal FCP template (tag 62): file descriptor (82), FID (83),
// and for an EF its size (80).
func (c *Card) fcp(f file) []byte {
	body := []byte{0x82, 0x01, fdbEF, 0x83, 0x02, byte(f.fid >> 8), byte(f.fid)}
	if f.df {
		body[2] = fdbDF
	} else {
		n := len(c.efData(f.fid))
		body = append(body, 0x80, 0x02, byte(n>>8), byte(n))
	}
	return append([]byte{0x62, byte(len(body))}, body...)
}

// efData is the live content of a transparent EF.
func (c *Card) efData(fid uint16) []byte {
	switch fid {
	case fidGDO:
		return append([]byte{0x5A, 0x0A}, c.st.Serial...)
	case fidShareEF:
		return c.st.Share
	case fidPubKeyEF:
		return c.st.PubKey
	}
	return nil
}

// mayAccess: EF.GDO is always readable and never writable; EF 4B01 needs
// the PIN of DF 4B00 verified (DESIGN profile).
func (c *Card) mayAccess(fid uint16, write bool) bool {
	switch fid {
	case fidGDO:
		return !write
	case fidShareEF:
		return c.verified && c.df == fidBackupDF
	case fidPubKeyEF:
		return !write // the public key: readable without PIN
	}
	return false
}

// binaryTarget resolves the EF and offset of READ/UPDATE BINARY: P1 bit 8
// set means SFI in P1 bits 1–5 and an 8-bit offset in P2 (the EF becomes
// current); otherwise a 15-bit offset into the current EF.
func (c *Card) binaryTarget(cmd tcos.Command) (fid uint16, off int, bad uint16) {
	if cmd.P1&0x80 == 0 {
		if c.ef == 0 {
			return 0, 0, tcos.SWNoCurrentEF
		}
		return c.ef, int(cmd.P1)<<8 | int(cmd.P2), 0
	}
	sfi := cmd.P1 & 0x1F
	if cmd.P1&0x60 != 0 || sfi == 0 {
		return 0, 0, tcos.SWWrongP1P2
	}
	for _, f := range tree {
		if !f.df && f.parent == c.df && f.sfi == sfi {
			c.ef = f.fid
			return f.fid, int(cmd.P2), 0
		}
	}
	return 0, 0, tcos.SWFileNotFound
}

// binaryFile is the EF contents and offset READ or UPDATE BINARY addresses,
// once the access rule allows it and the offset lies inside the file; bad is
// the status word otherwise.
func (c *Card) binaryFile(cmd tcos.Command, write bool) (data []byte, off int, bad uint16) {
	fid, off, bad := c.binaryTarget(cmd)
	if bad != 0 {
		return nil, 0, bad
	}
	if !c.mayAccess(fid, write) {
		return nil, 0, tcos.SWSecurityStatus
	}
	data = c.efData(fid)
	if fid == fidPubKeyEF && len(data) == 0 {
		return nil, 0, tcos.SWRefNotFound // no key pair generated yet
	}
	if off >= len(data) {
		return nil, 0, tcos.SWWrongOffset
	}
	return data, off, 0
}

func (c *Card) readBinary(cmd tcos.Command) tcos.Response {
	if len(cmd.Data) > 0 || cmd.Ne == 0 {
		return sw(tcos.SWWrongLength)
	}
	data, off, bad := c.binaryFile(cmd, false)
	if bad != 0 {
		return sw(bad)
	}
	rest := data[off:]
	switch {
	case cmd.Ne == tcos.MaxNe && len(rest) < tcos.MaxNe:
		// Le 00 on a shorter remainder: tell the exact length (6Cxx).
		return sw(tcos.SWWrongLe | uint16(len(rest)))
	case cmd.Ne > len(rest):
		return tcos.Response{Data: bytes.Clone(rest), SW: tcos.SWEndOfFile}
	}
	return ok(bytes.Clone(rest[:cmd.Ne]))
}

func (c *Card) updateBinary(cmd tcos.Command) tcos.Response {
	if len(cmd.Data) == 0 {
		return sw(tcos.SWWrongLength)
	}
	data, off, bad := c.binaryFile(cmd, true)
	if bad != 0 {
		return sw(bad)
	}
	if off+len(cmd.Data) > len(data) {
		return sw(tcos.SWWrongLength)
	}
	copy(data[off:], cmd.Data)
	if !c.persist() {
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// slotPIN is the local PIN of the current DF, nil in the MF.
func (c *Card) slotPIN(p2 byte) (*pinState, uint16) {
	if p2 != pinRef {
		return nil, tcos.SWRefNotFound
	}
	switch c.df {
	case fidBackupDF:
		return &c.st.BackupPIN, 0
	case fidPKCS11DF:
		return &c.st.PKCS11PIN, 0
	}
	return nil, tcos.SWRefNotFound
}

// wrongPIN spends a try; the last one answers 63C0, later verifies 6983.
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

// rightPIN resets the retry counter and marks the DF verified.
func (c *Card) rightPIN(p *pinState) bool {
	c.verified = true
	if p.Tries != maxTries {
		p.Tries = maxTries
		return c.persist()
	}
	return true
}

// livePIN is the slot PIN that VERIFY or CHANGE REFERENCE DATA (P1 00, P2
// the PIN reference) addresses, if it is not blocked; bad is the status word
// otherwise.
func (c *Card) livePIN(cmd tcos.Command) (*pinState, uint16) {
	if cmd.P1 != 0 {
		return nil, tcos.SWWrongP1P2
	}
	p, bad := c.slotPIN(cmd.P2)
	if bad != 0 {
		return nil, bad
	}
	if p.Tries == 0 {
		return nil, tcos.SWBlocked
	}
	return p, 0
}

// verify is VERIFY 00 20 00 81 [Lc PIN]; without data it reports the state
// without spending a try (DESIGN facts).
func (c *Card) verify(cmd tcos.Command) tcos.Response {
	p, bad := c.livePIN(cmd)
	if bad != 0 {
		return sw(bad)
	}
	if len(cmd.Data) == 0 {
		if c.verified {
			return ok(nil)
		}
		return sw(tcos.SWWrongPIN | uint16(p.Tries))
	}
	if !p.matches(cmd.Data) {
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
// slot's DF is verified.
func (c *Card) changeRef(cmd tcos.Command) tcos.Response {
	if cmd.P1 == 0x01 {
		return c.changeRefNewOnly(cmd)
	}
	p, bad := c.livePIN(cmd)
	if bad != 0 {
		return sw(bad)
	}
	if len(cmd.Data) < p.Len {
		return sw(tcos.SWWrongLength)
	}
	old, fresh := cmd.Data[:p.Len], cmd.Data[p.Len:]
	if !p.matches(old) {
		return c.wrongPIN(p)
	}
	if !digits(fresh) {
		if !c.rightPIN(p) {
			return sw(tcos.SWMemoryFailure)
		}
		return sw(tcos.SWWrongData)
	}
	*p = newPIN(fresh)
	c.verified = true
	if !c.persist() {
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// changeRefNewOnly is CHANGE REFERENCE DATA 00 24 01 81 Lc new, after the
// PIN was verified in this DF (6982 otherwise).
func (c *Card) changeRefNewOnly(cmd tcos.Command) tcos.Response {
	p, bad := c.slotPIN(cmd.P2)
	switch {
	case bad != 0:
		return sw(bad)
	case p.Tries == 0:
		return sw(tcos.SWBlocked)
	case !c.verified:
		return sw(tcos.SWSecurityStatus)
	case !digits(cmd.Data):
		return sw(tcos.SWWrongData)
	}
	*p = newPIN(cmd.Data)
	if !c.persist() {
		return sw(tcos.SWMemoryFailure)
	}
	return ok(nil)
}

// digits: 6–15 ASCII digits (DESIGN profile).
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

// listFiles is TCOS LIST FILES 80 AA 01|02 00: the FIDs of the DFs (01) or
// EFs (02) in the current DF, 2 bytes each.
func (c *Card) listFiles(cmd tcos.Command) tcos.Response {
	if (cmd.P1 != 0x01 && cmd.P1 != 0x02) || cmd.P2 != 0 {
		return sw(tcos.SWWrongP1P2)
	}
	if len(cmd.Data) > 0 {
		return sw(tcos.SWWrongLength)
	}
	var out []byte
	for _, f := range tree {
		if f.parent == c.df && f.fid != fidMF && f.df == (cmd.P1 == 0x01) {
			out = append(out, byte(f.fid>>8), byte(f.fid))
		}
	}
	if cmd.Ne != 0 && cmd.Ne < len(out) {
		return sw(tcos.SWWrongLe | uint16(len(out)))
	}
	return ok(out)
}
