package web

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// fakeNode is a Node whose state the test sets directly.
type fakeNode struct {
	mu      sync.Mutex
	name    string
	peers   []string
	log     []gossiper.Entry
	postErr error // what Post returns, such as gossiper.ErrClosed
	changed chan struct{}
}

func newFakeNode(name string) *fakeNode {
	return &fakeNode{name: name, changed: make(chan struct{})}
}

func (f *fakeNode) notifyLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Post checks postErr before the text, as the real node checks whether it
// is closed before its Core checks the text.
func (f *fakeNode) Post(text string) (gossiper.Posted, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return gossiper.Posted{}, f.postErr
	}
	if err := messages.ValidateText(text); err != nil {
		return gossiper.Posted{}, err
	}
	var id uint32 = 1
	for _, e := range f.log {
		if e.Origin == f.name {
			id = e.ID + 1
		}
	}
	f.log = append(f.log, gossiper.Entry{Origin: f.name, ID: id, Text: text, Received: time.Now()})
	f.notifyLocked()
	return gossiper.Posted{Origin: f.name, ID: id}, nil
}

// receive adds a message as if gossip had brought it.
func (f *fakeNode) receive(origin string, id uint32, text string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = append(f.log, gossiper.Entry{Origin: origin, ID: id, Text: text, Received: time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)})
	f.notifyLocked()
}

func (f *fakeNode) LogSince(k int) []gossiper.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k < 0 || k > len(f.log) {
		k = len(f.log)
	}
	return append([]gossiper.Entry(nil), f.log[k:]...)
}

func (f *fakeNode) Peers() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.peers...)
}

func (f *fakeNode) AddPeer(addr string) error {
	a, err := messages.ParseAddr(addr)
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.peers = append(f.peers, a)
	f.notifyLocked()
	return nil
}

func (f *fakeNode) Name() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.name
}

func (f *fakeNode) SetName(name string) error {
	if err := messages.ValidateName(name); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.name = name
	f.notifyLocked()
	return nil
}

func (f *fakeNode) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// testLogger sends a component's diagnostics to the test log, and drops
// those that come after the test, which t.Log would refuse.
func testLogger(t *testing.T, level slog.Level) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(func() { w.over.Store(true) })
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tWriter struct {
	t    *testing.T
	over atomic.Bool
}

func (w *tWriter) Write(p []byte) (int, error) {
	if !w.over.Load() {
		w.t.Log(strings.TrimSuffix(string(p), "\n"))
	}
	return len(p), nil
}

// runNode runs a gossiper over tr until the test ends.
func runNode(t *testing.T, tr gossiper.Transport, name string, peers ...string) (*gossiper.Node, *testkit.SyncBuffer) {
	t.Helper()
	cfg := gossiper.DefaultConfig()
	cfg.Name = name
	cfg.Peers = peers
	stdout := &testkit.SyncBuffer{}
	node := gossiper.NewNode(cfg, tr, stdout, testLogger(t, slog.LevelInfo).With("node", name))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- node.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("node %s: %v", name, err)
		}
	})
	return node, stdout
}

// startPage serves node's page on a free loopback port until the test ends.
func startPage(t *testing.T, node Node) *Server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, "127.0.0.1:0", node, Options{Logger: testLogger(t, slog.LevelDebug).With("page", node.Name())})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.Done():
		case <-time.After(5 * time.Second):
			t.Error("page server did not stop within 5s")
		}
	})
	return s
}
