package metrics

import (
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	dto "github.com/prometheus/client_model/go"
)

// TestFiguresAsTheClientLibraryNamesThem holds the go_ and process_
// families, written by hand so that the node does not carry the client
// library, to that library's own collectors: dashboards made for other Go
// programs read them by name, type and labels. Each family the page has
// must be one of theirs, with the same type, HELP, label names and
// quantiles. The node need not write all of theirs.
func TestFiguresAsTheClientLibraryNamesThem(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	gathered, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	ref := map[string]*dto.MetricFamily{}
	for _, f := range gathered {
		ref[f.GetName()] = f
	}
	var e exposition
	writeGo(&e)
	writeProcess(&e, procRoot)
	ours, err := parse(string(e.b))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.b)
	}
	for name, f := range ours.families {
		r, ok := ref[name]
		switch {
		case !ok:
			t.Errorf("%s is not a family of the client library", name)
			continue
		case f.GetType() != r.GetType():
			t.Errorf("%s is a %s, the client library's a %s", name, f.GetType(), r.GetType())
		case f.GetHelp() != r.GetHelp():
			t.Errorf("HELP of %s is\n\t%q\nthe client library's\n\t%q", name, f.GetHelp(), r.GetHelp())
		}
		if got, want := labelNames(f), labelNames(r); got != want {
			t.Errorf("%s has the labels %q, the client library's %q", name, got, want)
		}
		if got, want := quantiles(f), quantiles(r); !slices.Equal(got, want) {
			t.Errorf("%s has the quantiles %v, the client library's %v", name, got, want)
		}
	}
	for name := range ref {
		if _, ok := ours.families[name]; !ok {
			t.Logf("the client library also writes %s", name)
		}
	}
}

// labelNames are the names of the labels of f's first sample.
func labelNames(f *dto.MetricFamily) string {
	var names []string
	for _, l := range f.GetMetric()[0].GetLabel() {
		names = append(names, l.GetName())
	}
	return strings.Join(names, ",")
}

func quantiles(f *dto.MetricFamily) []float64 {
	var qs []float64
	for _, q := range f.GetMetric()[0].GetSummary().GetQuantile() {
		qs = append(qs, q.GetQuantile())
	}
	return qs
}
