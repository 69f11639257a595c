package e2e

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/lossynet"
	"github.com/peerster/Peerster/internal/proctest"
)

const (
	lossNodes     = 10
	lossSenders   = 5
	lossMessages  = 100
	lossPercent   = 30
	lossGossip0   = 5000 // gossip ports 5000-5009, inside the namespace
	lossUI0       = 10000
	lossGUI0      = 8080
	lossDeadline  = 120 * time.Second
	lossNamespace = "peerster-loss-"
)

// needNetns skips a test that needs root, ip and nft when they are missing,
// except in CI, where the test must run.
func needNetns(t *testing.T) {
	t.Helper()
	why := lossynet.Unavailable()
	if why == "" {
		return
	}
	msg := "a network namespace with nftables needs root, ip (iproute2) and nft (nftables): " + why
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// lossyNetns makes a network namespace of the test's own, named prefix and
// the test process's PID, with loopback up, where nftables drops percent%
// of the UDP datagrams to ports lo..hi (the gossip ports: the clients' and
// the pages' traffic is left alone), counting them all and those dropped
// (see lossCounters). The namespace is deleted when the test ends. It skips
// the test where it cannot be made (needNetns).
func lossyNetns(t *testing.T, prefix string, lo, hi, percent int) *lossynet.Netns {
	t.Helper()
	needNetns(t)
	ns, err := lossynet.New(prefix, lo, hi, float64(percent)/100)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Errorf("deleting namespace %s: %v", ns.Name, err)
		}
	})
	return ns
}

// lossCounters reads the loss table's counters of ns: the gossip datagrams
// since it was made, and those dropped. The test fails if fewer than 20%
// were dropped: the loss rule is not in place.
func lossCounters(t *testing.T, ns *lossynet.Netns) (total, dropped int64) {
	t.Helper()
	total, dropped, err := ns.Counters()
	if err != nil {
		t.Fatal(err)
	}
	if total == 0 || float64(dropped) < 0.2*float64(total) {
		t.Errorf("the loss rule dropped %d of %d datagrams; is it in place?", dropped, total)
	}
	return total, dropped
}

// TestDeliveryUnderLoss runs 10 gossipers in a ring inside a network
// namespace of its own, where nftables drops 30% of the datagrams to the
// gossip ports, and sends 100 messages from 5 of them: every node must print
// every message.
func TestDeliveryUnderLoss(t *testing.T) {
	ns := lossyNetns(t, lossNamespace, lossGossip0, lossGossip0+lossNodes-1, lossPercent)

	nodes := make([]*proctest.Node, lossNodes)
	for i := range nodes {
		n := &proctest.Node{Name: fmt.Sprintf("N%d", i), Netns: ns.Name,
			Addr: fmt.Sprintf("127.0.0.1:%d", lossGossip0+i), UIPort: lossUI0 + i, GUIPort: lossGUI0 + i,
			Peers: []string{fmt.Sprintf("127.0.0.1:%d", lossGossip0+(i+1)%lossNodes)}}
		nodes[i] = n
		n.Start(t)
	}

	var texts []string
	for s := range lossSenders {
		for k := range lossMessages / lossSenders {
			texts = append(texts, fmt.Sprintf("m-%s-%d", nodes[2*s].Name, k))
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for s := range lossSenders {
		wg.Add(1)
		go func(n *proctest.Node, texts []string) {
			defer wg.Done()
			for _, x := range texts {
				n.Post(x)
			}
		}(nodes[2*s], texts[s*lossMessages/lossSenders:(s+1)*lossMessages/lossSenders])
	}
	wg.Wait()
	posted := time.Since(start)

	deadline := time.Now().Add(lossDeadline)
	for {
		var behind []string
		for _, n := range nodes {
			if m := n.Out.Missing(texts); len(m) > 0 {
				behind = append(behind, fmt.Sprintf("%s lacks %d (e.g. %s)", n.Name, len(m), m[0]))
			}
		}
		if len(behind) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("not delivered within %v of the first message: %s", lossDeadline, strings.Join(behind, "; "))
		}
		time.Sleep(100 * time.Millisecond)
	}
	took := time.Since(start)

	total, dropped := lossCounters(t, ns)
	t.Logf("all %d messages at all %d nodes %v after the first was posted (posting took %v); nftables dropped %d of %d gossip datagrams (%.1f%%)",
		len(texts), lossNodes, took.Round(10*time.Millisecond), posted.Round(10*time.Millisecond), dropped, total, 100*float64(dropped)/float64(max(total, 1)))
	for _, n := range nodes {
		for k, times := range n.Out.Rumors() {
			if times > 1 {
				t.Errorf("%s printed %s/%d %d times", n.Name, k.Origin, k.ID, times)
			}
		}
	}
}
