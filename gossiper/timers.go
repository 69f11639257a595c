package gossiper

import (
	"sync"
	"time"
)

// timerSet arms the Core's timers. Of the timers of one kind for one peer
// only the newest counts (the Core makes the older ones do nothing), so the
// runtime keeps one time.Timer per kind and peer and moves it on, where a
// timer for every rumor would start thousands of timers and goroutines a
// second on a busy node. Resend timers, several per peer, each run.
type timerSet struct {
	mu      sync.Mutex
	pending map[timerKey]*pendingTimer
}

type timerKey struct {
	kind TimerKind
	peer string
}

type pendingTimer struct {
	timer Timer
	due   time.Time
	t     *time.Timer
}

// arm calls fire with t once t.After has passed, unless a newer timer of
// the same kind for the same peer replaces it first.
func (s *timerSet) arm(t Timer, fire func(Timer)) {
	if t.Kind == TimerResend {
		time.AfterFunc(t.After, func() { fire(t) })
		return
	}
	k := timerKey{t.Kind, t.Peer}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending == nil {
		s.pending = map[timerKey]*pendingTimer{}
	}
	p := s.pending[k]
	if p == nil {
		p = &pendingTimer{}
		s.pending[k] = p
		p.timer, p.due = t, time.Now().Add(t.After)
		p.t = time.AfterFunc(t.After, func() { s.expire(k, fire) })
		return
	}
	p.timer, p.due = t, time.Now().Add(t.After)
	p.t.Reset(t.After)
}

// expire fires the timer pending for k, or waits on if it was moved later
// while its time.Timer was going off.
func (s *timerSet) expire(k timerKey, fire func(Timer)) {
	s.mu.Lock()
	p := s.pending[k]
	if p == nil {
		s.mu.Unlock()
		return
	}
	if wait := time.Until(p.due); wait > 0 {
		p.t.Reset(wait)
		s.mu.Unlock()
		return
	}
	delete(s.pending, k)
	s.mu.Unlock()
	fire(p.timer)
}
