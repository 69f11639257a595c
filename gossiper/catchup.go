package gossiper

import (
	"maps"
	"slices"
	"time"
)

// catchUp follows a peer whose status showed messages this node lacks, while
// the peer sends them one at a time. Each step is a rumor and a status; on a
// lossy link one of them is often lost, and the exchange would stall until
// the next anti-entropy round. Asking again after a short silence keeps it
// going.
type catchUp struct {
	want   map[string]uint32 // origin: the peer's next ID, where ours is lower
	seq    uint64
	stalls int // statuses sent again since the peer last sent a rumor
}

const (
	// maxCatchUps caps the peers followed at once.
	maxCatchUps = 16
	// maxCatchUpStalls is how often a node asks a silent peer again.
	maxCatchUpStalls = 3
)

// followCatchUp records what a peer's status showed ahead of this node,
// to follow the peer while it sends those messages.
func (c *Core) followCatchUp(peer string, ahead map[string]uint32, now time.Time) {
	if c.cfg.CatchUpTimeout <= 0 {
		return
	}
	ps := c.peerStates.get(peer)
	switch {
	case len(ahead) == 0:
		c.peerStates.unfollow(peer, now)
	case ps != nil && ps.catchUp != nil:
		ps.catchUp.want = ahead
	default:
		c.peerStates.follow(peer, &catchUp{want: ahead})
	}
}

// awaitCatchUp waits for the next rumor from a peer that has more, after the
// peer sent one (progress) or after a silence, when it asks again. Only a
// peer that has sent a rumor this node took is followed, so a status alone,
// perhaps spoofed, never makes the node send more than its one answer.
func (c *Core) awaitCatchUp(peer string, progress bool, now time.Time) {
	ps := c.peerStates.get(peer)
	if ps == nil || ps.catchUp == nil {
		return
	}
	cu := ps.catchUp
	lacks := false
	for o, n := range cu.want {
		if n > c.next(o) {
			lacks = true
			break
		}
	}
	if !lacks || !c.peers.has(peer) || (!progress && cu.stalls >= maxCatchUpStalls) {
		c.peerStates.unfollow(peer, now)
		return
	}
	if progress {
		cu.stalls = 0
	} else {
		cu.stalls++
		c.sendStatus(peer, now, slices.Sorted(maps.Keys(cu.want)))
	}
	cu.seq = c.arm(TimerCatchUp, peer, c.cfg.CatchUpTimeout)
}

// catchUpTimeout asks a peer that has gone silent mid catch-up again.
func (c *Core) catchUpTimeout(t Timer, now time.Time) {
	if ps := c.peerStates.get(t.Peer); ps != nil && ps.catchUp != nil && ps.catchUp.seq == t.Seq {
		c.awaitCatchUp(t.Peer, false, now)
	}
}
