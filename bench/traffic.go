package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"text/tabwriter"
	"time"
)

// The traffic command answers: how many datagrams does the network spend
// to bring a message to every node, and stop? It starts a ring of ten real
// gossipers, each knowing only the next, posts a scenario's messages, waits
// until every node has printed every one (CLIENT MESSAGE at the origin,
// RUMOR elsewhere), then until the network is at rest: no datagram beyond
// the anti-entropy statuses, which every node sends once a second whatever
// happens, for -rest (15 s, longer than the 10 s a rumor stays fresh and
// may still be mongered). It counts, from the nodes' /metrics, the
// datagrams sent beyond anti-entropy (peerster_packets_sent_total minus
// peerster_antientropy_statuses_total, summed over the nodes) from just
// before the first post until rest, and divides them by the deliveries:
// messages times receiving nodes, nine per message. Each run of each
// scenario has a fresh ring.

// ringSize is the number of gossipers in the rings of traffic and
// throughput, as in the handout's ring tests.
const ringSize = 10

// trafficScenario is one pattern of posts, with the target.
type trafficScenario struct {
	name, about string
	target      float64 // datagrams beyond anti-entropy per delivery, at most
	posts       func(prefix string) []trafficPost
}

// trafficPost is one message posted on node at a time after the first.
type trafficPost struct {
	node int
	at   time.Duration
	text string
}

var trafficScenarios = []trafficScenario{
	{"quiet", "4 messages 10 s apart, on A, D, G, J", 6, func(prefix string) []trafficPost {
		return schedule(prefix, 4, 10*time.Second, 0, 3, 6, 9)
	}},
	{"burst", "20 messages within 1 s, from B, E, H in turn", 4.5, func(prefix string) []trafficPost {
		return schedule(prefix, 20, 50*time.Millisecond, 1, 4, 7)
	}},
}

// schedule is n posts, one every gap, from the given nodes in turn, with
// texts prefix1, prefix2...
func schedule(prefix string, n int, gap time.Duration, nodes ...int) []trafficPost {
	ps := make([]trafficPost, n)
	for k := range ps {
		ps[k] = trafficPost{node: nodes[k%len(nodes)], at: time.Duration(k) * gap, text: prefix + strconv.Itoa(k+1)}
	}
	return ps
}

type trafficOptions struct {
	runs          int
	scenarios     []trafficScenario
	rest, poll    time.Duration
	timeout       time.Duration
	gossiper      string
	scenarioNames string
}

func runTraffic(args []string, out, errOut io.Writer) error {
	o, err := parseTrafficFlags(args, errOut)
	if err != nil {
		return err
	}
	bin, dir, cleanup, err := startBench(o.gossiper, out, "traffic: datagrams beyond anti-entropy per delivery, from just before the first post until rest")
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(out, "ring of %d gossipers, each knowing only the next; rest: no datagram beyond anti-entropy for %v; %d run(s) of each\n",
		ringSize, o.rest, o.runs)
	var all [][]trafficResult
	for _, sc := range o.scenarios {
		var results []trafficResult
		for run := 1; run <= o.runs; run++ {
			res, err := runTrafficScenario(bin, dir, sc, run, o)
			if err != nil {
				return fmt.Errorf("%s run %d: %w", sc.name, run, err)
			}
			fmt.Fprintf(out, "  %s run %d: %d messages, %.0f datagrams beyond anti-entropy, %.2f per delivery; all printed after %v, at rest after %v\n",
				sc.name, run, res.messages, res.datagrams, res.perDelivery, seconds(res.delivered), seconds(res.rest))
			results = append(results, res)
		}
		all = append(all, results)
	}
	reportTraffic(out, o.scenarios, all)
	fmt.Fprintf(out, "load average now %s\n", loadAverage())
	return nil
}

