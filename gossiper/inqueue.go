package gossiper

import "sync"

// inQueue holds the datagrams read from the gossip socket until the Core
// takes them, one queue a source address, served in turn. A node reads as
// fast as the kernel hands datagrams over, but handles them at the speed of
// its CPU; taken in arrival order, a flood from a few addresses would fill
// the socket's buffer and push honest peers' datagrams out with its own. In
// turns, a peer that sends a little waits for one datagram of each other
// sender at most, however much they send. The queue is bounded by bytes:
// past maxBytes, the source holding the most loses its newest datagram.
//
// Turns alone are not enough under a flood from many addresses: a peer
// then gets one turn in as many as there are flooding addresses, while the
// flood makes it send more than usual (it acknowledges the rumors the node
// passes on to it), so its datagrams pile up, and once the queue is full
// the peer, as heavy as any flooding address, loses its newest ones: its
// chat messages, which then wait for anti-entropy behind a gap. So the
// sources the Core has found to be peers that receive what the node sends
// (proven, sources.go), which a forger of addresses cannot be, form a class
// of their own: while both classes wait, take alternates between them,
// and a full queue drops from the other class first.
type inQueue struct {
	mu       sync.Mutex
	ready    *sync.Cond
	maxBytes int
	bytes    int
	queues   map[string]*sourceQueue
	// turns are the sources with datagrams waiting, in the order served,
	// by class: others, then peers.
	turns [2][]string
	// peerNext says whether take serves a peer next when both classes wait.
	peerNext bool
	// peers are the sources last handled from a proven address, at most
	// maxQueuePeers.
	peers  map[string]bool
	closed bool
	// dropped counts datagrams dropped for room, since the last take.
	dropped int
}

const (
	classOthers = iota
	classPeers
)

// maxQueuePeers bounds the sources the queue favours, as the Core bounds
// the addresses it keeps (maxSources).
const maxQueuePeers = maxSources

type sourceQueue struct {
	datagrams [][]byte
	bytes     int
	class     int // fixed while the source has datagrams queued
}

// queuedCost is what a queued datagram weighs beside its bytes: its slice
// and its place in the queues.
const queuedCost = 64

func newInQueue(maxBytes int) *inQueue {
	q := &inQueue{maxBytes: maxBytes, queues: map[string]*sourceQueue{}, peers: map[string]bool{}}
	q.ready = sync.NewCond(&q.mu)
	return q
}

// setPeer records whether source, just handled, is a proven peer, for the
// datagrams of it that are queued from now on.
func (q *inQueue) setPeer(source string, peer bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case !peer:
		delete(q.peers, source)
	case len(q.peers) < maxQueuePeers:
		q.peers[source] = true
	}
}

// put queues b, which the queue now owns, from source. It reports whether
// b was kept.
func (q *inQueue) put(source string, b []byte) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return false
	}
	w := len(b) + queuedCost
	for q.bytes+w > q.maxBytes {
		victim := q.victim()
		if victim == "" || victim == source {
			q.dropped++
			return false
		}
		q.dropLast(victim)
	}
	sq := q.queues[source]
	if sq == nil {
		sq = &sourceQueue{class: classOthers}
		if q.peers[source] {
			sq.class = classPeers
		}
		q.queues[source] = sq
		q.turns[sq.class] = append(q.turns[sq.class], source)
	}
	sq.datagrams = append(sq.datagrams, b)
	sq.bytes += w
	q.bytes += w
	q.ready.Signal()
	return true
}

// victim is the source that loses a datagram for room: the one with the
// most bytes queued among the others, or among the peers if no other has
// any; "" if nothing is queued. The queues hold at most maxBytes, and the
// scan runs only when they are full.
func (q *inQueue) victim() string {
	class := classOthers
	if len(q.turns[classOthers]) == 0 {
		class = classPeers
	}
	best, most := "", 0
	for _, s := range q.turns[class] {
		if sq := q.queues[s]; sq.bytes > most {
			best, most = s, sq.bytes
		}
	}
	return best
}

func (q *inQueue) dropLast(source string) {
	sq := q.queues[source]
	last := sq.datagrams[len(sq.datagrams)-1]
	sq.datagrams = sq.datagrams[:len(sq.datagrams)-1]
	w := len(last) + queuedCost
	sq.bytes -= w
	q.bytes -= w
	q.dropped++
	if len(sq.datagrams) == 0 {
		q.remove(source, sq.class)
	}
}

func (q *inQueue) remove(source string, class int) {
	delete(q.queues, source)
	turns := q.turns[class]
	for i, s := range turns {
		if s == source {
			q.turns[class] = append(turns[:i], turns[i+1:]...)
			return
		}
	}
}

// take waits for a datagram and returns it, with its source and how many
// datagrams were dropped for room since the last take; ok is false once
// the queue is closed and empty.
func (q *inQueue) take() (source string, b []byte, dropped int, ok bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for len(q.turns[classOthers])+len(q.turns[classPeers]) == 0 {
		if q.closed {
			return "", nil, 0, false
		}
		q.ready.Wait()
	}
	class := classOthers
	if len(q.turns[classOthers]) == 0 || (q.peerNext && len(q.turns[classPeers]) > 0) {
		class = classPeers
	}
	q.peerNext = class == classOthers
	turns := q.turns[class]
	source = turns[0]
	sq := q.queues[source]
	b = sq.datagrams[0]
	sq.datagrams[0] = nil
	sq.datagrams = sq.datagrams[1:]
	w := len(b) + queuedCost
	sq.bytes -= w
	q.bytes -= w
	q.turns[class] = turns[1:]
	if len(sq.datagrams) == 0 {
		delete(q.queues, source)
	} else {
		q.turns[class] = append(q.turns[class], source)
	}
	dropped, q.dropped = q.dropped, 0
	return source, b, dropped, true
}

// close wakes take; what is queued may still be taken.
func (q *inQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.ready.Broadcast()
}
