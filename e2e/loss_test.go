package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

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
	var why []string
	if os.Geteuid() != 0 {
		why = append(why, "not root")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			why = append(why, tool+" not installed")
		}
	}
	if len(why) == 0 {
		return
	}
	msg := "a network namespace with nftables needs root, ip (iproute2) and nft (nftables): " + strings.Join(why, ", ")
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

func mustRun(t *testing.T, stdin string, argv ...string) string {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v: %s", strings.Join(argv, " "), err, out)
	}
	return string(out)
}

// TestDeliveryUnderLoss runs 10 gossipers in a ring inside a network
// namespace of its own, where nftables drops 30% of the datagrams to the
// gossip ports, and sends 100 messages from 5 of them: every node must print
// every message.
func TestDeliveryUnderLoss(t *testing.T) {
	needNetns(t)
	ns := fmt.Sprintf("%s%d", lossNamespace, os.Getpid())
	mustRun(t, "", "ip", "netns", "add", ns)
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
			t.Errorf("deleting namespace %s: %v: %s", ns, err, out)
		}
	})
	mustRun(t, "", "ip", "-n", ns, "link", "set", "lo", "up")
	// The first rule counts every gossip datagram, the second drops 30% of
	// them; their counters give the loss the nodes really saw.
	rules := fmt.Sprintf(`table inet peerster {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport %d-%d counter
		udp dport %d-%d numgen random mod 100 < %d counter drop
	}
}
`, lossGossip0, lossGossip0+lossNodes-1, lossGossip0, lossGossip0+lossNodes-1, lossPercent)
	mustRun(t, rules, "ip", "netns", "exec", ns, "nft", "-f", "-")

	nodes := make([]*proctest.Node, lossNodes)
	for i := range nodes {
		n := &proctest.Node{Name: fmt.Sprintf("N%d", i), Netns: ns,
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

	total, dropped := nftCounters(t, mustRun(t, "", "ip", "netns", "exec", ns, "nft", "list", "table", "inet", "peerster"))
	t.Logf("all %d messages at all %d nodes %v after the first was posted (posting took %v); nftables dropped %d of %d gossip datagrams (%.1f%%)",
		len(texts), lossNodes, took.Round(10*time.Millisecond), posted.Round(10*time.Millisecond), dropped, total, 100*float64(dropped)/float64(max(total, 1)))
	if total == 0 || float64(dropped) < 0.2*float64(total) {
		t.Errorf("the loss rule dropped %d of %d datagrams; is it in place?", dropped, total)
	}
	for _, n := range nodes {
		for k, times := range n.Out.Rumors() {
			if times > 1 {
				t.Errorf("%s printed %s/%d %d times", n.Name, k.Origin, k.ID, times)
			}
		}
	}
}

var counterRE = regexp.MustCompile(`counter packets (\d+)`)

// nftCounters reads the two counters of the loss table: datagrams to the
// gossip ports, and those dropped.
func nftCounters(t *testing.T, listing string) (total, dropped int64) {
	t.Helper()
	m := counterRE.FindAllStringSubmatch(listing, -1)
	if len(m) != 2 {
		t.Fatalf("expected two counters in:\n%s", listing)
	}
	fmt.Sscan(m[0][1], &total)
	fmt.Sscan(m[1][1], &dropped)
	return total, dropped
}
