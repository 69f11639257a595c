package gossiper

import (
	"sort"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
)

// Route is the next hop towards an origin: the peer from which this node
// last took a new rumor of that origin.
type Route struct {
	Origin  string
	NextHop string
}

// noteRoute learns, from a new rumor of origin taken from the peer at from,
// that from is the next hop towards origin. Only a rumor accepted as its
// origin's next one gets here, so the rumor's ID is the route's sequence
// number, as in DSDV: an older or duplicate rumor never changes a route.
// The table has one entry per origin kept, so it is bounded like them.
func (c *Core) noteRoute(origin, from string, now time.Time) {
	// A datagram from this node's own address never gets this far (see
	// packet), so from is always another node.
	if origin == c.name || c.routes[origin] == from {
		return
	}
	_, had := c.routes[origin]
	c.routes[origin] = from
	c.print(stdoutline.DSDV{Origin: origin, NextHop: from}.String())
	if !had {
		c.routeCame(origin, now)
	}
}

// Routes returns the routing table, by origin.
func (c *Core) Routes() []Route {
	rs := make([]Route, 0, len(c.routes))
	for o, hop := range c.routes {
		rs = append(rs, Route{Origin: o, NextHop: hop})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].Origin < rs[j].Origin })
	return rs
}

// RouteRumor sends a route rumor: an empty rumor of this node's origin, so
// that every node learns a next hop towards it even when nobody chats.
// While the node waits for its own old messages (see recovery.go) it waits
// with the posts, as long as they do at most, so it keeps its period.
func (c *Core) RouteRumor(now time.Time) Output {
	if c.cfg.Simple || c.mayHold("") != nil {
		return Output{}
	}
	if !c.holdPost("", now) {
		c.number(c.name, "", now)
	}
	return c.take()
}
