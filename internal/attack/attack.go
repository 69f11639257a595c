// Package attack holds what a stranger can send a Peerster node: anyone who
// can reach a node's gossip port with UDP. Each attack is a small function
// that builds its datagrams and sends them from sockets it is given, bounded
// in count and in time, and reports what it sent; the caller starts the
// nodes and judges what they did. The bench's attack command drives them
// against real processes, and e2e tests can assert on the same attacks.
//
// Everything here stays on loopback: sockets bind 127.0.0.1, sends to any
// address outside 127.0.0.0/8 are refused, and the spoofing sender (which
// needs a raw socket) forges only 127.0.0.1 to 127.0.0.1.
package attack

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"

	"github.com/peerster/Peerster/messages"
)

// Count is what went one way through a socket: datagrams and their UDP
// payload bytes.
type Count struct {
	Datagrams, Bytes int64
}

// Add returns the sum of two counts.
func (c Count) Add(d Count) Count {
	return Count{c.Datagrams + d.Datagrams, c.Bytes + d.Bytes}
}

// ErrNotLoopback is returned for any address outside 127.0.0.0/8: these
// attacks are for measuring nodes on this machine only.
var ErrNotLoopback = errors.New("attack: only loopback addresses (127.0.0.0/8) are allowed")

func checkLoopback(a netip.AddrPort) error {
	ip := a.Addr().Unmap()
	if !ip.Is4() || !ip.IsLoopback() || a.Port() == 0 {
		return fmt.Errorf("%w: %s", ErrNotLoopback, a)
	}
	return nil
}

// encode panics rather than return an error: the packets are built here
// from fixed structs, which the encoder always takes, so an error would be
// a bug in this package, not something a caller could handle.
func encode(p *messages.GossipPacket) []byte {
	b, err := p.Encode()
	if err != nil {
		panic(fmt.Sprintf("attack: encoding %+v: %v", p, err))
	}
	return b
}

// Rumor is the wire form of a rumor; an empty text makes a route rumor.
func Rumor(origin string, id uint32, text string) []byte {
	return encode(&messages.GossipPacket{Rumor: &messages.RumorMessage{Origin: origin, ID: id, Text: text}})
}

// Status is the wire form of a status; with no entries it is 2 bytes, the
// smallest datagram a node answers.
func Status(want ...messages.PeerStatus) []byte {
	return encode(&messages.GossipPacket{Status: &messages.StatusPacket{Want: want}})
}

// Private is the wire form of a private message.
func Private(origin, destination, text string, hopLimit uint32) []byte {
	return encode(&messages.GossipPacket{Private: &messages.PrivateMessage{Origin: origin, Text: text, Destination: destination, HopLimit: hopLimit}})
}

// ClientPost is what the client sends a gossiper's UI port: a chat post,
// or a private message when destination is set.
func ClientPost(text, destination string) []byte {
	b, err := (&messages.Message{Text: text, Destination: destination}).Encode()
	if err != nil {
		panic(fmt.Sprintf("attack: encoding a client message: %v", err))
	}
	return b
}

// OriginNames returns n distinct origin names of exactly length bytes (at
// least as long as the prefix and a number need), so that a node that keeps
// them has a status of a known size.
func OriginNames(prefix string, n, length int) []string {
	names := make([]string, n)
	for i := range names {
		s := fmt.Sprintf("%s%d-", prefix, i+1)
		if len(s) < length {
			s += strings.Repeat("o", length-len(s))
		}
		names[i] = s
	}
	return names
}
