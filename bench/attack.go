package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/peerster/Peerster/internal/attack"
)

// The attack command answers: what can a stranger, anyone who can send UDP
// to a node's gossip port, make a node do? Each attack of
// internal/attack runs against fresh real gossipers on loopback: a target
// and its honest peer, which chat with each other all along (a message
// each every -chat-every through their UI ports). For each it reports
// what the attack sent, what the nodes sent back to the attack's sockets
// (the attacker's, or the victim's whose address it forged), the peak
// resident memory of both nodes, how much of the chat got through during
// the attack and after it, and the attack's own figure. It runs any
// gossiper binary (-gossiper), so an old and a new one can be compared.

// attackSpec is one attack; group is the name -only selects it by, shared
// by the variants of an attack.
type attackSpec struct {
	name, group, about string
	run                func(e *attackEnv) error
}

var attackSpecs = []attackSpec{
	{"memory-flood", "memory-flood", "valid 60 KB rumors of a new origin, each the next in sequence", runMemoryFlood},
	{"http-history", "http-history", "a filled history's size over GET /message and /events; cross-site GETs", runHTTPHistory},
	{"private-loop", "private-loop", "two spoofed route rumors make a routing loop; one private message with hop limit 2^32-1", runPrivateLoop},
	{"amplification-dup", "amplification", "duplicate rumors from a victim's address to a node holding ~1,000 origins", runAmplificationDup},
	{"amplification-status", "amplification", "empty statuses from a victim's address to a node holding 60 KB rumors", runAmplificationStatus},
	{"origin-fill", "origin-fill", "first rumors of 1,100 new origins from one socket; then a node joins and posts", runOriginFill},
	{"origin-fill-16", "origin-fill", "the same from 16 sockets", runOriginFill16},
	{"own-claims", "own-claims", "statuses claiming the target's next ID is 4e9, and forged rumors of its origin", runOwnClaims},
	{"window-fill", "window-fill", "4,100 rumors of origins that never send ID 1; then an honest early rumor", runWindowFill},
	{"stdout-forge", "stdout-forge", "an origin name that forges a RUMOR line, and terminal escapes in a text", runStdoutForge},
	{"route-hijack", "route-hijack", "a forged rumor of B makes A route B's private messages to the stranger", runRouteHijack},
}

type attackOptions struct {
	gossiper string
	only     string
	specs    []attackSpec

	chatEvery, after, deadline, warmup time.Duration

	floodCount      int
	floodSockets    int
	floodTime       time.Duration
	textSize        int
	historyCount    int
	httpLimitMiB    int64
	loopTime        time.Duration
	ampOrigins      int
	ampDups         int
	ampStatuses     int
	ampBig          int
	quiet           time.Duration
	quietMax        time.Duration
	fillOrigins     int
	fillTime        time.Duration
	fillSockets     int
	joinWait        time.Duration
	claimsTime      time.Duration
	windowIDs       int
	windowPerOrigin int
	privates        int
}

