package gossiper

import (
	"crypto/sha256"
	"encoding/binary"
	"time"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/messages"
)

// Anyone can send a datagram with any source address, and every answer a
// node sends goes to that address. A stranger who forges a victim's address
// could make the node send the victim far more than it sent (a 2-byte
// status draws a 60 KB rumor), so, as QUIC does before it has validated an
// address, a node sends an address that has not shown it receives what the
// node sends at most amplification times the bytes it received from it,
// plus an allowance, and all such addresses together within a node-wide
// rate. An address shows it by sending back a token the node asked of it in
// a status (messages.AddressProof): whoever forges the address never sees
// the token. Peers given at start or added by hand need no proof, and a
// proven peer is never slowed.
const (
	amplification = 3
	// addressAllowance is what an unproven address may be sent before it
	// has sent anything that earns more: a status and a few rumors.
	addressAllowance = 4 << 10
	// maxCredit caps what an unproven address may bank.
	maxCredit = 256 << 10
	// maxSources caps the addresses a node keeps budgets for at once.
	maxSources = 4096
	// sourceQuiet is how long an address that is not proven must be
	// silent before its record may be dropped to make room.
	sourceQuiet = 10 * time.Second
)

// source is what a node keeps of one address it hears from or sends to.
type source struct {
	// in is what the address may still send this node; a datagram weighs
	// its bytes, and at least what handling any datagram costs.
	in bucket
	// credit is what this node may still send it while it is unproven.
	credit float64
	proven bool
	// token is what this node asks of it; theirAsk what it last asked of
	// this node, to send back.
	token, theirAsk uint64
	seen            time.Time
	// newOrigins is how many origins it may still bring that the node did
	// not know, while it is unproven (see origins.go).
	newOrigins bucket
	// probed is when it was last sent a probe, and pending the data reply
	// that waits for it (see probe.go).
	probed  time.Time
	pending *Serve
}

// sources keeps the budgets of the addresses a node deals with, bounded to
// maxSources addresses.
type sources struct {
	secret [sha256.Size]byte
	m      map[string]*source
	// unproven is what all unproven addresses together may be sent.
	unproven bucket
}

func newSources(secret []byte) *sources {
	return &sources{secret: sha256.Sum256(secret), m: map[string]*source{}}
}

// get returns the record of addr, making one if needed.
func (s *sources) get(addr string, c *Core, now time.Time) *source {
	if r := s.m[addr]; r != nil {
		return r
	}
	if len(s.m) >= maxSources {
		s.evict(now)
	}
	h := sha256.Sum256(append(s.secret[:], addr...))
	r := &source{
		in:         bucket{tokens: 2 * c.inRate(), last: now},
		credit:     addressAllowance,
		token:      binary.LittleEndian.Uint64(h[:]) | 1, // never 0, which means none
		seen:       now,
		newOrigins: bucket{tokens: 2 * newOriginsPerSource, last: now},
	}
	s.m[addr] = r
	return r
}

// evict makes room: unproven addresses quiet for a while first, then any
// unproven one, and only when every address is proven, any. It frees an
// eighth at least, so that a flood from ever new addresses costs a scan
// of the records every maxSources/8 addresses, not at each.
func (s *sources) evict(now time.Time) {
	for a, r := range s.m {
		if !r.proven && now.Sub(r.seen) >= sourceQuiet {
			delete(s.m, a)
		}
	}
	for _, provenToo := range []bool{false, true} {
		for a, r := range s.m {
			if len(s.m) < maxSources/8*7 {
				return
			}
			if !r.proven || provenToo {
				delete(s.m, a)
			}
		}
	}
}

// inRate is the rate, in datagrams a second, at which one address may
// send, and datagramCost what a datagram of n bytes weighs against it: one
// datagram, or as many as its bytes are worth at MaxBytesPerSecond. A
// datagram's handling costs at least that of a small one, and one 60 KB
// datagram weighs as much as many small ones.
func (c *Core) inRate() float64 { return c.cfg.MaxPacketsPerSecond }

func (c *Core) datagramCost(n int) float64 {
	if c.cfg.MaxBytesPerSecond <= 0 {
		return 1
	}
	return max(1, float64(n)*c.cfg.MaxPacketsPerSecond/c.cfg.MaxBytesPerSecond)
}

