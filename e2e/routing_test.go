package e2e

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// ringMessages is the list of private messages test_private_ring.sh sends
// too: one source for both.
const ringMessages = "../testdata/private_ring/messages.txt"

// privateMsg is one private message of the ring test.
type privateMsg struct{ from, dest, text string }

// readRingMessages reads ringMessages: FROM DEST TEXT a line, # comments.
func readRingMessages(t *testing.T) []privateMsg {
	t.Helper()
	b, err := os.ReadFile(ringMessages)
	if err != nil {
		t.Fatal(err)
	}
	var ms []privateMsg
	for i, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.SplitN(line, " ", 3)
		if len(f) != 3 || f[2] == "" {
			t.Fatalf("%s:%d: want FROM DEST TEXT: %q", ringMessages, i+1, line)
		}
		ms = append(ms, privateMsg{f[0], f[1], f[2]})
	}
	if len(ms) == 0 {
		t.Fatalf("%s: no messages", ringMessages)
	}
	return ms
}

// sendPrivate has the client send text privately to dest through from, as
// a user would: client -UIPort=P -dest=NAME -msg=TEXT.
func sendPrivate(t *testing.T, from *proctest.Node, dest, text string) {
	t.Helper()
	_, client := proctest.Binaries(t)
	out, err := exec.Command(client, "-UIPort="+strconv.Itoa(from.UIPort), "-dest="+dest, "-msg="+text).CombinedOutput()
	if err != nil {
		t.Fatalf("client -dest=%s to %s: %v: %s", dest, from.Name, err, out)
	}
}

// metricSamples reads the node's /metrics and returns every sample, by
// name with its labels.
func metricSamples(t *testing.T, n *proctest.Node) map[string]float64 {
	t.Helper()
	return metricSamplesThrough(t, http.DefaultClient, n)
}

// metricSamplesThrough is metricSamples through client (one that reaches
// a node inside a network namespace).
func metricSamplesThrough(t *testing.T, client *http.Client, n *proctest.Node) map[string]float64 {
	t.Helper()
	res, err := client.Get("http://127.0.0.1:" + strconv.Itoa(n.GUIPort) + "/metrics")
	if err != nil {
		t.Fatalf("%s: GET /metrics: %v", n.Name, err)
	}
	defer res.Body.Close()
	vals := map[string]float64{}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			vals[f[0]] = v
		}
	}
	return vals
}

const (
	ringSize     = 10
	hopLimit     = messages.DefaultHopLimit
	routesWithin = 2 * time.Second // the spec's bound for a ten-ring with -rtimer=5
)

