package main

import (
	"bytes"
	"math"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEachLocalPort(t *testing.T) {
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
		"11904: 0100007F:B3BB 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 89261 2 00000000b26db96c 0\n" +
		" 1905: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 89262 2 00000000e89ac64a 0\n" +
		"  12: 00000000000000000000000001000000:1f90 00000000000000000000000000000000:0000 07 00000000:00000000 00:00000000 00000000 0 0 1 2 0 0\n" +
		"bad line\n"
	var got []int
	eachLocalPort([]byte(table), func(p int) { got = append(got, p) })
	if want := []int{46011, 68, 8080}; !slices.Equal(got, want) {
		t.Errorf("ports %v, want %v", got, want)
	}
}

func TestUDPTableSeesABoundPort(t *testing.T) {
	table, err := openUDPTable()
	if err != nil {
		t.Skip(err)
	}
	defer table.Close()
	c, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := c.LocalAddr().(*net.UDPAddr).Port
	for range 2 { // the second read starts again from the top
		if bound, err := table.allBound([]int{port}); err != nil || !bound {
			t.Fatalf("port %d bound but not seen: %v", port, err)
		}
	}
	c.Close()
	if bound, err := table.allBound([]int{port}); err != nil || bound {
		t.Errorf("port %d closed but seen: %v", port, err)
	}
}

func TestSummarize(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		var ds []time.Duration
		for _, n := range ns {
			ds = append(ds, time.Duration(n)*time.Millisecond)
		}
		return ds
	}
	if s := summarize(ms(5, 1, 3)); s.min != ms(1)[0] || s.median != ms(3)[0] || s.max != ms(5)[0] || s.n != 3 {
		t.Errorf("odd count: %+v", s)
	}
	if s := summarize(ms(4, 1, 2, 3)); s.median != 2500*time.Microsecond {
		t.Errorf("even count: median %v, want 2.5ms", s.median)
	}
	if s := summarize(nil); s.n != 0 {
		t.Errorf("no samples: %+v", s)
	}
	if m := medianInt([]int64{7, 1, 3, 5}); m != 4 {
		t.Errorf("medianInt %d", m)
	}
}

func TestMinorFaultsOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip(err)
	}
	if n := minorFaults(os.Getpid()); n <= 0 {
		t.Errorf("minor faults %d", n)
	}
}

func TestDispatch(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"nope"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "startup") {
		t.Errorf("unknown command: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	if code := dispatch([]string{"help", "startup"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "-n int") {
		t.Errorf("help startup: exit %d, %q", code, out.String())
	}
	errOut.Reset()
	if code := dispatch([]string{"startup", "-n", "0"}, &out, &errOut); code != 2 || !strings.Contains(errOut.String(), "-n must") {
		t.Errorf("startup -n 0: exit %d, %q", code, errOut.String())
	}
}

// TestStartupRuns runs the startup command once for each program, building
// both as a user's run does.
func TestStartupRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gossiper")
	}
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip(err)
	}
	leavesNoNodeFolders(t)
	var out, errOut bytes.Buffer
	if code := dispatch([]string{"startup", "-n", "1", "-warmup", "0", "-v"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errOut.String())
	}
	for _, want := range []string{"cores ", "minimal", "Peerster", "ratio of medians Peerster/minimal: "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in\n%s", want, out.String())
		}
	}
	t.Log(out.String())
}

// leavesNoNodeFolders fails t if, by its end, the folder the tests run in
// (bench/) has a node's _SharedFiles/ or _Downloads/ it did not have
// before: the nodes a command starts must run in its temporary folder.
func leavesNoNodeFolders(t *testing.T) {
	t.Helper()
	names := []string{"_SharedFiles", "_Downloads"}
	had := map[string]bool{}
	for _, name := range names {
		_, err := os.Stat(name)
		had[name] = err == nil
	}
	t.Cleanup(func() {
		for _, name := range names {
			if _, err := os.Stat(name); err == nil && !had[name] {
				t.Errorf("a node ran in the package's folder and left %s/ there", name)
			}
		}
	})
}

func TestDeliveries(t *testing.T) {
	d := newDeliveries([]string{"m0", "m1"}, 3)
	t0 := time.Unix(100, 0)
	d.record(0, "m0", t0)
	d.record(0, "m0", t0.Add(time.Second)) // printed again: the first counts
	d.record(1, "other", t0)               // not one of the texts
	d.record(1, "m0", t0.Add(2*time.Second))
	if d.printed() != 2 || d.complete() {
		t.Fatalf("printed %d, complete %v", d.printed(), d.complete())
	}
	if got := d.when(0, 0); !got.Equal(t0) {
		t.Errorf("when(0, 0) = %v, want %v", got, t0)
	}
	if _, ok := d.lastPrint(0); ok {
		t.Error("m0 reached every node before node 2 printed it")
	}
	d.record(2, "m0", t0.Add(time.Second))
	if last, ok := d.lastPrint(0); !ok || !last.Equal(t0.Add(2*time.Second)) {
		t.Errorf("lastPrint(0) = %v, %v", last, ok)
	}
	miss := d.missing([]string{"m0", "m1"}, []string{"A", "B", "C"})
	for _, want := range []string{"A lacks 1", "C lacks 1", `"m1" on A`} {
		if !strings.Contains(miss, want) {
			t.Errorf("missing %q has no %q", miss, want)
		}
	}
	for node := range 3 {
		d.record(node, "m1", t0.Add(3*time.Second))
	}
	if !d.complete() || !d.lastDelivery().Equal(t0.Add(3*time.Second)) || d.missing([]string{"m0", "m1"}, []string{"A", "B", "C"}) != "" {
		t.Errorf("complete %v, last %v", d.complete(), d.lastDelivery())
	}
}

