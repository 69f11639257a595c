package web

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/peerster/Peerster/files"
	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
)

// testLibrary lets a gossiper keep its files in a files.Library, as the
// gossiper binary's adapter does (library.go at the repository's root, in
// package main, which tests here cannot import).
type testLibrary struct{ lib *files.Library }

var _ gossiper.Files = testLibrary{}

func sharedFileOf(f files.File) gossiper.SharedFile {
	return gossiper.SharedFile{Name: f.Name, MetaHash: gossiper.Hash(f.MetaHash), Metafile: f.Metafile, Size: f.Size, Downloaded: f.Downloaded}
}

func (l testLibrary) Share(name string) (gossiper.SharedFile, error) {
	f, err := l.lib.Share(name)
	return sharedFileOf(f), err
}

func (l testLibrary) Put(name string, data []byte) (gossiper.SharedFile, error) {
	f, err := l.lib.Put(name, data)
	return sharedFileOf(f), err
}

func (l testLibrary) Begin(name string, meta gossiper.Hash, dest string) error {
	_, err := l.lib.Begin(name, files.Hash(meta), dest)
	return err
}

func (l testLibrary) Read(h gossiper.Hash) ([]byte, bool) { return l.lib.Read(files.Hash(h)) }

func (l testLibrary) SetMetafile(meta gossiper.Hash, metafile []byte) error {
	return l.lib.SetMetafile(files.Hash(meta), metafile)
}

func (l testLibrary) WriteChunk(meta gossiper.Hash, index int, data []byte) error {
	return l.lib.WriteChunk(files.Hash(meta), index, data)
}

func (l testLibrary) Complete(meta gossiper.Hash) (gossiper.SharedFile, error) {
	f, err := l.lib.Complete(files.Hash(meta))
	return sharedFileOf(f), err
}

func (l testLibrary) Abort(meta gossiper.Hash) error { return l.lib.Abort(files.Hash(meta)) }

func (l testLibrary) Path(meta gossiper.Hash) (string, bool) { return l.lib.Path(files.Hash(meta)) }

// fileNode is a real gossiper that keeps files, in dir/_SharedFiles and
// dir/_Downloads as the gossiper binary does in its working directory.
type fileNode struct {
	*gossiper.Node
	out *testkit.SyncBuffer
	dir string
}

// runFileNode runs a gossiper with files in a folder of the test's until
// the test ends. It sends a route rumor at start, as runRouted does, so
// that the others can download from it at once.
func runFileNode(t *testing.T, tr gossiper.Transport, name string, peers ...string) fileNode {
	t.Helper()
	dir := t.TempDir()
	lib, err := files.Open(files.Options{
		SharedDir:    filepath.Join(dir, files.DefaultSharedDir),
		DownloadsDir: filepath.Join(dir, files.DefaultDownloadsDir),
		Logger:       testLogger(t, 0).With("files", name),
	})
	if err != nil {
		t.Fatal(err)
	}
	// Registered before the node's own cleanup, so that it runs after the
	// node has stopped writing.
	t.Cleanup(func() {
		if err := lib.Close(); err != nil {
			t.Errorf("closing %s's files: %v", name, err)
		}
	})
	cfg := gossiper.DefaultConfig()
	cfg.Name = name
	cfg.Peers = peers
	cfg.RouteInterval = time.Minute
	node, out := runSetUp(t, tr, cfg, func(n *gossiper.Node) { n.SetFiles(testLibrary{lib}, nil, nil) })
	return fileNode{Node: node, out: out, dir: dir}
}

// runLoneFileNode runs a gossiper with files and no peer, on a network of
// its own.
func runLoneFileNode(t *testing.T, name string) fileNode {
	t.Helper()
	tr, err := gossiper.NewMemNetwork(1).Listen("127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	return runFileNode(t, tr, name)
}

// runFileNodeWithSilentPeer runs a gossiper with files named A that has a
// route to a peer B, which answers nothing once A knows the route: a
// download from B waits.
func runFileNodeWithSilentPeer(t *testing.T) fileNode {
	t.Helper()
	net := gossiper.NewMemNetwork(1)
	trA, err := net.Listen("127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	trB, err := net.Listen("127.0.0.1:5001")
	if err != nil {
		t.Fatal(err)
	}
	muteB := &mutedTransport{Transport: trB}
	a := runFileNode(t, trA, "A", "127.0.0.1:5001")
	runFileNode(t, muteB, "B", "127.0.0.1:5000")
	testkit.Eventually(t, 5*time.Second, "A never learned a route to B", func() bool {
		return slices.ContainsFunc(a.Routes(), func(r gossiper.Route) bool { return r.Origin == "B" })
	})
	muteB.mute.Store(true)
	return a
}
