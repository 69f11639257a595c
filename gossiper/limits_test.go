package gossiper

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

func TestOversizedStatusIsDroppedBeforeDecoding(t *testing.T) {
	c, _ := newTestCore(false, p1)
	out := c.Datagram(p1, fuzzseed.StatusOfSize(t, MaxStatusEntries+1), t0)
	if len(out.Lines)+len(out.Sends) != 0 || c.Stats().Dropped["status-too-large"] != 1 {
		t.Fatalf("out %+v, dropped %v", out, c.Stats().Dropped)
	}
	if out := c.Datagram(p1, fuzzseed.StatusOfSize(t, MaxStatusEntries), t0); len(out.Lines) == 0 {
		t.Fatal("a status of the largest size allowed was dropped")
	}
}

// BenchmarkFloodDatagrams measures what a node spends on a datagram of the
// flood test's mix (garbage, spoofed rumors and simple messages, statuses of
// thousands of entries). The baseline decodes every datagram before any
// check, as the node did before the cheap checks came first.
func BenchmarkFloodDatagrams(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	name := func() string { return fmt.Sprintf("n%08d", rng.IntN(1e8)) }
	var pkts [][]byte
	for i := range 2000 {
		var p *messages.GossipPacket
		switch k := i % 20; {
		case k < 6:
			garbage := make([]byte, rng.IntN(1400))
			for j := range garbage {
				garbage[j] = byte(rng.Uint32())
			}
			pkts = append(pkts, garbage)
			continue
		case k < 15:
			p = fuzzseed.Rumor(name(), 1, "hello")
		case k < 17:
			pkts = append(pkts, fuzzseed.StatusOfSize(b, 1000+rng.IntN(4000)))
			continue
		default:
			p = fuzzseed.Simple(name(), fmt.Sprintf("127.0.0.1:%d", 1+rng.IntN(65535)), name())
		}
		enc, err := p.Encode()
		if err != nil {
			b.Fatal(err)
		}
		pkts = append(pkts, enc)
	}
	run := func(b *testing.B, handle func(c *Core, from string, pkt []byte, now time.Time)) {
		cfg := DefaultConfig()
		cfg.Name, cfg.Addr = "X", self
		cfg.MaxPacketsPerSecond = 0
		c := NewCore(cfg, rand.New(rand.NewPCG(3, 4)))
		now := t0
		for i := 0; b.Loop(); i++ {
			now = now.Add(125 * time.Microsecond)
			handle(c, fmt.Sprintf("127.0.0.1:%d", 10000+i%256), pkts[i%len(pkts)], now)
		}
	}
	b.Run("decode-first-baseline", func(b *testing.B) {
		run(b, func(c *Core, from string, pkt []byte, now time.Time) {
			if p, err := messages.DecodeGossip(pkt); err == nil {
				receive(c, from, p, now)
			}
		})
	})
	b.Run("node", func(b *testing.B) {
		run(b, func(c *Core, from string, pkt []byte, now time.Time) { c.Datagram(from, pkt, now) })
	})
}

// newBudgetedCore is a node with the least memory budget, taking every
// datagram, and the budgets it divides it into.
func newBudgetedCore() (*Core, budgets) {
	cfg := DefaultConfig()
	cfg.Name, cfg.Addr, cfg.Peers = "A", self, []string{p1}
	cfg.MaxPacketsPerSecond = 0
	cfg.MemoryBudget = MinMemoryBudget
	return NewCore(cfg, &script{}), budgetsFor(cfg.MemoryBudget)
}

