package gossiper

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// diskStore stands for a slow disk: each Append says it has begun on
// entered, then takes delay, or until release is closed when delay is 0.
type diskStore struct {
	delay   time.Duration
	entered chan struct{}
	release chan struct{}

	mu      sync.Mutex
	entries []Entry
}

func newDiskStore(delay time.Duration) *diskStore {
	return &diskStore{delay: delay, entered: make(chan struct{}, 1000), release: make(chan struct{})}
}

func (s *diskStore) Append(entries []Entry) error {
	s.entered <- struct{}{}
	if s.delay > 0 {
		time.Sleep(s.delay)
	} else {
		<-s.release
	}
	s.mu.Lock()
	s.entries = append(s.entries, entries...)
	s.mu.Unlock()
	return nil
}

func (s *diskStore) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var texts []string
	for _, e := range s.entries {
		texts = append(texts, e.Text)
	}
	return texts
}

// await fails the test unless ch is ready within 5s.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
	var zero T
	return zero
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

// postBehindTheDisk posts "a", whose Append st holds, then "b", and returns
// once the Core has taken "b" (which then waits for "a" to be stored). The
// returned channel gets each Post's error.
func postBehindTheDisk(t *testing.T, n *Node, st *diskStore) <-chan error {
	t.Helper()
	posted := make(chan error, 2)
	post := func(text string) {
		_, err := n.Post(text)
		posted <- err
	}
	go post("a")
	await(t, st.entered, "Append of the first message")
	changed := n.Changed()
	go post("b")
	await(t, changed, "change for the second message")
	return posted
}

// quick runs the reads at once and fails the test for each that takes
// 20ms or more, which would mean it waited for the disk. They run together
// so that each is timed while the events are still waiting for the disk.
func quick(t *testing.T, reads map[string]func()) {
	t.Helper()
	took := make(map[string]time.Duration)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for what, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			read()
			mu.Lock()
			took[what] = time.Since(start)
			mu.Unlock()
		}()
	}
	wg.Wait()
	for what, d := range took {
		t.Logf("%s took %v", what, d)
		if d >= 20*time.Millisecond {
			t.Errorf("%s took %v behind an Append of 300ms, want under 20ms", what, d)
		}
	}
}

func TestReadsDoNotWaitForTheDisk(t *testing.T) {
	st := newDiskStore(300 * time.Millisecond)
	n, out := diskNode(t, st)
	posted := postBehindTheDisk(t, n, st)

	var log []Entry
	quick(t, map[string]func(){
		"Peers":    func() { n.Peers() },
		"Name":     func() { n.Name() },
		"Changed":  func() { n.Changed() },
		"Stats":    func() { n.Stats() },
		"LogAfter": func() { log, _ = n.LogAfter(0, 100, 1<<20) },
	})
	if len(log) != 2 {
		t.Errorf("log holds %d messages while the first is being stored, want both", len(log))
	}

	for range 2 {
		if err := await(t, posted, "return of Post"); err != nil {
			t.Fatal(err)
		}
	}
	if got := strings.Join(st.texts(), ","); got != "a,b" {
		t.Errorf("stored %q, want a,b", got)
	}
	if s := out.String(); strings.Index(s, "CLIENT MESSAGE a") > strings.Index(s, "CLIENT MESSAGE b") {
		t.Errorf("stdout out of order:\n%s", s)
	}
	n.Close()
}

func TestCloseCarriesOutQueuedOutputs(t *testing.T) {
	st := newDiskStore(0)
	n, out := diskNode(t, st)
	postBehindTheDisk(t, n, st)
	closed := make(chan struct{})
	go func() { n.Close(); close(closed) }()
	close(st.release)
	await(t, closed, "return of Close")
	if got := strings.Join(st.texts(), ","); got != "a,b" {
		t.Errorf("Close returned with %q stored, want a,b", got)
	}
	if s := out.String(); !strings.Contains(s, "CLIENT MESSAGE b") {
		t.Errorf("Close returned before the queued message was printed:\n%s", s)
	}
}

// TestOutputKeepsDecisionOrder posts from many goroutines at once: what is
// stored and printed must follow the order of the log.
func TestOutputKeepsDecisionOrder(t *testing.T) {
	st := newDiskStore(time.Millisecond)
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
	if got := strings.Join(st.texts(), ","); got != want {
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
	n.SetStore(newDiskStore(time.Millisecond))
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
	if err := await(t, done, "return of two Posts to an unreachable peer"); err != nil {
		t.Fatal(err)
	}
	n.Close()
}
