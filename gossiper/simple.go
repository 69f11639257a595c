package gossiper

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/peerster/Peerster/messages"
)

// postSimple broadcasts the user's text to every known peer.
func (c *Core) postSimple(text string, now time.Time) {
	c.simpleForwarded[newSimpleKey(c.name, text, "")] = now
	m := &messages.SimpleMessage{OriginalName: c.name, RelayPeerAddr: c.cfg.Addr, Contents: text}
	for _, p := range c.peers.addrs {
		c.send(p, &messages.GossipPacket{Simple: m})
	}
}

func (c *Core) onSimple(from string, m *messages.SimpleMessage, now time.Time) {
	if m.OriginalName == "" || len(m.OriginalName) > messages.MaxNameBytes {
		c.drop("bad-origin")
		return
	}
	if len(m.Contents) > messages.MaxTextBytes {
		c.drop("text-too-large")
		return
	}
	// The handout learns the relay from the message; a relay field that does
	// not parse, or names us, falls back to the datagram's source.
	relay := from
	if a, err := messages.ParseAddr(m.RelayPeerAddr); err == nil && a != c.cfg.Addr {
		relay = a
	}
	c.learn(relay)
	c.print(fmt.Sprintf("SIMPLE MESSAGE origin %s from %s contents %s", printable(m.OriginalName), relay, printable(m.Contents)))
	c.print(c.peers.line())
	if !c.mayForwardSimple(newSimpleKey(m.OriginalName, m.Contents, relay), now) {
		return
	}
	var to []string
	for _, p := range c.peers.addrs {
		if p != relay && p != from {
			to = append(to, p)
		}
	}
	if rate := c.cfg.SimpleSendsPerSecond; rate > 0 && !c.simpleBudget.take(float64(len(to)), rate, now) {
		c.drop("simple-send-budget")
		return
	}
	fwd := &messages.SimpleMessage{OriginalName: m.OriginalName, RelayPeerAddr: c.cfg.Addr, Contents: m.Contents}
	for _, p := range to {
		c.send(p, &messages.GossipPacket{Simple: fwd})
	}
}

// mayForwardSimple allows one forward a minute per (origin, contents, relay)
// and none of a message this node sent itself. Keying on the relay lets two
// copies that travel a ring in opposite directions each complete their round,
// so every node hears the message from both neighbours, while a copy that
// comes round a second time stops.
func (c *Core) mayForwardSimple(k simpleKey, now time.Time) bool {
	recent := func(k simpleKey) bool {
		t, ok := c.simpleForwarded[k]
		return ok && now.Sub(t) < c.cfg.SimpleForwardInterval
	}
	if recent(k) || recent(simpleKey{k.origin, k.sum, ""}) {
		return false
	}
	if len(c.simpleForwarded) >= maxSimpleRemembered {
		for old, t := range c.simpleForwarded {
			if now.Sub(t) >= c.cfg.SimpleForwardInterval {
				delete(c.simpleForwarded, old)
			}
		}
		if len(c.simpleForwarded) >= maxSimpleRemembered {
			c.drop("simple-flood")
			return false
		}
	}
	c.simpleForwarded[k] = now
	return true
}

// simpleKey identifies a simple message arriving from one relay; contents
// are hashed so that the memory a key takes does not depend on the text.
type simpleKey struct {
	origin string
	sum    [sha256.Size]byte
	relay  string
}

func newSimpleKey(origin, contents, relay string) simpleKey {
	return simpleKey{origin, sha256.Sum256([]byte(contents)), relay}
}
