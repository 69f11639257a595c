package attack

import (
	"net"
	"syscall"
)

// growReadBuffer asks for n bytes of receive queue. SO_RCVBUFFORCE passes
// the system's cap (net.core.rmem_max) when the process may (root or
// CAP_NET_ADMIN); otherwise the plain request gets what the cap allows.
func growReadBuffer(conn *net.UDPConn, n int) {
	raw, err := conn.SyscallConn()
	if err == nil {
		var serr error
		err = raw.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUFFORCE, n)
		})
		if err == nil && serr == nil {
			return
		}
	}
	_ = conn.SetReadBuffer(n)
}
