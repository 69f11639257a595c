package gossiper

import "time"

// Tick handles the anti-entropy timer: a status to one peer. Peers are
// visited in a random order that is drawn anew each round, as memberlist
// probes its members, so each neighbour hears from a node once a round.
func (c *Core) Tick(now time.Time) Output {
	if c.cfg.Simple {
		return Output{}
	}
	// A peer whose budget does not afford the status (an address that
	// has not shown it receives what this node sends) is passed over, so
	// at most every peer is tried once.
	for range c.peers.len() + len(c.aeBag) {
		if len(c.aeBag) == 0 {
			if c.peers.len() == 0 {
				return Output{}
			}
			c.aeBag = c.peers.list()
			c.rng.Shuffle(len(c.aeBag), func(i, j int) { c.aeBag[i], c.aeBag[j] = c.aeBag[j], c.aeBag[i] })
		}
		p := c.aeBag[len(c.aeBag)-1]
		c.aeBag = c.aeBag[:len(c.aeBag)-1]
		if c.peers.has(p) && c.sendStatus(p, now, nil) {
			c.stats.AntiEntropy++
			c.probe(p)
			return c.take()
		}
	}
	return c.take()
}

// probe waits for an answer to the status just sent to peer. A peer that
// differs from us answers a status; silence until the timer fires means it is
// in sync, which ends the exchange with a coin flip like any other. Only
// anti-entropy statuses and acknowledgements of new rumors are probes: both
// are bounded in number, so the flips they add cannot feed on each other.
func (c *Core) probe(peer string) {
	c.peerStates.open(peer).probe = c.arm(TimerProbe, peer, c.cfg.ProbeTimeout)
}

// probeTimeout takes a probe's silence to mean the peer is in sync, which
// ends the exchange with a coin flip.
func (c *Core) probeTimeout(t Timer, now time.Time) {
	if ps := c.peerStates.get(t.Peer); ps != nil && ps.probe != 0 && ps.probe == t.Seq {
		c.peerStates.endProbe(t.Peer, now)
		c.flipIdle(t.Peer, now)
	}
}
