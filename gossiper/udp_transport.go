package gossiper

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
)

// UDPTransport is a Transport over one UDP socket.
type UDPTransport struct {
	conn *net.UDPConn
	addr string
}

// ListenUDP binds a UDP socket at addr ("ip:port").
func ListenUDP(addr string) (*UDPTransport, error) {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %q: %w", addr, err)
	}
	network := "udp6"
	if ap.Addr().Is4() {
		network = "udp4"
	}
	conn, err := net.ListenUDP(network, net.UDPAddrFromAddrPort(ap))
	if err != nil {
		return nil, err
	}
	// A burst of rumors and statuses must not overflow the kernel's queue.
	_ = conn.SetReadBuffer(4 << 20)
	reportUnreachable(conn, ap.Addr().Is4())
	return &UDPTransport{conn: conn, addr: netip.AddrPortFrom(ap.Addr().Unmap(), uint16(conn.LocalAddr().(*net.UDPAddr).Port)).String()}, nil
}

// ReadFrom implements Transport. It returns an *UnreachableError when
// datagrams sent found no socket at their destination.
func (t *UDPTransport) ReadFrom(b []byte) (int, string, error) {
	n, ap, err := t.conn.ReadFromUDPAddrPort(b)
	if err == nil {
		return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		if to := unreachable(t.conn); len(to) > 0 {
			return 0, "", &UnreachableError{To: to}
		}
	}
	return 0, "", err
}

// WriteTo implements Transport.
func (t *UDPTransport) WriteTo(b []byte, to string) error {
	ap, err := netip.ParseAddrPort(to)
	if err != nil {
		return err
	}
	if t.conn.LocalAddr().(*net.UDPAddr).IP.To4() != nil {
		ap = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
	}
	_, err = t.conn.WriteToUDPAddrPort(b, ap)
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	// The kernel hands a pending ICMP error of an earlier datagram to the
	// next call on the socket, which then sends nothing: take the refused
	// addresses off the queue, and send this datagram again.
	refused := unreachable(t.conn)
	if _, err = t.conn.WriteToUDPAddrPort(b, ap); err != nil || len(refused) == 0 {
		return err
	}
	return &UnreachableError{To: refused}
}

// Addr implements Transport.
func (t *UDPTransport) Addr() string { return t.addr }

// Close implements Transport.
func (t *UDPTransport) Close() error { return t.conn.Close() }
