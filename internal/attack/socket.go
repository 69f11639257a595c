package attack

import (
	"errors"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/messages"
)

// Socket is one UDP socket of the stranger on 127.0.0.1. It never answers:
// whatever arrives is counted and decoded, the statuses remembered, and
// handed to the tap if there is one. So the same type is the attacker's
// socket, which reads the target's statuses to pick its next rumor, and a
// victim's, which stands for an address the stranger forged and measures
// what a node sends there.
type Socket struct {
	conn *net.UDPConn
	addr netip.AddrPort

	sentN, sentB atomic.Int64
	recvN, recvB atomic.Int64
	last         atomic.Int64 // Unix ns of the last arrival

	mu       sync.Mutex
	statuses map[netip.AddrPort]seenStatus
	// asks are the last tokens each sender asked this socket for.
	asks    map[netip.AddrPort]protobuf.Ufixed64
	changed chan struct{} // closed and replaced at every status
	tap     func(Arrival)
	done    chan struct{}
}

type seenStatus struct {
	want []messages.PeerStatus
	at   time.Time
}

// Arrival is one datagram that reached a Socket. Packet is nil if it did
// not decode.
type Arrival struct {
	From   netip.AddrPort
	At     time.Time
	Size   int
	Packet *messages.GossipPacket
}

// readBuffer is asked for each socket: a victim may be sent thousands of
// 60 KB datagrams in a burst, and what the kernel drops for a full queue
// is not counted.
const readBuffer = 8 << 20

// Listen opens a socket on 127.0.0.1 at a port the kernel picks.
func Listen() (*Socket, error) {
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, err
	}
	growReadBuffer(conn, readBuffer)
	s := &Socket{conn: conn, addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(),
		statuses: map[netip.AddrPort]seenStatus{}, asks: map[netip.AddrPort]protobuf.Ufixed64{},
		changed: make(chan struct{}), done: make(chan struct{})}
	go s.read()
	return s, nil
}

// Addr is the socket's address, the source of what it sends.
func (s *Socket) Addr() netip.AddrPort { return s.addr }

// Send sends one datagram to a loopback address and counts it.
func (s *Socket) Send(to netip.AddrPort, b []byte) error {
	if err := checkLoopback(to); err != nil {
		return err
	}
	n, err := s.conn.WriteToUDPAddrPort(b, to)
	if err != nil {
		return err
	}
	s.sentN.Add(1)
	s.sentB.Add(int64(n))
	return nil
}

// Sent is what the socket has sent.
func (s *Socket) Sent() Count { return Count{s.sentN.Load(), s.sentB.Load()} }

// Received is what has arrived at the socket.
func (s *Socket) Received() Count { return Count{s.recvN.Load(), s.recvB.Load()} }

// LastArrival is when the last datagram arrived, or the zero time.
func (s *Socket) LastArrival() time.Time {
	if ns := s.last.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// Tap has fn called, from the socket's reader, with every datagram that
// arrives from now on; nil stops it. fn must be quick: while it runs the
// kernel queues, and past the socket's buffer drops, what arrives.
func (s *Socket) Tap(fn func(Arrival)) {
	s.mu.Lock()
	s.tap = fn
	s.mu.Unlock()
}

// WaitQuiet returns once nothing has arrived for quiet (counting from the
// call if nothing arrived since), or limit after the call, and reports
// what arrived in all and whether it went quiet.
func (s *Socket) WaitQuiet(quiet, limit time.Duration) (Count, bool) {
	start := time.Now()
	for {
		now := time.Now()
		last := s.LastArrival()
		if last.Before(start) {
			last = start
		}
		if now.Sub(last) >= quiet {
			return s.Received(), true
		}
		if now.Sub(start) >= limit {
			return s.Received(), false
		}
		time.Sleep(min(quiet-now.Sub(last), limit-now.Sub(start), 20*time.Millisecond) + time.Millisecond)
	}
}

// NextID is the next ID of origin in the last status from, and when that
// status arrived; an origin it does not list is at 1. ok is false if no
// status came from there.
func (s *Socket) NextID(from netip.AddrPort, origin string) (next uint32, at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.statuses[from]
	if !ok {
		return 0, time.Time{}, false
	}
	return nextIn(st.want, origin), st.at, true
}

// LastStatus is the last status from from: its entries and when it
// arrived; ok is false if none came.
func (s *Socket) LastStatus(from netip.AddrPort) (want []messages.PeerStatus, at time.Time, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.statuses[from]
	return st.want, st.at, ok
}

// WaitNextID waits until a status from from arrives after the time after
// (it may have already), at most timeout, and returns origin's next ID in
// it.
func (s *Socket) WaitNextID(from netip.AddrPort, origin string, after time.Time, timeout time.Duration) (uint32, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		st, ok := s.statuses[from]
		changed := s.changed
		s.mu.Unlock()
		if ok && st.at.After(after) {
			return nextIn(st.want, origin), true
		}
		select {
		case <-changed:
		case <-deadline.C:
			return 0, false
		case <-s.done:
			return 0, false
		}
	}
}

