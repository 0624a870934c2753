//go:build unix

package safefile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/hsmcards/hsmcards/internal/atomicfile"
)

// Dir makes sure path is a directory only this user can reach, creating it
// (and missing parents) with mode 0700.
func Dir(path string) error {
	if err := checkParent(path); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(path, DirMode); err != nil {
			return err
		}
		fi, err = os.Lstat(path)
	}
	if err != nil {
		return err
	}
	return checkDir(path, fi)
}

// OpenAppend opens path for appending (and reading, so a caller can look at
// what is there), creating it with mode 0600. It never follows a symbolic
// link at path, and checks the file it opened, not a name that could change
// in between.
func OpenAppend(path string) (*os.File, error) {
	if err := checkParent(path); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_APPEND|os.O_CREATE|syscall.O_NOFOLLOW, FileMode)
	if errors.Is(err, unix.ELOOP) {
		return nil, symlink(path)
	}
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkFile(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// WriteFile replaces path with data (atomically, mode 0600), after the same
// checks on path as OpenAppend's when it exists already.
func WriteFile(path string, data []byte) error {
	if err := checkParent(path); err != nil {
		return err
	}
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return err
	default:
		if err := checkFile(path, fi); err != nil {
			return err
		}
	}
	return atomicfile.Write(path, data)
}

func symlink(path string) *UnsafeError {
	return &UnsafeError{Path: path, Problem: "is a symbolic link",
		Fix: "name the file or directory itself, not a link to it", Kind: Symlink}
}

func checkFile(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return symlink(path)
	case !fi.Mode().IsRegular():
		return &UnsafeError{Path: path, Problem: "is not a regular file", Fix: "name a regular file", Kind: NotRegular}
	}
	if err := checkOwner(path, fi, false); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return tooOpen(path, fi.Mode(), FileMode)
	}
	return nil
}

func checkDir(path string, fi fs.FileInfo) error {
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return symlink(path)
	case !fi.IsDir():
		return &UnsafeError{Path: path, Problem: "is not a directory", Fix: "name a directory", Kind: NotDir}
	}
	if err := checkOwner(path, fi, false); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return tooOpen(path, fi.Mode(), DirMode)
	}
	return nil
}

// checkParent refuses a file or directory whose parent other users may write
// to without the sticky bit (they could replace what we open), or that
// belongs to someone other than this user or root. A missing parent is left
// to the caller (Dir creates it, the others fail to open).
func checkParent(path string) error {
	parent := filepath.Dir(filepath.Clean(path))
	fi, err := os.Stat(parent) // a link to a directory is fine here
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return &UnsafeError{Path: parent, Problem: "is not a directory", Fix: "name a path inside a directory", Kind: ParentNotDir}
	}
	if err := checkOwner(parent, fi, true); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 && fi.Mode()&fs.ModeSticky == 0 {
		return &UnsafeError{Path: parent,
			Problem: fmt.Sprintf("can be written by other users (mode %04o), who could replace %s", fi.Mode().Perm(), filepath.Base(path)),
			Fix:     "use a directory only you can write to, e.g. in your home directory",
			Kind:    ParentOpen, Mode: fi.Mode().Perm(), Child: filepath.Base(path)}
	}
	return nil
}

// checkOwner refuses what another user owns; rootOK also accepts root (a
// parent such as /tmp or /var).
func checkOwner(path string, fi fs.FileInfo, rootOK bool) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: cannot tell who owns it", path)
	}
	me := uint32(os.Geteuid())
	if st.Uid == me || rootOK && st.Uid == 0 {
		return nil
	}
	return &UnsafeError{Path: path,
		Problem: fmt.Sprintf("belongs to user %d, not to you (user %d)", st.Uid, me),
		Fix:     "use a file or directory of your own, e.g. in your home directory",
		Kind:    OtherOwner, Owner: int(st.Uid), Me: int(me)}
}