// TestRingLearnsAllRoutes: ten real nodes A..J in a ring, each started
// knowing only the next (J knows A), all with -rtimer=5. Within 2 s every
// node has printed a DSDV route to each of the nine others; then the private
// messages of testdata/private_ring/messages.txt are each printed once, at
// their destination only, with hop limit 11 - the hops of the path the
// routes give, and cost one datagram a hop.
//
// The path is the routes', not necessarily the shortest: a node's next hop
// towards an origin is the neighbour that first brought it that origin's
// newest rumor. Before the first -rtimer period ends each origin has sent
// one route rumor, whose first copy went to the only peer the origin knew,
// its successor, so routes often go the long way round.
func TestRingLearnsAllRoutes(t *testing.T) {
	msgs := readRingMessages(t)
	ring := make([]*proctest.Node, ringSize)
	byName := map[string]int{}
	byAddr := map[string]int{}
	for i := range ring {
		name := string(rune('A' + i))
		ring[i] = proctest.Loopback(t, name, "-rtimer=5")
		byName[name] = i
		byAddr[ring[i].Addr] = i
	}
	for i, n := range ring {
		n.WithPeers(ring[(i+1)%ringSize])
	}
	proctest.Binaries(t) // built before the clock starts
	first := time.Now()
	for _, n := range ring {
		n.Start(t) // waits until the node listens
	}
	last := time.Now()

	complete := func(i int) bool {
		routes := ring[i].Out.Routes()
		for j, m := range ring {
			if _, ok := routes[m.Name]; !ok && j != i {
				return false
			}
		}
		return true
	}
	// proctest starts the nodes one after the other, each once the one
	// before listens; the bound is from the last start, when the ring is
	// whole.
	testkit.Eventually(t, time.Until(last.Add(routesWithin)), "every node has a DSDV route to each of the nine others", func() bool {
		for i := range ring {
			if !complete(i) {
				return false
			}
		}
		return true
	})
	all := time.Now()
	t.Logf("all %d nodes had a route to each of the others %v after the first start, %v after the last (starting took %v)",
		ringSize, all.Sub(first).Round(time.Millisecond), all.Sub(last).Round(time.Millisecond), last.Sub(first).Round(time.Millisecond))

	// The routes as the messages leave, and the path each will take.
	before := make([]map[string]string, ringSize)
	for i, n := range ring {
		before[i] = n.Out.Routes()
		for origin, hop := range before[i] {
			if _, ok := byAddr[hop]; !ok {
				t.Errorf("%s: next hop to %s is %s, no node of the ring", n.Name, origin, hop)
			}
		}
	}
	pathOf := func(m privateMsg) ([]string, error) {
		cur, dest := byName[m.from], byName[m.dest]
		path := []string{m.from}
		seen := map[int]bool{}
		for cur != dest {
			seen[cur] = true
			hop, ok := before[cur][m.dest]
			if !ok {
				return path, fmt.Errorf("%s has no route to %s", ring[cur].Name, m.dest)
			}
			cur = byAddr[hop]
			path = append(path, ring[cur].Name)
			if seen[cur] {
				return path, fmt.Errorf("the routes loop")
			}
		}
		return path, nil
	}
	for _, m := range msgs {
		sendPrivate(t, ring[byName[m.from]], m.dest, m.text)
	}
	for _, m := range msgs {
		d := ring[byName[m.dest]]
		testkit.Eventually(t, 5*time.Second, m.dest+" prints "+m.from+"'s private message", func() bool {
			for _, p := range d.Out.Privates() {
				if p.Text == m.text {
					return true
				}
			}
			return false
		})
	}
	time.Sleep(300 * time.Millisecond) // for a second copy, or one elsewhere

	wantHops := 0
	for _, m := range msgs {
		path, err := pathOf(m)
		if err != nil {
			t.Errorf("%s to %s: no path along the routes: %v (%v)", m.from, m.dest, err, path)
			continue
		}
		hops := len(path) - 1
		fwd := (byName[m.dest] - byName[m.from] + ringSize) % ringSize
		wantLimit := uint64(hopLimit + 1 - hops)
		// If a route to the destination changed while the messages went
		// (a new route rumor came), any way round the ring will do.
		moved := false
		for i, n := range ring {
			if n.Out.Routes()[m.dest] != before[i][m.dest] {
				moved = true
			}
		}
		t.Logf("%s to %s: path %s, %d hops (shortest %d), hop-limit %d expected", m.from, m.dest,
			strings.Join(path, " "), hops, min(fwd, ringSize-fwd), wantLimit)
		wantHops += hops
		for i, n := range ring {
			var got []proctest.PrivateLine
			for _, p := range n.Out.Privates() {
				if p.Text == m.text {
					got = append(got, p)
				}
			}
			if n.Name != m.dest {
				if len(got) > 0 {
					t.Errorf("%s printed %s's private message to %s: %+v", n.Name, m.from, m.dest, got)
				}
				continue
			}
			if len(got) != 1 {
				t.Errorf("%s printed %s's private message %d times: %+v", n.Name, m.from, len(got), got)
				continue
			}
			p := got[0]
			ok := p.HopLimit == wantLimit
			if moved {
				ok = p.HopLimit == uint64(hopLimit+1-fwd) || p.HopLimit == uint64(hopLimit+1-(ringSize-fwd))
				t.Logf("routes to %s changed on the way: either way round the ring will do", m.dest)
			}
			if p.Origin != m.from || !ok {
				t.Errorf("%s printed %+v, want origin %s hop-limit %d", ring[i].Name, p, m.from, wantLimit)
			}
		}
	}

	// One datagram a hop: the nodes sent and forwarded as many private
	// messages as the paths have hops, delivered each once and dropped none.
	const ev = `peerster_private_messages_total{event="%s"}`
	sent, fwd, delivered := fmt.Sprintf(ev, "sent"), fmt.Sprintf(ev, "forwarded"), fmt.Sprintf(ev, "delivered")
	total := map[string]float64{}
	for _, n := range ring {
		vals := metricSamples(t, n)
		for _, k := range []string{sent, fwd, delivered} {
			v, ok := vals[k]
			if !ok {
				t.Fatalf("%s: /metrics has no %s", n.Name, k)
			}
			total[k] += v
		}
		for _, reason := range []string{"hop-limit", "no-route"} {
			if v := vals[`peerster_packets_dropped_total{reason="`+reason+`"}`]; v > 0 {
				t.Errorf("%s dropped %v private messages (%s)", n.Name, v, reason)
			}
		}
	}
	datagrams := total[sent] + total[fwd]
	t.Logf("%d private messages, %d hops along their paths: %v datagrams sent (%v by their origins, %v forwarded), %v delivered: %.2f datagrams a hop",
		len(msgs), wantHops, datagrams, total[sent], total[fwd], total[delivered], datagrams/float64(wantHops))
	if total[sent] != float64(len(msgs)) || total[delivered] != float64(len(msgs)) || datagrams != float64(wantHops) {
		t.Errorf("private datagrams: %v sent, %v forwarded, %v delivered; want %d sent, %d delivered and %d in all (one a hop)",
			total[sent], total[fwd], total[delivered], len(msgs), len(msgs), wantHops)
	}
	for _, n := range ring {
		if r := n.Out.Rumors(); len(r) > 0 {
			t.Errorf("%s printed RUMOR lines, but nobody chats (route rumors print none): %v", n.Name, r)
		}
	}
}

