package gossiper

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Link is how a network treats each datagram: it is lost with probability
// Drop, delivered twice with probability Dup, and each copy arrives after a
// delay drawn evenly from [MinDelay, MaxDelay], so random delays reorder.
// The in-memory network and the tests' simulator share it.
type Link struct {
	Drop               float64
	Dup                float64
	MinDelay, MaxDelay time.Duration
}

// Fate draws, from rng, what happens to one datagram: the delay of each copy
// that arrives, none when it is lost.
func (l Link) Fate(rng *rand.Rand) []time.Duration {
	copies := 1
	if rng.Float64() < l.Dup {
		copies = 2
	}
	var delays []time.Duration
	for range copies {
		if rng.Float64() < l.Drop {
			continue
		}
		d := l.MinDelay
		if l.MaxDelay > l.MinDelay {
			d += time.Duration(rng.Int64N(int64(l.MaxDelay-l.MinDelay) + 1))
		}
		delays = append(delays, d)
	}
	return delays
}

// MemNetwork is an in-memory network for tests. Its Link drops, duplicates
// and delays datagrams, drawing on a seeded random source.
type MemNetwork struct {
	Link
	mu   sync.Mutex
	rng  *rand.Rand
	ends map[string]*MemTransport
	sent uint64
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
	delays := m.Fate(m.rng)
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
