//go:build cgo && unix

package pkcs11

// Loads into one token are one at a time, across processes, by two locks
// (docs/pkcs11.md, "One load at a time").
//
// The host's: an exclusive flock(2) on the module's file, for every process
// on this host that loads through that module. It is what makes SoftHSM2
// safe: a SoftHSM2 process that writes to the token store takes in another
// process's writes without reading them, so its later searches miss the
// objects they made; under the flock no one else writes, and a search before
// our first write sees everything.
//
// The token's, for processes on other hosts that share a network HSM: each
// loader looks for lock objects, creates its own private one, then looks
// again. With only its own there, it holds the lock (any loader after it
// will see its object); with others there, it removes its own, waits a
// little and tries again. Two loaders can thus both back off, but never both
// go on. A lock a dead loader left is stale after lockStale, or at once when
// it names a process on this host that no longer runs.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"syscall"
	"time"

	p11 "github.com/miekg/pkcs11"

	"github.com/hsmcards/hsmcards/internal/pidlock"
	"github.com/hsmcards/hsmcards/internal/safetext"
)

const (
	// lockApp is the token lock objects' CKA_APPLICATION.
	lockApp = "hsmcards load lock"
	// lockLabel is their CKA_LABEL.
	lockLabel = "hsmcards-load-lock"
	// lockWait is how long a load waits for another to finish: a load takes
	// well under a second.
	lockWait = 15 * time.Second
	// lockStale is the age after which a token lock is taken for one a dead
	// process left.
	lockStale = 2 * time.Minute
	// lockRetryMax bounds the random pause between two tries.
	lockRetryMax = 150 * time.Millisecond
	// maxHostName bounds a host name read from a lock object.
	maxHostName = 64
)

// loadHooks let tests stop a load at its steps; nil hooks do nothing.
type loadHooks struct {
	// beforeCreate runs with the locks held, after the token was searched
	// and before the key object is created.
	beforeCreate func()
	// lockBusy runs the first time a load finds another's lock.
	lockBusy func()
	// lockWait, when not zero, replaces the const lockWait.
	lockWait time.Duration
	// beforeRegisterCreate runs with the locks held, after the card-set
	// register was read and before its next revision is created;
	// afterRegisterCreate once that revision was read back, before the
	// older ones are removed (cardsets_token.go).
	beforeRegisterCreate, afterRegisterCreate func()
}

func (loadHooks) run(f func()) {
	if f != nil {
		f()
	}
}

// BusyError says another process holds the token's load lock: it is loading
// a Backup Key or recording card sets.
type BusyError struct {
	Token  Token
	Holder string // "process 4711 on host, since 10:01:02", cleaned
	// Undone says what this process did not do: "loaded", "recorded".
	Undone string
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("pkcs11: another hsmcards (%s) is loading a Backup Key into token %s or recording its card sets; nothing was %s: try again when it has finished", e.Holder, e.Token, e.Undone)
}

// lockLoads takes the host's lock, then the token's; unlock gives both back.
// undone says, should it give up, what was not done ("loaded").
func (p *HSM) lockLoads(ctx context.Context, undone string) (unlock func() error, err error) {
	wait := lockWait
	if p.hooks.lockWait != 0 {
		wait = p.hooks.lockWait
	}
	deadline := time.Now().Add(wait)
	busy := func() {
		p.hooks.run(p.hooks.lockBusy)
		p.hooks.lockBusy = nil
	}
	releaseHost, err := p.lockHost(ctx, deadline, busy)
	if err != nil {
		return nil, busyUndone(err, undone)
	}
	unlockToken, err := p.lockToken(ctx, deadline, busy)
	if err != nil {
		return nil, errors.Join(busyUndone(err, undone), releaseHost())
	}
	return func() error { return errors.Join(unlockToken(), releaseHost()) }, nil
}

// busyUndone puts undone into a *BusyError.
func busyUndone(err error, undone string) error {
	var busy *BusyError
	if errors.As(err, &busy) {
		busy.Undone = undone
	}
	return err
}

// lockHost takes an exclusive flock on the module's file (internal/pidlock,
// which names the process that holds it).
func (p *HSM) lockHost(ctx context.Context, deadline time.Time, busy func()) (release func() error, err error) {
	path := p.mod.secret.file()
	if path == "" {
		return func() error { return nil }, nil
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		path = real
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("pkcs11: cannot open module %q for the load lock: %w", path, err)
	}
	for {
		err := pidlock.Hold(f)
		var held *pidlock.HeldError
		switch {
		case err == nil:
			return f.Close, nil
		case !errors.As(err, &held):
			f.Close()
			return nil, fmt.Errorf("pkcs11: cannot lock module %q for the load: %w", path, err)
		}
		busy()
		if err := pause(ctx, deadline); err != nil {
			f.Close()
			if errors.Is(err, errDeadline) {
				who := "another process on this host"
				if held.PID != 0 {
					who = fmt.Sprintf("process %d on this host", held.PID)
				}
				return nil, &BusyError{Token: p.token, Holder: who}
			}
			return nil, err
		}
	}
}

var errDeadline = errors.New("waited long enough")

