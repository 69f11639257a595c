package gossiper

import (
	"time"

	"github.com/peerster/Peerster/messages"
)

// inflight remembers, for each peer and origin, the rumors last mongered to
// the peer, so that a status which left the peer before they arrived does
// not make the node send them again. On a busy link statuses and rumors
// cross all the time: answering each status with the first rumor it lacks
// would send every rumor many times, and the duplicates, each acknowledged
// by another status, feed on themselves until the link does nothing else.
// Instead the node sends nothing for a status that asks for a rumor on its
// way, and sends it again only when the peer has gone on lacking it for a
// while. The marks are kept in the peers' records (peerstate.go), by
// origin.
type sentMark struct {
	// lo..last are the IDs sent to the peer one after the other, the last
	// at at: a rumor sent apart from them (one mongered as new, while the
	// peer lacks earlier ones that went elsewhere) starts them anew, so
	// that a status asking for one never sent is not taken to cross it.
	lo, last uint32
	at       time.Time
	acked    uint32    // the ID the peer's last status asked for
	want     uint32    // the ID the peer's statuses ask for
	wantAt   time.Time // since when they ask for it
}

// maxInflight caps the marks remembered across peers: when it is reached
// they are all forgotten.
const maxInflight = 8192

// sent notes that r went to peer at now.
func (s *peerStates) sent(peer string, r *messages.RumorMessage, now time.Time) {
	m := s.mark(peer, r.Origin, now)
	if m.last == 0 || r.ID < m.lo || r.ID > m.last+1 {
		m.lo, m.last = r.ID, r.ID
	} else {
		m.last = max(m.last, r.ID)
	}
	m.at = now
}

// heard notes the ID of origin that the peer's status asks for. A status
// that crosses rumors on their way asks for no less than the peer's
// statuses before it did; one that asks for less comes from a peer that
// lost what it held (it restarted without its history), and the rumors
// sent to it are gone too: none of them is on its way any more.
func (ps *peerState) heard(origin string, want uint32) {
	m := ps.sent[origin]
	if m == nil {
		return
	}
	if want < m.acked {
		m.last = min(m.last, want-1)
	}
	m.acked = want
}

// toSend reports whether to send the peer, whose status asks for want of
// origin, that rumor now: not when it is on its way, sent with the others
// of lo..last in the last timeout, unless the peer has asked for it for
// longer than patience. It never offers a later rumor in its place: the handout sends
// an origin's rumors in sequence, and other implementations take only the
// next ID they expect.
func (s *peerStates) toSend(peer, origin string, want uint32, now time.Time, timeout, patience time.Duration) bool {
	m := s.mark(peer, origin, now)
	if m.want != want {
		m.want, m.wantAt = want, now
	}
	if want < m.lo || m.last < want || now.Sub(m.at) > timeout || now.Sub(m.wantAt) > patience {
		m.wantAt = now
		return true
	}
	return false
}

func (s *peerStates) mark(peer, origin string, now time.Time) *sentMark {
	if ps := s.get(peer); ps != nil {
		if m := ps.sent[origin]; m != nil {
			return m
		}
	}
	if s.marks >= maxInflight {
		s.forgetMarks(now)
	}
	ps := s.open(peer)
	if ps.sent == nil {
		ps.sent = map[string]*sentMark{}
	}
	m := &sentMark{}
	ps.sent[origin] = m
	s.marks++
	return m
}
