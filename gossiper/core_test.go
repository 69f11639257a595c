package gossiper

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

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

func rumor(origin string, id uint32, text string) *messages.GossipPacket {
	return &messages.GossipPacket{Rumor: &messages.RumorMessage{Origin: origin, ID: id, Text: text}}
}

func status(pairs ...any) *messages.GossipPacket {
	s := &messages.StatusPacket{}
	for i := 0; i < len(pairs); i += 2 {
		s.Want = append(s.Want, messages.PeerStatus{Identifier: pairs[i].(string), NextID: uint32(pairs[i+1].(int))})
	}
	return &messages.GossipPacket{Status: s}
}

func wantLines(t *testing.T, out Output, want ...string) {
	t.Helper()
	if !reflect.DeepEqual(out.Lines, want) && !(len(out.Lines) == 0 && len(want) == 0) {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(out.Lines, "\n"), strings.Join(want, "\n"))
	}
}

func wantSends(t *testing.T, out Output, want ...Send) {
	t.Helper()
	if len(out.Sends) != len(want) {
		t.Fatalf("sends = %s, want %d", describeSends(out.Sends), len(want))
	}
	for i := range want {
		if out.Sends[i].To != want[i].To || !reflect.DeepEqual(out.Sends[i].Packet, want[i].Packet) {
			t.Fatalf("send %d = %s, want %s", i, describeSends(out.Sends[i:i+1]), describeSends(want[i:i+1]))
		}
	}
}

func describeSends(ss []Send) string {
	var b strings.Builder
	for _, s := range ss {
		p := s.Packet
		switch {
		case p.Rumor != nil:
			b.WriteString(s.To + " rumor " + p.Rumor.Origin + "/" + p.Rumor.Text + "; ")
		case p.Status != nil:
			b.WriteString(s.To + " status; ")
		case p.Simple != nil:
			b.WriteString(s.To + " simple " + p.Simple.Contents + "; ")
		}
	}
	return "[" + b.String() + "]"
}

