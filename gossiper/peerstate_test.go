package gossiper

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

// checkPeerStates holds the records to what peerstate.go promises: the
// counts are those of the records, each within its bound, and no record
// stays without a live part, but for a flip whose interval ran out since
// the peer was last heard of (one of maxFlipped).
func checkPeerStates(t *testing.T, c *Core, now time.Time) {
	t.Helper()
	s := &c.peerStates
	catchUps, flipped, marks, timed := 0, 0, 0, 0
	for peer, ps := range s.byAddr {
		if ps.catchUp != nil {
			catchUps++
		}
		if ps.flipped {
			flipped++
		}
		marks += len(ps.sent)
		if ps.session.rumor != nil || ps.probe != 0 {
			timed++
		}
		if ps.session.rumor == nil && ps.probe == 0 && ps.catchUp == nil && len(ps.sent) == 0 && !ps.flipped {
			t.Fatalf("record of %s kept with nothing in it", peer)
		}
	}
	if catchUps != s.catchUps || flipped != s.flipped || marks != s.marks {
		t.Fatalf("counted %d catch-ups, %d flips, %d marks; the records hold %d, %d, %d", s.catchUps, s.flipped, s.marks, catchUps, flipped, marks)
	}
	if catchUps > maxCatchUps || flipped > maxFlipped || marks > maxInflight {
		t.Fatalf("%d catch-ups, %d flips, %d marks: past their bounds", catchUps, flipped, marks)
	}
	if n := len(s.byAddr); n > timed+maxCatchUps+maxFlipped+maxInflight {
		t.Fatalf("%d records, %d of them waiting on a timer", n, timed)
	}
}

func timerOf(t *testing.T, o Output, kind TimerKind) Timer {
	t.Helper()
	for _, tm := range o.Timers {
		if tm.Kind == kind {
			return tm
		}
	}
	t.Fatalf("no %v timer in %+v", kind, o.Timers)
	return Timer{}
}

func TestPeerStateGoesWhenAnAntiEntropyExchangeEnds(t *testing.T) {
	c, _ := newTestCore(false, p1)
	probe := timerOf(t, c.Tick(t0), TimerProbe)
	if ps := c.peerStates.get(p1); ps == nil || ps.probe != probe.Seq {
		t.Fatal("no probe waits for p1's answer")
	}
	// An answer in sync leaves the probe to its timer, as before.
	receive(c, p1, fuzzseed.Status(), t0)
	c.Timeout(probe, t0.Add(time.Second))
	if ps := c.peerStates.get(p1); ps != nil {
		t.Fatalf("the exchange with p1 is over and left its record: %+v", ps)
	}
	checkPeerStates(t, c, t0.Add(time.Second))
}

func TestPeerStateGoesWhenACatchUpEnds(t *testing.T) {
	c, _ := newTestCore(false, p1)
	receive(c, p1, fuzzseed.Status("B", 3), t0)
	if ps := c.peerStates.get(p1); ps == nil || ps.catchUp == nil {
		t.Fatal("p1, ahead, is not followed")
	}
	receive(c, p1, fuzzseed.Rumor("B", 1, "b1"), t0)
	out := receive(c, p1, fuzzseed.Rumor("B", 2, "b2"), t0)
	if ps := c.peerStates.get(p1); ps == nil || ps.catchUp != nil {
		t.Fatalf("the catch-up outlived what p1 had ahead: %+v", ps)
	}
	// The status that acknowledges the last rumor probes p1; its silence
	// ends the exchange (the scripted coin says tails).
	c.Timeout(timerOf(t, out, TimerProbe), t0.Add(time.Second))
	if ps := c.peerStates.get(p1); ps != nil {
		t.Fatalf("p1's record outlived the exchange: %+v", ps)
	}
	checkPeerStates(t, c, t0.Add(time.Second))
}

// A rumor mongered leaves its in-flight mark, which is kept as before:
// until maxInflight marks fill and all are forgotten. It alone keeps the
// record once the session is over.
func TestPeerStateOfAMongeredPeerKeepsOnlyItsMark(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.Client("hello", t0)
	ps := c.peerStates.get(p1)
	if ps == nil || ps.session.rumor == nil || len(ps.sent) != 1 {
		t.Fatalf("mongering to p1 kept %+v", ps)
	}
	receive(c, p1, fuzzseed.Status("A", 2), t0)
	ps = c.peerStates.get(p1)
	if ps == nil || ps.session.rumor != nil || ps.probe != 0 || ps.catchUp != nil || len(ps.sent) != 1 {
		t.Fatalf("after p1's acknowledgement the record holds %+v", ps)
	}
	c.peerStates.forgetMarks(t0)
	if c.peerStates.get(p1) != nil {
		t.Fatal("forgetting the marks left p1's empty record")
	}
}

