package gossiper

// The scenarios' clock and timers: tick, fire and advance
// (testdata/scenarios/README).

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// armedTimer is a timer the node armed. The runner keeps every one: the
// node has no list of its timers to ask, and fire #N may fire one again.
type armedTimer struct {
	Timer
	deadline time.Time
	fired    bool
}

// tick is the anti-entropy timer.
func (s *scenario) tick(args []token) (result, error) {
	if len(args) != 0 {
		return result{}, errors.New("tick takes no arguments")
	}
	return result{out: s.core.Tick(s.now)}, nil
}

// fire fires a timer, moving the clock to its deadline when that is later.
func (s *scenario) fire(args []token) (result, error) {
	var r result
	tm, err := s.pick(args)
	if err != nil {
		return r, err
	}
	tm.fired = true
	if tm.deadline.After(s.now) {
		s.now = tm.deadline
		r.clock = s.now.Sub(s.start).String()
	}
	r.out = s.core.Timeout(tm.Timer, s.now)
	return r, nil
}

// pick finds the timer a fire command names.
func (s *scenario) pick(args []token) (*armedTimer, error) {
	if len(args) == 1 && strings.HasPrefix(args[0].s, "#") {
		seq, err := strconv.ParseUint(args[0].s[1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad timer number %q", args[0].s)
		}
		for i := range s.timers {
			if s.timers[i].Seq == seq {
				return &s.timers[i], nil
			}
		}
		return nil, fmt.Errorf("no timer %s was armed", args[0].s)
	}
	if len(args) != 2 {
		return nil, errors.New("fire takes a kind and a peer, or #N")
	}
	for i := range s.timers {
		tm := &s.timers[i]
		if !tm.fired && tm.Kind.String() == args[0].s && (tm.Peer == args[1].s || s.timerPeer(tm.Timer) == args[1].s) {
			return tm, nil
		}
	}
	return nil, fmt.Errorf("no %s timer for %s is pending", args[0].s, args[1].s)
}

// advance moves the clock on; no timer fires by itself.
func (s *scenario) advance(args []token) (string, error) {
	if len(args) != 1 {
		return "", errors.New("advance takes one duration")
	}
	d, err := time.ParseDuration(args[0].s)
	if err != nil || d < 0 {
		return "", fmt.Errorf("bad duration %q", args[0].s)
	}
	s.now = s.now.Add(d)
	return "clock " + s.now.Sub(s.start).String(), nil
}
