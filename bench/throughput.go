package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/peerster/Peerster/messages"
)

// The throughput command answers: how many messages a second can a ring of
// ten gossipers take, and how long until each has reached every node? It
// posts on three nodes (B, E, H in turn), either at a rate for a while,
// spread evenly over time, or all at once, each message a unique text.
// Every node's stdout is read as it is printed and each line time-stamped
// when read; a message's latency runs from the moment the bench sent it to
// the moment the last node printed it (CLIENT MESSAGE at the origin, RUMOR
// elsewhere). Each run has a fresh ring.
//
// To tell what limits the rate, it also reports the datagrams the nodes
// sent per delivery (from their /metrics), the CPU time the ten nodes used
// (utime+stime in /proc/<pid>/stat) per message, the bench's own CPU time
// (its stdout readers and the posting loop), the stdout lines per message,
// and the datagrams the kernel dropped at the nodes' sockets for a full
// receive queue (/proc/net/udp), all over the run: from just before the
// first post until the last print, or the timeout.

// throughputOrigins are the nodes messages are posted on: B, E and H.
var throughputOrigins = []int{1, 4, 7}

type throughputOptions struct {
	rates    []float64
	duration time.Duration
	burst    int
	runs     int
	timeout  time.Duration
	gui      bool
	gossiper string
}

func runThroughput(args []string, out, errOut io.Writer) error {
	o, err := parseThroughputFlags(args, errOut)
	if err != nil {
		return err
	}
	bin, dir, cleanup, err := startBench(o.gossiper, out, "throughput: messages posted on B, E, H of a ring of 10 gossipers, until every node has printed each")
	if err != nil {
		return err
	}
	defer cleanup()
	var results []throughputResult
	run := 0
	for _, load := range o.loads() {
		for range o.runs {
			run++
			res, err := runThroughputOnce(bin, dir, load, run, o)
			if err != nil {
				return fmt.Errorf("%s: %w", load.label, err)
			}
			results = append(results, res)
			if res.missing != "" {
				fmt.Fprintf(out, "  %s: gave up %v after the last post; missing: %s\n", res.label, o.timeout, res.missing)
			}
		}
	}
	reportThroughput(out, results, o.gui)
	fmt.Fprintf(out, "load average now %s\n", loadAverage())
	return nil
}

// throughputLoad is one run's posting: n messages, interval apart (0: back
// to back).
type throughputLoad struct {
	label    string
	n        int
	interval time.Duration
}

func (o throughputOptions) loads() []throughputLoad {
	var ls []throughputLoad
	for _, r := range o.rates {
		n := max(1, int(r*o.duration.Seconds()+0.5))
		ls = append(ls, throughputLoad{label: fmt.Sprintf("%g/s × %v", r, o.duration), n: n,
			interval: time.Duration(float64(time.Second) / r)})
	}
	if o.burst > 0 {
		ls = append(ls, throughputLoad{label: fmt.Sprintf("burst %d", o.burst), n: o.burst})
	}
	return ls
}

func parseThroughputFlags(args []string, errOut io.Writer) (throughputOptions, error) {
	var o throughputOptions
	var rates string
	fs := flag.NewFlagSet("throughput", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&rates, "rates", "1000", "messages a second in total, comma separated for a sweep; empty for none")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "how long each rate is posted")
	fs.IntVar(&o.burst, "burst", 1000, "messages posted at once, as fast as the bench sends them; 0 for none")
	fs.IntVar(&o.runs, "runs", 1, "runs of each rate and of the burst, each on a fresh ring")
	fs.DurationVar(&o.timeout, "timeout", 60*time.Second, "give up on a run this long after its last post")
	fs.BoolVar(&o.gui, "gui", true, "serve /metrics on each node, for the datagrams sent (false: -GUIPort=0)")
	fs.StringVar(&o.gossiper, "gossiper", "", "a gossiper binary to measure instead of building the repository's")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: go run ./bench throughput [flags]")
		fmt.Fprintln(errOut, "\nMessages posted on 3 nodes of a ring of 10 gossipers: time until every node printed each, and what it cost.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, usageErr{err}
	}
	var err error
	if o.rates, err = parseRates(rates); err == nil && (o.runs < 1 || o.burst < 0 || o.duration <= 0 || fs.NArg() > 0) {
		err = errors.New("-runs must be at least 1, -burst not negative, -duration positive, and no arguments")
	}
	if err == nil && len(o.rates) == 0 && o.burst == 0 {
		err = errors.New("nothing to run: no -rates and -burst 0")
	}
	if err != nil {
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return o, usageErr{err}
	}
	return o, nil
}

