// Package metrics exposes a node's counters in the Prometheus text format
// (version 0.0.4), with a few of the Go runtime's and the process's figures
// under their usual names.
//
// The page is written by hand rather than with the Prometheus client
// library: that library and its dependencies cost every run of the node
// time and memory at start-up, before it can bind its sockets, for a page
// that most runs never serve. The tests judge the page by the Prometheus
// project's own parser, and the go_ and process_ families by the client
// library's collectors; the node's binary carries neither.
package metrics

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// Source is what the metrics read from a node.
type Source interface {
	Stats() gossiper.Stats
	Peers() []string
	Routes() []gossiper.Route
}

// Handler serves src's counters, and the Go runtime's and the process's,
// at every request. start is when the node started, for its uptime.
func Handler(src Source, start time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var e exposition
		writeNode(&e, src, start)
		writeGo(&e)
		writeProcess(&e, procRoot)
		w.Header().Set("Content-Type", ContentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(e.b)))
		_, _ = w.Write(e.b)
	})
}

// writeNode writes the node's figures, read at every scrape, so the node
// keeps plain counters and knows nothing of Prometheus.
func writeNode(e *exposition, src Source, start time.Time) {
	s := src.Stats()
	e.counter("peerster_packets_received_total", "Datagrams received from peers.", float64(s.PacketsIn))
	e.counter("peerster_packets_sent_total", "Datagrams sent to peers.", float64(s.PacketsOut))
	e.counter("peerster_antientropy_statuses_total", "Statuses the anti-entropy ticker sent (part of the datagrams sent).", float64(s.AntiEntropy))
	e.counter("peerster_rumors_accepted_total", "Rumors added to the history.", float64(s.Accepted))
	e.counter("peerster_rumors_duplicate_total", "Rumors received that were held already.", float64(s.Duplicates))
	e.counter("peerster_rumors_out_of_order_total", "Rumors received ahead of a gap, not stored.", float64(s.OutOfOrder))
	// One family with every event, zeros included, so that a rate can be
	// taken from the first scrape on; per node the three never count the
	// same message twice.
	const private = "peerster_private_messages_total"
	e.family(private, counterType, "Private messages this node sent, forwarded towards their destination, and took as their destination.")
	e.sample(private, float64(s.PrivateSent), "event", "sent")
	e.sample(private, float64(s.PrivateForwarded), "event", "forwarded")
	e.sample(private, float64(s.PrivateDelivered), "event", "delivered")
	const data = "peerster_data_packets_total"
	e.family(data, counterType, "Data replies this node sent from its own files, and data requests and replies it passed on towards their destination.")
	e.sample(data, float64(s.DataServed), "event", "served")
	e.sample(data, float64(s.DataForwarded), "event", "forwarded")
	const probes = "peerster_address_probes_total"
	e.family(probes, counterType, "Probes sent to addresses that did not afford a data packet, and addresses a probe proved.")
	e.sample(probes, float64(s.Probes), "event", "sent")
	e.sample(probes, float64(s.ProvenByProbe), "event", "proven")
	// A reason appears once the node has dropped something for it.
	if len(s.Dropped) > 0 {
		const dropped = "peerster_packets_dropped_total"
		e.family(dropped, counterType, "Datagrams and client messages dropped, by reason.")
		reasons := make([]string, 0, len(s.Dropped))
		for reason := range s.Dropped {
			reasons = append(reasons, reason)
		}
		slices.Sort(reasons)
		for _, reason := range reasons {
			e.sample(dropped, float64(s.Dropped[reason]), "reason", reason)
		}
	}
	e.counter("peerster_sends_refused_total", "Datagrams not sent because the budget of an address that has not proven it receives what the node sends did not afford them.", float64(s.Refused))
	e.counter("peerster_impersonations_total", "Rumors under this node's own names that it did not write.", float64(s.Impersonations))
	e.counter("peerster_origins_evicted_total", "Origins that made way for new ones in the room of the status.", float64(s.OriginsEvicted))
	const forgotten = "peerster_messages_forgotten_total"
	e.family(forgotten, counterType, "Messages forgotten under the memory budget: texts no longer sent to peers, and chat messages no longer in the log.")
	e.sample(forgotten, float64(s.Forgotten["texts"]), "from", "texts")
	e.sample(forgotten, float64(s.Forgotten["log"]), "from", "log")
	const held = "peerster_history_bytes"
	e.family(held, gaugeType, "What the messages a node keeps weigh against their budgets: texts for peers, and the chat log.")
	e.sample(held, float64(s.TextBytes), "part", "texts")
	e.sample(held, float64(s.LogBytes), "part", "log")
	e.gauge("peerster_peers", "Known peers.", float64(len(src.Peers())))
	e.gauge("peerster_routes", "Origins this node has a next hop towards.", float64(len(src.Routes())))
	e.gauge("peerster_uptime_seconds", "Seconds since the node started.", time.Since(start).Seconds())
}