func parseAttackFlags(args []string, errOut io.Writer) (attackOptions, error) {
	var o attackOptions
	fs := flag.NewFlagSet("attack", flag.ContinueOnError)
	fs.SetOutput(errOut)
	fs.StringVar(&o.gossiper, "gossiper", "", "a gossiper binary to attack instead of building the repository's")
	fs.StringVar(&o.only, "only", "", "comma-separated attacks to run (default all): "+attackGroups())
	fs.DurationVar(&o.chatEvery, "chat-every", 250*time.Millisecond, "each honest node posts a chat message this often")
	fs.DurationVar(&o.after, "after", 3*time.Second, "the chat goes on this long after an attack, for the 'after' figure")
	fs.DurationVar(&o.deadline, "deadline", 2*time.Second, "a chat message counts as delivered if the other node printed it within this of its post")
	fs.DurationVar(&o.warmup, "warmup", 10*time.Second, "give up on an attack if the honest chat has not started within this")
	fs.IntVar(&o.floodCount, "flood-count", 4000, "memory-flood: rumors at most, from each socket")
	fs.IntVar(&o.floodSockets, "flood-sockets", 8, "memory-flood: sockets, each flooding an origin of its own (a node takes a few MB/s from one address)")
	fs.DurationVar(&o.floodTime, "flood-time", 6*time.Second, "memory-flood: for at most this long")
	fs.IntVar(&o.textSize, "text", 60000, "memory-flood, http-history, amplification-status: bytes of text of each big rumor")
	fs.IntVar(&o.historyCount, "history-count", 4000, "http-history: big rumors in the history")
	fs.Int64Var(&o.httpLimitMiB, "http-limit", 256, "http-history: MiB read at most of an answer")
	fs.DurationVar(&o.loopTime, "loop-time", 3*time.Second, "private-loop: how long the forwarding is measured")
	fs.IntVar(&o.ampOrigins, "amp-origins", 1000, "amplification-dup: origins the target holds first")
	fs.IntVar(&o.ampDups, "amp-dups", 200, "amplification-dup: duplicate rumors sent")
	fs.IntVar(&o.ampStatuses, "amp-statuses", 100, "amplification-status: empty statuses sent")
	fs.IntVar(&o.ampBig, "amp-big", 120, "amplification-status: big rumors the target holds first (a node offers each to a peer once a second at most)")
	fs.DurationVar(&o.quiet, "quiet", 2*time.Second, "amplification: the victim counts until nothing arrived for this long")
	fs.DurationVar(&o.quietMax, "quiet-max", 5*time.Second, "amplification: or this long after the last send")
	fs.IntVar(&o.fillOrigins, "fill-origins", 1100, "origin-fill: new origins sent")
	fs.DurationVar(&o.fillTime, "fill-time", 150*time.Millisecond, "origin-fill: spread over this long")
	fs.IntVar(&o.fillSockets, "fill-sockets", 16, "origin-fill-16: sockets the rumors come from")
	fs.DurationVar(&o.joinWait, "join-wait", 10*time.Second, "origin-fill: how long the joining node's message may take to reach every node")
	fs.DurationVar(&o.claimsTime, "claims-time", 8*time.Second, "own-claims: how long the claims and forged rumors go on")
	fs.IntVar(&o.windowIDs, "window-ids", 4100, "window-fill: rumors sent, IDs 2 on of origins W1, W2...")
	fs.IntVar(&o.windowPerOrigin, "window-per-origin", 4095, "window-fill: IDs of each origin (Peerster keeps a rumor at most 4,096 IDs past the next)")
	fs.IntVar(&o.privates, "privates", 12, "route-hijack: private messages A sends B")
	fs.Usage = func() {
		fmt.Fprintln(errOut, "usage: go run ./bench attack [flags]")
		fmt.Fprintln(errOut, "\nWhat a stranger who can send UDP to a node's gossip port makes real gossipers do.")
		for _, s := range attackSpecs {
			fmt.Fprintf(errOut, "  %-20s %s\n", s.name, s.about)
		}
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, usageErr{err}
	}
	specs, err := selectAttacks(o.only)
	o.specs = specs
	if err == nil && fs.NArg() > 0 {
		err = errors.New("no arguments, only flags")
	}
	if err == nil {
		err = o.check()
	}
	if err != nil {
		fmt.Fprintln(errOut, err)
		fs.Usage()
		return o, usageErr{err}
	}
	return o, nil
}

