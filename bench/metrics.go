package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// nodeMetrics are the figures bench reads from a node's /metrics.
type nodeMetrics struct {
	sent        float64 // peerster_packets_sent_total: every datagram sent to peers
	antiEntropy float64 // peerster_antientropy_statuses_total: those the 1 s ticker sent
	received    float64 // peerster_packets_received_total
	duplicates  float64 // peerster_rumors_duplicate_total: rumors received that were held already
	dropped     map[string]float64
}

// beyond is the datagrams sent beyond anti-entropy.
func (m nodeMetrics) beyond() float64 { return m.sent - m.antiEntropy }

var metricsClient = &http.Client{Timeout: 2 * time.Second}

// scrapeNode reads the /metrics page a node serves on port.
func scrapeNode(port int) (nodeMetrics, error) {
	resp, err := metricsClient.Get("http://127.0.0.1:" + strconv.Itoa(port) + "/metrics")
	if err != nil {
		return nodeMetrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodeMetrics{}, fmt.Errorf("GET /metrics on port %d: %s", port, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// parseMetrics reads the samples bench wants from a page in the Prometheus
// text format: "name value" or "name{labels} value", one a line, comments
// starting with '#'. A page without the sent or anti-entropy counters is
// an error: an older gossiper, or not a gossiper.
func parseMetrics(r io.Reader) (nodeMetrics, error) {
	m := nodeMetrics{dropped: map[string]float64{}}
	var haveSent, haveAE bool
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, labels, v, ok := metricSample(sc.Text())
		if !ok {
			continue
		}
		switch name {
		case "peerster_packets_sent_total":
			m.sent, haveSent = v, true
		case "peerster_antientropy_statuses_total":
			m.antiEntropy, haveAE = v, true
		case "peerster_packets_received_total":
			m.received = v
		case "peerster_rumors_duplicate_total":
			m.duplicates = v
		case "peerster_packets_dropped_total":
			m.dropped[labelValue(labels, "reason")] += v
		}
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if !haveSent || !haveAE {
		return m, fmt.Errorf("no peerster_packets_sent_total or peerster_antientropy_statuses_total on the page")
	}
	return m, nil
}

// metricSample splits one sample line into its name, its labels (inside
// the braces, as written) and its value.
func metricSample(line string) (name, labels string, v float64, ok bool) {
	line = strings.TrimSpace(line)
	if line == "" || line[0] == '#' {
		return "", "", 0, false
	}
	rest := line
	if i := strings.IndexByte(line, '{'); i >= 0 {
		j := strings.LastIndexByte(line, '}')
		if j < i {
			return "", "", 0, false
		}
		name, labels, rest = line[:i], line[i+1:j], strings.TrimSpace(line[j+1:])
	} else {
		i := strings.IndexByte(line, ' ')
		if i < 0 {
			return "", "", 0, false
		}
		name, rest = line[:i], strings.TrimSpace(line[i:])
	}
	if f := strings.Fields(rest); len(f) > 0 { // a timestamp may follow
		rest = f[0]
	}
	v, err := strconv.ParseFloat(rest, 64)
	return name, labels, v, err == nil
}

// labelValue is the value of label key in labels (`a="x",b="y"`); the
// values bench reads hold no comma or escaped quote.
func labelValue(labels, key string) string {
	for _, kv := range strings.Split(labels, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if ok && strings.TrimSpace(k) == key {
			return strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	return ""
}

// ringMetrics sums the nodes' figures.
type ringMetrics struct {
	sent, antiEntropy, received, duplicates float64
	dropped                                 map[string]float64
}

func (m ringMetrics) beyond() float64 { return m.sent - m.antiEntropy }

// scrape reads every node's /metrics and sums them.
func (r *ring) scrape() (ringMetrics, error) {
	sum := ringMetrics{dropped: map[string]float64{}}
	for _, nd := range r.nodes {
		m, err := scrapeNode(nd.guiPort)
		if err != nil {
			return sum, fmt.Errorf("node %s: %w", nd.name, err)
		}
		sum.sent += m.sent
		sum.antiEntropy += m.antiEntropy
		sum.received += m.received
		sum.duplicates += m.duplicates
		for k, v := range m.dropped {
			sum.dropped[k] += v
		}
	}
	return sum, nil
}

// sub is m minus an earlier reading.
func (m ringMetrics) sub(before ringMetrics) ringMetrics {
	d := ringMetrics{sent: m.sent - before.sent, antiEntropy: m.antiEntropy - before.antiEntropy,
		received: m.received - before.received, duplicates: m.duplicates - before.duplicates,
		dropped: map[string]float64{}}
	for k, v := range m.dropped {
		if v -= before.dropped[k]; v != 0 {
			d.dropped[k] = v
		}
	}
	return d
}
