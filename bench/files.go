package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/peerster/Peerster/internal/lossynet"
	"github.com/peerster/Peerster/internal/stdoutline"
)

// The files command answers: how long does a download take, across how
// many hops and how much loss, and how many datagrams does it cost? For
// each configuration (hops × loss) it starts a line of hops+1 real
// gossipers with -rtimer=1, each in a folder of its own, waits until the
// ends have routes to each other, and then, for each run, has the first
// node share a file of random bytes (client -file) and the last download
// it (client -file -dest -request). It reports the time from the download
// client's start until the downloader printed RECONSTRUCTED (median and
// max over the runs), the datagrams all the nodes sent meanwhile per item
// (the chunks and the metafile: a request and a reply per hop each, so
// 2×hops without loss), from their /metrics before and after, and whether
// the saved bytes equal the shared ones. With loss, the line runs inside a
// network namespace of the bench's own where nftables drops that share of
// the datagrams to the gossip ports (root, ip and nft needed); the line is
// the same for every run of a configuration, a fresh one for each
// configuration.

const (
	filesChunk   = 8192
	filesMaxSize = 256 * filesChunk
	// filesTimeTarget is the target time for 2 MiB across 3 hops on
	// loopback without loss; filesTrafficSlack the datagrams per item a
	// lossless download may cost beyond a request and a reply per hop.
	filesTimeTarget   = 300 * time.Millisecond
	filesTrafficSlack = 1.10
	filesGossip0      = 5000 // ports inside a namespace of the bench's own
	filesUI0          = 6000
	filesGUI0         = 7000
)

type filesOptions struct {
	size     int
	hops     []int
	losses   []float64
	runs     int
	timeout  time.Duration
	gossiper string
}

func runFiles(args []string, out, errOut io.Writer) error {
	o, err := parseFilesFlags(args, errOut)
	if err != nil {
		return err
	}
	// Ctrl-C ends the runs and still removes the namespace and the nodes.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	bin, dir, cleanup, err := startBench(o.gossiper, out, "files: a file shared at one end of a line of gossipers, downloaded at the other")
	if err != nil {
		return err
	}
	defer cleanup()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	client, err := build(root, "./client", dir, "client")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s (%d chunks); -rtimer=1; %d run(s) of each configuration on one line, a fresh line for each configuration\n",
		sizeString(o.size), chunksOf(o.size), o.runs)
	var results []filesConfigResult
	for _, loss := range o.losses {
		why := ""
		if loss > 0 {
			if why = lossynet.Unavailable(); why != "" {
				why = "loss needs a network namespace with nftables, which needs root, ip (iproute2) and nft (nftables): " + why
			}
		}
		for _, hops := range o.hops {
			if why != "" {
				fmt.Fprintf(out, "  %d hop(s), loss %.0f%%: cannot run: %s\n", hops, 100*loss, why)
				continue
			}
			res, err := runFilesConfig(ctx, out, bin, client, dir, hops, loss, o)
			if err != nil {
				return fmt.Errorf("%d hop(s), loss %.0f%%: %w", hops, 100*loss, err)
			}
			results = append(results, res)
		}
	}
	reportFiles(out, o, results)
	fmt.Fprintf(out, "load average now %s\n", loadAverage())
	if len(results) == 0 {
		return errors.New("no configuration could run")
	}
	return nil
}

