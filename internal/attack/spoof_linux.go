package attack

import (
	"errors"
	"fmt"
	"net/netip"
	"syscall"
)

// openRaw opens an IPPROTO_RAW socket, on which every packet sent carries
// its own IP header (IP_HDRINCL, which Linux implies for IPPROTO_RAW and
// which is set anyway to say so).
func openRaw() (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_RAW)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) {
			return -1, fmt.Errorf("%w: %v", ErrSpoofNotPermitted, err)
		}
		return -1, fmt.Errorf("attack: opening a raw socket: %w", err)
	}
	if err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_HDRINCL, 1); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("attack: IP_HDRINCL: %w", err)
	}
	return fd, nil
}

func sendRaw(fd int, to netip.AddrPort, pkt []byte) error {
	// The port in the address is ignored for raw sockets: the UDP header
	// in pkt has it.
	return syscall.Sendto(fd, pkt, 0, &syscall.SockaddrInet4{Addr: to.Addr().Unmap().As4()})
}

func closeRaw(fd int) error { return syscall.Close(fd) }
