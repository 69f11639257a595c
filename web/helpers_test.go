package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerster/Peerster/files"
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
	seq     uint64 // the Seq of the newest message ever in log
	alerts  []gossiper.Alert
	postErr error // what Post and SendPrivate return, such as gossiper.ErrClosed
	changed chan struct{}

	routes   map[string]string // origin -> next hop
	privates []gossiper.PrivateEntry

	// fileDir is where the node's files are on disk; a node without one
	// keeps no files, as one whose folders cannot be opened.
	fileDir   string
	shared    []gossiper.SharedFile
	downloads []gossiper.DownloadInfo
	// afterDownload, if set, is run on its own goroutine with each
	// download Download starts, as the node's network goes on with it.
	afterDownload func(gossiper.DownloadInfo)
}

func newFakeNode(name string) *fakeNode {
	return &fakeNode{name: name, changed: make(chan struct{}), routes: map[string]string{}}
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
	f.appendLocked(gossiper.Entry{Origin: f.name, ID: id, Text: text, Received: time.Now()})
	return gossiper.Posted{Origin: f.name, ID: id}, nil
}

// appendLocked adds e to the log with the next Seq.
func (f *fakeNode) appendLocked(e gossiper.Entry) {
	f.seq++
	e.Seq = f.seq
	f.log = append(f.log, e)
	f.notifyLocked()
}

// receive adds a message as if gossip had brought it.
func (f *fakeNode) receive(origin string, id uint32, text string) {
	f.receiveEntry(gossiper.Entry{Origin: origin, ID: id, Text: text})
}

// receiveEntry adds e as if gossip had brought it, with the next Seq.
func (f *fakeNode) receiveEntry(e gossiper.Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if e.Received.IsZero() {
		e.Received = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	}
	f.appendLocked(e)
}

// receiveMany adds n messages of origin numbered from 1, each text made
// by text(i) for i from 0, with one notification for them all.
func (f *fakeNode) receiveMany(origin string, n int, text func(i int) string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		f.seq++
		f.log = append(f.log, gossiper.Entry{Origin: origin, ID: uint32(i + 1), Text: text(i), Received: at, Seq: f.seq})
	}
	f.notifyLocked()
}

// forget drops the messages for which drop is true, as the node's memory
// budget does, leaving gaps in the Seq numbers.
func (f *fakeNode) forget(drop func(gossiper.Entry) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.log = slices.DeleteFunc(f.log, drop)
}

// LogSince returns the whole log after its first k entries.
func (f *fakeNode) LogSince(k int) []gossiper.Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k < 0 || k > len(f.log) {
		k = len(f.log)
	}
	return append([]gossiper.Entry(nil), f.log[k:]...)
}

// pageBytesOf is what the gossiper counts of a message against maxBytes.
func pageBytesOf(e gossiper.Entry) int { return len(e.Origin) + len(e.Text) }

func (f *fakeNode) LogAfter(seq uint64, limit, maxBytes int) ([]gossiper.Entry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []gossiper.Entry
	size := 0
	for _, e := range f.log {
		if e.Seq <= seq {
			continue
		}
		size += pageBytesOf(e)
		if len(out) == limit || (len(out) > 0 && size > maxBytes) {
			return out, true
		}
		out = append(out, e)
	}
	return out, false
}

func (f *fakeNode) LogBefore(seq uint64, limit, maxBytes int) ([]gossiper.Entry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []gossiper.Entry
	size := 0
	for i := len(f.log) - 1; i >= 0; i-- {
		e := f.log[i]
		if seq != 0 && e.Seq >= seq {
			continue
		}
		size += pageBytesOf(e)
		if len(out) == limit || (len(out) > 0 && size > maxBytes) {
			slices.Reverse(out)
			return out, true
		}
		out = append(out, e)
	}
	slices.Reverse(out)
	return out, false
}

func (f *fakeNode) LastSeq() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.seq
}

func (f *fakeNode) Alerts() []gossiper.Alert {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.alerts)
}

// setAlerts replaces the alerts, as the node does when something happens.
func (f *fakeNode) setAlerts(as ...gossiper.Alert) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.alerts = as
	f.notifyLocked()
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

// SendPrivate checks what the real node's Core checks, in the same order.
func (f *fakeNode) SendPrivate(dest, text string) (gossiper.PrivateEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.postErr != nil {
		return gossiper.PrivateEntry{}, f.postErr
	}
	if err := messages.ValidateText(text); err != nil {
		return gossiper.PrivateEntry{}, err
	}
	if err := messages.ValidateName(dest); err != nil {
		return gossiper.PrivateEntry{}, fmt.Errorf("destination: %w", err)
	}
	if dest == f.name {
		return gossiper.PrivateEntry{}, fmt.Errorf("%q is this node's own name", dest)
	}
	if _, ok := f.routes[dest]; !ok {
		return gossiper.PrivateEntry{}, fmt.Errorf("%w to %q: this node has not heard from it yet", gossiper.ErrNoRoute, dest)
	}
	sent := gossiper.PrivateEntry{Origin: f.name, Destination: dest, Text: text,
		HopLimit: messages.DefaultHopLimit, Sent: true, At: time.Date(2024, 5, 1, 12, 1, 0, 0, time.UTC)}
	f.privates = append(f.privates, sent)
	f.notifyLocked()
	return sent, nil
}

