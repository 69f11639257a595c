package main

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/metrics"
)

type statsSource struct{ stats gossiper.Stats }

func (s statsSource) Stats() gossiper.Stats    { return s.stats }
func (s statsSource) Peers() []string          { return nil }
func (s statsSource) Routes() []gossiper.Route { return nil }

// TestParseMetricsReadsWhatTheReferenceReads: parseMetrics reads the few
// counters the bench wants and skips every other line, so it checks little
// of the format. Here it reads a node's real page, and must find there what
// the Prometheus project's own parser finds.
func TestParseMetricsReadsWhatTheReferenceReads(t *testing.T) {
	src := statsSource{gossiper.Stats{PacketsIn: 1523000, PacketsOut: 7, AntiEntropy: 4, Duplicates: 2,
		Dropped: map[string]uint64{"rate-limited": 9, "no-route": 2, "too-large": 1}}}
	rec := httptest.NewRecorder()
	metrics.Handler(src, time.Now()).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	page := rec.Body.String()

	got, err := parseMetrics(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.LegacyValidation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	counter := func(name string) float64 { return fams[name].GetMetric()[0].GetCounter().GetValue() }
	want := nodeMetrics{
		sent:        counter("peerster_packets_sent_total"),
		antiEntropy: counter("peerster_antientropy_statuses_total"),
		received:    counter("peerster_packets_received_total"),
		duplicates:  counter("peerster_rumors_duplicate_total"),
		dropped:     map[string]float64{},
	}
	for _, m := range fams["peerster_packets_dropped_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "reason" {
				want.dropped[l.GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parseMetrics read %+v\nthe reference parser %+v", got, want)
	}
	if want.sent != 7 || want.received != 1523000 || len(want.dropped) != 3 {
		t.Errorf("the page does not say what the node's counters do: %+v", want)
	}
}