// selectAttacks is the attacks that -only names, by name or group, in
// their order: all of them when it names none.
func selectAttacks(only string) ([]attackSpec, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var bad []string
	for n := range want {
		if !slices.ContainsFunc(attackSpecs, func(s attackSpec) bool { return s.name == n || s.group == n }) {
			bad = append(bad, n)
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, fmt.Errorf("-only: no attack %s; the attacks are %s", strings.Join(bad, ", "), attackGroups())
	}
	var specs []attackSpec
	for _, s := range attackSpecs {
		if len(want) == 0 || want[s.name] || want[s.group] {
			specs = append(specs, s)
		}
	}
	return specs, nil
}

// check says which of the options' values no attack can run with.
func (o *attackOptions) check() error {
	switch {
	case o.chatEvery <= 0 || o.after < 0 || o.deadline <= 0 || o.warmup <= 0:
		return errors.New("-chat-every, -deadline and -warmup must be positive, -after at least 0")
	case o.floodCount < 1 || o.floodSockets < 1 || o.historyCount < 1 || o.ampOrigins < 0 || o.ampDups < 1 || o.ampStatuses < 1 || o.ampBig < 1 ||
		o.fillOrigins < 1 || o.fillSockets < 1 || o.windowIDs < 1 || o.windowPerOrigin < 1 || o.privates < 1:
		return errors.New("the counts must be at least 1 (-amp-origins at least 0)")
	case o.textSize < 1 || o.textSize > 65000 || o.httpLimitMiB < 1:
		return errors.New("-text must be 1 to 65000 bytes, -http-limit at least 1 MiB")
	case o.floodTime <= 0 || o.loopTime <= 0 || o.quiet <= 0 || o.quietMax <= 0 || o.fillTime < 0 || o.joinWait <= 0 || o.claimsTime <= 0:
		return errors.New("the durations must be positive")
	}
	return nil
}

func attackGroups() string {
	var gs []string
	for _, s := range attackSpecs {
		if len(gs) == 0 || gs[len(gs)-1] != s.group {
			gs = append(gs, s.group)
		}
	}
	return strings.Join(gs, ", ")
}

// attackRow is what one attack measured.
type attackRow struct {
	name               string
	sent, back         attack.Count
	rssTarget, rssPeer int64
	during, afterwards chatTally
	figures            []string
	err                error
	notApplicable      bool
	took               time.Duration
}

func runAttack(args []string, out, errOut io.Writer) error {
	o, err := parseAttackFlags(args, errOut)
	if err != nil {
		return err
	}
	bin, dir, cleanup, err := startBench(o.gossiper, out, "attack: what a stranger who can send UDP to a node's gossip port makes real gossipers do")
	if err != nil {
		return err
	}
	defer cleanup()
	fmt.Fprintf(out, "gossiper %s; each attack on fresh nodes: target A and its honest peer B, each posting a chat message every %v\n", bin, o.chatEvery)
	var rows []attackRow
	failed := 0
	for _, s := range o.specs {
		row := runOneAttack(s, o, bin, dir)
		status := "done"
		switch {
		case row.err != nil:
			status, failed = "FAILED: "+row.err.Error(), failed+1
		case row.notApplicable:
			status = "n/a"
		}
		fmt.Fprintf(out, "  %s: %s in %v\n", s.name, status, seconds(row.took))
		rows = append(rows, row)
	}
	reportAttacks(out, o, rows)
	fmt.Fprintf(out, "load average now %s\n", loadAverage())
	if failed > 0 {
		return fmt.Errorf("%d of %d attacks could not be measured", failed, len(rows))
	}
	return nil
}

// attackEnv is one attack's world: its nodes, its sockets, its chat and
// the window in which it ran.
type attackEnv struct {
	o        attackOptions
	bin, dir string
	name     string

	nodes        []*attackNode
	target, peer *attackNode
	chat         *chatLoop

	socks   []*attack.Socket // the attack's: what they send and get back is the row's
	helpers []*attack.Socket // setup and probes, not counted
	spoofer *attack.Spoofer

	start, end time.Time
	figures    []string
	na         bool
	// later are figures read once the chat after the attack is over,
	// before the nodes stop.
	later  []func()
	client *http.Client
}

func runOneAttack(s attackSpec, o attackOptions, bin, dir string) attackRow {
	began := time.Now()
	e := &attackEnv{o: o, bin: bin, dir: dir, name: s.name, client: &http.Client{Timeout: 2 * time.Minute}}
	defer e.close()
	row := attackRow{name: s.name}
	row.err = s.run(e)
	if e.chat != nil {
		if e.start.IsZero() {
			e.start = time.Now()
		}
		if e.end.IsZero() {
			e.end = time.Now()
		}
		time.Sleep(time.Until(e.end.Add(o.after)))
		e.chat.halt()
		time.Sleep(o.deadline)
		row.during = e.chat.tally(e.start, e.end, o.deadline)
		row.afterwards = e.chat.tally(e.end, e.end.Add(o.after), o.deadline)
		if err := e.chat.postErr(); err != nil && row.err == nil {
			row.err = fmt.Errorf("posting the honest chat: %w", err)
		}
	}
	for _, f := range e.later {
		f()
	}
	for _, nd := range e.nodes {
		if !nd.alive() && row.err == nil {
			row.err = fmt.Errorf("node %s exited: %s", nd.name, lastLines(nd.stderrText(), 3))
		}
	}
	if e.target != nil {
		row.rssTarget = e.target.peakRSS()
	}
	if e.peer != nil {
		row.rssPeer = e.peer.peakRSS()
	}
	for _, sk := range e.socks {
		row.sent = row.sent.Add(sk.Sent())
		row.back = row.back.Add(sk.Received())
	}
	if e.spoofer != nil {
		row.sent = row.sent.Add(e.spoofer.Sent())
	}
	row.figures, row.notApplicable = e.figures, e.na
	row.took = time.Since(began)
	return row
}

func (e *attackEnv) close() {
	if e.chat != nil {
		e.chat.halt()
	}
	for _, nd := range e.nodes {
		nd.stop()
	}
	for _, s := range append(e.socks, e.helpers...) {
		s.Close()
	}
	if e.spoofer != nil {
		e.spoofer.Close()
	}
}

// node starts a gossiper of the attack, knowing peers.
func (e *attackEnv) node(name string, peers []*attackNode, flags ...string) (*attackNode, error) {
	var addrs []netip.AddrPort
	for _, p := range peers {
		addrs = append(addrs, p.gossip)
	}
	nd, err := startAttackNode(e.bin, e.dir, name, e.chatPrefix(), addrs, flags)
	if err != nil {
		return nil, err
	}
	e.nodes = append(e.nodes, nd)
	return nd, nil
}

func (e *attackEnv) chatPrefix() string { return "chat-" + e.name + "-" }

// pair starts the target A and its honest peer B, each knowing the other.
// B starts first, so that A's -peers names a port that is bound.
// chattingPair starts the target and its peer, chatting as every attack
// but own-claims has them.
func (e *attackEnv) chattingPair() error {
	if err := e.pair(); err != nil {
		return err
	}
	return e.startChat(e.o.chatEvery)
}

func (e *attackEnv) pair(targetFlags ...string) error {
	b, err := e.node("B", nil)
	if err != nil {
		return err
	}
	a, err := e.node("A", []*attackNode{b}, targetFlags...)
	if err != nil {
		return err
	}
	if err := b.addPeer(a); err != nil {
		return err
	}
	e.target, e.peer = a, b
	return nil
}

// startChat starts the honest chat between target and peer.
func (e *attackEnv) startChat(period time.Duration) error {
	c, err := startChatLoop(e.target, e.peer, e.chatPrefix(), period, e.o.warmup)
	if err != nil {
		return err
	}
	e.chat = c
	return nil
}

// socket opens one of the attack's sockets, whose traffic the row counts.
func (e *attackEnv) socket() (*attack.Socket, error) {
	s, err := attack.Listen()
	if err == nil {
		e.socks = append(e.socks, s)
	}
	return s, err
}

// helper opens a socket for setting a node up or asking it something,
// whose traffic is not the attack's.
func (e *attackEnv) helper() (*attack.Socket, error) {
	s, err := attack.Listen()
	if err == nil {
		e.helpers = append(e.helpers, s)
	}
	return s, err
}

func (e *attackEnv) begin()  { e.start = time.Now() }
func (e *attackEnv) finish() { e.end = time.Now() }

func (e *attackEnv) say(format string, args ...any) {
	e.figures = append(e.figures, fmt.Sprintf(format, args...))
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func reportAttacks(out io.Writer, o attackOptions, rows []attackRow) {
	w := newTable(out)
	fmt.Fprintln(w, "attack\tsent\tsent bytes\tback\tback bytes\tback/sent bytes\tRSS target\tRSS peer\tchat during\tchat after\t")
	for _, r := range rows {
		if r.notApplicable || r.err != nil && r.sent == (attack.Count{}) {
			fmt.Fprintf(w, "%s\t-\t-\t-\t-\t-\t%s\t%s\t%s\t%s\t\n", r.name, mib(r.rssTarget), mib(r.rssPeer), r.during, r.afterwards)
			continue
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.name, r.sent.Datagrams, byteSize(r.sent.Bytes),
			r.back.Datagrams, byteSize(r.back.Bytes), ratio(r.back.Bytes, r.sent.Bytes), mib(r.rssTarget), mib(r.rssPeer), r.during, r.afterwards)
	}
	w.Flush()
	fmt.Fprintln(out, "(sent: datagrams and UDP payload bytes the attack sent, spoofed ones included; back: what arrived at the attack's")
	fmt.Fprintln(out, " sockets, the attacker's and the victims', from its start until the nodes stopped; RSS: peak resident memory,")
	fmt.Fprintf(out, " VmHWM, in MiB; chat: messages of A and B posted during the attack / in the %v after it that the other node\n", o.after)
	fmt.Fprintf(out, " printed within %v of the post, as delivered/posted)\n", o.deadline)
	fmt.Fprintln(out, "figures:")
	for _, r := range rows {
		fs := r.figures
		if r.err != nil {
			fs = append(fs, "ERROR: "+r.err.Error())
		}
		fmt.Fprintf(out, "  %s: %s\n", r.name, strings.Join(fs, "; "))
	}
}

func mib(n int64) string {
	if n < 0 {
		return "?"
	}
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(n)/(1<<20))
}

// byteSize writes n bytes in B, kB or MB (powers of ten, as megabytes
// does).
func byteSize(n int64) string {
	switch {
	case n < 10_000:
		return fmt.Sprintf("%d B", n)
	case n < 1_000_000:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}

func ratio(back, sent int64) string {
	if sent == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", float64(back)/float64(sent))
}