// received notes a datagram of n bytes from from, and reports whether its
// budget lets the node handle it. Whatever it sent earns credit for
// answers, handled or not: the address spent those bytes.
func (c *Core) received(from string, n int, now time.Time) bool {
	if c.cfg.MaxPacketsPerSecond <= 0 && c.cfg.UnprovenBytesPerSecond <= 0 {
		return true
	}
	r := c.sources.get(from, c, now)
	r.seen = now
	r.credit = min(r.credit+amplification*float64(n), maxCredit)
	return c.cfg.MaxPacketsPerSecond <= 0 || r.in.take(c.datagramCost(n), c.inRate(), now)
}

// proven reports whether addr has shown that it receives what this node
// sends it, or needs not: a peer given at start or by hand.
func (c *Core) proven(addr string) bool {
	if c.peers.bootstrap[addr] {
		return true
	}
	r := c.sources.m[addr]
	return r != nil && r.proven
}

// affords reports whether p may be sent to to now.
func (c *Core) affords(to string, p *messages.GossipPacket, now time.Time) bool {
	if c.cfg.UnprovenBytesPerSecond <= 0 || c.proven(to) {
		return true
	}
	return c.affordsBytes(to, messages.Size(p), now)
}

// affordsBytes reports whether the budget of addr, which is not proven,
// affords size bytes now.
func (c *Core) affordsBytes(addr string, size int, now time.Time) bool {
	r := c.sources.get(addr, c, now)
	if r.credit < float64(size) {
		return false
	}
	return c.sources.unproven.available(float64(size), c.cfg.UnprovenBytesPerSecond, now)
}

// spend takes what sending p to to costs from its budgets; the caller has
// checked that it affords it.
func (c *Core) spend(to string, p *messages.GossipPacket, now time.Time) {
	if c.cfg.UnprovenBytesPerSecond <= 0 || c.proven(to) {
		return
	}
	c.spendBytes(to, messages.Size(p), now)
}

func (c *Core) spendBytes(addr string, size int, now time.Time) {
	c.sources.get(addr, c, now).credit -= float64(size)
	c.sources.unproven.take(float64(size), c.cfg.UnprovenBytesPerSecond, now)
}

// chargeable reports whether what a datagram from from makes this node
// send, size bytes wherever they go, fits from's budget, and takes it: a
// data request names who the reply goes to, and a stranger who forges that
// name must pay for the reply as if it were sent to it.
func (c *Core) chargeable(from string, size int, now time.Time) bool {
	if c.cfg.UnprovenBytesPerSecond <= 0 || c.proven(from) {
		return true
	}
	if !c.affordsBytes(from, size, now) {
		return false
	}
	c.spendBytes(from, size, now)
	return true
}

// proofFor is the proof a status to to carries: the token this node asks
// of it while it is unproven, and the one it asked of this node.
func (c *Core) proofFor(to string, now time.Time) *messages.AddressProof {
	if c.cfg.UnprovenBytesPerSecond <= 0 {
		return nil
	}
	var p messages.AddressProof
	if r := c.sources.m[to]; r != nil {
		p.Echo = protobuf.Ufixed64(r.theirAsk)
	}
	if !c.proven(to) {
		p.Ask = protobuf.Ufixed64(c.sources.get(to, c, now).token)
	}
	if p.Ask == 0 && p.Echo == 0 {
		return nil
	}
	return &p
}

// checkProof takes the proof a status from from carried: the token this
// node asked of it proves the address, and the token it asks of this node
// goes back in the next status to it.
func (c *Core) checkProof(from string, p *messages.AddressProof, now time.Time) {
	if c.cfg.UnprovenBytesPerSecond <= 0 {
		return
	}
	r := c.sources.m[from]
	if p == nil {
		if r != nil {
			r.theirAsk = 0
		}
		return
	}
	r = c.sources.get(from, c, now)
	r.theirAsk = uint64(p.Ask)
	if !r.proven && p.Echo != 0 && uint64(p.Echo) == r.token {
		r.proven = true
	}
}