// parseRates reads "500,1000,2000": positive messages a second.
func parseRates(s string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		r, err := strconv.ParseFloat(f, 64)
		if err != nil || r <= 0 || r > 1e6 {
			return nil, fmt.Errorf("-rates: %q is not a rate (messages a second, more than 0)", f)
		}
		rates = append(rates, r)
	}
	return rates, nil
}

// throughputResult is what one run measured.
type throughputResult struct {
	label              string
	posted, reachedAll int
	printed            int64           // (message, node) pairs printed, of posted × 10
	postSpan           time.Duration   // first post to last post
	latencies          []time.Duration // post to last node, of the messages that reached every node, sorted
	tail               time.Duration   // last post to the last print
	elapsed            time.Duration   // first post to the last print, or the timeout
	missing            string          // what was not printed, after a timeout
	cost
}

// cost is what the nodes (and the bench) spent over a run.
type cost struct {
	nodeCPU, benchCPU time.Duration
	cpuOK             bool
	metrics           ringMetrics // difference over the run; only with the page on
	lines, bytes      int64       // stdout, all nodes
	kernelDrops       int64       // at the nodes' sockets, receive queue full
}

// costReading is a reading of the counters a cost is the difference of.
type costReading struct {
	nodeCPU, benchCPU time.Duration
	cpuOK             bool
	metrics           ringMetrics
	lines, bytes      int64
	drops             map[int]int64
}

func (r *ring) readCosts(gui bool) (costReading, error) {
	c := costReading{benchCPU: selfCPU()}
	c.nodeCPU, c.cpuOK = cpuTimes(r.pids())
	for _, nd := range r.nodes {
		c.lines += nd.stdout.lines.Load()
		c.bytes += nd.stdout.bytes.Load()
	}
	var err error
	if c.drops, err = udpDrops(r.ports()); err != nil {
		return c, err
	}
	if gui {
		c.metrics, err = r.scrape()
	}
	return c, err
}

func (c costReading) since(before costReading) cost {
	d := cost{nodeCPU: c.nodeCPU - before.nodeCPU, benchCPU: c.benchCPU - before.benchCPU,
		cpuOK: c.cpuOK && before.cpuOK, metrics: c.metrics.sub(before.metrics),
		lines: c.lines - before.lines, bytes: c.bytes - before.bytes}
	for port, n := range c.drops {
		d.kernelDrops += n - before.drops[port]
	}
	return d
}

func runThroughputOnce(bin, dir string, load throughputLoad, run int, o throughputOptions) (throughputResult, error) {
	texts := make([]string, load.n)
	packets := make([][]byte, load.n)
	for k := range texts {
		texts[k] = "t" + strconv.Itoa(run) + "-" + strconv.Itoa(k)
		b, err := (&messages.Message{Text: texts[k]}).Encode()
		if err != nil {
			return throughputResult{}, err
		}
		packets[k] = b
	}
	d := newDeliveries(texts, ringSize)
	r, err := startRing(bin, dir, ringSize, o.gui, d)
	if err != nil {
		return throughputResult{}, err
	}
	defer r.stop()
	before, err := r.readCosts(o.gui)
	if err != nil {
		return throughputResult{}, err
	}
	postedAt, err := r.postAll(packets, load.interval)
	if err != nil {
		return throughputResult{}, err
	}
	res := throughputResult{label: load.label, posted: load.n, postSpan: postedAt[len(postedAt)-1].Sub(postedAt[0])}
	end := postedAt[len(postedAt)-1]
	if err := r.waitDelivered(end.Add(o.timeout)); err != nil {
		if r.exitedEarly() != nil {
			return res, err
		}
		res.missing = r.missing()
	}
	after, err := r.readCosts(o.gui)
	if err != nil {
		return res, err
	}
	res.cost = after.since(before)
	res.latencies, res.reachedAll = latencies(d, postedAt)
	res.printed = d.printed()
	last := d.lastDelivery()
	res.tail, res.elapsed = last.Sub(end), last.Sub(postedAt[0])
	if res.missing != "" {
		res.elapsed = time.Since(postedAt[0])
	}
	return res, nil
}

// postAll sends packets[k] to origin k mod 3, packet k at interval×k after
// the first (or back to back if interval is 0), catching up at once on any
// it is late for. It returns when each was sent.
func (r *ring) postAll(packets [][]byte, interval time.Duration) ([]time.Time, error) {
	at := make([]time.Time, len(packets))
	start := time.Now()
	for k, b := range packets {
		if interval > 0 {
			if wait := time.Until(start.Add(time.Duration(k) * interval)); wait > 0 {
				time.Sleep(wait)
			}
		}
		at[k] = time.Now()
		if _, err := r.nodes[throughputOrigins[k%len(throughputOrigins)]].post.Write(b); err != nil {
			return at, fmt.Errorf("posting message %d: %w", k, err)
		}
	}
	return at, nil
}

