package gossiper

import (
	"fmt"
	"time"

	"github.com/peerster/Peerster/messages"
)

// Send asks the runtime to send Packet to the peer at To.
type Send struct {
	To     string
	Packet *messages.GossipPacket
}

// TimerKind says which wait a Timer ends.
type TimerKind uint8

const (
	// TimerMonger waits for a peer's status after a rumor was mongered
	// to it.
	TimerMonger TimerKind = iota
	// TimerProbe waits for an answer to an anti-entropy status or to the
	// acknowledgement of a new rumor.
	TimerProbe
	// TimerCatchUp waits for the next rumor from a peer that has more.
	TimerCatchUp
	// TimerResend waits before a simple message goes again to a peer
	// that was not listening.
	TimerResend
	// TimerRecover ends the wait for this node's own messages that a peer
	// said the network holds.
	TimerRecover
	// TimerData waits for the replies of a download (Peer is the file's
	// metahash in hex).
	TimerData
)

func (k TimerKind) String() string {
	switch k {
	case TimerMonger:
		return "monger"
	case TimerProbe:
		return "probe"
	case TimerCatchUp:
		return "catch-up"
	case TimerResend:
		return "resend"
	case TimerRecover:
		return "recover"
	case TimerData:
		return "data"
	}
	return fmt.Sprintf("TimerKind(%d)", uint8(k))
}

// Timer asks the runtime to call Core.Timeout with it once After has passed.
type Timer struct {
	Kind  TimerKind
	Peer  string
	Seq   uint64
	After time.Duration
}

// Output is what one event asks the runtime to do: keep Accepted (the rumors
// this event added to the node's history, to be stored before anything is
// sent), print Lines to stdout in order, send Sends, and arm Timers.
type Output struct {
	Accepted []Entry
	Lines    []string
	Sends    []Send
	Timers   []Timer
	// Warnings are diagnostics for stderr.
	Warnings []string
	// Private are the private messages this event sent or delivered here,
	// to be stored like Accepted.
	Private []PrivateEntry
	// Alerted tells that the node's alerts changed.
	Alerted bool
	// DownloadsChanged tells that a download changed without a line or a
	// write: a warning.
	DownloadsChanged bool
	// Serve are data replies for the runtime to fill and send, and
	// FileWrites what downloads got, to write before anything is printed.
	Serve      []Serve
	FileWrites []FileWrite
}

// Entry is one chat message in a node's log.
type Entry struct {
	Origin   string
	ID       uint32
	Text     string
	Received time.Time
	// Seq is the message's place in the order this node accepted chat
	// messages, from 1. It is never reused while the node runs, so it is a
	// cursor for reading the log a page at a time; messages forgotten
	// under the memory budget leave gaps.
	Seq uint64
	// Forged marks a message under one of this node's own names that this
	// node did not write (see Alert).
	Forged bool
}

// Alert is something the node's user should know and act on, such as
// someone sending messages under this node's name. The node keeps the last
// of each kind.
type Alert struct {
	// Kind names the alert: "impersonation", "refused".
	Kind string
	// Text says what happened and what the user can do, in a sentence.
	Text string
	// First and Last are when it was first and last seen; Count how often.
	First, Last time.Time
	Count       int
	// warned is when it was last written to stderr.
	warned time.Time
}

// Posted identifies a message this node originated.
type Posted struct {
	Origin string
	ID     uint32
}

// Stats counts what a node has seen. Dropped is keyed by the reason.
type Stats struct {
	PacketsIn, PacketsOut uint64
	// AntiEntropy counts the statuses of PacketsOut that the anti-entropy
	// ticker sent: the traffic a node makes whatever happens.
	AntiEntropy          uint64
	Accepted, Duplicates uint64
	OutOfOrder           uint64
	// Private messages this node sent, forwarded and took as their
	// destination.
	PrivateSent, PrivateForwarded, PrivateDelivered uint64
	// Dropped counts the datagrams, and the rumors held early, dropped,
	// by reason.
	Dropped map[string]uint64
	// Refused counts the datagrams this node did not send because the
	// address's budget did not afford them (sources.go).
	Refused uint64
	// Forgotten counts the messages forgotten under the memory budget:
	// "texts" no longer sent to peers, "log" no longer shown.
	Forgotten map[string]uint64
	// Impersonations counts the rumors under this node's own names that
	// it did not write.
	Impersonations uint64
	// OriginsEvicted counts the origins that made way for new ones in the
	// room of the status (origins.go).
	OriginsEvicted uint64
	// TextBytes and LogBytes are what the texts kept for peers and the
	// chat log weigh now against their budgets.
	TextBytes, LogBytes int
	// DataServed counts the data replies this node sent for its own
	// files, DataForwarded the data requests and replies it passed on.
	DataServed, DataForwarded uint64
	// Probes counts the probes sent to addresses that did not afford a
	// data packet, ProvenByProbe the addresses that a probe proved.
	Probes, ProvenByProbe uint64
}

// Random is the randomness a Core draws on; *rand.Rand from math/rand/v2
// provides it, and tests script it.
type Random interface {
	// IntN returns a number in [0, n). IntN(2) is the coin: 1 goes on.
	IntN(n int) int
	Shuffle(n int, swap func(i, j int))
}