func parseTrafficFlags(args []string, errOut io.Writer) (trafficOptions, error) {
	var o trafficOptions
	fs := flag.NewFlagSet("traffic", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.IntVar(&o.runs, "runs", 1, "runs of each scenario, each on a fresh ring; the report gives the median")
	fs.StringVar(&o.scenarioNames, "scenario", "all", "quiet, burst or all")
	fs.DurationVar(&o.rest, "rest", 15*time.Second, "the network is at rest after this long with no datagram beyond anti-entropy")
	fs.DurationVar(&o.poll, "poll", 250*time.Millisecond, "period of the reads of /metrics while waiting for rest")
	fs.DurationVar(&o.timeout, "timeout", 3*time.Minute, "give up on a run this long after its first post")
	fs.StringVar(&o.gossiper, "gossiper", "", "a gossiper binary to measure instead of building the repository's")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: go run ./bench traffic [flags]")
		fmt.Fprintln(errOut, "\nDatagrams beyond anti-entropy per delivery in a ring of 10 gossipers, until rest.")
		for _, sc := range trafficScenarios {
			fmt.Fprintf(errOut, "  %-6s %s (target at most %g)\n", sc.name, sc.about, sc.target)
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, usageErr{err}
	}
	for _, sc := range trafficScenarios {
		if o.scenarioNames == "all" || o.scenarioNames == sc.name {
			o.scenarios = append(o.scenarios, sc)
		}
	}
	if o.runs < 1 || len(o.scenarios) == 0 || o.rest <= 0 || o.poll <= 0 || fs.NArg() > 0 {
		err := errors.New("-runs must be at least 1, -scenario quiet, burst or all, -rest and -poll positive, and no arguments")
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return o, usageErr{err}
	}
	return o, nil
}

// trafficResult is what one run of a scenario measured.
type trafficResult struct {
	messages    int
	datagrams   float64 // beyond anti-entropy, from before the first post until rest
	perDelivery float64
	delivered   time.Duration // first post until every node printed every message
	rest        time.Duration // first post until the last datagram beyond anti-entropy was seen
}

func runTrafficScenario(bin, dir string, sc trafficScenario, run int, o trafficOptions) (trafficResult, error) {
	posts := sc.posts(sc.name + "-r" + strconv.Itoa(run) + "-m")
	texts := make([]string, len(posts))
	for i, p := range posts {
		texts[i] = p.text
	}
	d := newDeliveries(texts, ringSize)
	r, err := startRing(bin, dir, ringSize, true, d)
	if err != nil {
		return trafficResult{}, err
	}
	defer r.stop()
	before, err := r.scrape()
	if err != nil {
		return trafficResult{}, err
	}
	start := time.Now()
	for _, p := range posts {
		time.Sleep(time.Until(start.Add(p.at)))
		if err := r.postTo(p.node, p.text); err != nil {
			return trafficResult{}, err
		}
	}
	deadline := start.Add(o.timeout)
	if err := r.waitDelivered(deadline); err != nil {
		return trafficResult{}, err
	}
	res := trafficResult{messages: len(posts), delivered: d.lastDelivery().Sub(start)}
	lastChange, beyond, err := r.waitRest(o.rest, o.poll, deadline)
	if err != nil {
		return trafficResult{}, err
	}
	res.rest = lastChange.Sub(start)
	res.datagrams = beyond - before.beyond()
	res.perDelivery = res.datagrams / float64(len(posts)*(ringSize-1))
	return res, nil
}

// waitRest reads the nodes' /metrics every poll until the datagrams sent
// beyond anti-entropy, summed, have not changed for rest. It returns when
// they last changed (or when it started, if they never did) and their
// count then.
func (r *ring) waitRest(rest, poll time.Duration, deadline time.Time) (time.Time, float64, error) {
	m, err := r.scrape()
	if err != nil {
		return time.Time{}, 0, err
	}
	last, lastChange := m.beyond(), time.Now()
	for time.Since(lastChange) < rest {
		if time.Now().After(deadline) {
			return time.Time{}, 0, fmt.Errorf("not at rest before the timeout: %.0f datagrams beyond anti-entropy so far", last)
		}
		time.Sleep(poll)
		if err := r.exitedEarly(); err != nil {
			return time.Time{}, 0, err
		}
		if m, err = r.scrape(); err != nil {
			return time.Time{}, 0, err
		}
		if m.beyond() != last {
			last, lastChange = m.beyond(), time.Now()
		}
	}
	return lastChange, last, nil
}

func reportTraffic(out io.Writer, scenarios []trafficScenario, all [][]trafficResult) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "scenario\tmessages\truns\tper delivery\tmin\tmax\ttarget\t\tall printed\tat rest\t")
	for i, sc := range scenarios {
		rs := all[i]
		per := make([]float64, len(rs))
		var delivered, rest []time.Duration
		for j, r := range rs {
			per[j] = r.perDelivery
			delivered = append(delivered, r.delivered)
			rest = append(rest, r.rest)
		}
		slices.Sort(per)
		med := medianFloat(per)
		verdict := "met"
		if med > sc.target {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "%s\t%d\t%d\t%.2f\t%.2f\t%.2f\t≤ %g\t%s\t%v\t%v\t\n", sc.name, rs[0].messages, len(rs), med, per[0], per[len(per)-1],
			sc.target, verdict, seconds(summarize(delivered).median), seconds(summarize(rest).median))
	}
	w.Flush()
	fmt.Fprintln(out, "(per delivery: datagrams beyond anti-entropy / (messages × 9 receiving nodes), median over runs;")
	fmt.Fprintln(out, " all printed, at rest: median time from the first post; rest is confirmed by a further quiet -rest)")
}

// seconds writes d in seconds with two decimals.
func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
}
