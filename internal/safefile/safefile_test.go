//go:build unix

package safefile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// want checks err is an *UnsafeError about path that says problem and whose
// fix says fix.
func want(t *testing.T, err error, path, problem, fix string) {
	t.Helper()
	var u *UnsafeError
	if !errors.As(err, &u) {
		t.Fatalf("got %v, want a refusal of %s", err, path)
	}
	if u.Path != path || !strings.Contains(u.Error(), path) || !strings.Contains(u.Problem, problem) || !strings.Contains(u.Hint(), fix) {
		t.Fatalf("got %q (fix %q), want %s: %q, fix %q", u.Error(), u.Hint(), path, problem, fix)
	}
	// Each refusal says its kind too, for words in another language.
	kinds := map[string]UnsafeKind{"symbolic link": Symlink, "not a regular file": NotRegular, "belongs to user": OtherOwner,
		"can be read or written": TooOpen, "can be written by other users": ParentOpen}
	for words, k := range kinds {
		if strings.Contains(u.Problem, words) && u.Kind != k {
			t.Fatalf("%q: kind %d, want %d", u.Problem, u.Kind, k)
		}
	}
	if u.Kind == 0 || u.Kind == TooOpen && u.Mode == 0 || u.Kind == ParentOpen && u.Child == "" {
		t.Fatalf("%q: kind %d, mode %v, child %q", u.Problem, u.Kind, u.Mode, u.Child)
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestCreatesPrivately(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "b")
	if err := Dir(dir); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, dir); m != DirMode {
		t.Errorf("directory mode %04o", m)
	}
	if err := Dir(dir); err != nil { // again: it is there and fine
		t.Fatal(err)
	}
	f, err := OpenAppend(filepath.Join(dir, "log"))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	if m := mode(t, filepath.Join(dir, "log")); m != FileMode {
		t.Errorf("file mode %04o", m)
	}
	out := filepath.Join(dir, "report.md")
	if err := WriteFile(out, []byte("x")); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, out); m != FileMode {
		t.Errorf("written file mode %04o", m)
	}
	if err := WriteFile(out, []byte("y")); err != nil { // replacing our own file
		t.Fatal(err)
	}
}

func TestRefusals(t *testing.T) {
	base := t.TempDir()
	// symbolic links, to a file and to a directory
	real := filepath.Join(base, "real")
	os.WriteFile(real, nil, 0o600)
	link := filepath.Join(base, "link")
	os.Symlink(real, link)
	_, err := OpenAppend(link)
	want(t, err, link, "symbolic link", "not a link")
	want(t, WriteFile(link, nil), link, "symbolic link", "not a link")
	realDir := filepath.Join(base, "realdir")
	os.Mkdir(realDir, 0o700)
	dirLink := filepath.Join(base, "dirlink")
	os.Symlink(realDir, dirLink)
	want(t, Dir(dirLink), dirLink, "symbolic link", "not a link")

	// open to group or other
	open := filepath.Join(base, "open")
	os.WriteFile(open, nil, 0o600)
	os.Chmod(open, 0o644)
	_, err = OpenAppend(open)
	want(t, err, open, "mode 0644", "chmod 600 "+open)
	want(t, WriteFile(open, nil), open, "mode 0644", "chmod 600 "+open)
	openDir := filepath.Join(base, "opendir")
	os.Mkdir(openDir, 0o700)
	os.Chmod(openDir, 0o750)
	want(t, Dir(openDir), openDir, "mode 0750", "chmod 700 "+openDir)

	// a directory others may write to, without the sticky bit
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, 0o777)
	_, err = OpenAppend(filepath.Join(shared, "log"))
	want(t, err, shared, "written by other users", "only you can write")
	os.Chmod(shared, 0o777|os.ModeSticky) // like /tmp: fine
	f, err := OpenAppend(filepath.Join(shared, "log"))
	if err != nil {
		t.Fatalf("sticky directory: %v", err)
	}
	f.Close()

	// not what was asked for
	_, err = OpenAppend(realDir)
	if err == nil {
		t.Error("opened a directory for appending")
	}
	want(t, Dir(real), real, "not a directory", "name a directory")
}

func TestSomeoneElsesFile(t *testing.T) {
	base := t.TempDir()
	theirs := filepath.Join(base, "theirs")
	os.WriteFile(theirs, nil, 0o600)
	if err := os.Chown(theirs, 65534, 65534); err != nil {
		t.Skipf("cannot give a file away to test this (not root): %v", err)
	}
	_, err := OpenAppend(theirs)
	want(t, err, theirs, "belongs to user 65534", "of your own")
	theirDir := filepath.Join(base, "theirdir")
	os.Mkdir(theirDir, 0o700)
	os.Chown(theirDir, 65534, 65534)
	want(t, Dir(theirDir), theirDir, "belongs to user 65534", "of your own")
	// and a file of ours in their directory: they could swap it
	_, err = OpenAppend(filepath.Join(theirDir, "log"))
	want(t, err, theirDir, "belongs to user 65534", "of your own")
}
