package gossiper

import (
	"fmt"
	"time"

	"github.com/peerster/Peerster/messages"
)

// session is a rumor sent to a peer whose status has not come back yet.
type session struct {
	rumor *messages.RumorMessage
	seq   uint64
	// idle marks a rumor sent by a flip that ended an idle exchange.
	idle bool
}

// postRumor numbers the user's text as this node's next rumor and starts
// mongering it, unless it must wait for the node's earlier messages (see
// recovery.go): then its ID is 0 until it goes out.
func (c *Core) postRumor(text string, now time.Time) Posted {
	if c.holdPost(text, now) {
		return Posted{Origin: c.name}
	}
	return c.number(c.name, text, now)
}

func (c *Core) onRumor(from string, r *messages.RumorMessage, now time.Time) {
	if messages.ValidateName(r.Origin) != nil {
		c.drop("bad-origin")
		return
	}
	if r.ID == 0 {
		c.drop("bad-id")
		return
	}
	if len(r.Text) > messages.MaxTextBytes {
		c.drop("text-too-large")
		return
	}
	if reason := c.admits(r.Origin); reason != "" {
		c.drop(reason)
		return
	}
	c.learn(from)
	if next := c.next(r.Origin); r.ID != next {
		// Only the next message of an origin is taken, so a log never has a
		// gap: one a little ahead waits in the window for its turn, and the
		// status tells the sender where to resume.
		if r.ID < next {
			c.stats.Duplicates++
		} else {
			c.stats.OutOfOrder++
			if n := c.window.keep(r, from, next); n > 0 {
				c.stats.Dropped["window-share"] += uint64(n)
			}
		}
		c.sendStatus(from)
		return
	}
	delete(c.probes, from) // a rumor we lacked answers our anti-entropy status
	c.takeRumor(from, r, now)
	for {
		held, ok := c.window.take(Posted{r.Origin, c.next(r.Origin)})
		if !ok {
			break
		}
		c.takeRumor(held.from, held.rumor, now)
	}
	c.settleClaim(now)
	c.sendStatus(from)
	c.probe(from)
	c.awaitCatchUp(from, true)
	if to, ok := c.pickPeer(from); ok {
		c.monger(to, r, now)
	}
}

// takeRumor adds a rumor from a peer to the history as the next of its
// origin, and prints it.
func (c *Core) takeRumor(from string, r *messages.RumorMessage, now time.Time) {
	c.accept(r, now)
	c.holders.add(Posted{r.Origin, r.ID}, from)
	// A rumor without text is a route rumor, not a chat message: a RUMOR
	// line for it would read as an empty chat message.
	if r.Text != "" {
		c.print(fmt.Sprintf("RUMOR origin %s from %s ID %d contents %s", printable(r.Origin), from, r.ID, printable(r.Text)))
		c.print(c.peers.line())
	}
	c.noteRoute(r.Origin, from)
}

func (c *Core) accept(r *messages.RumorMessage, now time.Time) {
	if _, seen := c.texts[r.Origin]; !seen {
		c.origins = append(c.origins, r.Origin)
		c.statusBytes += statusEntryBytes(r.Origin)
	}
	c.texts[r.Origin] = append(c.texts[r.Origin], r.Text)
	c.stats.Accepted++
	c.out.Accepted = append(c.out.Accepted, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now})
	// Empty rumors carry no chat text (later versions of the protocol use
	// them for routing); they are gossiped but kept out of the chat log.
	if r.Text != "" {
		c.logSeq++
		c.log = append(c.log, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now, Seq: c.logSeq})
	}
	c.latest, c.latestAt = r, now
	c.claimProgress(r.Origin, now)
}

func (c *Core) monger(to string, r *messages.RumorMessage, now time.Time) {
	c.inflight.sent(to, r, now)
	c.print("MONGERING with " + to)
	c.send(to, &messages.GossipPacket{Rumor: r})
	c.timerSeq++
	c.sessions[to] = session{rumor: r, seq: c.timerSeq}
	c.out.Timers = append(c.out.Timers, Timer{Kind: TimerMonger, Peer: to, Seq: c.timerSeq, After: c.cfg.MongerTimeout})
}
