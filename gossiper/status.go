package gossiper

import (
	"fmt"
	"strings"
	"time"

	"github.com/peerster/Peerster/messages"
)

// Status returns this node's vector clock.
func (c *Core) Status() []messages.PeerStatus {
	if len(c.origins) == 0 {
		return nil
	}
	// The origins kept always fit in one datagram (see admits).
	want := make([]messages.PeerStatus, 0, len(c.origins))
	for _, o := range c.origins {
		want = append(want, messages.PeerStatus{Identifier: o, NextID: c.next(o)})
	}
	return want
}

func (c *Core) onStatus(from string, s *messages.StatusPacket, now time.Time) {
	if len(s.Want) > MaxStatusEntries {
		c.drop("status-too-large")
		return
	}
	c.learn(from)
	theirs := make(map[string]uint32, len(s.Want))
	var b strings.Builder
	b.WriteString("STATUS from ")
	b.WriteString(from)
	badNames := false
	for _, w := range s.Want {
		// An entry whose name no node may take is left out of the line,
		// whose fields it would forge, and of the comparison. The rest of
		// the status still counts: an honest peer of another
		// implementation may list such a name.
		if messages.ValidateName(w.Identifier) != nil {
			badNames = true
			continue
		}
		fmt.Fprintf(&b, " peer %s nextID %d", w.Identifier, w.NextID)
		if _, dup := theirs[w.Identifier]; !dup {
			theirs[w.Identifier] = max(w.NextID, 1)
		}
	}
	if badNames {
		c.drop("status-bad-name")
	}
	if want := theirs[c.name]; want > c.next(c.name) {
		c.noteClaim(from, want, now)
	}
	c.print(b.String())
	c.print(c.peers.line())
	lacks := c.noteAhead(from, theirs)

	sess := c.sessions[from]
	delete(c.sessions, from)

	sent, onTheirWay := c.offer(from, theirs, now)
	if sent {
		delete(c.probes, from) // this may answer our anti-entropy status
		return
	}
	if lacks {
		delete(c.probes, from)
		c.sendStatus(from)
		return
	}
	if onTheirWay {
		// Not in sync, but what the peer lacks is on its way: wait for
		// its acknowledgements.
		delete(c.probes, from)
		if sess.rumor != nil {
			c.sessions[from] = sess
		}
		return
	}
	c.print("IN SYNC WITH " + from)
	if sess.rumor != nil {
		c.holders.add(Posted{sess.rumor.Origin, sess.rumor.ID}, from)
	}
	c.endSession(from, sess, now, false)
}

func (c *Core) sendStatus(to string) {
	c.send(to, &messages.GossipPacket{Status: &messages.StatusPacket{Want: c.Status()}})
}

// offer mongers to peer the first rumor it lacks, by theirs (its status),
// that is not already on its way to it, and reports whether it sent one and
// whether rumors the peer lacks are on their way.
func (c *Core) offer(peer string, theirs map[string]uint32, now time.Time) (sent, onTheirWay bool) {
	for _, o := range c.origins {
		want := max(theirs[o], 1)
		if want >= c.next(o) {
			continue
		}
		if id := c.inflight.toSend(peer, o, want, now, c.cfg.MongerTimeout, c.cfg.CatchUpTimeout); id < c.next(o) {
			c.monger(peer, &messages.RumorMessage{Origin: o, ID: id, Text: c.texts[o][id-1]}, now)
			return true, onTheirWay
		}
		onTheirWay = true
	}
	return false, onTheirWay
}