// addRoute sets the next hop towards origin, as a new rumor of it would.
func (f *fakeNode) addRoute(origin, hop string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.routes[origin] = hop
	f.notifyLocked()
}

// receivePrivate adds a private message for this node from origin.
func (f *fakeNode) receivePrivate(origin, text string, hopLimit uint32) {
	f.receivePrivateAt(origin, text, hopLimit, time.Date(2024, 5, 1, 12, 2, 0, 0, time.UTC))
}

// receivePrivateAt adds a private message for this node from origin, which
// arrived at at.
func (f *fakeNode) receivePrivateAt(origin, text string, hopLimit uint32, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.privates = append(f.privates, gossiper.PrivateEntry{Origin: origin, Destination: f.name, Text: text,
		HopLimit: hopLimit, At: at})
	f.notifyLocked()
}

// sentPrivateAt adds a private message this node sent to dest at at.
func (f *fakeNode) sentPrivateAt(dest, text string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.privates = append(f.privates, gossiper.PrivateEntry{Origin: f.name, Destination: dest, Text: text,
		HopLimit: messages.DefaultHopLimit, Sent: true, At: at})
	f.notifyLocked()
}

// restartWithout drops the first n private messages, as a node that
// restarts keeps only some: the others are numbered anew from 1, so a seq
// the page saw before now names another message.
func (f *fakeNode) restartWithout(n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.privates = slices.Clone(f.privates[n:])
	f.notifyLocked()
}

// receivePrivates adds n private messages from origin, numbered in their
// texts from 1, with one notification for them all.
func (f *fakeNode) receivePrivates(origin string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range n {
		f.privates = append(f.privates, gossiper.PrivateEntry{Origin: origin, Destination: f.name, Text: "p" + strconv.Itoa(i+1),
			HopLimit: messages.DefaultHopLimit, At: time.Date(2024, 5, 1, 12, 2, 0, 0, time.UTC)})
	}
	f.notifyLocked()
}

func (f *fakeNode) Routes() []gossiper.Route {
	f.mu.Lock()
	defer f.mu.Unlock()
	rs := make([]gossiper.Route, 0, len(f.routes))
	for o, hop := range f.routes {
		rs = append(rs, gossiper.Route{Origin: o, NextHop: hop})
	}
	slices.SortFunc(rs, func(a, b gossiper.Route) int { return strings.Compare(a.Origin, b.Origin) })
	return rs
}

func (f *fakeNode) PrivatesSince(k int) ([]gossiper.PrivateEntry, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k = min(max(k, 0), len(f.privates))
	return append([]gossiper.PrivateEntry(nil), f.privates[k:]...), len(f.privates)
}

// privateBytesOf is what the gossiper counts of a private message against
// maxBytes.
func privateBytesOf(e gossiper.PrivateEntry) int {
	return len(e.Origin) + len(e.Destination) + len(e.Text)
}

// PrivatesAfter numbers the private messages from 1, forgetting none.
func (f *fakeNode) PrivatesAfter(seq uint64, limit, maxBytes int) ([]gossiper.NumberedPrivate, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []gossiper.NumberedPrivate
	size := 0
	for i := int(min(seq, uint64(len(f.privates)))); i < len(f.privates); i++ {
		size += privateBytesOf(f.privates[i])
		if len(out) == limit || (len(out) > 0 && size > maxBytes) {
			return out, true
		}
		out = append(out, gossiper.NumberedPrivate{PrivateEntry: f.privates[i], Seq: uint64(i + 1)})
	}
	return out, false
}

func (f *fakeNode) PrivatesBefore(seq uint64, with string, limit, maxBytes int) ([]gossiper.NumberedPrivate, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []gossiper.NumberedPrivate
	size := 0
	for i := len(f.privates) - 1; i >= 0; i-- {
		e := f.privates[i]
		if (seq != 0 && uint64(i+1) >= seq) || (with != "" && e.With() != with) {
			continue
		}
		size += privateBytesOf(e)
		if len(out) == limit || (len(out) > 0 && size > maxBytes) {
			slices.Reverse(out)
			return out, true
		}
		out = append(out, gossiper.NumberedPrivate{PrivateEntry: e, Seq: uint64(i + 1)})
	}
	slices.Reverse(out)
	return out, false
}

func (f *fakeNode) Changed() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changed
}

// newFileNode is a fakeNode that keeps files, in a folder of the test's.
func newFileNode(t *testing.T, name string) *fakeNode {
	f := newFakeNode(name)
	f.fileDir = t.TempDir()
	return f
}

