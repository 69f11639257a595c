package gossiper

import (
	"net"
	"net/netip"
	"syscall"
)

// reportUnreachable asks the kernel to queue the ICMP errors that datagrams
// sent from conn meet, with the address each was sent to.
func reportUnreachable(conn *net.UDPConn, v4 bool) {
	rc, err := conn.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		if v4 {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_RECVERR, 1)
		} else {
			_ = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVERR, 1)
		}
	})
}

// unreachable takes the queued errors off conn and returns the addresses
// whose port was unreachable. A read that fails with ECONNREFUSED says that
// the queue holds at least one.
func unreachable(conn *net.UDPConn) []string {
	rc, err := conn.SyscallConn()
	if err != nil {
		return nil
	}
	var to []string
	_ = rc.Control(func(fd uintptr) {
		var b [1]byte
		var oob [256]byte
		for range 64 {
			_, _, _, sa, err := syscall.Recvmsg(int(fd), b[:], oob[:], syscall.MSG_ERRQUEUE|syscall.MSG_DONTWAIT)
			if err != nil {
				return
			}
			switch sa := sa.(type) {
			case *syscall.SockaddrInet4:
				to = append(to, netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), uint16(sa.Port)).String())
			case *syscall.SockaddrInet6:
				to = append(to, netip.AddrPortFrom(netip.AddrFrom16(sa.Addr).Unmap(), uint16(sa.Port)).String())
			}
		}
	})
	return to
}