// Thousands of addresses, each lacking this node's rumors, send a status:
// each is answered, with a rumor or a status, and leaves an in-flight
// mark; the records stay bounded, and once the timers are over only marks
// (and flips still in their interval) keep any.
func TestPeerStatesStayBoundedWhenThousandsOfAddressesSendStatuses(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.cfg.MaxPacketsPerSecond = 0
	for i := 1; i <= 3; i++ {
		receive(c, p1, fuzzseed.Rumor(fmt.Sprintf("O%d", i), 1, "r"), t0)
	}
	var timers []Timer
	now := t0
	const addresses = 20000
	for i := range addresses {
		now = now.Add(100 * time.Microsecond)
		from := fmt.Sprintf("127.0.0.2:%d", 10000+i)
		out := receive(c, from, &messages.GossipPacket{Status: &messages.StatusPacket{}}, now)
		timers = append(timers, out.Timers...)
		if i%1000 == 0 {
			checkPeerStates(t, c, now)
		}
	}
	checkPeerStates(t, c, now)
	now = now.Add(time.Minute)
	for _, tm := range timers {
		c.Timeout(tm, now)
	}
	checkPeerStates(t, c, now)
	if n := len(c.peerStates.byAddr); n > maxInflight+maxFlipped {
		t.Fatalf("%d records once every exchange is over", n)
	}
	if c.peerStates.marks == 0 || c.peerStates.marks >= addresses {
		t.Fatalf("%d marks after %d addresses: not forgotten at maxInflight", c.peerStates.marks, addresses)
	}
}

// Random traffic from a churn of addresses, with the timers fired as they
// fall due, fills every bound in turn: the catch-ups, the flips and the
// marks. The records keep to their promises throughout.
func TestPeerStatesUnderChurn(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Peers = "A", self, []string{p1, p2}
	cfg.MaxPacketsPerSecond = 0
	cfg.UnprovenBytesPerSecond = 1 << 30
	cfg.MaxPeers = 6000
	cfg.FlipInterval = 8 * time.Second
	draw := rand.New(rand.NewPCG(1, 2))
	c := NewCore(cfg, rand.New(rand.NewPCG(3, 4)))
	type due struct {
		at    time.Time
		timer Timer
	}
	var pending []due
	now := t0
	next := map[string]uint32{}
	origins := []string{"O1", "O2", "O3", "O4", "O5", "O6", "O7", "O8"}
	filled := map[string]bool{}
	for step := range 30000 {
		now = now.Add(time.Duration(draw.IntN(3000)) * time.Microsecond)
		var out Output
		kept := pending[:0]
		var fire []Timer
		for _, d := range pending {
			if d.at.After(now) {
				kept = append(kept, d)
			} else {
				fire = append(fire, d.timer)
			}
		}
		pending = kept
		for _, tm := range fire {
			for _, armed := range c.Timeout(tm, now).Timers {
				pending = append(pending, due{now.Add(armed.After), armed})
			}
		}
		from := fmt.Sprintf("127.0.0.3:%d", 10000+draw.IntN(5000))
		switch k := draw.IntN(100); {
		case k < 45:
			var want []messages.PeerStatus
			for _, o := range origins {
				if draw.IntN(2) == 0 {
					want = append(want, messages.PeerStatus{Identifier: o, NextID: uint32(1 + draw.IntN(int(next[o])+2))})
				}
			}
			out = receive(c, from, &messages.GossipPacket{Status: &messages.StatusPacket{Want: want}}, now)
		case k < 85:
			o := origins[draw.IntN(len(origins))]
			id := uint32(1 + draw.IntN(int(next[o])+2))
			next[o] = max(next[o], id)
			out = receive(c, from, fuzzseed.Rumor(o, id, "t"), now)
		default:
			out = c.Tick(now)
		}
		for _, armed := range out.Timers {
			pending = append(pending, due{now.Add(armed.After), armed})
		}
		s := &c.peerStates
		filled["catch-ups"] = filled["catch-ups"] || s.catchUps == maxCatchUps
		filled["flips"] = filled["flips"] || s.flipped == maxFlipped
		filled["marks"] = filled["marks"] || s.marks == maxInflight
		if step%500 == 0 {
			checkPeerStates(t, c, now)
		}
	}
	checkPeerStates(t, c, now)
	for _, bound := range []string{"catch-ups", "flips", "marks"} {
		if !filled[bound] {
			t.Errorf("the %s never reached their bound: the test does not exercise it", bound)
		}
	}
}
