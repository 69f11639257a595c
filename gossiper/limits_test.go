package gossiper

import (
	"fmt"
	"math/rand/v2"
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
