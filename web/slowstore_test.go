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
	st := testkit.NewSlowDisk[gossiper.Entry](300 * time.Millisecond)
	node.SetStore(st)
	t.Cleanup(node.Close)
	// Made first, as it asks the node its name.
	h := NewHandler(node, Options{Addr: pageAddr})
	posted := testkit.PostBehindTheDisk(t, st, node.Post, node.Changed)

	getOK := func(target string) func() error {
		return func() error {
			if w := serve(t, h, "GET", target, "", nil); w.Code != http.StatusOK {
				return fmt.Errorf("status %d: %s", w.Code, w.Body)
			}
			return nil
		}
	}
	testkit.Quick(t, map[string]func() error{
		"GET /node":              getOK("/node"),
		"GET /message":           getOK("/message"),
		"GET /id":                getOK("/id"),
		"GET /routes":            getOK("/routes"),
		"GET /private":           getOK("/private"),
		"first event of /events": func() error { return firstEvent(h) },
	})
	for range 2 {
		if err := testkit.Await(t, posted, "return of Post"); err != nil {
			t.Fatal(err)
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
