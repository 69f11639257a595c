package gossiper

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// recordingStore checks, at each Append, that nothing of the event has been
// printed or sent yet.
type recordingStore struct {
	mu      sync.Mutex
	entries []Entry
	stdout  *testkit.SyncBuffer
	peer    *MemTransport // the node's only peer: anything sent lands here
	early   []string      // what had already escaped at an Append
	fail    bool
}

func (s *recordingStore) Append(entries []Entry) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range entries {
		if e.Text != "" && strings.Contains(s.stdout.String(), e.Text) {
			s.early = append(s.early, "printed "+e.Text)
		}
	}
	if len(s.peer.in) > 0 {
		s.early = append(s.early, "sent before storing")
	}
	if s.fail {
		return errors.New("disk full")
	}
	s.entries = append(s.entries, entries...)
	return nil
}

func (s *recordingStore) stored() []Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Entry(nil), s.entries...)
}

func TestNodeStoresBeforePrintingAndSending(t *testing.T) {
	mem := NewMemNetwork(7)
	tr, _ := mem.Listen(simAddr(0))
	peer, _ := mem.Listen(simAddr(1)) // read by nobody, so it keeps what arrives
	out := &testkit.SyncBuffer{}
	st := &recordingStore{stdout: out, peer: peer}
	n := NewNode(fastConfig("A", simAddr(1)), tr, out, nil)
	n.SetStore(st)
	if skipped := n.Restore([]Entry{{Origin: "A", ID: 1, Text: "old"}, {Origin: "B", ID: 1}, {Origin: "A", ID: 3}}); skipped != 1 {
		t.Fatalf("Restore skipped %d, want 1 (the gap)", skipped)
	}
	p, err := n.Post("new")
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != 2 {
		t.Fatalf("first message after a restore has ID %d, want 2", p.ID)
	}
	got := st.stored()
	if len(got) != 1 || got[0].Origin != "A" || got[0].ID != 2 || got[0].Text != "new" {
		t.Fatalf("stored %+v", got)
	}
	if len(st.early) > 0 {
		t.Fatalf("escaped before it was stored: %v", st.early)
	}
	if !strings.Contains(out.String(), "CLIENT MESSAGE new") || len(peer.in) == 0 {
		t.Fatal("the message was stored but neither printed nor sent")
	}
	if log := n.Log(); len(log) != 2 {
		t.Fatalf("log = %+v; restored empty rumors stay out of the chat log", log)
	}
	n.Close()
}

func TestNodeGoesOnWhenTheStoreFails(t *testing.T) {
	mem := NewMemNetwork(8)
	tr, _ := mem.Listen(simAddr(0))
	peer, _ := mem.Listen(simAddr(1))
	out := &testkit.SyncBuffer{}
	n := NewNode(fastConfig("A", simAddr(1)), tr, out, nil)
	n.SetStore(&recordingStore{stdout: out, peer: peer, fail: true})
	if _, err := n.Post("kept in memory"); err != nil {
		t.Fatal(err)
	}
	if len(n.Log()) != 1 || !strings.Contains(out.String(), "CLIENT MESSAGE kept in memory") {
		t.Fatal("a failing store stopped the node")
	}
	n.Close()
}

func TestCloseWaitsForAStoreInProgress(t *testing.T) {
	tr, _ := NewMemNetwork(9).Listen(simAddr(0))
	n := NewNode(fastConfig("A"), tr, &testkit.SyncBuffer{}, nil)
	st := testkit.NewSlowDisk[Entry](0)
	n.SetStore(st)
	go n.Post("slow")
	<-st.Entered
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while an Append was in progress")
	case <-time.After(50 * time.Millisecond):
	}
	close(st.Release)
	<-closed
	if len(st.Stored()) == 0 {
		t.Fatal("Close returned before the Append")
	}
}
