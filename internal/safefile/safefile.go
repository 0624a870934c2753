// Package safefile opens the files and directories a person names on the
// command line (the audit trail, the APDU log, the simulated deck's
// directory, a report) so that nobody else on the machine can read them,
// change them, or point them somewhere else: a symbolic link is refused, and
// so is a file or directory that belongs to another user or that group or
// other users may read or write, or one in a directory others may write
// without the sticky bit (they could swap the file). New files are created
// with mode 0600 and new directories with 0700.
//
// Every refusal is an *UnsafeError that names the path and says how to fix it.
package safefile

import (
	"fmt"
	"io/fs"
)

// Modes of what this package creates.
const (
	FileMode fs.FileMode = 0o600
	DirMode  fs.FileMode = 0o700
)

// UnsafeError is a path refused because someone else could reach through it.
type UnsafeError struct {
	Path    string
	Problem string // what is wrong, e.g. "is a symbolic link"
	Fix     string // what the person can do about it
	// Kind is which refusal it is and the fields below its particulars, for
	// a caller that says it in its own words (another language).
	Kind  UnsafeKind
	Mode  fs.FileMode // the mode found (TooOpen, ParentOpen)
	Want  fs.FileMode // the mode to set (TooOpen)
	Owner int         // the owner found (OtherOwner)
	Me    int         // this process's user (OtherOwner)
	Child string      // the name in the directory that could be replaced (ParentOpen)
}

// UnsafeKind says why a path was refused.
type UnsafeKind int

// The refusals.
const (
	Symlink      UnsafeKind = iota + 1 // the path is a symbolic link
	NotRegular                         // a file was asked for
	NotDir                             // a directory was asked for
	TooOpen                            // group or others may read or write it
	ParentNotDir                       // Path, the parent, is not a directory
	ParentOpen                         // others may write Path, the parent, without the sticky bit
	OtherOwner                         // another user owns it
)

func (e *UnsafeError) Error() string { return e.Path + " " + e.Problem }

// Hint says how to fix it.
func (e *UnsafeError) Hint() string { return e.Fix }

func tooOpen(path string, mode fs.FileMode, want fs.FileMode) *UnsafeError {
	return &UnsafeError{
		Path:    path,
		Problem: fmt.Sprintf("can be read or written by other users (mode %04o)", mode.Perm()),
		Fix:     fmt.Sprintf("chmod %o %s", want, path),
		Kind:    TooOpen,
		Mode:    mode.Perm(),
		Want:    want,
	}
}
