package gossiper

import (
	"fmt"
	"time"
)

// A node that lost its data folder starts its origin at ID 1 again while its
// peers still hold its old messages. A peer's status saying so is only a
// claim: anyone can send one, and numbering past it on trust would let one
// datagram push the node's IDs where no peer ever takes them. So the node
// numbers its messages only after those it holds. While a claim about its
// origin is open, new posts and route rumors wait, unnumbered, for the old
// messages to come back like any rumor the node lacks. Only a proven peer
// (sources.go) opens a claim, so one who forges addresses cannot; and
// whatever the others send, a post waits at most maxHold: claims sent
// again and again, or old messages trickling back, never make it wait
// longer.
const (
	maxHold = time.Second
	// maxHeldPosts caps the posts waiting at once.
	maxHeldPosts = 1024
)

// claim is a peer's word that the network holds messages of one of this
// node's origins up to want-1.
type claim struct {
	origin string
	want   uint32
	// progressAt is when the claim was made or last brought a message back.
	progressAt time.Time
	// timerSeq and due are the recover timer armed last, and when it fires.
	timerSeq uint64
	due      time.Time
}

// heldPost is a post waiting for the open claim; it belongs to the claim's
// origin, the node's name when it was posted. An empty text is a route
// rumor.
type heldPost struct {
	text string
	at   time.Time
}

// noteClaim opens a claim, or raises an open one, that the network holds
// messages of this node's origin up to want-1.
func (c *Core) noteClaim(from string, want uint32, now time.Time) {
	if c.claim != nil && c.claim.origin == c.name {
		c.claim.want = max(c.claim.want, want)
		return
	}
	c.endClaim(now)
	c.claim = &claim{origin: c.name, want: want, progressAt: now}
	c.out.Warnings = append(c.out.Warnings, fmt.Sprintf(
		"peer %s says the network holds messages of this node's origin %s up to ID %d, which this node lacks: new messages wait for them to come back, each for at most %s",
		from, c.name, want-1, maxHold))
	c.armRecover(now)
}

// mayHold says why a post of text cannot be taken now, or returns nil: a
// post that would have to wait for an open claim (see holdPost) when the
// posts waiting already fill what may wait.
func (c *Core) mayHold(text string) error {
	if c.claim == nil || c.claim.origin != c.name {
		return nil
	}
	if len(c.held) >= maxHeldPosts || c.heldBytes+len(text) > c.budgets.held {
		return fmt.Errorf("%d messages already wait for this node's earlier messages to come back from its peers: try again in a second", len(c.held))
	}
	return nil
}

// holdPost keeps a post aside while a claim about its origin is open, and
// reports whether it did; mayHold has allowed it.
func (c *Core) holdPost(text string, now time.Time) bool {
	if c.claim == nil || c.claim.origin != c.name {
		return false
	}
	c.held = append(c.held, heldPost{text: text, at: now})
	c.heldBytes += len(text)
	if len(c.held) == 1 && c.recoverDeadline().Before(c.claim.due) {
		c.armRecover(now)
	}
	return true
}

// claimProgress notes a message of an origin accepted at now: the claim
// about it is borne out that far.
func (c *Core) claimProgress(origin string, now time.Time) {
	if c.claim != nil && c.claim.origin == origin {
		c.claim.progressAt = now
	}
}

// settleClaim sends the held posts once the node holds all that was
// claimed. It runs after the rumors that came in are printed, so that the
// lines keep their order.
func (c *Core) settleClaim(now time.Time) {
	if c.claim != nil && c.next(c.claim.origin) >= c.claim.want {
		c.endClaim(now)
	}
}

// recoverDeadline is when the claim ends: when the first post waiting for
// it has waited maxHold, or, with none waiting, maxHold after the claim last
// brought a message back.
func (c *Core) recoverDeadline() time.Time {
	if len(c.held) > 0 {
		return c.held[0].at.Add(maxHold)
	}
	return c.claim.progressAt.Add(maxHold)
}

func (c *Core) armRecover(now time.Time) {
	after := max(c.recoverDeadline().Sub(now), time.Millisecond)
	c.claim.timerSeq, c.claim.due = c.arm(TimerRecover, c.claim.origin, after), now.Add(after)
}

func (c *Core) recoverTimeout(t Timer, now time.Time) {
	if c.claim == nil || c.claim.timerSeq != t.Seq {
		return
	}
	if now.Before(c.recoverDeadline()) {
		c.armRecover(now)
		return
	}
	c.out.Warnings = append(c.out.Warnings, fmt.Sprintf(
		"the network's messages of origin %s from ID %d to %d did not come back: numbering goes on from what this node holds",
		c.claim.origin, c.next(c.claim.origin), c.claim.want-1))
	c.endClaim(now)
}

// endClaim closes the open claim, if any, and numbers and sends the posts
// that waited for it.
func (c *Core) endClaim(now time.Time) {
	if c.claim == nil {
		return
	}
	origin, held := c.claim.origin, c.held
	c.claim, c.held, c.heldBytes = nil, nil, 0
	for _, h := range held {
		c.number(origin, h.text, now)
	}
}
