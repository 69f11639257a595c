package attack

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
)

// ErrSpoofNotPermitted is returned by NewSpoofer where no raw socket can be
// opened: it needs Linux and root or CAP_NET_RAW.
var ErrSpoofNotPermitted = errors.New("attack: spoofing a source address needs a raw socket, which needs Linux and root or CAP_NET_RAW")

// The headers the spoofing sender writes itself: IPv4 without options, and
// UDP.
const (
	ipv4HeaderLen = 20
	udpHeaderLen  = 8
	// MaxSpoofPayload is the most UDP payload one IPv4 datagram carries.
	MaxSpoofPayload = 0xffff - ipv4HeaderLen - udpHeaderLen
)

// spoofIP is the only address the spoofing sender writes, as source and as
// destination: forged datagrams must never leave this machine, and 127.0.0.1
// is the address the nodes under test listen on.
var spoofIP = netip.AddrFrom4([4]byte{127, 0, 0, 1})

func checkSpoofAddr(a netip.AddrPort) error {
	if a.Addr().Unmap() != spoofIP || a.Port() == 0 {
		return fmt.Errorf("%w: the spoofing sender takes 127.0.0.1 with a port only, not %s", ErrNotLoopback, a)
	}
	return nil
}

// Spoofer sends UDP datagrams with a source address of the caller's
// choosing, by writing the IPv4 and UDP headers itself on a raw socket. A
// node that reads one sees it come from that address, as if the peer there
// had sent it: the protocol has no other way to know who sent a packet.
type Spoofer struct {
	fd   int
	mu   sync.Mutex
	id   uint16
	sent Count
}

// NewSpoofer opens the raw socket; the error wraps ErrSpoofNotPermitted
// where it may not.
func NewSpoofer() (*Spoofer, error) {
	fd, err := openRaw()
	if err != nil {
		return nil, err
	}
	return &Spoofer{fd: fd}, nil
}

// Send sends payload to to, with from as its source. Both must be
// 127.0.0.1 with a port.
func (s *Spoofer) Send(from, to netip.AddrPort, payload []byte) error {
	if err := checkSpoofAddr(from); err != nil {
		return err
	}
	if err := checkSpoofAddr(to); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.id++
	pkt, err := BuildIPv4UDP(from, to, s.id, payload)
	if err != nil {
		return err
	}
	if err := sendRaw(s.fd, to, pkt); err != nil {
		return fmt.Errorf("attack: sending a spoofed datagram: %w", err)
	}
	s.sent.Datagrams++
	s.sent.Bytes += int64(len(payload))
	return nil
}

// Sent is what the spoofer has sent: datagrams and their UDP payload bytes.
func (s *Spoofer) Sent() Count {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

// Close closes the raw socket.
func (s *Spoofer) Close() error { return closeRaw(s.fd) }

// BuildIPv4UDP returns an IPv4 packet that carries payload in a UDP
// datagram from src to dst, with id as its IP identification and both
// checksums filled in. Linux fills in the IP header checksum of a raw
// packet again, but not the UDP one: a wrong UDP checksum makes the
// receiving kernel drop the datagram, silently.
func BuildIPv4UDP(src, dst netip.AddrPort, id uint16, payload []byte) ([]byte, error) {
	if !src.Addr().Unmap().Is4() || !dst.Addr().Unmap().Is4() {
		return nil, fmt.Errorf("attack: %s -> %s: IPv4 addresses only", src, dst)
	}
	if len(payload) > MaxSpoofPayload {
		return nil, fmt.Errorf("attack: %d bytes do not fit one IPv4 datagram (%d at most)", len(payload), MaxSpoofPayload)
	}
	s4, d4 := src.Addr().Unmap().As4(), dst.Addr().Unmap().As4()
	total := ipv4HeaderLen + udpHeaderLen + len(payload)
	p := make([]byte, total)
	ip := p[:ipv4HeaderLen]
	ip[0] = 0x45 // version 4, 5 words of header
	binary.BigEndian.PutUint16(ip[2:], uint16(total))
	binary.BigEndian.PutUint16(ip[4:], id)
	binary.BigEndian.PutUint16(ip[6:], 0x4000) // don't fragment: loopback's MTU takes the whole datagram
	ip[8] = 64                                 // TTL
	ip[9] = 17                                 // UDP
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:], Checksum(ip))

	udp := p[ipv4HeaderLen:]
	binary.BigEndian.PutUint16(udp[0:], src.Port())
	binary.BigEndian.PutUint16(udp[2:], dst.Port())
	binary.BigEndian.PutUint16(udp[4:], uint16(udpHeaderLen+len(payload)))
	copy(udp[udpHeaderLen:], payload)
	binary.BigEndian.PutUint16(udp[6:], UDPChecksum(s4, d4, udp))
	return p, nil
}

// Checksum is the Internet checksum (RFC 1071) of b: the ones' complement
// of the ones' complement sum of its 16-bit big-endian words, an odd last
// byte padded with zero.
func Checksum(b []byte) uint16 { return ^fold(sum16(0, b)) }

// UDPChecksum is the checksum of a UDP datagram (header and payload, its
// checksum field zero) over IPv4 (RFC 768): it also covers a pseudo-header
// of the addresses, the protocol and the UDP length. A computed 0 is sent
// as 0xffff, since 0 means "no checksum".
func UDPChecksum(src, dst [4]byte, udp []byte) uint16 {
	var pseudo [12]byte
	copy(pseudo[0:4], src[:])
	copy(pseudo[4:8], dst[:])
	pseudo[9] = 17
	binary.BigEndian.PutUint16(pseudo[10:], uint16(len(udp)))
	c := ^fold(sum16(sum16(0, pseudo[:]), udp))
	if c == 0 {
		c = 0xffff
	}
	return c
}

func sum16(acc uint32, b []byte) uint32 {
	for len(b) >= 2 {
		acc += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	return acc
}

// fold adds the carries of a 32-bit sum back in until it fits 16 bits. The
// sum of a 64 KiB datagram's words stays far below 2^32.
func fold(acc uint32) uint16 {
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
