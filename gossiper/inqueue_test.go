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
	for len(q.queues) > 0 {
		s, _, d, _ := q.take()
		counts[s]++
		dropped += d
	}
	if counts["flood"] != 9 || counts["honest"] != 1 || dropped != 2 {
		t.Fatalf("took %v, dropped %d; want 9 of the flood, the honest one, 2 dropped", counts, dropped)
	}
}

// Under a flood from many addresses a proven peer, however much it has
// queued, loses nothing while any other source has datagrams queued, and
// is served every other turn.
func TestInQueueFavoursPeers(t *testing.T) {
	const size = 1000
	q := newInQueue(64 * (size + queuedCost))
	q.setPeer("peer", true)
	for i := range 200 {
		q.put(fmt.Sprintf("flood-%d", i%50), make([]byte, size))
		if i%2 == 0 && !q.put("peer", []byte(fmt.Sprint(i/2))) {
			t.Fatalf("the peer's datagram %d was refused", i/2)
		}
	}
	got, dropped, floodBefore := 0, 0, false
	for len(q.queues) > 0 {
		peerWaits := q.queues["peer"] != nil
		s, b, d, _ := q.take()
		dropped += d
		if s != "peer" {
			if floodBefore && peerWaits {
				t.Fatalf("two of the flood's datagrams in a row while the peer's waited")
			}
			floodBefore = true
			continue
		}
		if string(b) != fmt.Sprint(got) {
			t.Fatalf("the peer's datagram %q came as its %dth", b, got)
		}
		got, floodBefore = got+1, false
	}
	if got != 100 || dropped == 0 {
		t.Fatalf("the peer got %d of its 100 datagrams through, the flood lost %d; want all 100, and the flood to lose some", got, dropped)
	}
}

// A full queue drops from the heaviest of the other sources before a peer,
// and from a source no longer proven as from any other.
func TestInQueuePeerLosesLast(t *testing.T) {
	const size = 1000
	for _, proven := range []bool{true, false} {
		q := newInQueue(64 * (size + queuedCost))
		q.setPeer("peer", true)
		q.setPeer("peer", proven)
		for i := range 64 {
			source := "flood"
			if i%3 != 0 {
				source = "peer" // the heavier
			}
			q.put(source, make([]byte, size))
		}
		before := len(q.queues["peer"].datagrams)
		q.put("new", make([]byte, size))
		lost := before - len(q.queues["peer"].datagrams)
		if proven && lost != 0 || !proven && lost != 1 {
			t.Errorf("proven %v: the peer lost %d datagrams for a newcomer's", proven, lost)
		}
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
	// Most often take is waiting by now, the case this is about; if not,
	// it finds the queue closed, and the result is the same.
	time.Sleep(10 * time.Millisecond)
	q2.close()
	if ok := <-done; ok {
		t.Fatal("a waiting take on an empty queue got a datagram at close")
	}
}