// Issue 14, defect 1: a stranger who sends Rumor{Z, i, 60,000 x "x"} for i
// = 1, 2, ... grew a node's memory without bound. The texts a node keeps
// for its peers and the chat log it keeps for its user each have a budget
// of bytes; past it the node forgets the oldest messages of the origin that
// weighs most, so the stranger's go and ordinary chat stays.
func TestMemoryBudgetForgetsTheHeaviestOriginFirst(t *testing.T) {
	c, b := newBudgetedCore()
	chat := strings.Repeat("c", 100)
	now := t0
	for i := 1; i <= 100; i++ {
		for _, o := range []string{"H1", "H2", "H3"} {
			receive(c, p1, fuzzseed.Rumor(o, uint32(i), chat), now)
		}
	}
	flood := strings.Repeat("x", messages.MaxTextBytes)
	const floodCount = 2000 // 120 MB of text, 15 times each budget
	for i := 1; i <= floodCount; i++ {
		now = now.Add(time.Millisecond)
		receive(c, "127.0.0.1:6666", fuzzseed.Rumor("Z", uint32(i), flood), now)
		if c.textBytes > b.texts || c.logBytes > b.log {
			t.Fatalf("after %d of the flood's rumors the texts weigh %d (budget %d), the log %d (budget %d)", i, c.textBytes, b.texts, c.logBytes, b.log)
		}
	}
	// Every message was taken and counted: the status tells peers where
	// the node is, and none of them sends Z's rumors again.
	if next := c.next("Z"); next != floodCount+1 {
		t.Fatalf("Z's next ID is %d, want %d", next, floodCount+1)
	}
	if z := c.listed("Z"); z.base == 0 || len(z.texts) == 0 {
		t.Fatalf("Z holds texts from %d, %d of them: want the oldest forgotten and the newest kept", z.base+1, len(z.texts))
	}
	for _, o := range []string{"H1", "H2", "H3"} {
		if h := c.listed(o); h.base != 0 || len(h.texts) != 100 {
			t.Errorf("%s lost messages: it holds %d from %d", o, len(h.texts), h.base+1)
		}
	}
	honest := 0
	for _, e := range c.Log() {
		if e.Origin != "Z" {
			honest++
		}
	}
	if honest != 300 {
		t.Errorf("the log holds %d of the 300 honest messages", honest)
	}
	if s := c.Stats(); s.Forgotten["texts"] == 0 || s.Forgotten["log"] == 0 {
		t.Errorf("forgotten counts %v, want both counted", s.Forgotten)
	}
}

// When nothing stands out (many light origins), the log forgets its oldest
// eighth, as a chat scrolls away.
func TestLogForgetsTheOldestWhenNoOriginStandsOut(t *testing.T) {
	c, b := newBudgetedCore()
	text := strings.Repeat("t", 1000)
	n := 0
	for c.stats.Forgotten["log"] == 0 {
		n++
		receive(c, p1, fuzzseed.Rumor(fmt.Sprintf("o%d", (n-1)%500), uint32((n-1)/500+1), text), t0)
	}
	if c.logBytes > b.log {
		t.Fatalf("the log weighs %d, over its budget %d", c.logBytes, b.log)
	}
	if first := c.log[0].Seq; first <= 1 || c.log[len(c.log)-1].Seq != uint64(n) {
		t.Fatalf("the log runs from Seq %d to %d after %d messages: want the oldest gone, the newest kept", first, c.log[len(c.log)-1].Seq, n)
	}
}

// Issue 14, defect 4: besides three times what each unproven address sent,
// all of them together are sent at most UnprovenBytesPerSecond (bursts of
// twice that), however many addresses a stranger forges.
func TestUnprovenAddressesShareOneBudget(t *testing.T) {
	c, _ := newTestCore(false, p1)
	c.cfg.MaxPacketsPerSecond = 0
	c.cfg.UnprovenBytesPerSecond = 64 << 10
	// Rumors of 3 KB: one fits each address's 4 KiB allowance.
	for i := 1; i <= 200; i++ {
		receive(c, p1, fuzzseed.Rumor(fmt.Sprintf("o%d", i), 1, strings.Repeat("r", 3000)), t0)
	}
	sent := 0
	now := t0
	for i := range 2000 {
		now = now.Add(time.Millisecond)
		out := receive(c, fmt.Sprintf("127.0.0.2:%d", 10000+i), &messages.GossipPacket{Status: &messages.StatusPacket{}}, now)
		for _, s := range out.Sends {
			sent += messages.Size(s.Packet)
		}
	}
	// Two seconds at 64 KiB/s, and the burst of twice that.
	limit := int(c.cfg.UnprovenBytesPerSecond * (2 + now.Sub(t0).Seconds()))
	if sent > limit || sent < limit/2 {
		t.Fatalf("2,000 addresses were sent %d bytes in %v; the budget allows %d, and should be used", sent, now.Sub(t0), limit)
	}
	if c.Stats().Refused == 0 {
		t.Fatal("no send was refused")
	}
}
