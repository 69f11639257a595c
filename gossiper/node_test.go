package gossiper

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/internal/testkit"
)

// fastConfig shortens the timers so that tests on the wall clock end soon.
func fastConfig(name string, peers ...string) Config {
	cfg := DefaultConfig()
	cfg.Name, cfg.Peers = name, peers
	cfg.MongerTimeout = 100 * time.Millisecond
	cfg.ProbeTimeout = 50 * time.Millisecond
	cfg.AntiEntropyInterval = 100 * time.Millisecond
	return cfg
}

func startNode(t *testing.T, cfg Config, tr Transport) (*Node, *testkit.SyncBuffer) {
	t.Helper()
	out := &testkit.SyncBuffer{}
	n := NewNode(cfg, tr, out, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("node %s: %v", cfg.Name, err)
		}
	})
	return n, out
}

// waitFor waits until cond holds, checking at each change of n.
func waitFor(t *testing.T, n *Node, within time.Duration, cond func() bool, format string, args ...any) {
	t.Helper()
	deadline := time.After(within)
	for {
		changed := n.Changed()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf(format, args...)
		}
	}
}

// waitLogs waits until every node's log holds want messages.
func waitLogs(t *testing.T, nodes []*Node, want int, within time.Duration) {
	t.Helper()
	deadline := time.After(within)
	for _, n := range nodes {
		for {
			changed := n.Changed()
			if len(n.Log()) >= want {
				break
			}
			select {
			case <-changed:
			case <-deadline:
				t.Fatalf("node %s has %d of %d messages after %v", n.Name(), len(n.Log()), want, within)
			}
		}
	}
}

func TestNodesOverLossyMemNetwork(t *testing.T) {
	net := NewMemNetwork(42)
	net.Drop, net.Dup, net.MaxDelay = 0.2, 0.05, 5*time.Millisecond
	const size = 6
	var nodes []*Node
	for i := range size {
		tr, err := net.Listen(simAddr(i))
		if err != nil {
			t.Fatal(err)
		}
		n, _ := startNode(t, fastConfig(fmt.Sprintf("N%d", i), simAddr((i+1)%size)), tr)
		nodes = append(nodes, n)
	}
	for i, n := range nodes {
		for k := range 3 {
			if _, err := n.Post(fmt.Sprintf("message %d from %d", k, i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitLogs(t, nodes, 3*size, 30*time.Second)
	for _, n := range nodes {
		seen := map[string]bool{}
		for _, e := range n.Log() {
			key := fmt.Sprintf("%s/%d", e.Origin, e.ID)
			if seen[key] {
				t.Fatalf("node %s holds %s twice", n.Name(), key)
			}
			seen[key] = true
		}
	}
}

func TestNodesOverUDP(t *testing.T) {
	var trs []*UDPTransport
	for range 3 {
		tr, err := ListenUDP("127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		trs = append(trs, tr)
	}
	var nodes []*Node
	var outs []*testkit.SyncBuffer
	for i, tr := range trs {
		n, out := startNode(t, fastConfig(string(rune('A'+i)), trs[(i+1)%3].Addr()), tr)
		nodes, outs = append(nodes, n), append(outs, out)
	}
	if _, err := nodes[0].Post("hello over udp"); err != nil {
		t.Fatal(err)
	}
	waitLogs(t, nodes, 1, 10*time.Second)
	want := stdoutline.Rumor{Origin: "A", From: trs[0].Addr(), ID: 1, Text: "hello over udp"}.String() + "\n"
	if !strings.Contains(outs[1].String(), want) {
		t.Fatalf("B's stdout lacks %q:\n%s", want, outs[1].String())
	}
	// Every node learns the node that knew it, and stdout holds only lines
	// of the kinds a node prints.
	for i, n := range nodes {
		waitFor(t, n, 10*time.Second, func() bool { return len(n.Peers()) == 2 }, "node %d does not know both others", i)
		for _, line := range strings.Split(strings.TrimSpace(outs[i].String()), "\n") {
			if _, err := stdoutline.Parse(line); err != nil {
				t.Errorf("node %d: %v", i, err)
			}
		}
	}
}

func TestPostAfterCloseFails(t *testing.T) {
	tr, err := NewMemNetwork(1).Listen(simAddr(0))
	if err != nil {
		t.Fatal(err)
	}
	n := NewNode(fastConfig("A"), tr, &testkit.SyncBuffer{}, nil)
	n.Close()
	if _, err := n.Post("late"); err == nil {
		t.Fatal("a closed node took a message")
	}
}