// pause waits a random while, or says the deadline would pass.
func pause(ctx context.Context, deadline time.Time) error {
	d := lockRetryMax
	if n, err := rand.Int(rand.Reader, big.NewInt(int64(lockRetryMax))); err == nil {
		d = time.Duration(n.Int64()) + 10*time.Millisecond
	}
	if time.Now().Add(d).After(deadline) {
		return errDeadline
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// lockRecord is a token lock object's CKA_VALUE.
type lockRecord struct {
	Nonce string    `json:"nonce"`
	PID   int       `json:"pid"`
	Host  string    `json:"host"`
	Since time.Time `json:"since"`
}

func (r lockRecord) String() string {
	return fmt.Sprintf("process %d on %s, since %s", r.PID, r.Host, r.Since.Local().Format("15:04:05"))
}

// stale says the lock's owner is gone.
func (r lockRecord) stale(now time.Time, host string) bool {
	if now.Sub(r.Since) > lockStale {
		return true
	}
	if r.Host != host || r.PID <= 0 || r.PID == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(r.PID, 0), syscall.ESRCH)
}

type lockObject struct {
	handle p11.ObjectHandle
	rec    *lockRecord // nil when its value does not parse
}

// lockToken takes the token's lock.
func (p *HSM) lockToken(ctx context.Context, deadline time.Time, busy func()) (unlock func() error, err error) {
	host, _ := os.Hostname()
	for {
		// Look first: someone else's lock means waiting without writing.
		others, err := p.otherLocks("")
		if err != nil {
			return nil, err
		}
		holder, err := p.dropStale(others, host)
		if err != nil {
			return nil, err
		}
		if holder == nil {
			mine := lockRecord{Nonce: nonce(), PID: os.Getpid(), Host: host, Since: time.Now().UTC()}
			h, err := p.createLock(mine)
			if err != nil {
				return nil, err
			}
			unlock = func() error {
				if err := p.mod.ctx.DestroyObject(p.session, h); err != nil {
					return errorf([]error{err}, "pkcs11: cannot remove the load lock object from token %s (%s); the next load waits %s for it", p.token, ckrName(err), lockStale)
				}
				return nil
			}
			if others, err = p.otherLocks(mine.Nonce); err != nil {
				return nil, errors.Join(err, unlock())
			}
			if len(others) == 0 {
				return unlock, nil
			}
			if err := unlock(); err != nil {
				return nil, err
			}
			holder = others[0].rec
		}
		busy()
		if err := pause(ctx, deadline); err != nil {
			if errors.Is(err, errDeadline) {
				who := "a process that left no record"
				if holder != nil {
					who = holder.String()
				}
				return nil, &BusyError{Token: p.token, Holder: who}
			}
			return nil, err
		}
	}
}

// dropStale removes the stale locks among others, and those that do not
// parse (no hsmcards wrote them), and returns the holder of one that is
// not stale (nil if none is).
func (p *HSM) dropStale(others []lockObject, host string) (*lockRecord, error) {
	var holder *lockRecord
	for _, o := range others {
		if o.rec != nil && !o.rec.stale(time.Now(), host) {
			if holder == nil {
				holder = o.rec
			}
			continue
		}
		// Another loader may remove it at the same time.
		if err := p.mod.ctx.DestroyObject(p.session, o.handle); err != nil && !isCKR(err, p11.CKR_OBJECT_HANDLE_INVALID) {
			return nil, errorf([]error{err}, "pkcs11: cannot remove a stale load lock from token %s (%s)", p.token, ckrName(err))
		}
	}
	return holder, nil
}

func (p *HSM) createLock(r lockRecord) (p11.ObjectHandle, error) {
	value, err := json.Marshal(r)
	if err != nil {
		return 0, err
	}
	h, err := p.mod.ctx.CreateObject(p.session, []*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_TOKEN, true),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_APPLICATION, lockApp),
		p11.NewAttribute(p11.CKA_LABEL, lockLabel),
		p11.NewAttribute(p11.CKA_VALUE, value),
	})
	if err != nil {
		return 0, errorf([]error{err}, "pkcs11: cannot create the load lock object in token %s (%s)", p.token, ckrName(err))
	}
	return h, nil
}

// otherLocks lists the token's lock objects but the one with ourNonce. Only
// private ones count: a process without the user PIN can create public
// objects, and would otherwise hold every load off for good by planting a
// fresh lock now and then.
func (p *HSM) otherLocks(ourNonce string) ([]lockObject, error) {
	handles, err := p.findObjects([]*p11.Attribute{
		p11.NewAttribute(p11.CKA_CLASS, p11.CKO_DATA),
		p11.NewAttribute(p11.CKA_PRIVATE, true),
		p11.NewAttribute(p11.CKA_APPLICATION, lockApp),
	})
	if err != nil {
		return nil, err
	}
	var out []lockObject
	for _, h := range handles {
		o := lockObject{handle: h}
		if a, err := p.attrs(h, p11.CKA_VALUE); err == nil {
			var r lockRecord
			if json.NewDecoder(bytes.NewReader(a[p11.CKA_VALUE])).Decode(&r) == nil {
				if ourNonce != "" && r.Nonce == ourNonce {
					continue
				}
				if len(r.Host) > maxHostName {
					r.Host = r.Host[:maxHostName]
				}
				r.Host = safetext.Clean(r.Host)
				o.rec = &r
			}
		}
		out = append(out, o)
	}
	return out, nil
}

func nonce() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}
