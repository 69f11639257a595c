package gossiper

import (
	"flag"
	"fmt"
	"testing"
	"time"
)

// simPost is a chat message a test posts on a node of a simulated network.
type simPost struct {
	node int
	at   time.Duration
	text string
}

// measureTraffic posts msgs on s and runs until every node holds every
// message and then until a minute passes with no datagram but the
// anti-entropy statuses every node sends once a second whatever happens. It
// returns the datagrams beyond those, per message per node that received it.
func measureTraffic(s *simNet, msgs []simPost) float64 {
	before := s.sent - s.ticked
	want := s.logged + len(msgs)*len(s.order)
	for _, m := range msgs {
		s.client(s.node(m.node), m.at, m.text)
	}
	if !s.runUntil(s.now.Add(10*time.Minute), func() bool { return s.logged >= want }) {
		panic("messages not delivered within 10 minutes")
	}
	for {
		busy := s.sent - s.ticked
		s.runFor(time.Minute)
		if s.sent-s.ticked == busy {
			break
		}
	}
	return float64(s.sent-s.ticked-before) / float64(len(msgs)*(len(s.order)-1))
}

// trafficCases are the three measures of traffic until rest.
var trafficCases = []struct {
	name  string
	bound float64 // datagrams per delivery, median over seeds
	net   func(seed uint64) *simNet
	msgs  []simPost
}{
	{"quiet ring: 4 messages 10 s apart", 6, func(seed uint64) *simNet { return ringNet(seed, false) }, posts(4, 10*time.Second, 0, 3, 6, 9)},
	{"burst ring: 20 messages from 3 nodes in 1 s", 4.5, func(seed uint64) *simNet { return ringNet(seed, false) }, posts(20, 50*time.Millisecond, 1, 4, 7)},
	{"100 nodes, random topology: 20 messages", 5, func(seed uint64) *simNet { return randomNetwork(seed, 100, 100, 0, 0) }, posts(20, 500*time.Millisecond, 0, 25, 50, 75)},
}

// posts returns n messages, one every gap, from the given nodes in turn.
func posts(n int, gap time.Duration, nodes ...int) []simPost {
	msgs := make([]simPost, n)
	for k := range msgs {
		msgs[k] = simPost{node: nodes[k%len(nodes)], at: time.Duration(k) * gap, text: fmt.Sprint("message ", k+1)}
	}
	return msgs
}

var trafficSeeds = flag.Int("traffic-seeds", 5, "seeds TestTrafficUntilRest runs each case with")

// TestTrafficUntilRest bounds what chat costs the network: datagrams beyond
// anti-entropy, counted until the network is at rest again, per message per
// node that received it (the median over seeds).
func TestTrafficUntilRest(t *testing.T) {
	for _, tc := range trafficCases {
		t.Run(tc.name, func(t *testing.T) {
			var per []float64
			for seed := uint64(1); seed <= uint64(max(*trafficSeeds, 1)); seed++ {
				per = append(per, measureTraffic(tc.net(seed), tc.msgs))
			}
			m := median(per)
			t.Logf("median of %d seeds: %.2f datagrams per delivery beyond anti-entropy (bound %.1f)", len(per), m, tc.bound)
			if m > tc.bound {
				t.Errorf("%.2f datagrams per delivery, more than %.1f", m, tc.bound)
			}
		})
	}
}
