package gossiper

import (
	"time"

	"github.com/peerster/Peerster/messages"
)

// flipCoin is the coin flip that ends an exchange with peer, in sync or silent:
// on heads it mongers r (or, without one, the freshest rumor) with another
// peer. Only when peer is the sole one and retry is set does it try peer
// again.
func (c *Core) flipCoin(peer string, r *messages.RumorMessage, now time.Time, retry bool) {
	if r == nil {
		if c.latest == nil || now.Sub(c.latestAt) >= c.cfg.RumorFreshness {
			return
		}
		r = c.latest
	}
	if c.rng.IntN(2) == 0 {
		return
	}
	to, ok := c.pickPeer(peer)
	if !ok && retry && c.peers.has(peer) {
		to, ok = peer, true
	}
	if ok {
		c.print("FLIPPED COIN sending rumor to " + to)
		c.monger(to, r)
	}
}

// mongerTimeout ends a rumor's wait for its acknowledgement with a coin
// flip; a rumor that was not acknowledged may be retried with the same peer.
func (c *Core) mongerTimeout(t Timer, now time.Time) {
	sess, ok := c.sessions[t.Peer]
	if !ok || sess.seq != t.Seq {
		return
	}
	delete(c.sessions, t.Peer)
	c.flipCoin(t.Peer, sess.rumor, now, sess.rumor != nil)
}