func TestClientMessageStartsMongering(t *testing.T) {
	c, rng := newTestCore(false, p1, p2)
	rng.draws = []int{1} // pick the second peer
	out, posted, err := c.Client("hello world", t0)
	if err != nil {
		t.Fatal(err)
	}
	if posted != (Posted{"A", 1}) {
		t.Fatalf("posted = %+v", posted)
	}
	wantLines(t, out, "CLIENT MESSAGE hello world", "MONGERING with "+p2)
	wantSends(t, out, Send{p2, rumor("A", 1, "hello world")})
	if len(out.Timers) != 1 || out.Timers[0].Peer != p2 || out.Timers[0].After != time.Second {
		t.Fatalf("timers = %+v, want one of 1s for %s", out.Timers, p2)
	}
	if len(out.Accepted) != 1 {
		t.Fatalf("accepted = %+v", out.Accepted)
	}
	_, posted, _ = c.Client("again", t0)
	if posted.ID != 2 {
		t.Fatalf("second message has ID %d, want 2", posted.ID)
	}
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

func TestNewRumorIsPrintedAckedAndMongeredToAnotherPeer(t *testing.T) {
	c, _ := newTestCore(false, p1, p2)
	out := receive(c, p3, rumor("E", 1, "Weather_is_clear"), t0)
	wantLines(t, out,
		"RUMOR origin E from "+p3+" ID 1 contents Weather_is_clear",
		"PEERS "+p1+","+p2+","+p3,
		"MONGERING with "+p1)
	wantSends(t, out, Send{p3, status("E", 2)}, Send{p1, rumor("E", 1, "Weather_is_clear")})
}

func TestRumorFromOnlyPeerIsNotSentBack(t *testing.T) {
	c, _ := newTestCore(false, p1)
	out := receive(c, p1, rumor("E", 1, "x"), t0)
	wantSends(t, out, Send{p1, status("E", 2)})
	for _, l := range out.Lines {
		if strings.HasPrefix(l, "MONGERING") {
			t.Fatalf("mongered back to its only peer: %q", l)
		}
	}
}

func TestRumorsAreTakenOnlyInSequence(t *testing.T) {
	c, _ := newTestCore(false, p1, p2)
	receive(c, p1, rumor("E", 1, "one"), t0)

	out := receive(c, p2, rumor("E", 1, "one"), t0) // held already
	wantLines(t, out)
	wantSends(t, out, Send{p2, status("E", 2)})

	out = receive(c, p2, rumor("E", 3, "three"), t0) // a gap: not stored
	wantLines(t, out)
	wantSends(t, out, Send{p2, status("E", 2)})

	if got := c.Status(); !reflect.DeepEqual(got, []messages.PeerStatus{{Identifier: "E", NextID: 2}}) {
		t.Fatalf("status = %+v", got)
	}
	st := c.Stats()
	if st.Duplicates != 1 || st.OutOfOrder != 1 || st.Accepted != 1 {
		t.Fatalf("stats = %+v", st)
	}
}

func TestStatusShowingPeerLacksSendsOldestFirst(t *testing.T) {
	c, _ := newTestCore(false, p1)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	receive(c, p1, rumor("E", 2, "e2"), t0)
	receive(c, p1, rumor("B", 1, "b1"), t0)
	out := receive(c, p2, status("B", 1, "E", 2), t0)
	wantLines(t, out,
		"STATUS from "+p2+" peer B nextID 1 peer E nextID 2",
		"PEERS "+p1+","+p2,
		"MONGERING with "+p2)
	wantSends(t, out, Send{p2, rumor("E", 2, "e2")})
	if len(out.Timers) != 1 || out.Timers[0].Peer != p2 {
		t.Fatalf("no rumor timer: %+v", out.Timers)
	}
}

func TestStatusShowingWeLackAsksWithOurStatus(t *testing.T) {
	c, _ := newTestCore(false, p1)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	out := receive(c, p1, status("E", 2, "G", 4), t0)
	wantSends(t, out, Send{p1, status("E", 2)})
	for _, l := range out.Lines {
		if strings.HasPrefix(l, "IN SYNC") {
			t.Fatalf("printed %q while behind", l)
		}
	}
}

func TestInSyncStatusFlipsCoinAndNeverAnswersWithStatus(t *testing.T) {
	for _, coin := range []int{0, 1} {
		c, rng := newTestCore(false, p1, p2, p3)
		receive(c, p1, rumor("E", 1, "e1"), t0)
		rng.draws = []int{coin, 1} // the coin, then the second of the peers other than p2
		out := receive(c, p2, status("E", 2), t0.Add(time.Second))
		lines := []string{"STATUS from " + p2 + " peer E nextID 2", "PEERS " + p1 + "," + p2 + "," + p3, "IN SYNC WITH " + p2}
		if coin == 0 {
			wantLines(t, out, lines...)
			wantSends(t, out)
			continue
		}
		wantLines(t, out, append(lines, "FLIPPED COIN sending rumor to "+p3, "MONGERING with "+p3)...)
		wantSends(t, out, Send{p3, rumor("E", 1, "e1")})
	}
}

func TestInSyncWithOnlyPeerSendsNothing(t *testing.T) {
	c, rng := newTestCore(false, p1)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	rng.draws = []int{1}
	out := receive(c, p1, status("E", 2), t0)
	wantSends(t, out)
}

func TestStaleRumorIsNotMongeredAfterSync(t *testing.T) {
	c, rng := newTestCore(false, p1, p2)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	rng.draws = []int{1}
	// p1 sent us E/1; its status ends no exchange of ours, and E/1 is stale.
	out := receive(c, p1, status("E", 2), t0.Add(c.cfg.RumorFreshness))
	wantSends(t, out)
}

func TestMongeringEndsInSyncContinuesWithThatRumor(t *testing.T) {
	c, rng := newTestCore(false, p1, p2)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	_, _, _ = c.Client("mine", t0) // mongers A/1 to p1 (first draw 0)
	// Much later p1 acknowledges: the rumor we sent it goes on, fresh or not.
	rng.draws = []int{1}
	out := receive(c, p1, status("E", 2, "A", 2), t0.Add(time.Hour))
	wantSends(t, out, Send{p2, rumor("A", 1, "mine")})
}

func TestRumorTimeout(t *testing.T) {
	c, rng := newTestCore(false, p1, p2)
	out, _, _ := c.Client("m", t0) // to p1
	timer := out.Timers[0]

	rng.draws = []int{1}
	out = c.Timeout(timer, t0.Add(time.Second))
	wantLines(t, out, "FLIPPED COIN sending rumor to "+p2, "MONGERING with "+p2)
	wantSends(t, out, Send{p2, rumor("A", 1, "m")})

	if out := c.Timeout(timer, t0.Add(time.Second)); len(out.Sends) > 0 {
		t.Fatal("a timer that fired already acted again")
	}
	// p2 answers before its timer: the timer does nothing.
	receive(c, p2, status("A", 2), t0)
	if out := c.Timeout(out.Timers[0], t0.Add(2*time.Second)); len(out.Sends)+len(out.Lines) > 0 {
		t.Fatalf("timer of an answered rumor acted: %+v", out)
	}
}

func TestRumorTimeoutRetriesTheOnlyPeer(t *testing.T) {
	c, rng := newTestCore(false, p1)
	out, _, _ := c.Client("m", t0)
	rng.draws = []int{1}
	out = c.Timeout(out.Timers[0], t0.Add(time.Second))
	wantSends(t, out, Send{p1, rumor("A", 1, "m")})
}

func TestAntiEntropyVisitsEveryPeerEachRound(t *testing.T) {
	c, _ := newTestCore(false, p1, p2, p3)
	for round := range 2 {
		seen := map[string]bool{}
		for range 3 {
			out := c.Tick(t0)
			if len(out.Sends) != 1 || out.Sends[0].Packet.Status == nil {
				t.Fatalf("tick sent %s", describeSends(out.Sends))
			}
			seen[out.Sends[0].To] = true
		}
		if len(seen) != 3 {
			t.Fatalf("round %d reached %v", round, seen)
		}
	}
}

func TestSilenceAfterStatusIsInSync(t *testing.T) {
	c, rng := newTestCore(false, p1, p2)
	receive(c, p1, rumor("E", 1, "e1"), t0)
	out := c.Tick(t0)
	to := out.Sends[0].To
	var probe Timer
	for _, tm := range out.Timers {
		if tm.Kind == TimerProbe && tm.Peer == to {
			probe = tm
		}
	}
	if probe.Peer == "" {
		t.Fatalf("no probe timer after an anti-entropy status: %+v", out.Timers)
	}
	rng.draws = []int{1}
	out = c.Timeout(probe, t0.Add(c.cfg.ProbeTimeout))
	other := p1
	if to == p1 {
		other = p2
	}
	wantLines(t, out, "FLIPPED COIN sending rumor to "+other, "MONGERING with "+other)

	// A peer that answers with a status it differs by ends the probe.
	out = c.Tick(t0)
	probe = out.Timers[len(out.Timers)-1]
	receive(c, probe.Peer, status(), t0) // lacks E: we monger to it
	rng.draws = []int{1}
	if out := c.Timeout(probe, t0.Add(time.Second)); len(out.Sends) > 0 {
		t.Fatalf("answered probe still flipped: %s", describeSends(out.Sends))
	}
}

func TestNeverListsOrSendsToItself(t *testing.T) {
	c, rng := newTestCore(false, self, p1)
	if got := c.Peers(); !reflect.DeepEqual(got, []string{p1}) {
		t.Fatalf("peers = %v", got)
	}
	if out := receive(c, self, rumor("X", 1, "x"), t0); len(out.Sends)+len(out.Lines) > 0 {
		t.Fatalf("handled a packet from its own address: %+v", out)
	}
	if err := c.AddPeer(self); err == nil {
		t.Fatal("added its own address")
	}
	rng.draws = []int{1, 1, 1}
	for _, out := range []Output{receive(c, p1, rumor("E", 1, "e"), t0), c.Tick(t0), receive(c, p1, status("E", 2), t0)} {
		for _, s := range out.Sends {
			if s.To == self {
				t.Fatalf("sent to itself: %s", describeSends(out.Sends))
			}
		}
	}
}

func TestMalformedPacketsAreDroppedAndCounted(t *testing.T) {
	cases := []struct {
		name   string
		pkt    *messages.GossipPacket
		reason string
	}{
		{"empty", &messages.GossipPacket{}, "no-message"},
		{"two", &messages.GossipPacket{Rumor: rumor("E", 1, "x").Rumor, Status: status().Status}, "several-messages"},
		{"no origin", rumor("", 1, "x"), "bad-origin"},
		{"id 0", rumor("E", 0, "x"), "bad-id"},
		{"long origin", rumor(strings.Repeat("o", messages.MaxNameBytes+1), 1, "x"), "bad-origin"},
		{"long text", rumor("E", 1, strings.Repeat("x", messages.MaxTextBytes+1)), "text-too-large"},
		{"huge status", &messages.GossipPacket{Status: &messages.StatusPacket{Want: make([]messages.PeerStatus, MaxStatusEntries+1)}}, "status-too-large"},
		{"simple no origin", &messages.GossipPacket{Simple: &messages.SimpleMessage{Contents: "x"}}, "bad-origin"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newTestCore(false, p1)
			out := receive(c, p2, tc.pkt, t0)
			if len(out.Sends)+len(out.Lines)+len(out.Accepted) > 0 {
				t.Fatalf("acted on it: %+v", out)
			}
			if c.Stats().Dropped[tc.reason] != 1 {
				t.Fatalf("dropped = %v, want %s", c.Stats().Dropped, tc.reason)
			}
			if len(c.Peers()) != 1 {
				t.Fatalf("learned a peer from a malformed packet: %v", c.Peers())
			}
		})
	}
	c, _ := newTestCore(false, p1)
	for _, b := range [][]byte{{0xff, 0xff, 0xff}, {0x12, 0x40, 0x0a}, make([]byte, messages.MaxPacketSize+1)} {
		if out := c.Datagram(p2, b, t0); len(out.Sends)+len(out.Lines) > 0 {
			t.Fatalf("acted on garbage %x", b[:3])
		}
	}
	if d := c.Stats().Dropped; d["undecodable"]+d["too-large"] != 3 {
		t.Fatalf("dropped = %v", d)
	}
}

