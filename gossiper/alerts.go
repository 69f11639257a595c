package gossiper

import (
	"fmt"
	"slices"
	"time"

	"github.com/peerster/Peerster/messages"
)

// Alerts are what the node's user must know and can act on: someone sends
// messages under this node's name, or its peers do not take its messages.
// The node keeps the last of each kind (Core.Alerts, the page) and writes it
// to stderr, at most once every alertQuiet per kind, so that a stranger who
// repeats one cannot flood the terminal.
const (
	alertQuiet = 10 * time.Second
	// refusedAfter is how long a message of this node may go without any
	// peer's status showing it before the node says its peers refuse it.
	refusedAfter = 5 * time.Second
)

func (c *Core) alert(kind, text string, now time.Time) {
	i := slices.IndexFunc(c.alerts, func(a Alert) bool { return a.Kind == kind })
	if i < 0 {
		c.alerts = append(c.alerts, Alert{Kind: kind, First: now})
		i = len(c.alerts) - 1
	}
	a := &c.alerts[i]
	warn := a.Count == 0 || now.Sub(a.warned) >= alertQuiet
	a.Text, a.Last = text, now
	a.Count++
	if warn {
		a.warned = now
		c.out.Warnings = append(c.out.Warnings, text)
	}
	c.out.Alerted = true
}

// impersonated notes r, a rumor under one of this node's names that it did
// not write, from the peer at from. Without signatures nobody can tell it
// from the node's own, so every node takes it; this node can at least tell
// its user, and number its next messages after it so that they are heard.
func (c *Core) impersonated(from string, r *messages.RumorMessage, now time.Time) {
	c.stats.Impersonations++
	what := "a message"
	if r.Text == "" {
		what = "a route rumor, which makes nodes send it private messages meant for this node,"
	}
	c.alert("impersonation", fmt.Sprintf(
		"%s sent %s under this node's name %s (ID %d) that this node did not write: someone may be impersonating this node (or, if it lost its data folder, it is one of its own old messages)",
		from, what, r.Origin, r.ID), now)
}

// ownSent follows the newest message of this node that no peer's status has
// shown yet, and since when no peer has taken any of its messages: with
// route rumors every second the newest is always fresh, and a lossy link
// takes the older ones one by one; that is not a refusal.
type ownSent struct {
	origin  string
	id      uint32
	alerted bool
	// shown is the most a peer's status has shown of origin's messages,
	// and progress when that last grew, or when the first message of
	// those waiting was posted.
	shown    uint32
	progress time.Time
}

func (s *ownSent) posted(origin string, id uint32, now time.Time) {
	if s.id == 0 || s.origin != origin {
		*s = ownSent{origin: origin, id: id, progress: now}
		return
	}
	s.id = id
}

// noteOwnAcks takes a peer's status, theirs: one that shows this node's
// newest message ends the wait, one that shows more of its messages than
// any did before starts it again; one that still lacks it refusedAfter
// after that makes the node tell its user.
func (c *Core) noteOwnAcks(from string, theirs map[string]uint32, now time.Time) {
	s := &c.ownSent
	if s.id == 0 {
		return
	}
	if theirs[s.origin] > s.id {
		*s = ownSent{}
		return
	}
	if next := theirs[s.origin]; next > s.shown+1 {
		// A peer took messages it had not shown before: not refused.
		s.shown, s.progress = next-1, now
	}
	if s.alerted || now.Sub(s.progress) < refusedAfter {
		return
	}
	s.alerted = true
	c.alert("refused", fmt.Sprintf(
		"peer %s does not take this node's messages: no peer has taken one for %s, and its status still lacks %s/%d (its table of origins may be full, or it refuses the name %s)",
		from, now.Sub(s.progress).Round(time.Second), s.origin, s.id, s.origin), now)
}
