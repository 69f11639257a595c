package gossiper

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"

	"github.com/peerster/Peerster/messages"
)

// A node of another implementation never sends back the token of a status
// (it does not know the field), so its address would stay unproven, and a
// data reply (8 KiB for a request of 80 bytes) never fits three times what
// it sent: it could not download from this node, nor through it. But every
// implementation of the files step forwards a data request towards its
// destination. A request this node addresses to itself, sent to such an
// address, comes back from it only if the address receives what this node
// sends; its hash, a keyed hash of the address, is seen by none but the
// two. So when a packet does not fit an unproven address's budget, the
// node sends it such a probe (one a second at most, within the same
// budget); a data reply that did not fit waits for it, the last one only,
// and goes once the probe is back. An implementation without files drops
// the probe as a packet it does not know, and stays within the budget.
const (
	probeEvery = time.Second
	// probeHopLimit lets the probe come back through the address, and
	// through one node more at most if that one routes it the long way.
	probeHopLimit = 3
)

func (c *Core) probeHash(addr string) []byte {
	m := hmac.New(sha256.New, c.sources.secret[:])
	m.Write([]byte("data probe\x00"))
	m.Write([]byte(addr))
	return m.Sum(nil)
}

// probeAddress sends addr, which did not afford a packet, a request that
// only comes back if addr receives what this node sends.
func (c *Core) probeAddress(addr string, now time.Time) {
	if c.cfg.UnprovenBytesPerSecond <= 0 || c.proven(addr) {
		return
	}
	r := c.sources.get(addr, c, now)
	if !r.probed.IsZero() && now.Sub(r.probed) < probeEvery {
		return
	}
	r.probed = now
	q := &messages.DataRequest{Origin: c.name, Destination: c.name, HopLimit: probeHopLimit, HashValue: c.probeHash(addr)}
	if c.send(addr, &messages.GossipPacket{DataRequest: q}, now) {
		c.stats.Probes++
	}
}

// takeProbe takes a data request of this node to itself: the probe of the
// address it came from proves that address, and the reply that waited for
// it goes out. Any other is dropped.
func (c *Core) takeProbe(from string, q *messages.DataRequest, now time.Time) {
	if !hmac.Equal(q.HashValue, c.probeHash(from)) {
		c.drop("own-data-request")
		return
	}
	r := c.sources.get(from, c, now)
	if r.proven {
		return
	}
	r.proven = true
	c.stats.ProvenByProbe++
	if p := r.pending; p != nil {
		r.pending = nil
		c.serveReply(*p, now)
	}
}

// keepServe keeps a reply to addr until a probe proves it: only the last,
// as the asker asks again for what it still wants.
func (c *Core) keepServe(addr string, s Serve, now time.Time) {
	c.sources.get(addr, c, now).pending = &s
}