// TestLineLearnsRoutesFromChat: without -rtimer, chat rumors alone set the
// routes. A-B-C in a line: once A posts, B's route to A is A and C's is B.
// Then D joins through B and posts: B's route to D is D, A's and C's are B.
func TestLineLearnsRoutesFromChat(t *testing.T) {
	a := proctest.Loopback(t, "A")
	b := proctest.Loopback(t, "B")
	c := proctest.Loopback(t, "C")
	startLine(t, a, b, c)
	hasRoute := func(n *proctest.Node, origin, hop string) func() bool {
		return func() bool { return n.Out.Routes()[origin] == hop }
	}
	a.Post("hello from A")
	testkit.Eventually(t, 10*time.Second, "B prints DSDV A "+a.Addr, hasRoute(b, "A", a.Addr))
	testkit.Eventually(t, 10*time.Second, "C prints DSDV A "+b.Addr, hasRoute(c, "A", b.Addr))

	d := proctest.Loopback(t, "D")
	d.WithPeers(b)
	d.Start(t)
	d.Post("hello from D")
	testkit.Eventually(t, 10*time.Second, "B prints DSDV D "+d.Addr, hasRoute(b, "D", d.Addr))
	testkit.Eventually(t, 10*time.Second, "C prints DSDV D "+b.Addr, hasRoute(c, "D", b.Addr))
	testkit.Eventually(t, 10*time.Second, "A prints DSDV D "+b.Addr, hasRoute(a, "D", b.Addr))

	// A line has one way between two nodes: no route ever named another.
	for _, n := range []*proctest.Node{a, b, c, d} {
		for _, line := range strings.Split(n.Out.Head(), "\n") {
			if strings.HasPrefix(line, "DSDV ") {
				f := strings.Fields(line)
				if !wantLineRoute(n, f, a, b, c, d) {
					t.Errorf("%s printed %q", n.Name, line)
				}
			}
		}
	}
}

// wantLineRoute tells whether a DSDV line's fields, printed by n, name the
// only next hop the line A-B-C with D on B has from n to that origin.
func wantLineRoute(n *proctest.Node, f []string, a, b, c, d *proctest.Node) bool {
	if len(f) != 3 {
		return false
	}
	if n == b {
		for _, m := range []*proctest.Node{a, c, d} {
			if f[1] == m.Name {
				return f[2] == m.Addr
			}
		}
		return false
	}
	return f[1] != n.Name && f[2] == b.Addr
}

// collectDatagrams listens on a socket of its own, which the node started
// by start takes as its only peer, for d, and returns the gossip packets
// that came.
func collectDatagrams(t *testing.T, d time.Duration, flags ...string) []*messages.GossipPacket {
	t.Helper()
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	n := proctest.Loopback(t, "R", flags...)
	n.Peers = []string{peer.LocalAddr().String()}
	n.Start(t)
	var got []*messages.GossipPacket
	buf := make([]byte, 1<<16)
	end := time.Now().Add(d)
	for {
		peer.SetReadDeadline(end)
		k, from, err := peer.ReadFrom(buf)
		if err != nil {
			break
		}
		if from.String() != n.Addr {
			continue
		}
		p, err := messages.DecodeGossip(buf[:k])
		if err != nil {
			t.Errorf("undecodable datagram from the node: %v", err)
			continue
		}
		got = append(got, p)
	}
	return got
}

// routeRumors returns the rumors with empty text among ps.
func routeRumors(ps []*messages.GossipPacket) []*messages.RumorMessage {
	var rs []*messages.RumorMessage
	for _, p := range ps {
		if p.Rumor != nil && p.Rumor.Text == "" {
			rs = append(rs, p.Rumor)
		}
	}
	return rs
}

// TestRtimerZeroSendsNoRouteRumors: with the default -rtimer=0 a node sends
// what it sent before routing existed (its statuses), never a route rumor:
// peers that do not know route rumors see no new kind of traffic. With
// -rtimer=1 the same setup does show them, so the test can tell.
func TestRtimerZeroSendsNoRouteRumors(t *testing.T) {
	const listen = 2500 * time.Millisecond
	t.Run("default", func(t *testing.T) {
		got := collectDatagrams(t, listen)
		if rs := routeRumors(got); len(rs) > 0 {
			t.Errorf("with -rtimer=0 the node sent %d route rumors: %+v", len(rs), rs[0])
		}
		for _, p := range got {
			if p.Status == nil || p.Rumor != nil || p.Simple != nil || p.Private != nil {
				t.Errorf("with -rtimer=0 and nothing posted the node sent %+v, want statuses only", p)
			}
		}
		t.Logf("%d datagrams in %v, all statuses", len(got), listen)
	})
	t.Run("rtimer=1", func(t *testing.T) {
		rs := routeRumors(collectDatagrams(t, listen, "-rtimer=1"))
		if len(rs) == 0 || rs[0].Origin != "R" || rs[0].ID != 1 {
			t.Fatalf("with -rtimer=1 the node sent route rumors %+v, want R's first, ID 1, at start", rs)
		}
	})
}