func nextIn(want []messages.PeerStatus, origin string) uint32 {
	for _, w := range want {
		if w.Identifier == origin {
			return max(w.NextID, 1)
		}
	}
	return 1
}

// Prove shows target that s receives what it sends, as a Peerster node of
// the same implementation does: it sends a status that claims a message the
// target lacks, which the target answers, and sends back the token the
// answer (a status or a rumor) asks for. A stranger with a socket of its
// own can do this; one who forges addresses cannot. It returns an error if
// the target asks for no token within timeout (an implementation without
// proofs).
func (s *Socket) Prove(target netip.AddrPort, timeout time.Duration) error {
	if err := s.Send(target, Status(messages.PeerStatus{Identifier: "proof", NextID: 2})); err != nil {
		return err
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ask, changed := s.asks[target], s.changed
		s.mu.Unlock()
		if ask != 0 {
			return s.Send(target, encode(&messages.GossipPacket{Status: &messages.StatusPacket{Proof: &messages.AddressProof{Echo: ask}}}))
		}
		select {
		case <-changed:
		case <-deadline.C:
			return errors.New("attack: the target asked for no token")
		case <-s.done:
			return net.ErrClosed
		}
	}
}

// askIn is the token a packet asks for, 0 if none.
func askIn(p *messages.GossipPacket) protobuf.Ufixed64 {
	switch {
	case p == nil:
	case p.Status != nil && p.Status.Proof != nil:
		return p.Status.Proof.Ask
	case p.Rumor != nil && p.Rumor.Proof != nil:
		return p.Rumor.Proof.Ask
	}
	return 0
}

// Close closes the socket and waits for its reader, so the counts are
// final.
func (s *Socket) Close() error {
	err := s.conn.Close()
	<-s.done
	return err
}

func (s *Socket) read() {
	defer close(s.done)
	buf := make([]byte, 1<<16)
	for {
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// An ICMP error from an earlier send (the port was closed)
			// surfaces here on Linux; the socket goes on.
			continue
		}
		now := time.Now()
		s.recvN.Add(1)
		s.recvB.Add(int64(n))
		s.last.Store(now.UnixNano())
		p, err := messages.DecodeGossip(buf[:n])
		if err != nil {
			p = nil
		}
		s.mu.Lock()
		if p != nil && p.Status != nil {
			s.statuses[from] = seenStatus{want: p.Status.Want, at: now}
			close(s.changed)
			s.changed = make(chan struct{})
		}
		if ask := askIn(p); ask != 0 {
			s.asks[from] = ask
			close(s.changed)
			s.changed = make(chan struct{})
		}
		tap := s.tap
		s.mu.Unlock()
		if tap != nil {
			tap(Arrival{From: from, At: now, Size: n, Packet: p})
		}
	}
}
