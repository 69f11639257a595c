package gossiper

import (
	"errors"
	"fmt"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// ErrNoRoute is what SendPrivate returns for a destination this node has
// no next hop for: it has not taken a rumor of that origin yet.
var ErrNoRoute = errors.New("no route")

// maxPrivateKept and maxPrivateBytes cap the private messages a node keeps
// for its user, sent and received, and the bytes of their texts (a smaller
// memory budget lowers the bytes, see budgets): anyone can
// send a node private messages. Past either, the oldest eighth is forgotten
// at once, so the cost of forgetting is spread over many messages (a stored
// one stays on disk).
const (
	maxPrivateKept  = 10000
	maxPrivateBytes = 8 << 20
)

// PrivateEntry is one private message this node sent or received.
type PrivateEntry struct {
	Origin      string
	Destination string
	Text        string
	// HopLimit is the limit it arrived with, or left with when sent.
	HopLimit uint32
	// Sent says this node sent it; else it received it.
	Sent bool
	At   time.Time
}

// With is the other party of the conversation the message belongs to.
func (e PrivateEntry) With() string {
	if e.Sent {
		return e.Destination
	}
	return e.Origin
}

// SendPrivate sends text to the node named dest, through the next hop
// towards it, and returns the message as kept for the user. Private
// messages are not acknowledged or resent: one lost on the way is lost.
func (c *Core) SendPrivate(dest, text string, now time.Time) (Output, PrivateEntry, error) {
	if err := messages.ValidateText(text); err != nil {
		return Output{}, PrivateEntry{}, err
	}
	if err := messages.ValidateName(dest); err != nil {
		return Output{}, PrivateEntry{}, fmt.Errorf("destination: %w", err)
	}
	if dest == c.name {
		return Output{}, PrivateEntry{}, fmt.Errorf("%q is this node's own name", dest)
	}
	hop, ok := c.routes[dest]
	if !ok {
		c.drop("no-route")
		return Output{}, PrivateEntry{}, fmt.Errorf("%w to %q: this node has not heard from it yet", ErrNoRoute, dest)
	}
	pm := &messages.PrivateMessage{Origin: c.name, Text: text, Destination: dest, HopLimit: messages.DefaultHopLimit}
	if !c.send(hop, &messages.GossipPacket{Private: pm}, now) {
		return Output{}, PrivateEntry{}, fmt.Errorf("the next hop towards %q, %s, has not yet shown that it receives what this node sends, and its budget is spent: try again in a few seconds", dest, hop)
	}
	sent := PrivateEntry{Origin: c.name, Destination: dest, Text: text, HopLimit: pm.HopLimit, Sent: true, At: now}
	c.stats.PrivateSent++
	c.keepPrivate(sent)
	return c.take(), sent, nil
}

// forward sends p, a copy of a routed packet whose hop limit is at limit,
// one hop closer to dest, and reports whether it went. The sender picks the
// hop limit, and one of 4294967295 would circle a routing loop (two forged
// routes make one) for hours: no packet travels further than the
// protocol's own limit, whatever it says. hop is p's hop limit field, which
// forward sets one lower.
func (c *Core) forward(dest string, limit uint32, hop *uint32, p *messages.GossipPacket, now time.Time) bool {
	limit = min(limit, messages.DefaultHopLimit)
	if limit <= 1 {
		c.drop("hop-limit")
		return false
	}
	next, ok := c.routes[dest]
	if !ok {
		c.drop("no-route")
		return false
	}
	*hop = limit - 1
	if !c.send(next, p, now) {
		c.drop("send-budget")
		return false
	}
	return true
}

// onPrivate delivers a private message for this node, or forwards it one
// hop closer to its destination.
func (c *Core) onPrivate(from string, pm *messages.PrivateMessage, now time.Time) {
	if err := messages.ValidatePrivate(pm); err != nil {
		c.drop("bad-private")
		return
	}
	c.learn(from)
	if pm.Destination == c.name {
		c.stats.PrivateDelivered++
		c.print(stdoutline.Private{Origin: pm.Origin, HopLimit: pm.HopLimit, Text: pm.Text}.String())
		c.keepPrivate(PrivateEntry{Origin: pm.Origin, Destination: pm.Destination, Text: pm.Text, HopLimit: pm.HopLimit, At: now})
		return
	}
	fwd := *pm
	if c.forward(pm.Destination, pm.HopLimit, &fwd.HopLimit, &messages.GossipPacket{Private: &fwd}, now) {
		c.stats.PrivateForwarded++
	}
}

func (c *Core) keepPrivate(e PrivateEntry) {
	c.privates = append(c.privates, e)
	c.privateBytes += len(e.Text)
	if len(c.privates) > maxPrivateKept || c.privateBytes > c.budgets.private {
		n := max(len(c.privates)/8, 1)
		for _, old := range c.privates[:n] {
			c.privateBytes -= len(old.Text)
		}
		c.privates = append(c.privates[:0], c.privates[n:]...)
		c.privateBase += n
	}
	c.out.Private = append(c.out.Private, e)
}

// PrivatesSince returns the private messages after the first n ever kept
// (counting those forgotten), and the count to ask from next time.
func (c *Core) PrivatesSince(n int) ([]PrivateEntry, int) {
	total := c.privateBase + len(c.privates)
	if n < c.privateBase {
		n = c.privateBase
	}
	if n > total {
		n = total
	}
	return append([]PrivateEntry(nil), c.privates[n-c.privateBase:]...), total
}

// RestorePrivate brings back private messages an earlier run stored,
// oldest first.
func (c *Core) RestorePrivate(entries []PrivateEntry) {
	for _, e := range entries {
		c.keepPrivate(e)
	}
	c.out = Output{}
}
