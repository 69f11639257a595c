package gossiper

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"time"
)

// simNet runs many Cores on one virtual clock. Datagrams are really encoded
// and decoded; the network drops, duplicates and delays them (a random delay
// reorders them) on a seeded random source, so every run is repeatable.
type simNet struct {
	now    time.Time
	queue  simQueue
	seq    uint64
	rng    *rand.Rand
	nodes  map[string]*simNode
	order  []*simNode
	link   Link
	sent   uint64 // datagrams handed to the network
	logged int    // chat messages accepted, summed over nodes
	ticked uint64 // datagrams sent by anti-entropy ticks
}

type simNode struct {
	addr  string
	core  *Core
	lines []string
}

type simEvent struct {
	at    time.Time
	seq   uint64
	run   func()
	index int
}

type simQueue []*simEvent

func (q simQueue) Len() int { return len(q) }
func (q simQueue) Less(i, j int) bool {
	if !q[i].at.Equal(q[j].at) {
		return q[i].at.Before(q[j].at)
	}
	return q[i].seq < q[j].seq
}
func (q simQueue) Swap(i, j int)         { q[i], q[j] = q[j], q[i] }
func (q *simQueue) Push(x any)           { *q = append(*q, x.(*simEvent)) }
func (q *simQueue) Pop() any             { o := *q; e := o[len(o)-1]; *q = o[:len(o)-1]; return e }
func (q simQueue) peek() *simEvent       { return q[0] }
func simAddr(i int) string               { return fmt.Sprintf("127.0.0.1:%d", 5000+i) }
func (s *simNet) node(i int) *simNode    { return s.order[i] }
func (s *simNet) elapsed() time.Duration { return s.now.Sub(simEpoch) }

var simEpoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func newSimNet(seed uint64) *simNet {
	return &simNet{
		now:   simEpoch,
		rng:   rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		nodes: map[string]*simNode{},
		link:  Link{MinDelay: 50 * time.Microsecond, MaxDelay: 500 * time.Microsecond},
	}
}

func (s *simNet) at(d time.Duration, f func()) {
	s.seq++
	heap.Push(&s.queue, &simEvent{at: s.now.Add(d), seq: s.seq, run: f})
}

// addNode starts a node whose anti-entropy ticks begin at a random phase.
func (s *simNet) addNode(cfg Config) *simNode {
	n := &simNode{addr: cfg.Addr}
	n.core = NewCore(cfg, rand.New(rand.NewPCG(s.rng.Uint64(), s.rng.Uint64())))
	s.nodes[cfg.Addr] = n
	s.order = append(s.order, n)
	if !cfg.Simple {
		var tick func()
		tick = func() {
			out := n.core.Tick(s.now)
			s.ticked += uint64(len(out.Sends))
			s.apply(n, out)
			s.at(cfg.AntiEntropyInterval, tick)
		}
		s.at(cfg.AntiEntropyInterval+time.Duration(s.rng.Int64N(int64(time.Millisecond))), tick)
	}
	return n
}

func (s *simNet) apply(n *simNode, out Output) {
	n.lines = append(n.lines, out.Lines...)
	for _, e := range out.Accepted {
		if e.Text != "" {
			s.logged++
		}
	}
	for _, snd := range out.Sends {
		b, err := snd.Packet.Encode()
		if err != nil {
			panic(err)
		}
		s.sent++
		s.transmit(n.addr, snd.To, b)
	}
	for _, t := range out.Timers {
		t := t
		s.at(t.After, func() { s.apply(n, n.core.Timeout(t, s.now)) })
	}
}

func (s *simNet) transmit(from, to string, b []byte) {
	dst, ok := s.nodes[to]
	for _, delay := range s.link.Fate(s.rng) {
		if ok {
			s.at(delay, func() { s.apply(dst, dst.core.Datagram(from, b, s.now)) })
		}
	}
}

// client has node n's user post text after d.
func (s *simNet) client(n *simNode, d time.Duration, text string) {
	s.at(d, func() {
		out, _, err := n.core.Client(text, s.now)
		if err != nil {
			panic(err)
		}
		s.apply(n, out)
	})
}

// runFor advances virtual time by d.
func (s *simNet) runFor(d time.Duration) { s.runUntil(s.now.Add(d), nil) }

// runUntil advances virtual time until done holds (checked after every
// event) or the deadline passes; it reports whether done held.
func (s *simNet) runUntil(deadline time.Time, done func() bool) bool {
	for s.queue.Len() > 0 && !s.queue.peek().at.After(deadline) {
		e := heap.Pop(&s.queue).(*simEvent)
		s.now = e.at
		e.run()
		if done != nil && done() {
			return true
		}
	}
	if done == nil {
		s.now = deadline
	}
	return done != nil && done()
}
