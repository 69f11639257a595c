// Package messages holds the structs that Peerster nodes exchange over UDP.
//
// Their field order is the wire format: the dedis protobuf encoder numbers
// fields by their position in the struct, and every other Peerster decodes by
// those numbers. Never reorder or retype a field; add new ones at the end.
package messages

import (
	"fmt"

	"go.dedis.ch/protobuf"
)

// Message is what a client sends to its gossiper's UI port.
type Message struct {
	Text string
}

// SimpleMessage is the broadcast message of simple mode.
type SimpleMessage struct {
	OriginalName  string
	RelayPeerAddr string
	Contents      string
}

// RumorMessage carries one chat message, identified by its origin and ID.
type RumorMessage struct {
	Origin string
	ID     uint32
	Text   string
}

// PeerStatus says that every message of Identifier below NextID is held.
type PeerStatus struct {
	Identifier string
	NextID     uint32
}

// StatusPacket is a node's vector clock.
type StatusPacket struct {
	Want []PeerStatus
}

// GossipPacket is the only packet sent between peers; exactly one field is set.
type GossipPacket struct {
	Simple *SimpleMessage
	Rumor  *RumorMessage
	Status *StatusPacket
}

// Encode returns the wire form of a gossip packet.
func (p *GossipPacket) Encode() ([]byte, error) { return protobuf.Encode(p) }

// DecodeGossip parses a datagram from a peer.
func DecodeGossip(b []byte) (*GossipPacket, error) {
	p := &GossipPacket{}
	if err := decode(b, p); err != nil {
		return nil, err
	}
	return p, nil
}

// decode turns a panic of the decoder on hostile bytes into an error, so no
// datagram can bring a node down.
func decode(b []byte, v any) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("decoder panic: %v", r)
		}
	}()
	return protobuf.Decode(b, v)
}

// Encode returns the wire form of a client message.
func (m *Message) Encode() ([]byte, error) { return protobuf.Encode(m) }

// DecodeMessage parses a datagram from a client.
func DecodeMessage(b []byte) (*Message, error) {
	m := &Message{}
	if err := decode(b, m); err != nil {
		return nil, err
	}
	return m, nil
}