func TestPeersArePrintedInTheOrderLearned(t *testing.T) {
	c, _ := newTestCore(false, p2)
	receive(c, p3, status(), t0)
	out := receive(c, p1, status(), t0)
	if out.Lines[1] != "PEERS "+p2+","+p3+","+p1 {
		t.Fatalf("got %q", out.Lines[1])
	}
}

func TestStatusLineFormat(t *testing.T) {
	c, _ := newTestCore(false)
	out := receive(c, p1, status("E", 2, "B", 1), t0)
	wantLines(t, out, "STATUS from "+p1+" peer E nextID 2 peer B nextID 1", "PEERS "+p1)
	out = receive(c, p1, status(), t0)
	if out.Lines[0] != "STATUS from "+p1 {
		t.Fatalf("empty status printed %q", out.Lines[0])
	}
}

func TestTextWithNewlinesStaysOnOneLine(t *testing.T) {
	c, _ := newTestCore(false, p1)
	out := receive(c, p1, rumor("E", 1, "two\nlines\r"), t0)
	if out.Lines[0] != `RUMOR origin E from `+p1+` ID 1 contents two\nlines\r` {
		t.Fatalf("got %q", out.Lines[0])
	}
	if c.Log()[0].Text != "two\nlines\r" {
		t.Fatal("the log must keep the text as sent")
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

func TestOwnOriginFromPeersMovesCounterOn(t *testing.T) {
	// A node that lost its history learns its old messages back in order,
	// and its next message takes the ID after them.
	c, _ := newTestCore(false, p1)
	out := receive(c, p1, status("A", 3), t0)
	wantSends(t, out, Send{p1, status()})
	receive(c, p1, rumor("A", 1, "old1"), t0)
	receive(c, p1, rumor("A", 2, "old2"), t0)
	if _, posted, _ := c.Client("new", t0); posted.ID != 3 {
		t.Fatalf("next own ID = %d, want 3", posted.ID)
	}
}

func TestEmptyRumorIsGossipedButNotLogged(t *testing.T) {
	c, _ := newTestCore(false, p1, p2)
	out := receive(c, p1, rumor("R", 1, ""), t0)
	if len(out.Accepted) != 1 || len(c.Log()) != 0 {
		t.Fatalf("accepted %v, log %v", out.Accepted, c.Log())
	}
	if c.next("R") != 2 {
		t.Fatal("empty rumor not counted in the vector clock")
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

func TestSimpleMode(t *testing.T) {
	c, _ := newTestCore(true, p1, p2)
	out, _, err := c.Client("Hello", t0)
	if err != nil {
		t.Fatal(err)
	}
	wantLines(t, out, "CLIENT MESSAGE Hello")
	m := &messages.SimpleMessage{OriginalName: "A", RelayPeerAddr: self, Contents: "Hello"}
	wantSends(t, out, Send{p1, &messages.GossipPacket{Simple: m}}, Send{p2, &messages.GossipPacket{Simple: m}})

	// The relay is learned from the message, and never sent back to.
	in := &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: "B", RelayPeerAddr: p3, Contents: "Bonjour"}}
	out = receive(c, p3, in, t0)
	wantLines(t, out, "SIMPLE MESSAGE origin B from "+p3+" contents Bonjour", "PEERS "+p1+","+p2+","+p3)
	fwd := &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: "B", RelayPeerAddr: self, Contents: "Bonjour"}}
	wantSends(t, out, Send{p1, fwd}, Send{p2, fwd})

	// The same copy again within a minute is printed, not forwarded; a
	// minute later it is forwarded again.
	out = receive(c, p3, in, t0.Add(59*time.Second))
	if len(out.Lines) != 2 || len(out.Sends) != 0 {
		t.Fatalf("repeat within a minute: %+v", out)
	}
	if out = receive(c, p3, in, t0.Add(61*time.Second)); len(out.Sends) != 2 {
		t.Fatalf("repeat after a minute not forwarded: %s", describeSends(out.Sends))
	}
	// A copy coming from the other side is forwarded once too.
	other := &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: "B", RelayPeerAddr: p1, Contents: "Bonjour"}}
	if out = receive(c, p1, other, t0); len(out.Sends) != 2 || out.Sends[0].To == p1 || out.Sends[1].To == p1 {
		t.Fatalf("copy from the other side: %s", describeSends(out.Sends))
	}
	// Our own message coming back round is not forwarded.
	back := &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: "A", RelayPeerAddr: p2, Contents: "Hello"}}
	if out = receive(c, p2, back, t0); len(out.Lines) != 2 || len(out.Sends) != 0 {
		t.Fatalf("own message coming back: %+v", out)
	}
	// Rumors and statuses are not part of simple mode.
	if out = receive(c, p1, rumor("E", 1, "x"), t0); len(out.Sends)+len(out.Lines) > 0 {
		t.Fatalf("simple mode handled a rumor: %+v", out)
	}
	if out = c.Tick(t0); len(out.Sends) > 0 {
		t.Fatal("simple mode sent anti-entropy")
	}
}

