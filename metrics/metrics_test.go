package metrics

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

type fakeNode struct{ stats gossiper.Stats }

func (f fakeNode) Stats() gossiper.Stats { return f.stats }
func (f fakeNode) Peers() []string       { return []string{"127.0.0.1:5001", "127.0.0.1:5002"} }

func TestHandlerServesCounters(t *testing.T) {
	node := fakeNode{gossiper.Stats{PacketsIn: 7, PacketsOut: 5, AntiEntropy: 4, Accepted: 3, Duplicates: 2, OutOfOrder: 1,
		Dropped: map[string]uint64{"undecodable": 4, "rate-limited": 9}}}
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
