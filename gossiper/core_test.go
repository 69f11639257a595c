package gossiper

// The protocol's exchanges are tested as scenarios, in testdata/scenarios
// (see its README). The tests here cover what a transcript does not show
// well: properties over many inputs or large sizes, Restore, SetName and
// the peer list on its own.

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

const (
	self = "127.0.0.1:5000"
	p1   = "127.0.0.1:5001"
	p2   = "127.0.0.1:5002"
	p3   = "127.0.0.1:5003"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// script is a Random whose draws the test lays out: each IntN takes the next
// value (0 when none is left), so IntN(2) is a coin the test controls.
type script struct{ draws []int }

func (s *script) IntN(n int) int {
	if len(s.draws) == 0 {
		return 0
	}
	v := s.draws[0]
	s.draws = s.draws[1:]
	return v % n
}

func (s *script) Shuffle(int, func(i, j int)) {}

func newTestCore(simple bool, peers ...string) (*Core, *script) {
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Peers, cfg.Simple = "A", self, peers, simple
	rng := &script{}
	return NewCore(cfg, rng), rng
}

// receive hands c a packet from the peer at from as it arrives on the wire,
// encoded, so that the tests take the datagrams' path.
func receive(c *Core, from string, p *messages.GossipPacket, now time.Time) Output {
	b, err := p.Encode()
	if err != nil {
		panic(fmt.Sprintf("encoding %+v: %v", p, err))
	}
	return c.Datagram(from, b, now)
}

func TestClientMessageRefusesBadText(t *testing.T) {
	c, _ := newTestCore(false, p1)
	for _, text := range []string{"", strings.Repeat("x", messages.MaxTextBytes+1)} {
		out, _, err := c.Client(text, t0)
		if err == nil || len(out.Lines)+len(out.Sends) > 0 {
			t.Fatalf("text of %d bytes: err %v, output %+v", len(text), err, out)
		}
	}
	if _, _, err := c.Client(strings.Repeat("x", messages.MaxTextBytes), t0); err != nil {
		t.Fatalf("text at the limit refused: %v", err)
	}
}

func TestNewNameStartsItsOwnSequence(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.Client("one", t0)
	if err := c.SetName("has space"); err == nil {
		t.Fatal("accepted a name with white space")
	}
	if err := c.SetName("Z"); err != nil {
		t.Fatal(err)
	}
	_, posted, _ := c.Client("two", t0)
	if posted != (Posted{"Z", 1}) {
		t.Fatalf("posted %+v, want Z/1", posted)
	}
}

func TestRestore(t *testing.T) {
	c, _ := newTestCore(false, p1)
	skipped := c.Restore([]Entry{
		{Origin: "A", ID: 1, Text: "a1", Received: t0},
		{Origin: "E", ID: 1, Text: "e1", Received: t0},
		{Origin: "E", ID: 3, Text: "gap", Received: t0},
		{Origin: "A", ID: 2, Text: "a2", Received: t0},
	})
	if skipped != 1 || len(c.Log()) != 3 {
		t.Fatalf("skipped %d, log %+v", skipped, c.Log())
	}
	if _, posted, _ := c.Client("next", t0); posted.ID != 3 {
		t.Fatalf("own next ID after restore = %d, want 3", posted.ID)
	}
}

func TestPeerListCapKeepsBootstrapPeers(t *testing.T) {
	l := newPeerList(3)
	l.add(p1, true)
	l.add(p2, false)
	l.add(p3, false)
	l.add("127.0.0.1:6000", false)
	if got := l.list(); !reflect.DeepEqual(got, []string{p1, p3, "127.0.0.1:6000"}) {
		t.Fatalf("peers = %v", got)
	}
}

func TestStatusAlwaysFitsADatagram(t *testing.T) {
	c, _ := newTestCore(false, p1, p2)
	c.cfg.MaxPacketsPerSecond = 0
	for i := range MaxOrigins {
		receive(c, p2, fuzzseed.Rumor(fmt.Sprintf("%0250d", i), 1, "x"), t0)
	}
	b, err := (&messages.GossipPacket{Status: &messages.StatusPacket{Want: c.Status()}}).Encode()
	if err != nil || len(b) > 65507 {
		t.Fatalf("status of %d bytes (%v)", len(b), err)
	}
	// Every origin kept is listed: one left out would be offered again
	// and again by every peer.
	// A new origin that does not fit takes the place of another.
	if got, kept := len(c.Status()), len(c.origins); got != kept || c.Stats().OriginsEvicted == 0 {
		t.Fatalf("status lists %d of %d origins kept; %d evicted", got, kept, c.Stats().OriginsEvicted)
	}
}

// Each simple message goes to every peer; the node-wide budget keeps spoofed
// ones from turning one datagram into a thousand.
func TestSimpleForwardingHasANodeWideBudget(t *testing.T) {
	peers := make([]string, 100)
	for i := range peers {
		peers[i] = fmt.Sprintf("127.0.0.1:%d", 6000+i)
	}
	c, _ := newTestCore(true, peers...)
	c.cfg.SimpleSendsPerSecond = 500
	c.cfg.MaxPacketsPerSecond = 0
	sent, printed := 0, 0
	for i := range 50 {
		out := receive(c, p2, fuzzseed.Simple("X", p2, fmt.Sprint("spoof ", i)), t0)
		sent += len(out.Sends)
		if len(out.Lines) == 2 {
			printed++
		}
	}
	// A burst of twice the rate: ten messages to the 100 peers (p2 is the relay).
	if printed != 50 || sent != 10*len(peers) || c.Stats().Dropped["simple-send-budget"] != 40 {
		t.Fatalf("printed %d of 50, sent %d datagrams, dropped %v; want all printed, %d sent",
			printed, sent, c.Stats().Dropped, 10*len(peers))
	}
	out := receive(c, p2, fuzzseed.Simple("X", p2, "later"), t0.Add(time.Second))
	if len(out.Sends) != len(peers) {
		t.Fatalf("a second later %d datagrams sent, want %d", len(out.Sends), len(peers))
	}
}

// Private messages from anyone are kept for the user within a count and a
// byte budget; the oldest go first.
func TestPrivateMessagesKeptAreBounded(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.cfg.MaxPacketsPerSecond = 0
	text := strings.Repeat("x", 60000)
	for i := range 1000 {
		pm := &messages.PrivateMessage{Origin: fmt.Sprintf("o%d", i), Text: text, Destination: c.Name(), HopLimit: 10}
		receive(c, p1, &messages.GossipPacket{Private: pm}, t0)
	}
	kept, next := c.PrivatesSince(0)
	if bytes := len(kept) * len(text); bytes > maxPrivateBytes || len(kept) == 0 || next != 1000 {
		t.Fatalf("kept %d messages (%d bytes), next %d", len(kept), bytes, next)
	}
	if last := kept[len(kept)-1].Origin; last != "o999" {
		t.Fatalf("newest kept is from %s, want o999", last)
	}
}