// TestReadStdout feeds a node's output through a pipe, as the ring does.
func TestReadStdout(t *testing.T) {
	d := newDeliveries([]string{"hi", "there"}, 2)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := readStdout(r, 1, d)
	before := time.Now()
	out := "CLIENT MESSAGE hi\nMONGERING with 127.0.0.1:1\nRUMOR origin B from 127.0.0.1:2 ID 1 contents there\nno newline"
	if _, err := w.WriteString(out); err != nil {
		t.Fatal(err)
	}
	w.Close()
	s.wait()
	if s.err != nil || s.lines.Load() != 4 || s.bytes.Load() != int64(len(out))+1 {
		t.Errorf("err %v, %d lines, %d bytes", s.err, s.lines.Load(), s.bytes.Load())
	}
	if d.count[1].Load() != 2 || d.count[0].Load() != 0 || d.when(1, 1).Before(before) {
		t.Errorf("counts %d %d, when %v", d.count[0].Load(), d.count[1].Load(), d.when(1, 1))
	}
}

const metricsPage = `# HELP peerster_packets_received_total Datagrams received from peers.
# TYPE peerster_packets_received_total counter
peerster_packets_received_total 1200
peerster_packets_sent_total 1523000
peerster_antientropy_statuses_total 61
peerster_rumors_duplicate_total 9
# TYPE peerster_packets_dropped_total counter
peerster_packets_dropped_total{reason="rate-limited"} 7
peerster_packets_dropped_total{reason="too-large"} 2 1712345678000
go_gc_duration_seconds{quantile="0.5"} 1.5e-05
peerster_peers 2
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(metricsPage))
	if err != nil {
		t.Fatal(err)
	}
	if m.sent != 1523000 || m.antiEntropy != 61 || m.received != 1200 || m.duplicates != 9 || m.beyond() != 1522939 {
		t.Errorf("parsed %+v", m)
	}
	if m.dropped["rate-limited"] != 7 || m.dropped["too-large"] != 2 || len(m.dropped) != 2 {
		t.Errorf("dropped %v", m.dropped)
	}
	if _, err := parseMetrics(strings.NewReader("peerster_packets_sent_total 3\n")); err == nil {
		t.Error("a page without the anti-entropy counter is taken")
	}
	a := ringMetrics{sent: 10, antiEntropy: 4, dropped: map[string]float64{"x": 3, "y": 1}}
	b := ringMetrics{sent: 25, antiEntropy: 6, dropped: map[string]float64{"x": 5, "y": 1}}
	if d := b.sub(a); d.sent != 15 || d.beyond() != 13 || len(d.dropped) != 1 || d.dropped["x"] != 2 {
		t.Errorf("sub %+v", d)
	}
}

func TestMetricSample(t *testing.T) {
	for _, c := range []struct {
		line, name, labels string
		v                  float64
		ok                 bool
	}{
		{"a_total 3", "a_total", "", 3, true},
		{`b{reason="x",k="v"} 2.5`, "b", `reason="x",k="v"`, 2.5, true},
		{"c +Inf", "c", "", math.Inf(1), true},
		{"# HELP a_total x", "", "", 0, false},
		{"", "", "", 0, false},
		{"d", "", "", 0, false},
		{"e nope", "e", "", 0, false},
	} {
		name, labels, v, ok := metricSample(c.line)
		if ok != c.ok || (ok && (name != c.name || labels != c.labels || v != c.v)) {
			t.Errorf("metricSample(%q) = %q %q %v %v", c.line, name, labels, v, ok)
		}
	}
	if v := labelValue(`reason="rate-limited",x="y"`, "reason"); v != "rate-limited" {
		t.Errorf("labelValue %q", v)
	}
}

func TestParseUDPDrops(t *testing.T) {
	table := "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
		"  1: 0100007F:B3BB 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 89261 2 00000000b26db96c 12\n" +
		"  2: 0100007F:1F90 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 89262 2 00000000e89ac64a 0\n" +
		"  3: 0100007F:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000  1000        0 89263 2 00000000e89ac64a 5\n"
	got := parseUDPDrops([]byte(table), []int{46011, 8080, 9999})
	if len(got) != 2 || got[46011] != 12 || got[8080] != 0 {
		t.Errorf("drops %v", got)
	}
}

func TestQuantileForLatencies(t *testing.T) {
	var ds []time.Duration
	for i := 1; i <= 100; i++ {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := quantile(ds, 0.5); p != 50500*time.Microsecond {
		t.Errorf("p50 %v", p)
	}
	if p := quantile(ds, 0.99); p != 99010*time.Microsecond {
		t.Errorf("p99 %v", p)
	}
	if p := quantile(ds[:1], 0.99); p != time.Millisecond {
		t.Errorf("p99 of one %v", p)
	}
}

func TestParseRates(t *testing.T) {
	if r, err := parseRates(" 500,1000 ,,2000"); err != nil || !slices.Equal(r, []float64{500, 1000, 2000}) {
		t.Errorf("rates %v, %v", r, err)
	}
	if r, err := parseRates(""); err != nil || len(r) != 0 {
		t.Errorf("empty: %v, %v", r, err)
	}
	for _, bad := range []string{"x", "0", "-5", "1e9"} {
		if _, err := parseRates(bad); err == nil {
			t.Errorf("%q taken", bad)
		}
	}
	o := throughputOptions{rates: []float64{1000}, duration: 5 * time.Second, burst: 7}
	ls := o.loads()
	if len(ls) != 2 || ls[0].n != 5000 || ls[0].interval != time.Millisecond || ls[1].n != 7 || ls[1].interval != 0 {
		t.Errorf("loads %+v", ls)
	}
}

func TestTrafficScenarios(t *testing.T) {
	quiet, burst := trafficScenarios[0].posts("q"), trafficScenarios[1].posts("b")
	if len(quiet) != 4 || quiet[3].at != 30*time.Second || quiet[1].node != 3 || quiet[3].node != 9 || quiet[0].text != "q1" {
		t.Errorf("quiet %+v", quiet)
	}
	if len(burst) != 20 || burst[19].at >= time.Second || burst[3].node != 1 || burst[2].node != 7 {
		t.Errorf("burst %+v", burst)
	}
	if ringName(0) != "A" || ringName(9) != "J" {
		t.Error("ring names")
	}
}

func TestCPUTimeOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip(err)
	}
	for start := time.Now(); time.Since(start) < 50*time.Millisecond; {
	}
	if c := cpuTime(os.Getpid()); c <= 0 {
		t.Errorf("cpu time %v", c)
	}
	if total, ok := cpuTimes([]int{os.Getpid(), -1}); ok || total <= 0 {
		t.Errorf("cpuTimes with a bad pid: %v, %v", total, ok)
	}
	if selfCPU() <= 0 {
		t.Error("selfCPU")
	}
}

func TestDispatchRingCommands(t *testing.T) {
	var out, errOut bytes.Buffer
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"help", "traffic"}, 0, "-scenario"},
		{[]string{"help", "throughput"}, 0, "-rates"},
		{[]string{"traffic", "-scenario", "loud"}, 2, "-scenario quiet, burst or all"},
		{[]string{"throughput", "-rates", "fast"}, 2, `"fast" is not a rate`},
		{[]string{"throughput", "-rates", "", "-burst", "0"}, 2, "nothing to run"},
	} {
		out.Reset()
		errOut.Reset()
		if code := dispatch(c.args, &out, &errOut); code != c.code || !strings.Contains(out.String()+errOut.String(), c.want) {
			t.Errorf("%v: exit %d, %q%q", c.args, code, out.String(), errOut.String())
		}
	}
}

// TestRingCommandsRun runs traffic and throughput once each, small: a
// burst with a short rest, and a low rate with a small burst.
func TestRingCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the gossiper and starts rings of 10")
	}
	if _, err := os.Stat("/proc/net/udp"); err != nil {
		t.Skip(err)
	}
	leavesNoNodeFolders(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"traffic", "-scenario", "burst", "-rest", "1s", "-poll", "100ms", "-timeout", "30s"},
			[]string{"cores ", "burst run 1: 20 messages", "≤ 4.5"}},
		{[]string{"throughput", "-rates", "100", "-duration", "500ms", "-burst", "20", "-timeout", "20s"},
			[]string{"cores ", "datagrams/delivery"}},
	} {
		var out, errOut bytes.Buffer
		if code := dispatch(c.args, &out, &errOut); code != 0 {
			t.Fatalf("%v: exit %d: %s%s", c.args, code, out.String(), errOut.String())
		}
		for _, want := range c.want {
			if !strings.Contains(out.String(), want) {
				t.Errorf("%v: no %q in\n%s", c.args, want, out.String())
			}
		}
		if c.args[0] == "throughput" {
			// posted, sent at, printed, reached all: every message reached every node.
			for _, row := range []string{`100/s × 500ms +50 +\S+ +100.0% +50 `, `burst 20 +20 +\S+ +100.0% +20 `} {
				if !regexp.MustCompile(row).MatchString(out.String()) {
					t.Errorf("no row %q in\n%s", row, out.String())
				}
			}
		}
		t.Log(out.String())
	}
}
