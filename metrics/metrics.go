// Package metrics exposes a node's counters in the Prometheus text format.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/peerster/Peerster/gossiper"
)

// Source is what the metrics read from a node.
type Source interface {
	Stats() gossiper.Stats
	Peers() []string
}

var (
	packetsIn  = prometheus.NewDesc("peerster_packets_received_total", "Datagrams received from peers.", nil, nil)
	packetsOut = prometheus.NewDesc("peerster_packets_sent_total", "Datagrams sent to peers.", nil, nil)
	accepted   = prometheus.NewDesc("peerster_rumors_accepted_total", "Rumors added to the history.", nil, nil)
	duplicates = prometheus.NewDesc("peerster_rumors_duplicate_total", "Rumors received that were held already.", nil, nil)
	outOfOrder = prometheus.NewDesc("peerster_rumors_out_of_order_total", "Rumors received ahead of a gap, not stored.", nil, nil)
	dropped    = prometheus.NewDesc("peerster_packets_dropped_total", "Datagrams and client messages dropped, by reason.", []string{"reason"}, nil)
	peers      = prometheus.NewDesc("peerster_peers", "Known peers.", nil, nil)
	uptime     = prometheus.NewDesc("peerster_uptime_seconds", "Seconds since the node started.", nil, nil)
)

// collector reads the node at every scrape, so the node keeps plain
// counters and knows nothing of Prometheus.
type collector struct {
	src   Source
	start time.Time
}

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{packetsIn, packetsOut, accepted, duplicates, outOfOrder, dropped, peers, uptime} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src.Stats()
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	counter(packetsIn, s.PacketsIn)
	counter(packetsOut, s.PacketsOut)
	counter(accepted, s.Accepted)
	counter(duplicates, s.Duplicates)
	counter(outOfOrder, s.OutOfOrder)
	for reason, n := range s.Dropped {
		counter(dropped, n, reason)
	}
	ch <- prometheus.MustNewConstMetric(peers, prometheus.GaugeValue, float64(len(c.src.Peers())))
	ch <- prometheus.MustNewConstMetric(uptime, prometheus.GaugeValue, time.Since(c.start).Seconds())
}

// Handler serves src's counters, and the Go runtime's and the process's,
// at every request.
func Handler(src Source, start time.Time) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src, start}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.HTTPErrorOnError})
}
