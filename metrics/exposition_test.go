package metrics

import (
	"errors"
	"fmt"
	"io"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/procstat"
)

// parsed is a page as the Prometheus project's own text parser reads it.
type parsed struct {
	families map[string]*dto.MetricFamily
	types    map[string]string  // family name -> TYPE
	samples  map[string]float64 // name{l1="v1",...}, labels unescaped -> value
	order    []string           // the samples' keys, in the page's order
}

// parse judges text by the reference parser, expfmt, with names as the
// 0.0.4 format allows them. That parser takes some pages that no scrape of
// Handler may give, and which the registry of the client library would not
// write either: a family without HELP or TYPE, a family in two blocks, a
// sample twice, an empty line. So the page is cut before each HELP line and
// each block is read alone: it must hold exactly one family, the one its
// HELP names, with a TYPE.
func parse(text string) (*parsed, error) {
	if !strings.HasSuffix(text, "\n") || strings.Contains(text, "\n\n") {
		return nil, fmt.Errorf("the page does not end with one line feed, or holds an empty line")
	}
	p := &parsed{families: map[string]*dto.MetricFamily{}, types: map[string]string{}, samples: map[string]float64{}}
	for n, block := range blocks(text) {
		parser := expfmt.NewTextParser(model.LegacyValidation)
		fams, err := parser.TextToMetricFamilies(strings.NewReader(block))
		if err != nil {
			return nil, fmt.Errorf("block %d: %v", n+1, err)
		}
		if len(fams) != 1 {
			return nil, fmt.Errorf("block %d holds %d families, want one:\n%s", n+1, len(fams), block)
		}
		for name, f := range fams {
			if !strings.HasPrefix(block, "# HELP "+name+" ") {
				return nil, fmt.Errorf("block %d: family %s does not open with its HELP", n+1, name)
			}
			if _, seen := p.types[name]; seen {
				return nil, fmt.Errorf("family %s comes in two blocks", name)
			}
			if !strings.Contains(block, "\n# TYPE "+name+" ") {
				return nil, fmt.Errorf("family %s has no TYPE", name)
			}
			p.types[name] = strings.ToLower(f.GetType().String())
			p.families[name] = f
			if err := p.add(f); err != nil {
				return nil, err
			}
		}
	}
	return p, nil
}

// blocks cuts text before each HELP line; text must open with one.
func blocks(text string) []string {
	var bs []string
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, "# HELP ") || len(bs) == 0 {
			bs = append(bs, "")
		}
		bs[len(bs)-1] += line
	}
	return bs
}

