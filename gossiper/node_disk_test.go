package gossiper

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// stored are the texts st has stored, joined by commas.
func stored(st *testkit.SlowDisk[Entry]) string {
	var ts []string
	for _, e := range st.Stored() {
		ts = append(ts, e.Text)
	}
	return strings.Join(ts, ",")
}

// diskNode is a node with one peer (a transport nobody reads) whose
// rumors go to st.
func diskNode(t *testing.T, st Store) (*Node, *testkit.SyncBuffer) {
	t.Helper()
	mem := NewMemNetwork(11)
	tr, _ := mem.Listen(simAddr(0))
	if _, err := mem.Listen(simAddr(1)); err != nil {
		t.Fatal(err)
	}
	out := &testkit.SyncBuffer{}
	n := NewNode(fastConfig("A", simAddr(1)), tr, out, nil)
	n.SetStore(st)
	t.Cleanup(n.Close)
	return n, out
}

func TestReadsDoNotWaitForTheDisk(t *testing.T) {
	st := testkit.NewSlowDisk[Entry](300 * time.Millisecond)
	n, out := diskNode(t, st)
	posted := testkit.PostBehindTheDisk(t, st, n.Post, n.Changed)

	var log []Entry
	testkit.Quick(t, map[string]func() error{
		"Peers":    func() error { n.Peers(); return nil },
		"Name":     func() error { n.Name(); return nil },
		"Changed":  func() error { n.Changed(); return nil },
		"Stats":    func() error { n.Stats(); return nil },
		"LogAfter": func() error { log, _ = n.LogAfter(0, 100, 1<<20); return nil },
	})
	if len(log) != 2 {
		t.Errorf("log holds %d messages while the first is being stored, want both", len(log))
	}

	for range 2 {
		if err := testkit.Await(t, posted, "return of Post"); err != nil {
			t.Fatal(err)
		}
	}
	if got := stored(st); got != "a,b" {
		t.Errorf("stored %q, want a,b", got)
	}
	if s := out.String(); strings.Index(s, "CLIENT MESSAGE a") > strings.Index(s, "CLIENT MESSAGE b") {
		t.Errorf("stdout out of order:\n%s", s)
	}
	n.Close()
}

func TestCloseCarriesOutQueuedOutputs(t *testing.T) {
	st := testkit.NewSlowDisk[Entry](0)
	n, out := diskNode(t, st)
	testkit.PostBehindTheDisk(t, st, n.Post, n.Changed)
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	close(st.Release)
	testkit.Await(t, closed, "return of Close")
	if got := stored(st); got != "a,b" {
		t.Errorf("Close returned with %q stored, want a,b", got)
	}
	if s := out.String(); !strings.Contains(s, "CLIENT MESSAGE b") {
		t.Errorf("Close returned before the queued message was printed:\n%s", s)
	}
}

// TestOutputKeepsDecisionOrder posts from many goroutines at once: what is
// stored and printed must follow the order of the log.
func TestOutputKeepsDecisionOrder(t *testing.T) {
	st := testkit.NewSlowDisk[Entry](time.Millisecond)
	n, out := diskNode(t, st)
	const posts = 40
	var wg sync.WaitGroup
	for i := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := n.Post(fmt.Sprintf("m%d", i)); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	n.Close()
	var logged, printed []string
	for _, e := range n.Log() {
		logged = append(logged, e.Text)
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if text, ok := strings.CutPrefix(line, "CLIENT MESSAGE "); ok {
			printed = append(printed, text)
		}
	}
	want := strings.Join(logged, ",")
	if len(logged) != posts {
		t.Fatalf("log holds %d messages, want %d", len(logged), posts)
	}
	if got := stored(st); got != want {
		t.Errorf("stored in the order\n%s\nwant the log's\n%s", got, want)
	}
	if got := strings.Join(printed, ","); got != want {
		t.Errorf("printed in the order\n%s\nwant the log's\n%s", got, want)
	}
}

// refusingTransport reports every peer it sends to as unreachable.
type refusingTransport struct{ *MemTransport }

func (r refusingTransport) WriteTo(b []byte, to string) error {
	if err := r.MemTransport.WriteTo(b, to); err != nil {
		return err
	}
	return &UnreachableError{To: []string{to}}
}

// TestUnreachableSendDoesNotDeadlock checks that a send refused while the
// output is carried out reaches the Core without waiting on itself.
func TestUnreachableSendDoesNotDeadlock(t *testing.T) {
	tr, _ := NewMemNetwork(12).Listen(simAddr(0))
	n := NewNode(fastConfig("A", simAddr(1)), refusingTransport{tr}, &testkit.SyncBuffer{}, nil)
	n.SetStore(testkit.NewSlowDisk[Entry](time.Millisecond))
	done := make(chan error, 1)
	go func() {
		for _, text := range []string{"one", "two"} {
			if _, err := n.Post(text); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	if err := testkit.Await(t, done, "return of two Posts to an unreachable peer"); err != nil {
		t.Fatal(err)
	}
	n.Close()
}
