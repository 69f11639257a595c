//go:build unix

package files

import (
	"errors"
	"os"
	"syscall"
)

// canLock says whether tryLock can tell a file in use from one abandoned.
const canLock = true

// tryLock takes an exclusive flock(2) on f without waiting, and says whether
// it got it. flock, unlike fcntl locks, belongs to the open file, so two
// Libraries in one process exclude each other as two processes do, and the
// kernel drops it when the process dies, so a node killed with SIGKILL holds
// nothing after.
func tryLock(f *os.File) (unlock func() error, ok bool, err error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, false, err
	}
	var lerr error
	if err := rc.Control(func(fd uintptr) {
		lerr = syscall.Flock(int(fd), syscall.LOCK_EX|syscall.LOCK_NB)
	}); err != nil {
		return nil, false, err
	}
	if errors.Is(lerr, syscall.EWOULDBLOCK) {
		return nil, false, nil
	}
	if lerr != nil {
		return nil, false, lerr
	}
	unlock = func() error {
		var uerr error
		if err := rc.Control(func(fd uintptr) { uerr = syscall.Flock(int(fd), syscall.LOCK_UN) }); err != nil {
			return err
		}
		return uerr
	}
	return unlock, true, nil
}