func parseFilesFlags(args []string, errOut io.Writer) (filesOptions, error) {
	var o filesOptions
	var size, hops, losses string
	fs := flag.NewFlagSet("files", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&size, "size", "2MiB", "size of the file shared, in bytes or with KiB or MiB; at most 2MiB (256 chunks)")
	fs.StringVar(&hops, "hops", "1,3", "comma-separated hops from the downloader to the sharer, each 1 to 5")
	fs.StringVar(&losses, "loss", "0", "comma-separated shares of the gossip datagrams dropped, each 0 to 0.5; above 0 needs root, ip and nft")
	fs.IntVar(&o.runs, "runs", 3, "downloads in each configuration, each of a new file; the report gives the median and max")
	fs.DurationVar(&o.timeout, "timeout", time.Minute, "give up on a download this long after its client started")
	fs.StringVar(&o.gossiper, "gossiper", "", "a gossiper binary to measure instead of building the repository's")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: go run ./bench files [flags]")
		fmt.Fprintln(errOut, "\nA file shared at one end of a line of gossipers, downloaded at the other: time and datagrams.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, usageErr{err}
	}
	bad := func(err error) (filesOptions, error) {
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return o, usageErr{err}
	}
	var err error
	if o.size, err = parseSize(size); err != nil {
		return bad(err)
	}
	if o.hops, err = parseHops(hops); err != nil {
		return bad(err)
	}
	if o.losses, err = parseLosses(losses); err != nil {
		return bad(err)
	}
	if o.runs < 1 || o.timeout <= 0 || fs.NArg() > 0 {
		return bad(errors.New("-runs must be at least 1, -timeout positive, and no arguments"))
	}
	return o, nil
}

// parseSize reads a size in bytes, or KiB or MiB.
func parseSize(s string) (int, error) {
	mult, num := 1, s
	switch {
	case strings.HasSuffix(s, "MiB"):
		mult, num = 1<<20, strings.TrimSuffix(s, "MiB")
	case strings.HasSuffix(s, "KiB"):
		mult, num = 1<<10, strings.TrimSuffix(s, "KiB")
	}
	f, err := strconv.ParseFloat(num, 64)
	n := int(f * float64(mult))
	if err != nil || n < 1 || n > filesMaxSize {
		return 0, fmt.Errorf("-size: %q is not a size from 1 byte to 2MiB", s)
	}
	return n, nil
}

func parseHops(s string) ([]int, error) {
	var hops []int
	for _, f := range strings.Split(s, ",") {
		h, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || h < 1 || h > 5 {
			return nil, fmt.Errorf("-hops: %q is not a number of hops from 1 to 5", f)
		}
		hops = append(hops, h)
	}
	return hops, nil
}

func parseLosses(s string) ([]float64, error) {
	var losses []float64
	for _, f := range strings.Split(s, ",") {
		l, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil || l < 0 || l > 0.5 {
			return nil, fmt.Errorf("-loss: %q is not a share of datagrams from 0 to 0.5", f)
		}
		losses = append(losses, l)
	}
	return losses, nil
}

// filesTime writes d in ms below a second, else in seconds.
func filesTime(d time.Duration) string {
	if d < time.Second {
		return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64) + " ms"
	}
	return seconds(d)
}

func chunksOf(size int) int { return (size + filesChunk - 1) / filesChunk }

