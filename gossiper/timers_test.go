package gossiper

import (
	"testing"
	"time"
)

// Of two timers of one kind for one peer, only the newer fires, once, and
// no earlier than it is due; other kinds, other peers and resends each fire.
func TestTimerSetKeepsTheNewestPerKindAndPeer(t *testing.T) {
	var s timerSet
	fired := make(chan Timer, 10)
	fire := func(t Timer) { fired <- t }
	start := time.Now()
	s.arm(Timer{Kind: TimerMonger, Peer: "p", Seq: 1, After: 10 * time.Millisecond}, fire)
	s.arm(Timer{Kind: TimerMonger, Peer: "p", Seq: 2, After: 50 * time.Millisecond}, fire)
	s.arm(Timer{Kind: TimerProbe, Peer: "p", Seq: 3, After: 10 * time.Millisecond}, fire)
	s.arm(Timer{Kind: TimerMonger, Peer: "q", Seq: 4, After: 10 * time.Millisecond}, fire)
	s.arm(Timer{Kind: TimerResend, Peer: "p", Seq: 5, After: 10 * time.Millisecond}, fire)
	s.arm(Timer{Kind: TimerResend, Peer: "p", Seq: 6, After: 10 * time.Millisecond}, fire)
	got := map[uint64]time.Duration{}
	for range 5 {
		select {
		case tm := <-fired:
			got[tm.Seq] = time.Since(start)
		case <-time.After(5 * time.Second):
			t.Fatalf("only %v fired", got)
		}
	}
	if _, ok := got[1]; ok {
		t.Errorf("the replaced timer fired: %v", got)
	}
	if got[2] < 50*time.Millisecond {
		t.Errorf("the newer timer fired after %v, before it was due", got[2])
	}
	for _, seq := range []uint64{2, 3, 4, 5, 6} {
		if _, ok := got[seq]; !ok {
			t.Errorf("timer %d did not fire: %v", seq, got)
		}
	}
	select {
	case tm := <-fired:
		t.Errorf("timer %d fired again", tm.Seq)
	case <-time.After(100 * time.Millisecond):
	}
}
