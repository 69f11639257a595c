// Package gossiper implements the Peerster gossip protocol.
//
// Core holds the protocol: it takes one event at a time (a packet from a
// peer, a client message, a timer that fired) together with the current time,
// and returns what to do as values (packets to send, lines to print, timers to
// set). It opens no socket, reads no clock and starts no goroutine, so tests
// drive it with virtual time. Node is the runtime that carries out those
// effects over a Transport.
package gossiper

import "time"

// Config gathers every knob of a node; DefaultConfig documents the values the
// handout asks for.
type Config struct {
	// Name is the origin this node gives its own messages.
	Name string
	// Addr is this node's gossip address as its peers see it ("ip:port").
	Addr string
	// Peers are the addresses known at start.
	Peers []string
	// Simple selects the broadcast mode of the handout's Part 1.
	Simple bool

	// MongerTimeout is how long a node waits for a peer's status after
	// sending it a rumor before flipping the coin.
	MongerTimeout time.Duration
	// ProbeTimeout is how long a node waits for an answer to a status
	// before taking silence to mean the peer is in sync. Half the
	// anti-entropy period lets that flip happen before the next tick.
	ProbeTimeout time.Duration
	// AntiEntropyInterval is the period of the status sent to one peer.
	AntiEntropyInterval time.Duration
	// CatchUpTimeout is how long a node that is being sent messages it
	// lacks waits for the next one before asking again with its status;
	// 0 leaves a stalled exchange to anti-entropy.
	CatchUpTimeout time.Duration
	// ResendPatience is how long a peer may go on asking for a rumor that
	// is on its way to it before the node sends it again (inflight.go):
	// the wait of a catch-up, since a peer that asks this long has lost
	// the rumor as surely as a silent one has lost its turn.
	ResendPatience time.Duration
	// RumorFreshness is how long after a node last accepted a rumor an
	// exchange that ends in sync may still go on mongering it. Past it, a
	// node at rest sends only its anti-entropy status.
	RumorFreshness time.Duration
	// FlipInterval is how often at most the coin that ends an idle
	// exchange may send a rumor to the same peer (see coin.go).
	FlipInterval time.Duration
	// SimpleRepeatGap is how long after the last copy of a simple message
	// from one relay another is its author writing it again, which the
	// node forwards, rather than a copy of the same, which it does not
	// (simple.go).
	SimpleRepeatGap time.Duration
	// SimpleForwardInterval is the period over which the forwards of one
	// simple message from one relay are counted and bounded, so that a
	// copy circling a cycle slower than SimpleRepeatGap stops; a node's
	// own message is not forwarded for that long after it posted it.
	SimpleForwardInterval time.Duration
	// MaxPacketsPerSecond is the rate of datagrams a node takes from one
	// source address (with bursts of twice that); 0 means no limit.
	MaxPacketsPerSecond float64
	// MaxBytesPerSecond is the rate of bytes a node takes from one source
	// address (with bursts of twice that), each datagram counting at
	// least MaxBytesPerSecond/MaxPacketsPerSecond bytes; 0 counts
	// datagrams only.
	MaxBytesPerSecond float64
	// UnprovenBytesPerSecond is the rate of bytes a node sends, all
	// together, to addresses that have not shown they receive what it
	// sends (sources.go), with bursts of twice that; each also gets at
	// most three times what it sent. 0 turns the address proofs off.
	UnprovenBytesPerSecond float64
	// MemoryBudget is the resident memory, in bytes, the node divides
	// between what it keeps (see budgets); 0 means DefaultMemoryBudget.
	MemoryBudget int64
	// Secret makes the tokens that prove addresses; empty draws one from
	// the Core's randomness.
	Secret []byte
	// MaxPeers caps the peer list; learned peers beyond it evict the oldest
	// learned one, and peers given at start are never evicted.
	MaxPeers int
	// SimpleSendsPerSecond caps, node-wide, the datagrams spent forwarding
	// simple messages (bursts of twice that); 0 means no cap. One simple
	// message goes to every known peer, so without it each spoofed one
	// would make the node send up to MaxPeers datagrams.
	SimpleSendsPerSecond float64
	// RouteInterval is the period of the route rumors a node sends, the
	// first at start (-rtimer); 0 sends none.
	RouteInterval time.Duration
}

// DefaultConfig returns the handout's timings: 1 s rumor timeout and 1 s
// anti-entropy.
func DefaultConfig() Config {
	return Config{
		MongerTimeout:         time.Second,
		ProbeTimeout:          500 * time.Millisecond,
		AntiEntropyInterval:   time.Second,
		CatchUpTimeout:        250 * time.Millisecond,
		ResendPatience:        250 * time.Millisecond,
		RumorFreshness:        10 * time.Second,
		FlipInterval:          time.Minute,
		SimpleRepeatGap:       2 * time.Second,
		SimpleForwardInterval: time.Minute,
		MaxPacketsPerSecond:   20000,
		MaxBytesPerSecond:     16 << 20,
		// A newcomer catching up on a long history from unproven
		// addresses takes about 100 KB/s; several may.
		UnprovenBytesPerSecond: 1 << 20,
		MaxPeers:               1024,
		SimpleSendsPerSecond:   2000,
	}
}