func sizeString(n int) string {
	switch {
	case n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// filesRun is one download.
type filesRun struct {
	took      time.Duration // from the client's start to RECONSTRUCTED
	datagrams float64       // sent by all the nodes meanwhile
	beyondAE  float64       // of them, not anti-entropy statuses
	equal     bool
	// failed says why the file was not reconstructed: the downloader
	// gave up, or the timeout passed. The figures above are then unset.
	failed string
}

type filesConfigResult struct {
	hops       int
	loss       float64
	runs       []filesRun
	dropped    int64 // by nftables, with loss
	total      int64
	background float64 // datagrams a second the idle line sends
}

// filesLine is a line of gossipers, node 0 sharing, the last downloading.
type filesLine struct {
	ns     *lossynet.Netns // or nil for the machine's loopback
	http   *http.Client
	nodes  []*filesNode
	client string
}

type filesNode struct {
	name            string
	dir             string
	gossip, ui, gui int
	cmd             *exec.Cmd
	exited          chan struct{}
	stderr          *os.File
	lines           *lineLog
}

func runFilesConfig(ctx context.Context, out io.Writer, bin, client, dir string, hops int, loss float64, o filesOptions) (filesConfigResult, error) {
	res := filesConfigResult{hops: hops, loss: loss}
	l := &filesLine{client: client, http: &http.Client{Timeout: 5 * time.Second}}
	if loss > 0 {
		// A namespace of the bench's own, where nftables drops the share
		// loss of the datagrams to the gossip ports of the line.
		ns, err := lossynet.New("peerster-bench-files-", filesGossip0, filesGossip0+hops, loss)
		if err != nil {
			return res, err
		}
		defer func() { // after the nodes have stopped (defers run last first)
			if err := ns.Delete(); err != nil {
				fmt.Fprintf(os.Stderr, "bench files: %v\n", err)
			}
		}()
		l.ns, l.http = ns, ns.HTTPClient()
	}
	defer l.stop()
	if err := l.start(bin, dir, hops+1); err != nil {
		return res, err
	}
	if err := l.awaitRoutes(ctx, l.nodes[0], l.nodes[hops]); err != nil {
		return res, err
	}
	background, err := l.idleRate()
	if err != nil {
		return res, err
	}
	res.background = background

	for run := 1; run <= o.runs; run++ {
		if ctx.Err() != nil {
			return res, ctx.Err()
		}
		r, err := l.download(ctx, run, o)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", run, err)
		}
		res.runs = append(res.runs, r)
		if r.failed != "" {
			fmt.Fprintf(out, "  %d hop(s), loss %.0f%%, run %d: NOT RECONSTRUCTED: %s\n", hops, 100*loss, run, r.failed)
			continue
		}
		items := float64(chunksOf(o.size) + 1)
		fmt.Fprintf(out, "  %d hop(s), loss %.0f%%, run %d: RECONSTRUCTED %s after the client's start; %.0f datagrams, %.2f per item (%.2f beyond anti-entropy); bytes equal: %v\n",
			hops, 100*loss, run, filesTime(r.took), r.datagrams, r.datagrams/items, r.beyondAE/items, r.equal)
	}
	if l.ns != nil {
		if total, dropped, err := l.ns.Counters(); err == nil {
			res.total, res.dropped = total, dropped
		}
	}
	return res, nil
}

// awaitRoutes waits until each end of the line has a route to the other.
func (l *filesLine) awaitRoutes(ctx context.Context, first, last *filesNode) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, w := range []struct{ n, to *filesNode }{{last, first}, {first, last}} {
		_, failed, err := w.n.lines.await(ctx, "DSDV line towards "+w.to.name, routeTo(w.to.name), deadline, nil)
		if err == nil && failed != "" {
			err = errors.New(failed)
		}
		if err != nil {
			return fmt.Errorf("%s: no route to the other end: %w", w.n.name, err)
		}
	}
	return nil
}

// idleRate is the datagrams a second the idle line sends (anti-entropy,
// route rumors), over a second: a download's datagrams include its share
// of it.
func (l *filesLine) idleRate() (float64, error) {
	before, err := l.scrape()
	if err != nil {
		return 0, err
	}
	idleFrom := time.Now()
	time.Sleep(time.Second)
	after, err := l.scrape()
	if err != nil {
		return 0, err
	}
	return (after.sent - before.sent) / time.Since(idleFrom).Seconds(), nil
}

// inNetns prefixes argv to run it in the line's namespace, if it has one;
// ip netns exec execs the program in place, so the PID is the program's.
func (l *filesLine) inNetns(argv ...string) []string {
	if l.ns == nil {
		return argv
	}
	return append([]string{"ip", "netns", "exec", l.ns.Name}, argv...)
}

