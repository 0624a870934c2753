//go:build unix

package pidlock

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Acquire locks path, an existing file or directory, for this process
// (flock(2), exclusive, without waiting). It opens path itself and refuses to
// follow a symbolic link there. When another process holds the lock it
// returns a *HeldError naming that process.
func Acquire(path string) (*Lock, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, &os.PathError{Op: "lock", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	if err := Hold(f); err != nil {
		f.Close()
		return nil, err
	}
	return &Lock{release: f.Close}, nil
}

// Hold locks the open file f for this process, the same way as Acquire. The
// lock lasts until f is closed (by anyone: Go closes it at exit too).
func Hold(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return &HeldError{Path: f.Name(), PID: holder(f)}
		}
		return &os.PathError{Op: "lock", Path: f.Name(), Err: err}
	}
}

// holder asks /proc/locks which process holds the flock on f's file.
func holder(f *os.File) int {
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		return 0
	}
	locks, err := os.Open("/proc/locks")
	if err != nil {
		return 0
	}
	defer locks.Close()
	return holderIn(bufio.NewScanner(locks), uint64(st.Dev), uint64(st.Ino))
}

// holderIn finds the process holding a FLOCK on the file dev/ino in the lines
// of /proc/locks, which read
//
//	1: FLOCK  ADVISORY  WRITE 4711 fe:00:9980034 0 EOF
//
// with the device's major and minor in hex and the inode in decimal. Lines
// with "->" are processes waiting for a lock, not holding one.
func holderIn(sc *bufio.Scanner, dev, ino uint64) int {
	want := fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), ino)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 6 || f[1] != "FLOCK" || !strings.EqualFold(f[5], want) {
			continue
		}
		if pid, err := strconv.Atoi(f[4]); err == nil && pid > 0 {
			return pid
		}
	}
	return 0
}
