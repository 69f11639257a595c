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
type inQueue struct {
	mu       sync.Mutex
	ready    *sync.Cond
	maxBytes int
	bytes    int
	queues   map[string]*sourceQueue
	turns    []string // sources with datagrams waiting, in the order served
	closed   bool
	// dropped counts datagrams dropped for room, since the last take.
	dropped int
}

type sourceQueue struct {
	datagrams [][]byte
	bytes     int
}

// queuedCost is what a queued datagram weighs beside its bytes: its slice
// and its place in the queues.
const queuedCost = 64

func newInQueue(maxBytes int) *inQueue {
	q := &inQueue{maxBytes: maxBytes, queues: map[string]*sourceQueue{}}
	q.ready = sync.NewCond(&q.mu)
	return q
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
		heaviest := q.heaviest()
		if heaviest == "" || heaviest == source {
			q.dropped++
			return false
		}
		q.dropLast(heaviest)
	}
	sq := q.queues[source]
	if sq == nil {
		sq = &sourceQueue{}
		q.queues[source] = sq
		q.turns = append(q.turns, source)
	}
	sq.datagrams = append(sq.datagrams, b)
	sq.bytes += w
	q.bytes += w
	q.ready.Signal()
	return true
}

// heaviest is the source with the most bytes queued, "" if none. The
// queues hold at most maxBytes, and the scan runs only when they are full.
func (q *inQueue) heaviest() string {
	best, most := "", 0
	for s, sq := range q.queues {
		if sq.bytes > most {
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
		q.remove(source)
	}
}

func (q *inQueue) remove(source string) {
	delete(q.queues, source)
	for i, s := range q.turns {
		if s == source {
			q.turns = append(q.turns[:i], q.turns[i+1:]...)
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
	for len(q.turns) == 0 {
		if q.closed {
			return "", nil, 0, false
		}
		q.ready.Wait()
	}
	source = q.turns[0]
	sq := q.queues[source]
	b = sq.datagrams[0]
	sq.datagrams[0] = nil
	sq.datagrams = sq.datagrams[1:]
	w := len(b) + queuedCost
	sq.bytes -= w
	q.bytes -= w
	q.turns = q.turns[1:]
	if len(sq.datagrams) == 0 {
		delete(q.queues, source)
	} else {
		q.turns = append(q.turns, source)
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
