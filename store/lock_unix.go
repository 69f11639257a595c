//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// lockFile takes an exclusive lock on f, so that two gossipers started on
// the same folder do not interleave their records. The kernel drops the lock
// when the process dies, so a node killed with SIGKILL can restart at once.
func lockFile(f *os.File) (func() error, error) {
	err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
	if errors.Is(err, syscall.EWOULDBLOCK) {
		return nil, errors.New("data folder is in use by another process")
	}
	if err != nil {
		return nil, err
	}
	return func() error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }, nil
}
