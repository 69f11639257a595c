package gossiper

import (
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// session is a rumor sent to a peer whose status has not come back yet.
type session struct {
	rumor *messages.RumorMessage
	seq   uint64
	// idle marks a rumor sent by a flip that ended an idle exchange.
	idle bool
}

// rumorKey names a rumor of any origin.
type rumorKey struct {
	origin string
	id     uint32
}

func keyOf(r *messages.RumorMessage) rumorKey { return rumorKey{r.Origin, r.ID} }

// postRumor numbers the user's text as this node's next rumor and starts
// mongering it, unless it must wait for the node's earlier messages (see
// recovery.go): then its ID is 0 until it goes out.
func (c *Core) postRumor(text string, now time.Time) Posted {
	if c.holdPost(text, now) {
		return Posted{Origin: c.name}
	}
	return c.number(c.name, text, now)
}

// number gives text the next ID of origin, one of this node's names, and
// starts mongering it.
func (c *Core) number(origin, text string, now time.Time) Posted {
	o := c.byName[origin]
	if o == nil {
		// Room for this node's own name is kept, or made: its own names
		// take the place of another source's origin (see victim).
		var reason string
		if o, reason = c.admit(origin, "", "", now); o == nil {
			c.drop("own-" + reason)
			return Posted{Origin: origin}
		}
	}
	c.ownNames[origin] = true
	r := &messages.RumorMessage{Origin: origin, ID: o.next(), Text: text}
	c.accept(o, r, false, now)
	c.ownSent.posted(origin, r.ID, now)
	if to, ok := c.pickPeer(""); ok {
		c.monger(to, r, now)
	}
	return Posted{Origin: r.Origin, ID: r.ID}
}

// badRumor says why a rumor is dropped whatever the node holds, or "".
func badRumor(r *messages.RumorMessage) string {
	switch {
	case messages.ValidateName(r.Origin) != nil:
		return "bad-origin"
	case r.ID == 0:
		return "bad-id"
	case len(r.Text) > messages.MaxTextBytes:
		return "text-too-large"
	}
	return ""
}

func (c *Core) onRumor(from string, r *messages.RumorMessage, now time.Time) {
	if reason := badRumor(r); reason != "" {
		c.drop(reason)
		return
	}
	// The proof is the sender's word to this node alone: taken here, and
	// never kept with the message or passed on.
	if r.Proof != nil {
		c.checkProof(from, r.Proof, now)
		r.Proof = nil
	}
	o := c.byName[r.Origin]
	if next := c.next(r.Origin); r.ID != next {
		c.notNext(from, o, r, next, now)
		return
	}
	if o == nil {
		var reason string
		if o, reason = c.admit(r.Origin, c.ownerOf(from), from, now); o == nil {
			// No answer either: the status would not list it, and the peer
			// would offer it again at once.
			c.drop(reason)
			return
		}
	}
	c.learn(from)
	c.peerStates.endProbe(from, now) // a rumor we lacked answers our anti-entropy status
	c.takeRumor(from, o, r, now)
	for {
		held, ok := c.window.take(rumorKey{r.Origin, o.next()})
		if !ok {
			break
		}
		c.takeRumor(held.from, o, held.rumor, now)
	}
	c.settleClaim(now)
	c.sendStatus(from, now, nil)
	c.probe(from)
	c.awaitCatchUp(from, true, now)
	if to, ok := c.pickPeer(from); ok {
		c.monger(to, r, now)
	}
}

// notNext answers a rumor that is not its origin's next. Only the next
// message of an origin is taken, so a log never has a gap: one a little
// ahead waits in the window for its turn, and the status tells the sender
// where to resume.
func (c *Core) notNext(from string, o *origin, r *messages.RumorMessage, next uint32, now time.Time) {
	switch {
	case r.ID > next:
		c.stats.OutOfOrder++
		if n := c.window.keep(r, from, next, c.budgets.window); n > 0 {
			c.stats.Dropped["window-share"] += uint64(n)
		}
	case o == nil:
		// An evicted origin's old rumor: peers go on offering it, and an
		// answer would make them offer it again and again.
		c.drop("evicted-origin")
		return
	default:
		c.stats.Duplicates++
	}
	c.learn(from)
	c.sendStatus(from, now, nil)
}

// takeRumor adds a rumor of o from a peer to the history as o's next, and
// prints it.
func (c *Core) takeRumor(from string, o *origin, r *messages.RumorMessage, now time.Time) {
	forged := c.protected(r.Origin)
	if forged {
		c.impersonated(from, r, now)
	}
	c.accept(o, r, forged, now)
	c.holders.add(keyOf(r), from)
	// A rumor without text is a route rumor, not a chat message: a RUMOR
	// line for it would read as an empty chat message.
	if r.Text != "" {
		c.print(stdoutline.Rumor{Origin: r.Origin, From: from, ID: r.ID, Text: r.Text}.String())
		c.print(c.peers.line())
	}
	c.noteRoute(r.Origin, from, now)
}

// accept adds r, the next message of o, to the history. forged marks a
// message under this node's own name that it did not write.
func (c *Core) accept(o *origin, r *messages.RumorMessage, forged bool, now time.Time) {
	c.hold(o, r.Text, now)
	c.stats.Accepted++
	c.out.Accepted = append(c.out.Accepted, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now})
	// Empty rumors carry no chat text (later versions of the protocol use
	// them for routing); they are gossiped but kept out of the chat log.
	if r.Text != "" {
		c.appendLog(r.Origin, r.ID, r.Text, forged, now)
	}
	c.latest, c.latestAt = r, now
	c.claimProgress(r.Origin, now)
}

// monger sends r to the peer at to and waits for its status, and reports
// whether the peer's budget let it go. To a peer that has not proven its
// address the rumor asks for the token, so that a node of ours proves
// itself with its acknowledgement.
func (c *Core) monger(to string, r *messages.RumorMessage, now time.Time) bool {
	p := &messages.GossipPacket{Rumor: r}
	if proof := c.proofFor(to, now); proof != nil {
		asked := *r
		asked.Proof = proof
		p.Rumor = &asked
	}
	if !c.affords(to, p, now) {
		c.stats.Refused++
		return false
	}
	c.peerStates.sent(to, r, now)
	c.print(stdoutline.Mongering{To: to}.String())
	c.send(to, p, now)
	c.peerStates.open(to).session = session{rumor: r, seq: c.arm(TimerMonger, to, c.cfg.MongerTimeout)}
	return true
}

// endSession ends the exchange with peer that sess was waiting for; timedOut
// tells that no status came.
func (c *Core) endSession(peer string, sess session, now time.Time, timedOut bool) {
	if sess.rumor == nil || sess.idle {
		c.flipIdle(peer, now)
		return
	}
	c.flipCoin(peer, sess.rumor, now, timedOut)
}

// mongerTimeout ends a rumor's wait for its acknowledgement; a rumor that
// was not acknowledged may be retried with the same peer.
func (c *Core) mongerTimeout(t Timer, now time.Time) {
	if ps := c.peerStates.get(t.Peer); ps == nil || ps.session.rumor == nil || ps.session.seq != t.Seq {
		return
	}
	c.endSession(t.Peer, c.peerStates.takeSession(t.Peer, now), now, true)
}