// start starts n gossipers in a line, each knowing its neighbours, each in
// a folder of its own under dir, and waits until each serves /metrics (its
// page starts after its sockets are bound).
func (l *filesLine) start(bin, dir string, n int) error {
	var udp, tcp []int
	var err error
	if l.ns == nil {
		if udp, err = freeUDPPorts(2 * n); err == nil {
			tcp, err = freeTCPPorts(n)
		}
		if err != nil {
			return err
		}
	} else {
		for i := range n {
			udp = append(udp, filesGossip0+i, filesUI0+i)
			tcp = append(tcp, filesGUI0+i)
		}
	}
	base, err := os.MkdirTemp(dir, "line-")
	if err != nil {
		return err
	}
	for i := range n {
		nd := &filesNode{name: ringName(i), dir: filepath.Join(base, ringName(i)), gossip: udp[2*i], ui: udp[2*i+1], gui: tcp[i]}
		l.nodes = append(l.nodes, nd)
	}
	for i, nd := range l.nodes {
		var peers []string
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < n {
				peers = append(peers, "127.0.0.1:"+strconv.Itoa(l.nodes[j].gossip))
			}
		}
		if err := l.startNode(bin, nd, peers); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, nd := range l.nodes {
		for {
			if _, err := l.scrapeNode(nd); err == nil {
				break
			}
			select {
			case <-nd.exited:
				return fmt.Errorf("node %s exited at start: %s", nd.name, readAll(nd.stderr))
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("node %s not serving /metrics 10 s after its start: %s", nd.name, readAll(nd.stderr))
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	return nil
}

func (l *filesLine) startNode(bin string, nd *filesNode, peers []string) error {
	if err := os.MkdirAll(filepath.Join(nd.dir, "_SharedFiles"), 0o755); err != nil {
		return err
	}
	args := []string{bin, "-name=" + nd.name, "-gossipAddr=127.0.0.1:" + strconv.Itoa(nd.gossip),
		"-UIPort=" + strconv.Itoa(nd.ui), "-GUIPort=" + strconv.Itoa(nd.gui), "-peers=" + strings.Join(peers, ","), "-rtimer=1"}
	argv := l.inNetns(args...)
	stderr, err := os.Create(filepath.Join(nd.dir, "stderr"))
	if err != nil {
		return err
	}
	nd.stderr = stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	nd.cmd = exec.Command(argv[0], argv[1:]...)
	nd.cmd.Dir = nd.dir
	nd.cmd.Stdout, nd.cmd.Stderr = pw, stderr
	err = nd.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return err
	}
	nd.exited = make(chan struct{})
	go func() { _ = nd.cmd.Wait(); close(nd.exited) }()
	nd.lines = watchLines(pr)
	return nil
}

// stop ends every node it started, by its PID: SIGTERM, then SIGKILL for
// one still running 5 s later.
func (l *filesLine) stop() {
	for _, nd := range l.nodes {
		if nd.exited != nil {
			_ = nd.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	for _, nd := range l.nodes {
		if nd.exited != nil {
			select {
			case <-nd.exited:
			case <-time.After(5 * time.Second):
				_ = nd.cmd.Process.Kill()
				<-nd.exited
			}
			<-nd.lines.done
		}
		if nd.stderr != nil {
			nd.stderr.Close()
		}
	}
}

func (l *filesLine) scrapeNode(nd *filesNode) (nodeMetrics, error) {
	resp, err := l.http.Get("http://127.0.0.1:" + strconv.Itoa(nd.gui) + "/metrics")
	if err != nil {
		return nodeMetrics{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nodeMetrics{}, fmt.Errorf("GET /metrics of %s: %s", nd.name, resp.Status)
	}
	return parseMetrics(resp.Body)
}

// scrape sums the nodes' datagrams sent, and anti-entropy statuses.
func (l *filesLine) scrape() (ringMetrics, error) {
	var sum ringMetrics
	for _, nd := range l.nodes {
		m, err := l.scrapeNode(nd)
		if err != nil {
			return sum, fmt.Errorf("node %s: %w", nd.name, err)
		}
		sum.sent += m.sent
		sum.antiEntropy += m.antiEntropy
	}
	return sum, nil
}

// runClient runs the client against node nd's UI port with args, and
// returns its stdout.
func (l *filesLine) runClient(nd *filesNode, args ...string) (string, error) {
	argv := l.inNetns(append([]string{l.client, "-UIPort=" + strconv.Itoa(nd.ui)}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("client %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	return stdout.String(), nil
}

// download has the first node share a new file of random bytes and the
// last download it, and measures it.
func (l *filesLine) download(ctx context.Context, run int, o filesOptions) (filesRun, error) {
	first, last := l.nodes[0], l.nodes[len(l.nodes)-1]
	name := fmt.Sprintf("file%d.bin", run)
	data := make([]byte, o.size)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(first.dir, "_SharedFiles", name), data, 0o644); err != nil {
		return filesRun{}, err
	}
	shared, err := l.runClient(first, "-file="+name)
	if err != nil {
		return filesRun{}, err
	}
	meta, _, _ := strings.Cut(shared, " ")
	if len(meta) != 64 {
		return filesRun{}, fmt.Errorf("sharing printed %q, no metahash", shared)
	}
	before, err := l.scrape()
	if err != nil {
		return filesRun{}, err
	}
	saveAs := fmt.Sprintf("copy%d.bin", run)
	start := time.Now()
	if _, err := l.runClient(last, "-file="+saveAs, "-dest="+first.name, "-request="+meta); err != nil {
		return filesRun{}, err
	}
	// A download that gives up says so on stderr; the wait ends then.
	gaveUp := func() string {
		b, _ := os.ReadFile(last.stderr.Name())
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, "download of "+saveAs+" from "+first.name+" failed") {
				return line
			}
		}
		return ""
	}
	done := stdoutline.Reconstructed{File: saveAs}
	isDone := func(l stdoutline.Line) bool { return l == done }
	at, failed, err := last.lines.await(ctx, fmt.Sprintf("line %q", done), isDone, start.Add(o.timeout), gaveUp)
	if err != nil {
		return filesRun{}, fmt.Errorf("%s: %w", last.name, err)
	}
	if failed != "" {
		return filesRun{failed: fmt.Sprintf("%s after %v: %s", last.name, seconds(time.Since(start)), failed)}, nil
	}
	after, err := l.scrape()
	if err != nil {
		return filesRun{}, err
	}
	got, _ := os.ReadFile(filepath.Join(last.dir, "_Downloads", saveAs))
	return filesRun{took: at.Sub(start), datagrams: after.sent - before.sent,
		beyondAE: after.beyond() - before.beyond(), equal: bytes.Equal(got, data)}, nil
}

// lineLog keeps a node's stdout lines of the kinds the command waits for
// (DSDV, RECONSTRUCTED), each with the time it was read.
type lineLog struct {
	mu    sync.Mutex
	lines []timedLine
	done  chan struct{}
}

type timedLine struct {
	at   time.Time
	line stdoutline.Line
}

func watchLines(r io.ReadCloser) *lineLog {
	l := &lineLog{done: make(chan struct{})}
	go func() {
		defer close(l.done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), maxLine)
		for sc.Scan() {
			now := time.Now()
			switch line, _ := stdoutline.Parse(sc.Text()); line.(type) {
			case stdoutline.DSDV, stdoutline.Reconstructed:
				l.mu.Lock()
				l.lines = append(l.lines, timedLine{now, line})
				l.mu.Unlock()
			}
		}
		_, _ = io.Copy(io.Discard, r)
	}()
	return l
}

// routeTo matches the DSDV lines that give a next hop towards origin.
func routeTo(origin string) func(stdoutline.Line) bool {
	return func(l stdoutline.Line) bool {
		route, ok := l.(stdoutline.DSDV)
		return ok && route.Origin == origin
	}
}

// await waits until a line that match accepts was read, and returns when
// it was; what names the line in a failure. If deadline passes first, or
// giveUp (called every 100 ms, if not nil) says why it would not come, it
// returns that in failed instead. An error is a node that is gone, or the
// command interrupted.
func (l *lineLog) await(ctx context.Context, what string, match func(stdoutline.Line) bool, deadline time.Time, giveUp func() string) (at time.Time, failed string, err error) {
	for i := 0; ; i++ {
		l.mu.Lock()
		for _, x := range l.lines {
			if match(x.line) {
				l.mu.Unlock()
				return x.at, "", nil
			}
		}
		l.mu.Unlock()
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Sprintf("no %s by the deadline", what), nil
		}
		if giveUp != nil && i%100 == 0 {
			if why := giveUp(); why != "" {
				return time.Time{}, why, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, "", ctx.Err()
		case <-l.done:
			return time.Time{}, "", fmt.Errorf("stdout ended with no %s", what)
		case <-time.After(time.Millisecond):
		}
	}
}

// filesTarget says whether a configuration without loss met the targets:
// datagrams per item within filesTrafficSlack of the ideal, and for 2 MiB
// across 3 hops, the median time; "" for a lossy one, which has none.
func filesTarget(r filesConfigResult, o filesOptions, ideal, perItem float64, median time.Duration) string {
	if r.loss != 0 {
		return ""
	}
	target := fmt.Sprintf("≤ %.1f/item ", ideal*filesTrafficSlack)
	if perItem <= ideal*filesTrafficSlack {
		target += "met"
	} else {
		target += "MISSED"
	}
	if r.hops == 3 && o.size == filesMaxSize {
		verdict := "met"
		if median > filesTimeTarget {
			verdict = "MISSED"
		}
		target += fmt.Sprintf(", ≤ %s %s", seconds(filesTimeTarget), verdict)
	}
	return target
}

func reportFiles(out io.Writer, o filesOptions, results []filesConfigResult) {
	if len(results) == 0 {
		return
	}
	items := float64(chunksOf(o.size) + 1)
	w := newTable(out)
	fmt.Fprintln(w, "hops\tloss\treconstructed\tmedian\tmax\tdatagrams/item\tmax\tbeyond AE\tideal\tbytes equal\tidle line\ttarget\t")
	for _, r := range results {
		var took []time.Duration
		var per, beyond []float64
		equal := 0
		for _, run := range r.runs {
			if run.failed != "" {
				continue
			}
			took = append(took, run.took)
			per = append(per, run.datagrams/items)
			beyond = append(beyond, run.beyondAE/items)
			if run.equal {
				equal++
			}
		}
		lossCol := "0"
		if r.loss > 0 {
			lossCol = fmt.Sprintf("%.0f%% (%.1f%%)", 100*r.loss, 100*float64(r.dropped)/float64(max(r.total, 1)))
		}
		ideal := float64(2 * r.hops)
		if len(took) == 0 {
			fmt.Fprintf(w, "%d\t%s\t0/%d\t-\t-\t-\t-\t-\t%.0f\t-\t%.0f/s\t\t\n", r.hops, lossCol, len(r.runs), ideal, r.background)
			continue
		}
		slices.Sort(per)
		slices.Sort(beyond)
		s := summarize(took)
		target := filesTarget(r, o, ideal, medianFloat(per), s.median)
		fmt.Fprintf(w, "%d\t%s\t%d/%d\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.0f\t%d/%d\t%.0f/s\t%s\t\n", r.hops, lossCol, len(took), len(r.runs),
			filesTime(s.median), filesTime(s.max), medianFloat(per), per[len(per)-1], medianFloat(beyond), ideal, equal, len(took), r.background, target)
	}
	w.Flush()
	fmt.Fprintf(out, "(reconstructed: runs whose file was reconstructed before the downloader gave up or the timeout; the other columns are\n")
	fmt.Fprintf(out, " over those. median, max: from the download client's start to RECONSTRUCTED. datagrams/item: sent by all the nodes from\n")
	fmt.Fprintf(out, " just before the client's start until RECONSTRUCTED, over the %.0f items (chunks and metafile), median and max; beyond AE:\n", items)
	fmt.Fprintf(out, " without anti-entropy statuses; ideal: a request and a reply per hop. loss: asked (dropped by nftables over the\n")
	fmt.Fprintf(out, " configuration). idle line: datagrams a second the line sent while idle, part of every figure. The targets: 2 MiB\n")
	fmt.Fprintf(out, " across 3 hops in at most 0.3 s, and at most 10%% over the ideal datagrams, on loopback without loss.)\n")
}
