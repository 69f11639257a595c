package gossiper

import "time"

// peerState is what this node keeps about one peer, as memberlist keeps a
// member's state together: one record to look up, and one to drop when
// nothing in it is live any more, so that peers this node no longer talks
// with cost nothing.
type peerState struct {
	// session is the rumor mongered to the peer that waits for its status
	// (rumor.go); its rumor is nil when none waits.
	session session
	// probe is the Seq of the timer that waits for an answer to this
	// node's status (antientropy.go); 0 when none waits.
	probe uint64
	// catchUp follows the peer while it sends what it showed ahead
	// (catchup.go).
	catchUp *catchUp
	// flippedAt is when a coin last sent the peer a rumor, if flipped
	// (coin.go); the zero time is a time like any other to a test's clock.
	flipped   bool
	flippedAt time.Time
	// sent are the in-flight marks of the rumors mongered to the peer, by
	// origin (inflight.go).
	sent map[string]*sentMark
}

// peerStates holds the records by address. Each part of a record keeps
// the bound it had on its own, counted across the records: the catch-ups
// are work, the peers followed at once; the flips and the marks are
// memory, forgotten as before when full (sendFlipped, mark). Sessions and
// probes each end with their timer. A record goes when its last live part
// does, so there are never more records than live parts.
type peerStates struct {
	byAddr map[string]*peerState
	// cfg is the Core's, whose FlipInterval tells when a flip is over.
	cfg      *Config
	catchUps int // records with a catch-up (maxCatchUps)
	flipped  int // records with a flip remembered (maxFlipped)
	marks    int // marks across records (maxInflight)
}

func newPeerStates(cfg *Config) peerStates {
	return peerStates{byAddr: map[string]*peerState{}, cfg: cfg}
}

// get returns peer's record, nil when it has none.
func (s *peerStates) get(peer string) *peerState { return s.byAddr[peer] }

// open returns peer's record, made if there is none. What is put in it
// must be live, or the record is left behind until the next settle.
func (s *peerStates) open(peer string) *peerState {
	ps := s.byAddr[peer]
	if ps == nil {
		ps = &peerState{}
		s.byAddr[peer] = ps
	}
	return ps
}

func (s *peerStates) flipOver(ps *peerState, now time.Time) bool {
	return !ps.flipped || now.Sub(ps.flippedAt) >= s.cfg.FlipInterval
}

// settle drops peer's record if nothing in it is live at now. A flip
// whose interval is over counts as none (see flipIdle), so forgetting it
// changes nothing.
func (s *peerStates) settle(peer string, now time.Time) {
	ps := s.byAddr[peer]
	if ps == nil || ps.session.rumor != nil || ps.probe != 0 || ps.catchUp != nil || len(ps.sent) > 0 || !s.flipOver(ps, now) {
		return
	}
	if ps.flipped {
		s.flipped--
	}
	delete(s.byAddr, peer)
}

// takeSession ends the session with peer and returns it; the zero session
// if there was none.
func (s *peerStates) takeSession(peer string, now time.Time) session {
	ps := s.byAddr[peer]
	if ps == nil {
		return session{}
	}
	sess := ps.session
	ps.session = session{}
	s.settle(peer, now)
	return sess
}

// endProbe stops waiting for an answer to the status sent to peer.
func (s *peerStates) endProbe(peer string, now time.Time) {
	if ps := s.byAddr[peer]; ps != nil && ps.probe != 0 {
		ps.probe = 0
		s.settle(peer, now)
	}
}

// follow starts following peer's catch-up, unless maxCatchUps peers are
// followed already.
func (s *peerStates) follow(peer string, cu *catchUp) {
	if s.catchUps < maxCatchUps {
		s.open(peer).catchUp = cu
		s.catchUps++
	}
}

// unfollow stops following peer's catch-up.
func (s *peerStates) unfollow(peer string, now time.Time) {
	if ps := s.byAddr[peer]; ps != nil && ps.catchUp != nil {
		ps.catchUp = nil
		s.catchUps--
		s.settle(peer, now)
	}
}

// flip notes that the coin sent peer a rumor at now. When maxFlipped peers
// are remembered, those whose interval is over are forgotten, or all when
// a churn of peers filled it: peers come and go (the list evicts learned
// ones).
func (s *peerStates) flip(peer string, now time.Time) {
	if s.flipped >= maxFlipped {
		s.forgetFlips(func(ps *peerState) bool { return s.flipOver(ps, now) }, now)
		if s.flipped >= maxFlipped {
			s.forgetFlips(func(*peerState) bool { return true }, now)
		}
	}
	ps := s.open(peer)
	if !ps.flipped {
		s.flipped++
	}
	ps.flipped, ps.flippedAt = true, now
}

func (s *peerStates) forgetFlips(forget func(*peerState) bool, now time.Time) {
	for peer, ps := range s.byAddr {
		if ps.flipped && forget(ps) {
			ps.flipped = false
			s.flipped--
			s.settle(peer, now)
		}
	}
}

// forgetMarks forgets every in-flight mark.
func (s *peerStates) forgetMarks(now time.Time) {
	for peer, ps := range s.byAddr {
		if len(ps.sent) > 0 {
			ps.sent = nil
			s.settle(peer, now)
		}
	}
	s.marks = 0
}