// ShareBytes checks what the real node's files check, in the same order
// and with the same words, and keeps the file in fileDir.
func (f *fakeNode) ShareBytes(name string, data []byte) (gossiper.SharedFile, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fileDir == "" {
		return gossiper.SharedFile{}, gossiper.ErrNoFiles
	}
	if err := files.ValidateName(name); err != nil {
		return gossiper.SharedFile{}, err
	}
	if len(data) == 0 {
		return gossiper.SharedFile{}, fmt.Errorf("%s is empty, and an empty file has no chunk to share", name)
	}
	metafile, _, err := files.Split(data)
	if err != nil {
		return gossiper.SharedFile{}, err
	}
	path := filepath.Join(f.fileDir, name)
	if have, err := os.ReadFile(path); err == nil && !bytes.Equal(have, data) {
		return gossiper.SharedFile{}, fmt.Errorf("cannot save %s: a different file of that name is already in the shared folder; choose another name", name)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return gossiper.SharedFile{}, err
	}
	sf := gossiper.SharedFile{Name: name, MetaHash: gossiper.Hash(files.HashOf(metafile)), Metafile: metafile, Size: int64(len(data))}
	f.shared = slices.DeleteFunc(f.shared, func(x gossiper.SharedFile) bool { return x.MetaHash == sf.MetaHash })
	f.shared = append(f.shared, sf)
	f.notifyLocked()
	return sf, nil
}

// SharedFiles lists them by name, as the real node does.
func (f *fakeNode) SharedFiles() []gossiper.SharedFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	fs := slices.Clone(f.shared)
	slices.SortFunc(fs, func(a, b gossiper.SharedFile) int { return strings.Compare(a.Name, b.Name) })
	return fs
}

func (f *fakeNode) FilePath(meta gossiper.Hash) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.shared {
		if s.MetaHash == meta {
			return filepath.Join(f.fileDir, s.Name), true
		}
	}
	return "", false
}

// Download checks what the real node checks, with the same words, and
// starts a download that goes nowhere until the test moves it on
// (setDownload).
func (f *fakeNode) Download(name, dest string, meta gossiper.Hash) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fileDir == "" {
		return gossiper.ErrNoFiles
	}
	if err := files.ValidateName(name); err != nil {
		return err
	}
	for _, d := range f.downloads {
		going := d.State != gossiper.DownloadFailed
		switch {
		case going && d.MetaHash == meta:
			return fmt.Errorf("cannot download %s as %q: it is already being downloaded as %q", hexHash(meta), name, d.Name)
		case going && d.Name == name:
			return fmt.Errorf("cannot download %s as %q: another download (of %s) is saving to that name", hexHash(meta), name, hexHash(d.MetaHash))
		}
	}
	if err := messages.ValidateName(dest); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	if dest == f.name {
		return fmt.Errorf("%q is this node's own name: its files are here already", dest)
	}
	if _, ok := f.routes[dest]; !ok {
		return fmt.Errorf("%w to %q: this node has not heard from it yet", gossiper.ErrNoRoute, dest)
	}
	now := time.Now()
	d := gossiper.DownloadInfo{Name: name, Dest: dest, MetaHash: meta, State: gossiper.DownloadMetafile, Started: now, Updated: now}
	f.downloads = append(f.downloads, d)
	f.notifyLocked()
	if f.afterDownload != nil {
		go f.afterDownload(d)
	}
	return nil
}

func (f *fakeNode) Downloads() []gossiper.DownloadInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.downloads)
}

// setDownload replaces the download of d's metahash with d, or adds it, as
// the node's progress does, and signals the change unless quiet.
func (f *fakeNode) setDownload(d gossiper.DownloadInfo, quiet bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.downloads, func(x gossiper.DownloadInfo) bool { return x.MetaHash == d.MetaHash })
	if i < 0 {
		f.downloads = append(f.downloads, d)
	} else {
		f.downloads[i] = d
	}
	if !quiet {
		f.notifyLocked()
	}
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
	return runConfig(t, tr, cfg)
}

// runRouted is runNode for a node that sends a route rumor at start (as with
// -rtimer), so that every node learns a route to it without a chat message.
func runRouted(t *testing.T, tr gossiper.Transport, name string, peers ...string) (*gossiper.Node, *testkit.SyncBuffer) {
	t.Helper()
	cfg := gossiper.DefaultConfig()
	cfg.Name = name
	cfg.Peers = peers
	cfg.RouteInterval = time.Minute
	return runConfig(t, tr, cfg)
}

// runConfig runs a gossiper configured by cfg over tr until the test ends.
func runConfig(t *testing.T, tr gossiper.Transport, cfg gossiper.Config) (*gossiper.Node, *testkit.SyncBuffer) {
	t.Helper()
	return runSetUp(t, tr, cfg, nil)
}

// runSetUp is runConfig with setup, if not nil, called on the node before
// it runs.
func runSetUp(t *testing.T, tr gossiper.Transport, cfg gossiper.Config, setup func(*gossiper.Node)) (*gossiper.Node, *testkit.SyncBuffer) {
	t.Helper()
	name := cfg.Name
	stdout := &testkit.SyncBuffer{}
	node := gossiper.NewNode(cfg, tr, stdout, testLogger(t, slog.LevelInfo).With("node", name))
	if setup != nil {
		setup(node)
	}
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
