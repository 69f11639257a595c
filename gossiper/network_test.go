package gossiper

import (
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

type netResult struct {
	delivered   bool
	elapsed     time.Duration // from the first message to full delivery
	afterLast   time.Duration // from the last message posted to full delivery
	datagrams   uint64        // sent until full delivery
	perDelivery float64       // datagrams per message per receiving node
}

// randomNetwork builds n nodes in a random connected topology: a random tree
// plus extra random links. Each link is known at start by one end only; the
// other end learns it from the first packet.
func randomNetwork(seed uint64, n, extra int, drop, dup float64) *simNet {
	s := newSimNet(seed)
	s.link = Link{Drop: drop, Dup: dup, MinDelay: 100 * time.Microsecond, MaxDelay: 20 * time.Millisecond}
	peers := make([][]string, n)
	for i := 1; i < n; i++ {
		j := s.rng.IntN(i)
		peers[i] = append(peers[i], simAddr(j))
	}
	for range extra {
		i, j := s.rng.IntN(n), s.rng.IntN(n)
		if i != j {
			peers[i] = append(peers[i], simAddr(j))
		}
	}
	for i := range n {
		cfg := DefaultConfig()
		cfg.Name = fmt.Sprintf("N%02d", i)
		cfg.Addr = simAddr(i)
		cfg.Peers = peers[i]
		s.addNode(cfg)
	}
	return s
}

// checkLogs asserts every node holds every message once, in order per
// origin; it reports how many (node, message) pairs are still missing.
func checkLogs(t testing.TB, s *simNet, sent map[string][]string, final bool) int {
	missing := 0
	total := 0
	for _, texts := range sent {
		total += len(texts)
	}
	for _, n := range s.order {
		log := n.core.Log()
		next := map[string]uint32{}
		for _, e := range log {
			next[e.Origin]++
			if final && (e.ID != next[e.Origin] || sent[e.Origin][e.ID-1] != e.Text) {
				t.Fatalf("node %s: entry %s/%d %q out of order or wrong (want ID %d)", n.addr, e.Origin, e.ID, e.Text, next[e.Origin])
			}
		}
		missing += total - len(log)
		if final && len(log) != total {
			t.Errorf("node %s has %d of %d messages", n.addr, len(log), total)
		}
	}
	return missing
}

// netShape is a random network's size and the chat it carries.
type netShape struct {
	nodes, extraLinks  int
	origins, perOrigin int
	dup                float64
}

// fiftyNodes is the network of TestFiftyNodesOverLossyNetwork: 50 nodes
// with 25 links beyond a random tree, 200 messages from 10 origins.
var fiftyNodes = netShape{nodes: 50, extraLinks: 25, origins: 10, perOrigin: 20, dup: 0.05}

func runNetwork(t testing.TB, seed uint64, drop float64) netResult {
	return runShape(t, seed, drop, fiftyNodes)
}

func runShape(t testing.TB, seed uint64, drop float64, shape netShape) netResult {
	nodes, origins, perOrigin := shape.nodes, shape.origins, shape.perOrigin
	s := randomNetwork(seed, nodes, shape.extraLinks, drop, shape.dup)
	rng := rand.New(rand.NewPCG(seed, 7))
	sent := map[string][]string{}
	last := time.Duration(0)
	for o := range origins {
		n := s.node(o * nodes / origins)
		name := n.core.Name()
		at := time.Duration(0)
		for k := range perOrigin {
			text := fmt.Sprintf("%s says %d", name, k+1)
			sent[name] = append(sent[name], text)
			s.client(n, at, text)
			last = max(last, at)
			at += time.Duration(rng.Int64N(int64(time.Second)))
		}
	}
	start := s.now
	done := func() bool { return s.logged == origins*perOrigin*nodes }
	ok := s.runUntil(start.Add(5*time.Minute), done)
	checkLogs(t, s, sent, true)
	deliveries := float64(origins * perOrigin * (nodes - 1))
	return netResult{ok, s.now.Sub(start), s.now.Sub(start) - last, s.sent, float64(s.sent) / deliveries}
}

var networkSeeds = flag.Int("network-seeds", 1, "run the 50-node test over seeds 1..N and log the medians")

// TestFiftyNodesOverLossyNetwork: 200 messages from 10 origins reach all 50
// nodes of a random topology that loses 20% of datagrams and duplicates and
// reorders some, each message once and in order per origin.
func TestFiftyNodesOverLossyNetwork(t *testing.T) {
	for _, drop := range []float64{0, 0.2} {
		t.Run(fmt.Sprintf("loss %.0f%%", drop*100), func(t *testing.T) {
			var afterLast, perDelivery []float64
			for seed := uint64(1); seed <= uint64(max(*networkSeeds, 1)); seed++ {
				r := runNetwork(t, seed, drop)
				if !r.delivered {
					t.Fatalf("seed %d: not every message reached every node within 5 minutes", seed)
				}
				t.Logf("seed %d: full delivery %.1fs after the first message, %.1fs after the last; %d datagrams, %.2f per message per receiving node", seed, r.elapsed.Seconds(), r.afterLast.Seconds(), r.datagrams, r.perDelivery)
				// The last message is posted at most 20 s in; delivery cost
				// is a handful of datagrams per node, anti-entropy included.
				if r.perDelivery > 10 {
					t.Errorf("seed %d: %.1f datagrams per delivery: a storm", seed, r.perDelivery)
				}
				afterLast, perDelivery = append(afterLast, r.afterLast.Seconds()), append(perDelivery, r.perDelivery)
			}
			if len(afterLast) > 1 {
				t.Logf("median of %d seeds: full delivery %.1fs after the last message, %.2f datagrams per delivery", len(afterLast), median(afterLast), median(perDelivery))
			}
		})
	}
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// TestThousandNodes simulates 1,000 nodes in a random connected topology
// with about 4 peers each (a random tree and 1,000 more links), 20 messages
// from 10 origins, at 0% and 20% loss, and logs the time to full delivery
// and the traffic.
func TestThousandNodes(t *testing.T) {
	shape := netShape{nodes: 1000, extraLinks: 1000, origins: 10, perOrigin: 2}
	for _, drop := range []float64{0, 0.2} {
		r := runShape(t, 1, drop, shape)
		if !r.delivered {
			t.Fatalf("loss %.0f%%: not every message reached every node within 5 minutes", drop*100)
		}
		t.Logf("loss %.0f%%: full delivery %.1fs after the first message, %.1fs after the last; %.2f datagrams per delivery", drop*100, r.elapsed.Seconds(), r.afterLast.Seconds(), r.perDelivery)
	}
}

// TestTrafficAtRest bounds the datagrams a node sends once nothing new is
// said: its anti-entropy status, plus coin-flip mongering while the last
// rumor is fresh.
func TestTrafficAtRest(t *testing.T) {
	s := ringNet(3, false)
	s.client(s.node(0), 0, "only message")
	s.runFor(2 * time.Second)
	before := s.sent
	s.runFor(8 * time.Second)
	fresh := float64(s.sent-before) / 8 / 10
	s.runFor(10 * time.Second)
	before = s.sent
	s.runFor(30 * time.Second)
	rest := float64(s.sent-before) / 30 / 10
	t.Logf("datagrams per node per second: %.2f while the rumor is fresh, %.2f at rest", fresh, rest)
	if fresh > 6 {
		t.Errorf("%.2f datagrams/s per node while fresh: more than a few", fresh)
	}
	if rest > 1.01 {
		t.Errorf("%.2f datagrams/s per node at rest: only the anti-entropy status should remain", rest)
	}
}

// BenchmarkDelivery reports the simulated network's figures as metrics: the
// virtual seconds to full delivery and the datagrams per delivered message.
func BenchmarkDelivery(b *testing.B) {
	for _, drop := range []float64{0, 0.2} {
		b.Run(fmt.Sprintf("loss=%.0f%%", drop*100), func(b *testing.B) {
			var secs, per float64
			for i := range b.N {
				r := runNetwork(b, uint64(i+1), drop)
				secs += r.afterLast.Seconds()
				per += r.perDelivery
			}
			b.ReportMetric(secs/float64(b.N), "virtual-s-after-last")
			b.ReportMetric(per/float64(b.N), "datagrams/delivery")
		})
	}
}
