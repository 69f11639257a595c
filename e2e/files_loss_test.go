package e2e

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

const (
	filesLossNodes    = 4
	filesLossPercent  = 30
	filesLossGossip0  = 5100 // gossip ports 5100-5103, inside the namespace
	filesLossUI0      = 10100
	filesLossGUI0     = 8180
	filesLossSize     = 2 << 20
	filesLossDeadline = 60 * time.Second
)

// sentDatagrams sums, over the nodes, the datagrams they sent to peers and
// those of them that were anti-entropy statuses.
func sentDatagrams(t *testing.T, client *http.Client, nodes []*proctest.Node) (sent, antiEntropy float64) {
	t.Helper()
	for _, n := range nodes {
		m := metricSamplesThrough(t, client, n)
		sent += m["peerster_packets_sent_total"]
		antiEntropy += m["peerster_antientropy_statuses_total"]
	}
	return sent, antiEntropy
}

// TestDownloadUnderLoss runs a line of 4 gossipers inside a network
// namespace of its own where nftables drops 30% of the gossip datagrams:
// the last node downloads a 2 MiB file the first shares, across 3 hops
// (where a request and its reply cross 6 lossy links: 12% of the round
// trips succeed at the first try). It must arrive whole within 60 s, with
// the spec's lines printed once each despite the requests sent again, and
// the nodes in between printing none. It logs the time and the datagrams
// the nodes sent per item (256 chunks and the metafile).
func TestDownloadUnderLoss(t *testing.T) {
	ns := lossyNetns(t, "peerster-files-loss-", filesLossGossip0, filesLossGossip0+filesLossNodes-1, filesLossPercent)
	nodes := make([]*proctest.Node, filesLossNodes)
	for i := range nodes {
		nodes[i] = &proctest.Node{Name: fmt.Sprintf("N%d", i), Netns: ns.Name,
			Addr: fmt.Sprintf("127.0.0.1:%d", filesLossGossip0+i), UIPort: filesLossUI0 + i, GUIPort: filesLossGUI0 + i,
			Flags: []string{"-rtimer=1"}}
	}
	startLine(t, nodes...)
	first, last := nodes[0], nodes[len(nodes)-1]
	testkit.Eventually(t, 20*time.Second, last.Name+" has a route to "+first.Name, func() bool { return last.Out.Routes()[first.Name] != "" })
	data, meta := shareFile(t, first, "big.bin", filesLossSize)
	client := ns.HTTPClient()
	sentBefore, aeBefore := sentDatagrams(t, client, nodes)

	start := time.Now()
	if _, errOut, code := last.Client("-file=copy.bin", "-dest="+first.Name, "-request="+meta); code != 0 {
		t.Fatalf("download: exit %d: %s", code, errOut)
	}
	took := awaitDownload(t, last, "copy.bin", first.Name, filesLossDeadline)
	sentAfter, aeAfter := sentDatagrams(t, client, nodes)
	total, dropped := lossCounters(t, ns)

	items := float64(filesLossSize/chunkSize + 1)
	sent, ae := sentAfter-sentBefore, aeAfter-aeBefore
	t.Logf("2 MiB across %d hops with %d%% loss in %v (from the client's start %v); the nodes sent %.0f datagrams meanwhile, %.1f per item (256 chunks and the metafile), %.1f beyond anti-entropy (lossless: %d); nftables dropped %d of %d gossip datagrams since the start (%.1f%%)",
		len(nodes)-1, filesLossPercent, took.Round(10*time.Millisecond), time.Since(start).Round(10*time.Millisecond),
		sent, sent/items, (sent-ae)/items, 2*(len(nodes)-1), dropped, total, 100*float64(dropped)/float64(max(total, 1)))
	got, err := os.ReadFile(filepath.Join(last.Dir, "_Downloads", "copy.bin"))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the saved file is %d bytes (%v), equal %v", len(got), err, bytes.Equal(got, data))
	}
	checkDownloadLines(t, last, "copy.bin", first.Name, filesLossSize/chunkSize)
	for _, n := range nodes[:len(nodes)-1] {
		if out := n.Out.Head(); strings.Contains(out, "DOWNLOADING") || strings.Contains(out, "RECONSTRUCTED") {
			t.Errorf("%s, which downloads nothing, printed a download line", n.Name)
		}
	}
}
