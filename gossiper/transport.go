package gossiper

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"time"
)

// Transport moves datagrams between peers, addressed as "ip:port".
type Transport interface {
	// ReadFrom blocks until a datagram arrives, copies it into b and says
	// who sent it. After Close it returns net.ErrClosed.
	ReadFrom(b []byte) (n int, from string, err error)
	// WriteTo sends b to the peer at to.
	WriteTo(b []byte, to string) error
	// Addr is the address peers reach this transport at.
	Addr() string
	Close() error
}

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
	return &UDPTransport{conn: conn, addr: netip.AddrPortFrom(ap.Addr().Unmap(), uint16(conn.LocalAddr().(*net.UDPAddr).Port)).String()}, nil
}

// ReadFrom implements Transport.
func (t *UDPTransport) ReadFrom(b []byte) (int, string, error) {
	n, ap, err := t.conn.ReadFromUDPAddrPort(b)
	if err != nil {
		return 0, "", err
	}
	return n, netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()).String(), nil
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
	return err
}

// Addr implements Transport.
func (t *UDPTransport) Addr() string { return t.addr }

// Close implements Transport.
func (t *UDPTransport) Close() error { return t.conn.Close() }

// MemNetwork is an in-memory network for tests. It drops, duplicates and
// delays datagrams at the rates given, drawing on a seeded random source; a
// random delay reorders them.
type MemNetwork struct {
	mu       sync.Mutex
	rng      *rand.Rand
	ends     map[string]*MemTransport
	Drop     float64 // probability a datagram is lost
	Dup      float64 // probability a datagram is delivered twice
	MaxDelay time.Duration
	sent     uint64
}

// NewMemNetwork returns an empty lossless network.
func NewMemNetwork(seed uint64) *MemNetwork {
	return &MemNetwork{rng: rand.New(rand.NewPCG(seed, 1)), ends: map[string]*MemTransport{}}
}

// Sent is the number of datagrams written to the network so far.
func (m *MemNetwork) Sent() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent
}

// Listen attaches a transport at addr.
func (m *MemNetwork) Listen(addr string) (*MemTransport, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, taken := m.ends[addr]; taken {
		return nil, fmt.Errorf("listen on %s: address in use", addr)
	}
	t := &MemTransport{net: m, addr: addr, in: make(chan memDatagram, 4096), done: make(chan struct{})}
	m.ends[addr] = t
	return t, nil
}

type memDatagram struct {
	b    []byte
	from string
}

// MemTransport is one end of a MemNetwork.
type MemTransport struct {
	net       *MemNetwork
	addr      string
	in        chan memDatagram
	done      chan struct{}
	closeOnce sync.Once
}

// ReadFrom implements Transport.
func (t *MemTransport) ReadFrom(b []byte) (int, string, error) {
	select {
	case d := <-t.in:
		return copy(b, d.b), d.from, nil
	case <-t.done:
		return 0, "", net.ErrClosed
	}
}

// WriteTo implements Transport.
func (t *MemTransport) WriteTo(b []byte, to string) error {
	m := t.net
	m.mu.Lock()
	m.sent++
	dst := m.ends[to]
	copies := 1
	if m.rng.Float64() < m.Dup {
		copies = 2
	}
	var delays []time.Duration
	for range copies {
		if m.rng.Float64() >= m.Drop {
			d := time.Duration(0)
			if m.MaxDelay > 0 {
				d = time.Duration(m.rng.Int64N(int64(m.MaxDelay)))
			}
			delays = append(delays, d)
		}
	}
	m.mu.Unlock()
	if dst == nil {
		return nil // like UDP: nobody listening, nothing said
	}
	d := memDatagram{b: append([]byte(nil), b...), from: t.addr}
	for _, delay := range delays {
		if delay == 0 {
			dst.deliver(d)
		} else {
			time.AfterFunc(delay, func() { dst.deliver(d) })
		}
	}
	return nil
}

func (t *MemTransport) deliver(d memDatagram) {
	select {
	case t.in <- d:
	case <-t.done:
	default: // a full queue drops, as a socket buffer does
	}
}

// Addr implements Transport.
func (t *MemTransport) Addr() string { return t.addr }

// Close implements Transport.
func (t *MemTransport) Close() error {
	t.closeOnce.Do(func() {
		close(t.done)
		t.net.mu.Lock()
		delete(t.net.ends, t.addr)
		t.net.mu.Unlock()
	})
	return nil
}

var errClosed = errors.New("node is closed")
