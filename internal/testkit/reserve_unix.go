//go:build unix

package testkit

import (
	"io"
	"os"
	"sync"
	"syscall"
)

// The reservations are write locks on one byte each, the port's offset, of
// one file that the test processes of the machine share; the kernel drops
// a process's locks when it ends, however it ends.
var (
	lockOnce sync.Once
	lockFile *os.File
)

// reserve locks port against other test processes until the returned
// closer closes; false if another process holds it.
func reserve(port int) (io.Closer, bool) {
	lockOnce.Do(func() {
		lockFile, _ = os.OpenFile(lockPath(), os.O_CREATE|os.O_RDWR, 0o600)
	})
	if lockFile == nil {
		// No file to coordinate through: a port free a moment ago is all
		// a single test process needs.
		return io.NopCloser(nil), true
	}
	if lockByte(port, syscall.F_WRLCK) != nil {
		return nil, false
	}
	return unlocker(port), true
}

type unlocker int

func (u unlocker) Close() error { return lockByte(int(u), syscall.F_UNLCK) }

func lockByte(port int, typ int16) error {
	return syscall.FcntlFlock(lockFile.Fd(), syscall.F_SETLK,
		&syscall.Flock_t{Type: typ, Whence: io.SeekStart, Start: int64(port), Len: 1})
}