// latencies returns, sorted, the time from each message's post until the
// last node printed it, for the messages every node printed, and how many
// those are.
func latencies(d *deliveries, postedAt []time.Time) ([]time.Duration, int) {
	var ls []time.Duration
	for m, at := range postedAt {
		if last, ok := d.lastPrint(m); ok {
			ls = append(ls, last.Sub(at))
		}
	}
	slices.Sort(ls)
	return ls, len(ls)
}

// throughputTarget is the bound on the 99th percentile latency.
const throughputTarget = 3 * time.Second

func reportThroughput(out io.Writer, results []throughputResult, gui bool) {
	w := newTable(out)
	fmt.Fprintln(w, "posting\tposted\tsent at\tprinted\treached all\tp50\tp99\tmax\tlast post→last print\tp99 ≤ 3 s\t")
	for _, r := range results {
		var p50, p99, worst time.Duration
		if len(r.latencies) > 0 {
			p50, p99, worst = quantile(r.latencies, 0.5), quantile(r.latencies, 0.99), r.latencies[len(r.latencies)-1]
		}
		verdict := "met"
		if p99 > throughputTarget || r.reachedAll < r.posted {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%.1f%%\t%d\t%s\t%s\t%s\t%s\t%s\t\n", r.label, r.posted, perSecond(r.posted, r.postSpan),
			100*float64(r.printed)/float64(r.posted*ringSize), r.reachedAll, ms(p50), ms(p99), ms(worst), ms(r.tail), verdict)
	}
	w.Flush()
	fmt.Fprintln(out, "(sent at: the rate the bench achieved; printed: of the messages × 10 nodes; latency: from the bench's send")
	fmt.Fprintln(out, " to the last node's print line, of the messages that reached all 10)")
	reportThroughputCosts(out, results, gui)
}

func reportThroughputCosts(out io.Writer, results []throughputResult, gui bool) {
	cores := runtime.NumCPU()
	w := newTable(out)
	fmt.Fprintln(w, "posting\tdatagrams/delivery\tduplicates/delivery\tnode CPU/msg\tnode CPU/datagram\tnodes' CPU\tbench CPU\tlines/msg\tdropped by nodes\tdropped by kernel\t")
	for _, r := range results {
		busy := func(d time.Duration) string {
			return fmt.Sprintf("%.0f%% of %d cores", 100*d.Seconds()/r.elapsed.Seconds()/float64(cores), cores)
		}
		perDelivery, dups, perDatagram, dropped := "-", "-", "-", "-"
		if gui {
			deliveries := float64(r.posted * (ringSize - 1))
			perDelivery = fmt.Sprintf("%.2f", r.metrics.sent/deliveries)
			dups = fmt.Sprintf("%.2f", r.metrics.duplicates/deliveries)
			perDatagram = us(time.Duration(float64(r.nodeCPU) / max(1, r.metrics.sent)))
			dropped = formatDropped(r.metrics.dropped)
		}
		cpuMsg := us(r.nodeCPU / time.Duration(r.posted))
		if !r.cpuOK {
			cpuMsg = "?"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\t%d\t\n", r.label, perDelivery, dups, cpuMsg, perDatagram,
			busy(r.nodeCPU), busy(r.benchCPU), float64(r.lines)/float64(r.posted), dropped, r.kernelDrops)
	}
	w.Flush()
	fmt.Fprintln(out, "(over each run, from just before the first post to the last print: datagrams sent by all nodes per message × 9 receivers;")
	fmt.Fprintln(out, " duplicates: rumors received that the node held already, peerster_rumors_duplicate_total;")
	fmt.Fprintln(out, " CPU: utime+stime of the 10 nodes, 10 ms ticks; bench CPU: this process, which reads every node's stdout;")
	fmt.Fprintln(out, " dropped by nodes: peerster_packets_dropped_total by reason; by kernel: full receive queues in /proc/net/udp)")
}

// formatDropped writes the node's drops by reason, "0" if none.
func formatDropped(m map[string]float64) string {
	if len(m) == 0 {
		return "0"
	}
	reasons := make([]string, 0, len(m))
	for k := range m {
		reasons = append(reasons, k)
	}
	slices.Sort(reasons)
	parts := make([]string, len(reasons))
	for i, k := range reasons {
		parts[i] = fmt.Sprintf("%s %.0f", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// perSecond writes n events over d as a rate.
func perSecond(n int, d time.Duration) string {
	if d <= 0 || n < 2 {
		return "at once"
	}
	return fmt.Sprintf("%.0f/s", float64(n-1)/d.Seconds())
}

// us writes d in microseconds.
func us(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Microsecond), 'f', 0, 64) + " µs"
}
