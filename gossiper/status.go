package gossiper

import (
	"slices"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// Status returns this node's vector clock.
func (c *Core) Status() []messages.PeerStatus {
	if len(c.origins) == 0 {
		return nil
	}
	// The origins kept always fit in one datagram (see fits).
	want := make([]messages.PeerStatus, 0, len(c.origins))
	for _, o := range c.origins {
		want = append(want, messages.PeerStatus{Identifier: o.name, NextID: o.next()})
	}
	return want
}

func (c *Core) onStatus(from string, s *messages.StatusPacket, now time.Time) {
	if len(s.Want) > MaxStatusEntries {
		c.drop("status-too-large")
		return
	}
	c.learn(from)
	theirs, line := c.readStatus(from, s)
	c.checkProof(from, s.Proof, now)
	// Only a peer that has shown it receives what this node sends may make
	// its posts wait: a stranger who forges an address cannot.
	if want := theirs[c.name]; want > c.next(c.name) && c.proven(from) {
		c.noteClaim(from, want, now)
	}
	c.noteOwnAcks(from, theirs, now)
	c.print(line)
	c.print(c.peers.line())
	ahead := c.aheadOf(theirs)
	lacks := len(ahead) > 0
	c.followCatchUp(from, ahead, now)

	sess := c.peerStates.takeSession(from, now)

	switch c.offer(from, theirs, namesIn(s), now) {
	case offered:
		c.peerStates.endProbe(from, now) // this may answer our anti-entropy status
		return
	case blocked:
		// The peer lacks messages that its budget does not let this node
		// send yet; its next status earns more.
		c.peerStates.endProbe(from, now)
		return
	case onTheirWay:
		if lacks {
			break
		}
		// Not in sync, but what the peer lacks is on its way: wait for
		// its acknowledgements.
		c.peerStates.endProbe(from, now)
		if sess.rumor != nil {
			c.peerStates.open(from).session = sess
		}
		return
	}
	if lacks {
		c.peerStates.endProbe(from, now)
		c.sendStatus(from, now, namesIn(s))
		return
	}
	c.print(stdoutline.InSync{With: from}.String())
	if sess.rumor != nil {
		c.holders.add(keyOf(sess.rumor), from)
	}
	c.endSession(from, sess, now, false)
}

// aheadOf returns the origins of which a peer's status, theirs, shows
// messages this node lacks, with the peer's next ID of each; nil if none.
func (c *Core) aheadOf(theirs map[string]uint32) map[string]uint32 {
	var ahead map[string]uint32
	for o, n := range theirs {
		if n <= c.next(o) {
			continue
		}
		if ahead == nil {
			ahead = map[string]uint32{}
		}
		ahead[o] = n
	}
	return ahead
}

// readStatus returns the next IDs a peer's status gives, by origin, and the
// STATUS line that prints it. An entry whose name no node may take is left
// out of the line, whose fields it would forge, and of the comparison. The
// rest of the status still counts: an honest peer of another
// implementation may list such a name.
func (c *Core) readStatus(from string, s *messages.StatusPacket) (theirs map[string]uint32, line string) {
	theirs = make(map[string]uint32, len(s.Want))
	printed := stdoutline.Status{From: from, Wants: make([]stdoutline.Want, 0, len(s.Want))}
	badNames := false
	for _, w := range s.Want {
		if messages.ValidateName(w.Identifier) != nil {
			badNames = true
			continue
		}
		printed.Wants = append(printed.Wants, stdoutline.Want{Origin: w.Identifier, NextID: w.NextID})
		if _, dup := theirs[w.Identifier]; !dup {
			theirs[w.Identifier] = max(w.NextID, 1)
		}
	}
	if badNames {
		c.drop("status-bad-name")
	}
	return theirs, printed.String()
}

// sendStatus sends this node's status to the peer at to, with the proof
// their addresses still need, and reports whether it went.
//
// When the budget of an unproven peer does not afford the whole status (a
// node that knows a thousand origins has one of 50 KB) and the peer's own
// status named the origins it knows, about, it sends their entries and the
// token it asks for: an answer the peer paid for, and true as far as the
// peer can tell, since leaving out an origin the peer does not know asks
// it for nothing. (Leaving out one it knows would read as lacking it, and
// draw its messages again: an acknowledgement of a rumor, which names one
// origin, gets the whole status or nothing.)
func (c *Core) sendStatus(to string, now time.Time, about []string) bool {
	proof := c.proofFor(to, now)
	if c.send(to, &messages.GossipPacket{Status: &messages.StatusPacket{Want: c.Status(), Proof: proof}}, now) {
		return true
	}
	if about == nil || proof == nil {
		return false
	}
	want := []messages.PeerStatus{}
	for _, name := range about {
		if o := c.byName[name]; o != nil && !slices.ContainsFunc(want, func(w messages.PeerStatus) bool { return w.Identifier == name }) {
			want = append(want, messages.PeerStatus{Identifier: name, NextID: o.next()})
		}
	}
	return c.send(to, &messages.GossipPacket{Status: &messages.StatusPacket{Want: want, Proof: proof}}, now)
}

// namesIn are the origins a status names.
func namesIn(s *messages.StatusPacket) []string {
	names := make([]string, 0, len(s.Want))
	for _, w := range s.Want {
		names = append(names, w.Identifier)
	}
	return names
}

// lackingFirst returns the origins, starting from one drawn at random
// among those theirs lacks and this node can send, then the others in the
// status's order.
func (c *Core) lackingFirst(theirs map[string]uint32) []*origin {
	var lacking []int
	for i, o := range c.origins {
		if want := max(theirs[o.name], 1); want < o.next() && want > o.base {
			lacking = append(lacking, i)
		}
	}
	if len(lacking) < 2 {
		return c.origins
	}
	first := lacking[c.rng.IntN(len(lacking))]
	return append([]*origin{c.origins[first]}, append(c.origins[:first:first], c.origins[first+1:]...)...)
}

// offerResult is what comparing a peer's status found to send it.
type offerResult int

const (
	nothing    offerResult = iota // the peer lacks nothing this node can send
	offered                       // a rumor the peer lacks went to it
	onTheirWay                    // what it lacks was sent a moment ago
	blocked                       // what it lacks does not fit its budget yet
)

// offer mongers to peer the first rumor it lacks, by theirs (its status),
// that is not already on its way to it. Messages this node has forgotten
// (origins.go) are not its to give: the peer gets them from others. When
// the peer's budget does not afford the rumor, this node sends its status
// instead if it affords that: a peer of ours sends back the token it asks
// for and is proven; any peer answers with a status, which earns more.
//
// To a peer that is not proven, the origin to start from is drawn at
// random among those it lacks. A newcomer of another implementation never
// proves itself, and what it may be sent is three times what it sends:
// its statuses. Taking the origins in turn, it would list one origin for
// a thousand rumors, a status of 17 bytes for each rumor of a hundred;
// drawn at random, it soon lists them all, and its statuses pay for what
// it lacks.
func (c *Core) offer(peer string, theirs map[string]uint32, named []string, now time.Time) offerResult {
	result := nothing
	// Before any rumor goes: offering one ends the loop below, and every
	// origin the status lists, or leaves out, must be heard.
	// Only the origins with a mark can have a rumor on its way: a walk over
	// them, not over every origin held, on each status.
	if ps := c.peerStates.get(peer); ps != nil {
		for origin := range ps.sent {
			if c.byName[origin] != nil {
				ps.heard(origin, max(theirs[origin], 1))
			}
		}
	}
	origins := c.origins
	if !c.proven(peer) {
		origins = c.lackingFirst(theirs)
	}
	for _, o := range origins {
		want := max(theirs[o.name], 1)
		if want >= o.next() || want <= o.base {
			continue
		}
		if !c.peerStates.toSend(peer, o.name, want, now, c.cfg.MongerTimeout, c.cfg.ResendPatience) {
			result = onTheirWay
			continue
		}
		text, _ := o.text(want)
		if c.monger(peer, &messages.RumorMessage{Origin: o.name, ID: want, Text: text}, now) {
			return offered
		}
		c.sendStatus(peer, now, named)
		return blocked
	}
	return result
}
