//go:build unix

package main

import (
	"net"
	"syscall"
)

// pendingError takes the socket's pending error, if any, off conn.
func pendingError(conn net.Conn) error {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	var pending int
	if err := rc.Control(func(fd uintptr) {
		pending, _ = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_ERROR)
	}); err != nil || pending == 0 {
		return nil
	}
	return syscall.Errno(pending)
}