func TestSimpleRelayFieldThatDoesNotParseFallsBackToSource(t *testing.T) {
	c, _ := newTestCore(true)
	in := &messages.GossipPacket{Simple: &messages.SimpleMessage{OriginalName: "B", RelayPeerAddr: "nonsense", Contents: "x"}}
	out := receive(c, p1, in, t0)
	wantLines(t, out, "SIMPLE MESSAGE origin B from "+p1+" contents x", "PEERS "+p1)
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

func TestLostHistoryMovesOwnCounterPastPeers(t *testing.T) {
	c, _ := newTestCore(false, p1)
	out := receive(c, p1, status("A", 4), t0) // the network holds A/1..A/3
	if len(out.Warnings) != 1 || !strings.Contains(out.Warnings[0], "takes ID 4") {
		t.Fatalf("warnings = %q", out.Warnings)
	}
	wantSends(t, out, Send{p1, status()}) // and asks for them
	out, posted, _ := c.Client("after the loss", t0)
	if posted.ID != 4 {
		t.Fatalf("posted ID %d, want 4", posted.ID)
	}
	wantSends(t, out, Send{p1, rumor("A", 4, "after the loss")})
	if len(out.Accepted) != 1 || len(c.Log()) != 1 {
		t.Fatal("the message posted past the gap is not in the log")
	}
	// Until the gap fills, the status does not claim A/4...
	if got := c.Status(); len(got) != 0 {
		t.Fatalf("status = %+v, want nothing of A", got)
	}
	// ...and once the old messages come back, it claims all of them.
	for id, text := range []string{"old1", "old2", "old3"} {
		receive(c, p1, rumor("A", uint32(id+1), text), t0)
	}
	if got := c.Status(); !reflect.DeepEqual(got, []messages.PeerStatus{{Identifier: "A", NextID: 5}}) {
		t.Fatalf("status = %+v, want A next 5", got)
	}
	out = receive(c, p2, status("A", 4), t0)
	wantSends(t, out, Send{p2, rumor("A", 4, "after the loss")})
	if _, posted, _ = c.Client("next", t0); posted.ID != 5 {
		t.Fatalf("posted ID %d, want 5", posted.ID)
	}
}

func TestRestoreKeepsMessagesPostedPastAGap(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.Restore([]Entry{{Origin: "A", ID: 4, Text: "past the gap"}, {Origin: "A", ID: 1, Text: "old"}})
	if len(c.Log()) != 2 || c.next("A") != 2 {
		t.Fatalf("log %+v, next %d", c.Log(), c.next("A"))
	}
	if _, posted, _ := c.Client("new", t0); posted.ID != 5 {
		t.Fatalf("posted ID %d, want 5", posted.ID)
	}
}

func TestPerSourceRateLimit(t *testing.T) {
	c, _ := newTestCore(false, p1)
	accepted := 0
	for i := range 1000 {
		out := receive(c, p2, rumor("F", uint32(i+1), "x"), t0)
		if len(out.Accepted) > 0 {
			accepted++
		}
	}
	burst := int(2 * c.cfg.MaxPacketsPerSecond)
	if accepted != burst || c.Stats().Dropped["rate-limited"] != uint64(1000-burst) {
		t.Fatalf("accepted %d of a burst of 1000, dropped %v; want the burst of %d", accepted, c.Stats().Dropped, burst)
	}
	// Another source is not affected, and the first recovers with time.
	if out := receive(c, p3, status(), t0); len(out.Lines) == 0 {
		t.Fatal("another source was limited")
	}
	if out := receive(c, p2, status(), t0.Add(time.Second)); len(out.Lines) == 0 {
		t.Fatal("the source did not recover after a second")
	}
}

func TestOriginsAreCapped(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.cfg.MaxPacketsPerSecond = 0
	c.limiter = newRateLimiter(0)
	for i := range MaxOrigins + 10 {
		receive(c, p2, rumor(fmt.Sprintf("spoof%d", i), 1, "x"), t0)
	}
	if len(c.origins) != MaxOrigins || c.Stats().Dropped["too-many-origins"] != 10 {
		t.Fatalf("%d origins, dropped %v", len(c.origins), c.Stats().Dropped)
	}
	// A known origin still makes progress.
	if out := receive(c, p2, rumor("spoof0", 2, "y"), t0); len(out.Accepted) != 1 {
		t.Fatal("a known origin was refused")
	}
}

func TestStatusAlwaysFitsADatagram(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.limiter = newRateLimiter(0)
	for i := range MaxOrigins {
		receive(c, p2, rumor(fmt.Sprintf("%0250d", i), 1, "x"), t0)
	}
	b, err := (&messages.GossipPacket{Status: &messages.StatusPacket{Want: c.Status()}}).Encode()
	if err != nil || len(b) > 65507 {
		t.Fatalf("status of %d bytes (%v)", len(b), err)
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
	c.limiter = newRateLimiter(0)
	sent, printed := 0, 0
	for i := range 50 {
		out := receive(c, p2, &messages.GossipPacket{Simple: &messages.SimpleMessage{
			OriginalName: "X", RelayPeerAddr: p2, Contents: fmt.Sprint("spoof ", i)}}, t0)
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
	out := receive(c, p2, &messages.GossipPacket{Simple: &messages.SimpleMessage{
		OriginalName: "X", RelayPeerAddr: p2, Contents: "later"}}, t0.Add(time.Second))
	if len(out.Sends) != len(peers) {
		t.Fatalf("a second later %d datagrams sent, want %d", len(out.Sends), len(peers))
	}
}

// catchUpTimer returns the catch-up timer out arms, if any.
func catchUpTimer(out Output) (Timer, bool) {
	for _, tm := range out.Timers {
		if tm.Kind == TimerCatchUp {
			return tm, true
		}
	}
	return Timer{}, false
}

// A node that is being sent what it lacks, one rumor at a time, asks again
// when the next one does not come: on a lossy link the exchange goes on
// instead of waiting for anti-entropy.
func TestStalledCatchUpAsksAgain(t *testing.T) {
	c, _ := newTestCore(false, p1)
	receive(c, p1, status("F", 4), t0) // p1 has F/1..F/3; we ask
	out := receive(c, p1, rumor("F", 1, "one"), t0)
	tm, ok := catchUpTimer(out)
	if !ok || tm.Peer != p1 || tm.After != c.cfg.CatchUpTimeout {
		t.Fatalf("no catch-up timer for p1 after F/1: %+v", out.Timers)
	}
	// F/2 was lost: the node asks again, up to maxCatchUpStalls times.
	for range maxCatchUpStalls {
		out = c.Timeout(tm, t0.Add(time.Second))
		wantSends(t, out, Send{p1, status("F", 2)})
		if tm, ok = catchUpTimer(out); !ok {
			t.Fatal("no timer armed after asking again")
		}
	}
	out = c.Timeout(tm, t0.Add(2*time.Second))
	if len(out.Sends)+len(out.Timers) != 0 {
		t.Fatalf("a silent peer was asked more than %d times: %+v", maxCatchUpStalls, out)
	}
	// Progress starts the count again; the last message ends the catch-up.
	receive(c, p1, status("F", 4), t0.Add(3*time.Second))
	out = receive(c, p1, rumor("F", 2, "two"), t0.Add(3*time.Second))
	tm, ok = catchUpTimer(out)
	if !ok {
		t.Fatal("no catch-up timer after F/2")
	}
	stale := tm
	out = receive(c, p1, rumor("F", 3, "three"), t0.Add(3*time.Second))
	if _, ok := catchUpTimer(out); ok {
		t.Fatal("catch-up timer armed with nothing left to get")
	}
	if out := c.Timeout(stale, t0.Add(4*time.Second)); len(out.Sends) != 0 {
		t.Fatalf("a timer of an ended catch-up sent %s", describeSends(out.Sends))
	}
}

// A status alone, which anyone can spoof, costs one answer: only a peer that
// has sent a rumor the node took is asked again.
func TestStatusAloneStartsNoCatchUp(t *testing.T) {
	c, _ := newTestCore(false, p1)
	out := receive(c, p2, status("F", 1000), t0)
	wantSends(t, out, Send{p2, status()})
	if _, ok := catchUpTimer(out); ok {
		t.Fatal("a status alone armed a catch-up timer")
	}
	// A rumor from another peer does not start one for p2 either.
	if _, ok := catchUpTimer(receive(c, p1, rumor("F", 1, "one"), t0)); ok {
		t.Fatal("a rumor from p1 armed a catch-up timer for p2")
	}
}