// add flattens the samples of f into p, a summary's quantiles, sum and
// count as the page writes them.
func (p *parsed) add(f *dto.MetricFamily) error {
	name := f.GetName()
	for _, m := range f.GetMetric() {
		var labels []string
		for _, l := range m.GetLabel() {
			labels = append(labels, l.GetName()+`="`+l.GetValue()+`"`)
		}
		key := func(name string, more ...string) string {
			if all := append(slices.Clone(labels), more...); len(all) > 0 {
				return name + "{" + strings.Join(all, ",") + "}"
			}
			return name
		}
		var err error
		switch f.GetType() {
		case dto.MetricType_COUNTER:
			err = p.sample(key(name), m.GetCounter().GetValue())
		case dto.MetricType_GAUGE:
			err = p.sample(key(name), m.GetGauge().GetValue())
		case dto.MetricType_SUMMARY:
			for _, q := range m.GetSummary().GetQuantile() {
				err = errors.Join(err, p.sample(key(name, `quantile="`+strconv.FormatFloat(q.GetQuantile(), 'g', -1, 64)+`"`), q.GetValue()))
			}
			err = errors.Join(err, p.sample(key(name+"_sum"), m.GetSummary().GetSampleSum()),
				p.sample(key(name+"_count"), float64(m.GetSummary().GetSampleCount())))
		default:
			err = fmt.Errorf("family %s of type %s, which Handler does not write", name, f.GetType())
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (p *parsed) sample(key string, v float64) error {
	if _, dup := p.samples[key]; dup {
		return fmt.Errorf("sample %s twice", key)
	}
	p.samples[key] = v
	p.order = append(p.order, key)
	return nil
}

func scrape(t *testing.T, src Source, start time.Time) *parsed {
	t.Helper()
	rec := httptest.NewRecorder()
	Handler(src, start).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
		t.Errorf("Content-Length %q for %d bytes", cl, len(body))
	}
	p, err := parse(string(body))
	if err != nil {
		t.Fatalf("not the text format: %v\n%s", err, body)
	}
	return p
}

func TestPageParsesLineByLine(t *testing.T) {
	node := fakeNode{gossiper.Stats{PacketsIn: 1523000, PacketsOut: 5, Accepted: 3,
		Dropped: map[string]uint64{"undecodable": 4, "rate-limited": 9, "from-self": 1}}}
	cpuBefore := spendCPU(t, 2*procstat.Tick)
	p := scrape(t, node, time.Now().Add(-90*time.Second))
	cpuAfter, _ := procstat.Read("/proc/self/stat")
	for key, v := range map[string]float64{
		"peerster_packets_received_total":                       1523000,
		"peerster_packets_sent_total":                           5,
		"peerster_rumors_accepted_total":                        3,
		"peerster_rumors_duplicate_total":                       0,
		"peerster_rumors_out_of_order_total":                    0,
		`peerster_packets_dropped_total{reason="from-self"}`:    1,
		`peerster_packets_dropped_total{reason="rate-limited"}`: 9,
		`peerster_packets_dropped_total{reason="undecodable"}`:  4,
		"peerster_peers":                                        2,
		"peerster_routes":                                       3,
		`peerster_private_messages_total{event="sent"}`:         0,
		`peerster_private_messages_total{event="forwarded"}`:    0,
		`peerster_private_messages_total{event="delivered"}`:    0,
		`go_info{version="` + runtime.Version() + `"}`:          1,
		"go_sched_gomaxprocs_threads":                           float64(runtime.GOMAXPROCS(0)),
	} {
		if got, ok := p.samples[key]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", key, got, ok, v)
		}
	}
	for _, key := range []string{
		"peerster_uptime_seconds", "go_goroutines", "go_threads", "go_gc_gomemlimit_bytes",
		`go_gc_duration_seconds{quantile="0"}`, `go_gc_duration_seconds{quantile="0.25"}`,
		`go_gc_duration_seconds{quantile="0.5"}`, `go_gc_duration_seconds{quantile="0.75"}`,
		`go_gc_duration_seconds{quantile="1"}`, "go_gc_duration_seconds_sum", "go_gc_duration_seconds_count",
		"go_memstats_alloc_bytes", "go_memstats_alloc_bytes_total", "go_memstats_sys_bytes",
		"go_memstats_heap_alloc_bytes", "go_memstats_heap_sys_bytes", "go_memstats_heap_idle_bytes",
		"go_memstats_heap_inuse_bytes", "go_memstats_heap_released_bytes", "go_memstats_heap_objects",
		"go_memstats_stack_inuse_bytes", "go_memstats_mallocs_total", "go_memstats_frees_total",
		"go_memstats_next_gc_bytes", "go_memstats_last_gc_time_seconds",
	} {
		if _, ok := p.samples[key]; !ok {
			t.Errorf("no %s", key)
		}
	}
	if up := p.samples["peerster_uptime_seconds"]; up < 90 || up > 100 {
		t.Errorf("uptime %v s, want about 90", up)
	}
	if p.samples["go_goroutines"] < 1 || p.samples["go_memstats_heap_alloc_bytes"] <= 0 {
		t.Errorf("goroutines %v, heap %v", p.samples["go_goroutines"], p.samples["go_memstats_heap_alloc_bytes"])
	}
	for name, typ := range map[string]string{
		"peerster_packets_received_total": "counter", "peerster_packets_dropped_total": "counter",
		"peerster_peers": "gauge", "peerster_routes": "gauge", "peerster_private_messages_total": "counter",
		"peerster_uptime_seconds": "gauge", "go_gc_duration_seconds": "summary",
		"go_goroutines": "gauge", "go_memstats_alloc_bytes_total": "counter",
	} {
		if p.types[name] != typ {
			t.Errorf("TYPE of %s is %q, want %s", name, p.types[name], typ)
		}
	}
	// Counters end in _total, except the summary's parts.
	for name, typ := range p.types {
		if typ == "counter" != strings.HasSuffix(name, "_total") {
			t.Errorf("%s is a %s", name, typ)
		}
	}
	// Reasons come sorted, so two scrapes of the same counts read the same.
	var reasons []string
	for _, k := range p.order {
		if r, ok := strings.CutPrefix(k, "peerster_packets_dropped_total"); ok {
			reasons = append(reasons, r)
		}
	}
	if got := strings.Join(reasons, " "); got != `{reason="from-self"} {reason="rate-limited"} {reason="undecodable"}` {
		t.Errorf("reasons in the order %s", got)
	}
	if runtime.GOOS == "linux" {
		for _, name := range []string{"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds"} {
			if p.samples[name] <= 0 {
				t.Errorf("%s = %v", name, p.samples[name])
			}
		}
		// The kernel's count read just before and just after the scrape
		// holds the page's.
		if cpu := p.samples["process_cpu_seconds_total"]; cpu < cpuBefore.Seconds() || cpu > cpuAfter.CPU().Seconds() {
			t.Errorf("process_cpu_seconds_total = %v, want between %v and %v", cpu, cpuBefore.Seconds(), cpuAfter.CPU().Seconds())
		}
		// This test binary started a moment ago.
		start := time.Unix(0, int64(p.samples["process_start_time_seconds"]*1e9))
		if d := time.Since(start); d < 0 || d > time.Hour {
			t.Errorf("process_start_time_seconds says the process started %v ago", d)
		}
	}
}

// spendCPU keeps this process busy until the kernel has counted at least d
// of its CPU time, and returns the count then. The kernel counts in clock
// ticks, and a test process can get here within less than one: a page that
// said 0 would be right, and would tell nothing.
func spendCPU(t *testing.T, d time.Duration) time.Duration {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	sink := 0
	for {
		st, err := procstat.Read("/proc/self/stat")
		if err != nil {
			if runtime.GOOS == "linux" {
				t.Fatal(err)
			}
			return 0 // the page has no process figures there
		}
		if st.CPU() >= d {
			return st.CPU()
		}
		if time.Now().After(deadline) {
			t.Fatalf("the kernel counted %v of this process's CPU time, not %v, after 10 s of spinning", st.CPU(), d)
		}
		for i := range 1_000_000 {
			sink += i
		}
	}
}

func TestNoDroppedFamilyBeforeADrop(t *testing.T) {
	p := scrape(t, fakeNode{gossiper.Stats{}}, time.Now())
	if _, ok := p.types["peerster_packets_dropped_total"]; ok {
		t.Error("peerster_packets_dropped_total is described with no reason yet")
	}
}

func TestLabelValuesAndHelpAreEscaped(t *testing.T) {
	odd := "a \"quoted\" back\\slash\nand a new line, {braces}=, é"
	p := scrape(t, fakeNode{gossiper.Stats{Dropped: map[string]uint64{odd: 3}}}, time.Now())
	if v := p.samples[`peerster_packets_dropped_total{reason="`+odd+`"}`]; v != 3 {
		t.Errorf("the odd reason does not read back: %v", p.samples)
	}
	var e exposition
	e.family("x", gaugeType, "line one\nline \"two\" \\")
	e.sample("x", 1, "a", odd, "b", "")
	want := "# HELP x line one\\nline \"two\" \\\\\n# TYPE x gauge\n" +
		`x{a="a \"quoted\" back\\slash\nand a new line, {braces}=, é",b=""} 1` + "\n"
	if string(e.b) != want {
		t.Errorf("wrote\n%s\nwant\n%s", e.b, want)
	}
}

func TestValues(t *testing.T) {
	for v, want := range map[float64]string{
		0: "0", 7: "7", 1523000: "1523000", -2: "-2", 0.25: "0.25", 1.5e-7: "1.5e-07",
		math.MaxInt64: "9.223372036854776e+18", 1 << 53: "9.007199254740992e+15",
		math.Inf(1): "+Inf", math.Inf(-1): "-Inf",
	} {
		if got := string(appendValue(nil, v)); got != want {
			t.Errorf("%v written %q, want %q", v, got, want)
		}
		if got, err := strconv.ParseFloat(string(appendValue(nil, v)), 64); err != nil || got != v {
			t.Errorf("%v reads back as %v, %v", v, got, err)
		}
	}
	if got := string(appendValue(nil, math.NaN())); got != "NaN" {
		t.Errorf("NaN written %q", got)
	}
}

// TestProcessFiguresFromProc reads a made-up /proc, whose command name
// holds a space and a parenthesis as a real one may.
func TestProcessFiguresFromProc(t *testing.T) {
	root := t.TempDir()
	self := filepath.Join(root, "self")
	for _, fd := range []string{"0", "1", "2", "3"} {
		if err := os.MkdirAll(filepath.Join(self, "fd", fd), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"stat": "cpu  1 2 3\nbtime 1700000000\nprocesses 5\n",
		"self/stat": "4242 (gossip (x) y) S 1 4242 4242 0 -1 4194560 1000 0 0 0 " +
			"250 130 0 0 20 0 9 0 123456 1400832000 2560 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n",
		"self/limits": "Limit                     Soft Limit           Hard Limit           Units     \n" +
			"Max cpu time              unlimited            unlimited            seconds   \n" +
			"Max open files            20000                1048576              files     \n",
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var e exposition
	writeProcess(&e, root)
	p, err := parse(string(e.b))
	if err != nil {
		t.Fatalf("%v\n%s", err, e.b)
	}
	want := map[string]float64{
		"process_cpu_seconds_total":     3.8,
		"process_virtual_memory_bytes":  1400832000,
		"process_resident_memory_bytes": float64(2560 * os.Getpagesize()),
		"process_start_time_seconds":    1700000000 + 1234.56,
		"process_open_fds":              4,
		"process_max_fds":               20000,
	}
	for name, v := range want {
		if got, ok := p.samples[name]; !ok || math.Abs(got-v) > 1e-6 {
			t.Errorf("%s = %v (present %v), want %v", name, got, ok, v)
		}
	}
	if len(p.samples) != len(want) {
		t.Errorf("%d figures, want %d:\n%s", len(p.samples), len(want), e.b)
	}

	// Without /proc, as on other systems, there are no process figures.
	e = exposition{}
	writeProcess(&e, filepath.Join(root, "nothing"))
	if len(e.b) != 0 {
		t.Errorf("wrote %q with no /proc", e.b)
	}
}

// TestParseRefuses checks the checks parse adds to the reference parser,
// and that the reference's own refusals reach the test.
func TestParseRefuses(t *testing.T) {
	const x = "# HELP x h\n# TYPE x gauge\n"
	const y = "# HELP y h\n# TYPE y gauge\n"
	if _, err := parse(x + "x 1\n" + y + "y{a=\"b\"} 2\n"); err != nil {
		t.Fatalf("a good page: %v", err)
	}
	for _, bad := range []string{
		x + "x 1",                      // no final line feed
		x + "x 1\n\n",                  // an empty line
		"x 1\n",                        // no HELP
		"# HELP x h\nx 1\n",            // no TYPE
		x + "y 1\n",                    // outside its family
		x + y + "y 1\n",                // a family without samples
		x + "x 1\n" + y + "y 1\nx 2\n", // two blocks
		x + "x 1\n" + y + "y 1\n" + x,  // two blocks
		x + "x 1\nx 2\n",               // twice
		x + "x{a=\"b\"c\"} 1\n",        // bare quote
		x + "x{a=\"\\t\"} 1\n",         // unknown escape
		x + "x one\n",                  // not a number
		"# HELP 1x h\n# TYPE 1x gauge\n1x 1\n",
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse accepted %q", bad)
		}
	}
}
