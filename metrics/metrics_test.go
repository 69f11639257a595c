package metrics

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
)

type fakeNode struct{ stats gossiper.Stats }

func (f fakeNode) Stats() gossiper.Stats { return f.stats }
func (f fakeNode) Peers() []string       { return []string{"127.0.0.1:5001", "127.0.0.1:5002"} }
func (f fakeNode) Routes() []gossiper.Route {
	return []gossiper.Route{{Origin: "B", NextHop: "127.0.0.1:5001"}, {Origin: "C", NextHop: "127.0.0.1:5001"}, {Origin: "D", NextHop: "127.0.0.1:5002"}}
}

func TestHandlerServesCounters(t *testing.T) {
	node := fakeNode{gossiper.Stats{PacketsIn: 7, PacketsOut: 5, AntiEntropy: 4, Accepted: 3, Duplicates: 2, OutOfOrder: 1,
		PrivateSent: 6, PrivateForwarded: 8, PrivateDelivered: 10,
		DataServed: 11, DataForwarded: 12, Probes: 13, ProvenByProbe: 14,
		Dropped: map[string]uint64{"undecodable": 4, "rate-limited": 9, "no-route": 2, "hop-limit": 3, "bad-private": 1}}}
	rec := httptest.NewRecorder()
	Handler(node, time.Now().Add(-time.Minute)).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		"peerster_packets_received_total 7",
		"peerster_packets_sent_total 5",
		"peerster_antientropy_statuses_total 4",
		"peerster_rumors_accepted_total 3",
		"peerster_rumors_duplicate_total 2",
		"peerster_rumors_out_of_order_total 1",
		`peerster_packets_dropped_total{reason="undecodable"} 4`,
		`peerster_packets_dropped_total{reason="rate-limited"} 9`,
		`peerster_packets_dropped_total{reason="no-route"} 2`,
		`peerster_packets_dropped_total{reason="hop-limit"} 3`,
		`peerster_packets_dropped_total{reason="bad-private"} 1`,
		`peerster_private_messages_total{event="sent"} 6`,
		`peerster_private_messages_total{event="forwarded"} 8`,
		`peerster_private_messages_total{event="delivered"} 10`,
		`peerster_data_packets_total{event="served"} 11`,
		`peerster_data_packets_total{event="forwarded"} 12`,
		`peerster_address_probes_total{event="sent"} 13`,
		`peerster_address_probes_total{event="proven"} 14`,
		"peerster_routes 3",
		"peerster_peers 2",
		"peerster_uptime_seconds 6",
		"go_goroutines",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/plain; version=0.0.4; charset=utf-8" {
		t.Errorf("content type %q", ct)
	}
}

// TestPrivateCountersOfRealNodes sends a private message along a line of
// three real nodes, A-B-C, and one to a name nobody knows, and reads what
// each node's page says about them.
func TestPrivateCountersOfRealNodes(t *testing.T) {
	net := gossiper.NewMemNetwork(1)
	addrs := []string{"127.0.0.1:5000", "127.0.0.1:5001", "127.0.0.1:5002"}
	neighbours := [][]string{{addrs[1]}, {addrs[0], addrs[2]}, {addrs[1]}}
	var nodes []*gossiper.Node
	for i, name := range []string{"A", "B", "C"} {
		tr, err := net.Listen(addrs[i])
		if err != nil {
			t.Fatal(err)
		}
		cfg := gossiper.DefaultConfig()
		cfg.Name, cfg.Peers, cfg.RouteInterval = name, neighbours[i], time.Minute
		n := gossiper.NewNode(cfg, tr, &testkit.SyncBuffer{}, nil)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		nodes = append(nodes, n)
	}
	a, b, c := nodes[0], nodes[1], nodes[2]
	testkit.Eventually(t, 5*time.Second, "A never learned a route to C", func() bool { return len(a.Routes()) == 2 })
	if _, err := a.SendPrivate("C", "psst"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SendPrivate("Z", "anyone?"); err == nil {
		t.Fatal("a private message to an unknown name was sent")
	}
	testkit.Eventually(t, 5*time.Second, "C never got the private message", func() bool { return c.Stats().PrivateDelivered == 1 })
	for _, tc := range []struct {
		node *gossiper.Node
		want []string
	}{
		{a, []string{`peerster_private_messages_total{event="sent"} 1`, `peerster_packets_dropped_total{reason="no-route"} 1`, "peerster_routes 2"}},
		{b, []string{`peerster_private_messages_total{event="forwarded"} 1`, `peerster_private_messages_total{event="sent"} 0`}},
		{c, []string{`peerster_private_messages_total{event="delivered"} 1`, `peerster_private_messages_total{event="forwarded"} 0`}},
	} {
		rec := httptest.NewRecorder()
		Handler(tc.node, time.Now()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		for _, want := range tc.want {
			if !strings.Contains(rec.Body.String(), want+"\n") {
				t.Errorf("%s's metrics lack %q", tc.node.Name(), want)
			}
		}
	}
}
