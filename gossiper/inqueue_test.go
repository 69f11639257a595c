package gossiper

import (
	"fmt"
	"testing"
	"time"
)

// A sender of a little is served after one datagram of each other sender,
// however much they have queued.
func TestInQueueServesSourcesInTurn(t *testing.T) {
	q := newInQueue(1 << 20)
	for i := range 100 {
		for s := range 3 {
			q.put(fmt.Sprintf("flood-%d", s), []byte(fmt.Sprint(i)))
		}
	}
	q.put("honest", []byte("hi"))
	for i := 0; ; i++ {
		source, _, _, ok := q.take()
		if !ok {
			t.Fatal("queue closed")
		}
		if source == "honest" {
			if i > 3 {
				t.Fatalf("the honest datagram came %dth, after %d of the flood's", i+1, i)
			}
			return
		}
	}
}

// Past its bytes, the queue drops the newest datagram of the source that
// holds the most, never a lighter source's.
func TestInQueueDropsFromTheHeaviestSource(t *testing.T) {
	const size = 1000
	q := newInQueue(10 * (size + queuedCost))
	for range 10 {
		if !q.put("flood", make([]byte, size)) {
			t.Fatal("refused a datagram with room left")
		}
	}
	if q.put("flood", make([]byte, size)) {
		t.Fatal("the heaviest source grew past the bound")
	}
	if !q.put("honest", make([]byte, size)) {
		t.Fatal("a lighter source was refused")
	}
	if q.bytes > q.maxBytes {
		t.Fatalf("queued %d bytes, bound %d", q.bytes, q.maxBytes)
	}
	counts := map[string]int{}
	dropped := 0
	for len(q.turns) > 0 {
		s, _, d, _ := q.take()
		counts[s]++
		dropped += d
	}
	if counts["flood"] != 9 || counts["honest"] != 1 || dropped != 2 {
		t.Fatalf("took %v, dropped %d; want 9 of the flood, the honest one, 2 dropped", counts, dropped)
	}
}

// A closed queue gives what it holds, then says so; a waiting take wakes.
func TestInQueueClose(t *testing.T) {
	q := newInQueue(1 << 10)
	q.put("a", []byte("x"))
	q.close()
	if s, _, _, ok := q.take(); !ok || s != "a" {
		t.Fatalf("took %q, %v after close; want the queued datagram", s, ok)
	}
	if _, _, _, ok := q.take(); ok {
		t.Fatal("an empty closed queue gave a datagram")
	}
	if q.put("a", []byte("y")) {
		t.Fatal("a closed queue took a datagram")
	}
	q2 := newInQueue(1 << 10)
	done := make(chan bool)
	go func() {
		_, _, _, ok := q2.take()
		done <- ok
	}()
	time.Sleep(10 * time.Millisecond)
	q2.close()
	if ok := <-done; ok {
		t.Fatal("a waiting take on an empty queue got a datagram at close")
	}
}
