package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
)

// slowStore stands for a disk whose every write takes 300ms, and says on
// entered when one begins.
type slowStore struct{ entered chan struct{} }

func (s slowStore) Append([]gossiper.Entry) error {
	s.entered <- struct{}{}
	time.Sleep(300 * time.Millisecond)
	return nil
}

// quick runs the reads at once and fails the test for each that takes
// 20ms or more, which would mean the page waited for the node's disk, or
// that fails. They run together so that each is timed while the node's
// events are still waiting for the disk.
func quick(t *testing.T, reads map[string]func() error) {
	t.Helper()
	var wg sync.WaitGroup
	for what, read := range reads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			err := read()
			took := time.Since(start)
			t.Logf("%s took %v", what, took)
			if err != nil {
				t.Errorf("%s: %v", what, err)
			} else if took >= 20*time.Millisecond {
				t.Errorf("%s took %v behind a 300ms write to disk, want under 20ms", what, took)
			}
		}()
	}
	wg.Wait()
}

// TestPageDoesNotWaitForTheDisk posts a message whose storing takes 300ms
// and a second one behind it, and reads the node's state through the page
// meanwhile.
func TestPageDoesNotWaitForTheDisk(t *testing.T) {
	net := gossiper.NewMemNetwork(3)
	tr, _ := net.Listen("127.0.0.1:5000")
	if _, err := net.Listen("127.0.0.1:5001"); err != nil {
		t.Fatal(err)
	}
	cfg := gossiper.DefaultConfig()
	cfg.Name, cfg.Peers = "A", []string{"127.0.0.1:5001"}
	node := gossiper.NewNode(cfg, tr, &testkit.SyncBuffer{}, nil)
	st := slowStore{entered: make(chan struct{}, 10)}
	node.SetStore(st)
	t.Cleanup(node.Close)
	// Made first, as it asks the node its name.
	h := NewHandler(node, Options{Addr: pageAddr})
	posted := make(chan error, 2)
	post := func(text string) {
		_, err := node.Post(text)
		posted <- err
	}
	go post("first")
	waitOn(t, st.entered, "first message being stored")
	changed := node.Changed()
	go post("second")
	waitOn(t, changed, "second message taken by the node")

	getOK := func(target string) func() error {
		return func() error {
			if w := serve(t, h, "GET", target, "", nil); w.Code != http.StatusOK {
				return fmt.Errorf("status %d: %s", w.Code, w.Body)
			}
			return nil
		}
	}
	quick(t, map[string]func() error{
		"GET /node":              getOK("/node"),
		"GET /message":           getOK("/message"),
		"GET /id":                getOK("/id"),
		"GET /routes":            getOK("/routes"),
		"GET /private":           getOK("/private"),
		"first event of /events": func() error { return firstEvent(h) },
	})
	for range 2 {
		select {
		case err := <-posted:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Post did not return within 5s")
		}
	}
}

// flushRecorder tells on flushed when the handler first flushes.
type flushRecorder struct {
	*httptest.ResponseRecorder
	once    sync.Once
	flushed chan struct{}
}

func (f *flushRecorder) Flush() {
	f.ResponseRecorder.Flush()
	f.once.Do(func() { close(f.flushed) })
}

// firstEvent opens an event stream through h and waits until its first
// events are flushed, then checks that they begin with the node's name.
func firstEvent(h http.Handler) error {
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequestWithContext(ctx, "GET", "/events", nil)
	r.Host = pageAddr
	w := &flushRecorder{ResponseRecorder: httptest.NewRecorder(), flushed: make(chan struct{})}
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		h.ServeHTTP(w, r)
	}()
	select {
	case <-w.flushed:
	case <-ended:
	case <-time.After(5 * time.Second):
	}
	cancel()
	<-ended
	if !strings.Contains(w.Body.String(), "event: id\n") {
		return fmt.Errorf("the stream began with %q, want the event id", w.Body)
	}
	return nil
}

func waitOn(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(5 * time.Second):
		t.Fatalf("no %s within 5s", what)
	}
}
