package gossiper

// TestScenarios replays the protocol transcripts in testdata/scenarios/*.txt
// against one Core. Each file is a datadriven test: a command, a "----" line,
// then what the command produced; `go test ./gossiper -run TestScenarios
// -rewrite` writes the outputs anew. Lines starting with # are comments.
//
// Commands:
//
//	node name=A addr=127.0.0.1:5000 peers=127.0.0.1:5001,127.0.0.1:5002 [simple] [rate=N]
//	    a fresh node (default config; rate overrides the packets a second
//	    taken from one source, 0 for no limit). The clock starts at 0s.
//	coin heads|tails ...   script the next random draws: heads is 1, tails 0
//	draws 1 0 2            script the next random draws as numbers
//	recv <from> <packet>   a datagram from the address <from>
//	client "text"          the local user posts a message
//	tick                   the anti-entropy timer
//	unreachable <addr>     the network reports that a datagram sent to
//	                       <addr> found no socket there
//	fire <kind> <peer>     the oldest pending timer of that kind (monger,
//	                       probe, catch-up, resend, recover) for that peer
//	                       (for recover: the origin) fires
//	fire #N                timer number N fires, even if it fired before
//	advance 1s             the clock moves on
//	repeat N <command>     recv, client or tick N times, {i} in the command
//	                       standing for 1..N ({i+K} for K+1..K+N);
//	                       prints totals: lines N, random N, store N,
//	                       send N, timer N, then the drops, counts,
//	                       warnings and errors summed
//	private <dest> "text"  the local user sends a private message
//	route                  the route-rumor timer (-rtimer)
//	add-peer <addr>        a peer added by hand
//	rename <name>          the local user changes the node's name
//	file, share, download, resume, failwrite: see scenario_files_test.go
//	show status|peers|log|timers|routes|private|alerts|downloads|shared
//	                       the node's vector clock, peer list, chat log
//	                       (forged messages marked), the timers armed and
//	                       not fired yet, its next hops, the private
//	                       messages it keeps, or its alerts for the user
//
// A packet is one or more parts (several make a packet with several fields
// set), or raw bytes:
//
//	rumor E/1 "Weather"                      origin/ID, then the text
//	status E:2 B:1                           origin:nextID pairs, maybe none
//	status size=1025                         1025 entries origin0:1 ...
//	simple origin=B relay=127.0.0.1:5002 "hi"
//	private origin=A dest=B hop=10 "hi"      id=N too, when not 0
//	empty                                    a packet with no field set
//	bytes ff00ff, bytes 00*65537             raw bytes in hex, a chunk*N
//	                                         repeats the chunk
//
// Texts and odd names are Go-quoted strings ("two\nlines", ""/1 is an empty
// origin); "x"*300 is the string repeated 300 times. Runs of spaces inside a
// quoted string shrink to one, so write them as \x20.
//
// Output of an event, in this order:
//
//	the lines the node prints on stdout, exactly
//	random(2) = 1                   each random draw: IntN(2) gave 1
//	store E/1 "Weather"             a message added to the history
//	posted A/1                      the ID Client gave the user's message
//	                                (0 in simple mode)
//	keep to B A->B hop=10 "hi"      a private message kept for the user
//	                                (and stored), sent (to) or received
//	                                (from)
//	send <to> <packet>              a datagram sent, in the packet syntax (a
//	                                status of more than 16 entries shows the
//	                                first four, "...", the last, and the count)
//	timer #3 monger <peer> 1s       a timer armed: its number, kind, peer, delay
//	drop <reason> (N)               packets dropped, by the reason counted in
//	                                Stats().Dropped (N when more than one)
//	count duplicate|out-of-order    rumors answered but not taken
//	count evicted                   origins that made way in the status
//	count refused                   datagrams the budget of their
//	                                address did not let go (sources.go)
//	count forgotten-texts|log       messages forgotten under the memory
//	                                budget
//	warn <text>                     a diagnostic for stderr
//	error <text>                    a client message refused
//	clock 1.5s                      the time since the node started, when
//	                                the command moved it
//
// fire moves the clock to the timer's deadline when that is later. A draw
// that was not scripted gives 0; scripted draws must all be used by the next
// event. Shuffles keep the order, so each anti-entropy round visits the peers
// from the last learned to the first.

import (
	"fmt"
	"maps"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/datadriven"
	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/internal/fuzzseed"
	"github.com/peerster/Peerster/messages"
)

func TestScenarios(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	for _, path := range files {
		t.Run(strings.TrimSuffix(filepath.Base(path), ".txt"), func(t *testing.T) {
			s := &scenario{}
			datadriven.RunTest(t, path, func(t *testing.T, td *datadriven.TestData) string {
				if td.Input != "" {
					td.Fatalf(t, "commands take no input lines")
				}
				return s.run(t, td, td.FullCmd())
			})
		})
	}
}

// scenario is the state of one scenario file: a node, its clock, the draws
// it will get and the timers it armed.
type scenario struct {
	t          testing.TB
	core       *Core
	rng        *scenarioRandom
	start, now time.Time
	timers     []armedTimer // in the order armed
	files      map[string]*testFile
}

type armedTimer struct {
	Timer
	deadline time.Time
	fired    bool
}

// scenarioRandom hands out the scripted draws and records every draw.
type scenarioRandom struct {
	script []int
	drawn  []string
	bad    []string
}

func (r *scenarioRandom) IntN(n int) int {
	v := 0
	if len(r.script) > 0 {
		v, r.script = r.script[0], r.script[1:]
	}
	if v < 0 || v >= n {
		r.bad = append(r.bad, fmt.Sprintf("draw %d scripted where random(%d) was asked", v, n))
		v = 0
	}
	r.drawn = append(r.drawn, fmt.Sprintf("random(%d) = %d", n, v))
	return v
}

func (r *scenarioRandom) Shuffle(int, func(i, j int)) {}

// result is what one event did.
type result struct {
	out    Output
	draws  []string
	counts tally
	err    error
	posted *Posted // what Client reported posting
	clock  string  // the clock after the event, if it moved
}

// tally is what an event changed in the node's counters.
type tally struct {
	dropped, forgotten                       map[string]uint64
	duplicates, outOfOrder, evicted, refused uint64
}

// tallyOf is what the counters went up by from before to after.
func tallyOf(before, after Stats) tally {
	t := tally{dropped: map[string]uint64{}, forgotten: map[string]uint64{}}
	for k, v := range after.Dropped {
		if d := v - before.Dropped[k]; d > 0 {
			t.dropped[k] = d
		}
	}
	for k, v := range after.Forgotten {
		if d := v - before.Forgotten[k]; d > 0 {
			t.forgotten[k] = d
		}
	}
	t.duplicates = after.Duplicates - before.Duplicates
	t.outOfOrder = after.OutOfOrder - before.OutOfOrder
	t.evicted = after.OriginsEvicted - before.OriginsEvicted
	t.refused = after.Refused - before.Refused
	return t
}

func (t *tally) add(u tally) {
	if t.dropped == nil {
		t.dropped, t.forgotten = map[string]uint64{}, map[string]uint64{}
	}
	for k, v := range u.dropped {
		t.dropped[k] += v
	}
	for k, v := range u.forgotten {
		t.forgotten[k] += v
	}
	t.duplicates += u.duplicates
	t.outOfOrder += u.outOfOrder
	t.evicted += u.evicted
	t.refused += u.refused
}

func (s *scenario) run(t *testing.T, td *datadriven.TestData, line string) string {
	t.Helper()
	s.t = t
	toks, err := tokenize(line)
	if err != nil {
		td.Fatalf(t, "%v", err)
	}
	cmd, args := toks[0].s, toks[1:]
	if cmd != "node" && s.core == nil {
		td.Fatalf(t, "%s before any node command", cmd)
	}
	switch cmd {
	case "node":
		if err := s.newNode(args); err != nil {
			td.Fatalf(t, "%v", err)
		}
		return ""
	case "coin", "draws":
		for _, a := range args {
			v, err := draw(cmd, a.s)
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			s.rng.script = append(s.rng.script, v)
		}
		return ""
	case "advance":
		if len(args) != 1 {
			td.Fatalf(t, "advance takes one duration")
		}
		d, err := time.ParseDuration(args[0].s)
		if err != nil || d < 0 {
			td.Fatalf(t, "bad duration %q", args[0].s)
		}
		s.now = s.now.Add(d)
		return "clock " + s.now.Sub(s.start).String()
	case "rename":
		if len(args) != 1 {
			td.Fatalf(t, "rename takes one name")
		}
		if err := s.core.SetName(args[0].s); err != nil {
			return "error " + err.Error()
		}
		return ""
	case "add-peer":
		if len(args) != 1 {
			td.Fatalf(t, "add-peer takes one address")
		}
		if err := s.core.AddPeer(args[0].s); err != nil {
			return "error " + err.Error()
		}
		return ""
	case "show":
		if len(args) != 1 {
			td.Fatalf(t, "show takes one of status, peers, log, timers, routes, private, alerts, downloads, shared")
		}
		return s.show(t, td, args[0].s)
	case "repeat":
		if len(args) < 2 {
			td.Fatalf(t, "repeat takes a count and a command")
		}
		n, err := strconv.Atoi(args[0].s)
		if err != nil || n < 1 {
			td.Fatalf(t, "bad count %q", args[0].s)
		}
		inner := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "repeat"))
		inner = strings.TrimSpace(strings.TrimPrefix(inner, args[0].s))
		var rs []result
		for i := 1; i <= n; i++ {
			itoks, err := tokenize(substituteI(inner, i))
			if err != nil {
				td.Fatalf(t, "%v", err)
			}
			if c := itoks[0].s; c != "recv" && c != "client" && c != "tick" && c != "fire" {
				td.Fatalf(t, "repeat runs recv, client, tick or fire, not %s", c)
			}
			r, err := s.event(itoks[0].s, itoks[1:])
			if err != nil {
				td.Fatalf(t, "run %d: %v", i, err)
			}
			rs = append(rs, r)
		}
		return summarize(rs)
	case "file", "share":
		if _, _, err := s.fileCommand(cmd, args); err != nil {
			td.Fatalf(t, "%v", err)
		}
		return ""
	case "recv", "client", "private", "route", "tick", "fire", "unreachable", "download", "resume", "failwrite":
		r, err := s.event(cmd, args)
		if err != nil {
			td.Fatalf(t, "%v", err)
		}
		return s.render(r)
	}
	td.Fatalf(t, "unknown command %q", cmd)
	return ""
}

// repeatIndex is {i} or {i+K} in a repeated command.
var repeatIndex = regexp.MustCompile(`\{i(?:\+(\d+))?\}`)

// substituteI writes i, or i+K, for each {i} or {i+K} in command.
func substituteI(command string, i int) string {
	return repeatIndex.ReplaceAllStringFunc(command, func(m string) string {
		k, _ := strconv.Atoi(repeatIndex.FindStringSubmatch(m)[1])
		return strconv.Itoa(i + k)
	})
}

func draw(cmd, a string) (int, error) {
	if cmd == "coin" {
		switch a {
		case "heads":
			return 1, nil
		case "tails":
			return 0, nil
		}
		return 0, fmt.Errorf("a coin is heads or tails, not %q", a)
	}
	v, err := strconv.Atoi(a)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad draw %q", a)
	}
	return v, nil
}

func (s *scenario) newNode(args []token) error {
	cfg := DefaultConfig()
	for _, a := range args {
		key, val, hasVal := strings.Cut(a.s, "=")
		switch {
		case key == "simple" && !hasVal:
			cfg.Simple = true
		case key == "name" && hasVal:
			cfg.Name = val
		case key == "addr" && hasVal:
			cfg.Addr = val
		case key == "peers" && hasVal:
			if val != "" {
				cfg.Peers = strings.Split(val, ",")
			}
		case key == "rate" && hasVal:
			r, err := strconv.ParseFloat(val, 64)
			if err != nil || r < 0 {
				return fmt.Errorf("bad rate %q", val)
			}
			cfg.MaxPacketsPerSecond = r
		default:
			return fmt.Errorf("unknown node option %q", a.s)
		}
	}
	if cfg.Name == "" || cfg.Addr == "" {
		return fmt.Errorf("a node needs a name and an addr")
	}
	// A fixed secret keeps the probes' hashes the same from run to run.
	cfg.Secret = []byte("scenario secret")
	s.rng = &scenarioRandom{}
	s.core = NewCore(cfg, s.rng)
	s.start = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.now = s.start
	s.timers = nil
	return nil
}

// event runs one command that hands the node an event.
func (s *scenario) event(cmd string, args []token) (result, error) {
	var r result
	before := s.core.Stats()
	s.rng.drawn = nil
	switch cmd {
	case "recv":
		if len(args) < 2 {
			return r, fmt.Errorf("recv takes an address and a packet")
		}
		for i, a := range args {
			if a.s == "echo=token" && !a.quoted {
				args[i].s = fmt.Sprintf("echo=%d", s.core.sources.get(args[0].s, s.core, s.now).token)
			}
		}
		b, err := datagram(s.t, args[1:], s)
		if err != nil {
			return r, err
		}
		r.out = s.core.Datagram(args[0].s, b, s.now)
	case "client":
		if len(args) != 1 {
			return r, fmt.Errorf("client takes one text")
		}
		var posted Posted
		r.out, posted, r.err = s.core.Client(args[0].s, s.now)
		if r.err == nil {
			r.posted = &posted
		}
	case "private":
		if len(args) != 2 {
			return r, fmt.Errorf("private takes a destination and a text")
		}
		r.out, _, r.err = s.core.SendPrivate(args[0].s, args[1].s, s.now)
	case "route":
		if len(args) != 0 {
			return r, fmt.Errorf("route takes no arguments")
		}
		r.out = s.core.RouteRumor(s.now)
	case "tick":
		if len(args) != 0 {
			return r, fmt.Errorf("tick takes no arguments")
		}
		r.out = s.core.Tick(s.now)
	case "unreachable":
		if len(args) != 1 {
			return r, fmt.Errorf("unreachable takes an address")
		}
		r.out = s.core.Unreachable([]string{args[0].s}, s.now)
	case "download", "resume", "failwrite":
		var err error
		if r, _, err = s.fileCommand(cmd, args); err != nil {
			return r, err
		}
	case "fire":
		tm, err := s.pick(args)
		if err != nil {
			return r, err
		}
		tm.fired = true
		if tm.deadline.After(s.now) {
			s.now = tm.deadline
			r.clock = s.now.Sub(s.start).String()
		}
		r.out = s.core.Timeout(tm.Timer, s.now)
	}
	if len(s.rng.bad) > 0 {
		return r, fmt.Errorf("%s", strings.Join(s.rng.bad, "; "))
	}
	if len(s.rng.script) > 0 {
		return r, fmt.Errorf("scripted draws %v were not used", s.rng.script)
	}
	r.draws = s.rng.drawn
	for _, tm := range r.out.Timers {
		s.timers = append(s.timers, armedTimer{Timer: tm, deadline: s.now.Add(tm.After)})
	}
	r.counts = tallyOf(before, s.core.Stats())
	return r, nil
}

// pick finds the timer a fire command names.
func (s *scenario) pick(args []token) (*armedTimer, error) {
	if len(args) == 1 && strings.HasPrefix(args[0].s, "#") {
		seq, err := strconv.ParseUint(args[0].s[1:], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("bad timer number %q", args[0].s)
		}
		for i := range s.timers {
			if s.timers[i].Seq == seq {
				return &s.timers[i], nil
			}
		}
		return nil, fmt.Errorf("no timer %s was armed", args[0].s)
	}
	if len(args) != 2 {
		return nil, fmt.Errorf("fire takes a kind and a peer, or #N")
	}
	for i := range s.timers {
		tm := &s.timers[i]
		if !tm.fired && tm.Kind.String() == args[0].s && (tm.Peer == args[1].s || s.timerPeer(tm.Timer) == args[1].s) {
			return tm, nil
		}
	}
	return nil, fmt.Errorf("no %s timer for %s is pending", args[0].s, args[1].s)
}

func (s *scenario) show(t *testing.T, td *datadriven.TestData, what string) string {
	var lines []string
	switch what {
	case "status":
		lines = append(lines, statusText(s.core.Status()))
	case "peers":
		lines = append(lines, "peers "+strings.Join(s.core.Peers(), ","))
	case "log":
		for _, e := range s.core.Log() {
			line := fmt.Sprintf("%s/%d %s", word(e.Origin), e.ID, quote(e.Text))
			if e.Forged {
				line += " (forged)"
			}
			lines = append(lines, line)
		}
		if len(lines) == 0 {
			lines = append(lines, "(empty)")
		}
	case "routes":
		for _, rt := range s.core.Routes() {
			lines = append(lines, fmt.Sprintf("route %s via %s", word(rt.Origin), rt.NextHop))
		}
		if len(lines) == 0 {
			lines = append(lines, "(empty)")
		}
	case "private":
		kept, _ := s.core.PrivatesSince(0)
		for _, e := range kept {
			lines = append(lines, privateText(e))
		}
		if len(lines) == 0 {
			lines = append(lines, "(empty)")
		}
	case "downloads", "shared":
		lines = s.showFiles(what)
	case "alerts":
		for _, a := range s.core.Alerts() {
			lines = append(lines, fmt.Sprintf("alert %s x%d, first %s, last %s: %s", a.Kind, a.Count, a.First.Sub(s.start), a.Last.Sub(s.start), a.Text))
		}
		if len(lines) == 0 {
			lines = append(lines, "(none)")
		}
	case "timers":
		for _, tm := range s.timers {
			if !tm.fired {
				lines = append(lines, fmt.Sprintf("#%d %s %s at %s", tm.Seq, tm.Kind, s.timerPeer(tm.Timer), tm.deadline.Sub(s.start)))
			}
		}
		if len(lines) == 0 {
			lines = append(lines, "(none)")
		}
	default:
		td.Fatalf(t, "show takes one of status, peers, log, timers, routes, private, alerts, downloads, shared, not %q", what)
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

func (s *scenario) render(r result) string {
	var lines []string
	lines = append(lines, r.out.Lines...)
	lines = append(lines, r.draws...)
	for _, e := range r.out.Accepted {
		lines = append(lines, fmt.Sprintf("store %s/%d %s", word(e.Origin), e.ID, quote(e.Text)))
	}
	if r.posted != nil {
		lines = append(lines, fmt.Sprintf("posted %s/%d", word(r.posted.Origin), r.posted.ID))
	}
	for _, e := range r.out.Private {
		lines = append(lines, "keep "+privateText(e))
	}
	for _, snd := range r.out.Sends {
		lines = append(lines, "send "+snd.To+" "+s.packet(snd.Packet))
	}
	lines = append(lines, s.fileLines(r.out)...)
	for _, tm := range r.out.Timers {
		lines = append(lines, fmt.Sprintf("timer #%d %s %s %s", tm.Seq, tm.Kind, s.timerPeer(tm), tm.After))
	}
	lines = append(lines, r.counts.lines()...)
	for _, w := range r.out.Warnings {
		lines = append(lines, "warn "+w)
	}
	if r.err != nil {
		lines = append(lines, "error "+r.err.Error())
	}
	if r.clock != "" {
		lines = append(lines, "clock "+r.clock)
	}
	return strings.Join(lines, "\n")
}

// summarize adds up the results of a repeat: how many lines were printed,
// draws made, messages stored, datagrams sent and timers armed, then the
// drops and counts as for one event.
func summarize(rs []result) string {
	var printed, draws, stored, sent, timers, warnings, errs int
	var sum tally
	for _, r := range rs {
		printed += len(r.out.Lines)
		draws += len(r.draws)
		stored += len(r.out.Accepted)
		sent += len(r.out.Sends)
		timers += len(r.out.Timers)
		warnings += len(r.out.Warnings)
		if r.err != nil {
			errs++
		}
		sum.add(r.counts)
	}
	lines := []string{
		fmt.Sprintf("lines %d", printed),
		fmt.Sprintf("random %d", draws),
		fmt.Sprintf("store %d", stored),
		fmt.Sprintf("send %d", sent),
		fmt.Sprintf("timer %d", timers),
	}
	lines = append(lines, sum.lines()...)
	if warnings > 0 {
		lines = append(lines, fmt.Sprintf("warn %d", warnings))
	}
	if errs > 0 {
		lines = append(lines, fmt.Sprintf("error %d", errs))
	}
	return strings.Join(lines, "\n")
}

func (t tally) lines() []string {
	n := func(v uint64) string {
		if v == 1 {
			return ""
		}
		return fmt.Sprintf(" (%d)", v)
	}
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(t.dropped)) {
		lines = append(lines, "drop "+k+n(t.dropped[k]))
	}
	for _, c := range []struct {
		what string
		v    uint64
	}{{"duplicate", t.duplicates}, {"out-of-order", t.outOfOrder}, {"evicted", t.evicted}, {"refused", t.refused}} {
		if c.v > 0 {
			lines = append(lines, "count "+c.what+n(c.v))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(t.forgotten)) {
		lines = append(lines, "count forgotten-"+k+n(t.forgotten[k]))
	}
	return lines
}

// packet renders a packet in the syntax recv reads.
func (s *scenario) packet(p *messages.GossipPacket) string {
	var parts []string
	if m := p.Simple; m != nil {
		parts = append(parts, fmt.Sprintf("simple origin=%s relay=%s %s", word(m.OriginalName), word(m.RelayPeerAddr), quote(m.Contents)))
	}
	if r := p.Rumor; r != nil {
		parts = append(parts, fmt.Sprintf("rumor %s/%d %s", word(r.Origin), r.ID, quote(r.Text))+proofText(r.Proof))
	}
	if st := p.Status; st != nil {
		parts = append(parts, statusText(st.Want)+proofText(st.Proof))
	}
	if m := p.Private; m != nil {
		part := fmt.Sprintf("private origin=%s dest=%s hop=%d", word(m.Origin), word(m.Destination), m.HopLimit)
		if m.ID != 0 {
			part += fmt.Sprintf(" id=%d", m.ID)
		}
		parts = append(parts, part+" "+quote(m.Text))
	}
	parts = append(parts, s.dataParts(p)...)
	if len(parts) == 0 {
		return "empty"
	}
	return strings.Join(parts, " ")
}

// proofText renders a proof: "ask" when it asks for a token (its value is
// the node's secret), and the token it sends back.
func proofText(pr *messages.AddressProof) string {
	s := ""
	if pr != nil && pr.Ask != 0 {
		s += " ask"
	}
	if pr != nil && pr.Echo != 0 {
		s += fmt.Sprintf(" echo=%d", pr.Echo)
	}
	return s
}

// statusText renders a status; one of more than 16 entries shows the first
// four and the last, and how many there are.
func statusText(want []messages.PeerStatus) string {
	var b strings.Builder
	b.WriteString("status")
	for i, w := range want {
		if len(want) > 16 && i >= 4 && i < len(want)-1 {
			if i == 4 {
				b.WriteString(" ...")
			}
			continue
		}
		fmt.Fprintf(&b, " %s:%d", word(w.Identifier), w.NextID)
	}
	if len(want) > 16 {
		fmt.Fprintf(&b, " (%d entries)", len(want))
	}
	return b.String()
}

// word renders a name bare when it is plain, quoted otherwise.
func word(s string) string {
	if s == "" || len(s) > 64 {
		return quote(s)
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-_:", c)) {
			return quote(s)
		}
	}
	return s
}

// quote renders a string Go-quoted, a long run of one byte that ends it as
// "x"*N after the rest: "o1-""x"*200.
func quote(s string) string {
	if len(s) <= 64 {
		return strconv.Quote(s)
	}
	last := s[len(s)-1]
	run := len(s) - len(strings.TrimRight(s, string(last)))
	if run <= 64 {
		return strconv.Quote(s)
	}
	head := ""
	if run < len(s) {
		head = strconv.Quote(s[:len(s)-run])
	}
	return head + strconv.Quote(string(last)) + "*" + strconv.Itoa(run)
}

// datagram builds the bytes of a recv command's packet; s resolves the
// names of files' hashes and bytes (scenario_files_test.go).
func datagram(t testing.TB, args []token, s *scenario) ([]byte, error) {
	switch {
	case args[0].s == "bytes" && !args[0].quoted:
		var b []byte
		for _, a := range args[1:] {
			chunk, reps, err := repeated(a.s)
			if err != nil {
				return nil, err
			}
			h, err := hexBytes(chunk)
			if err != nil {
				return nil, err
			}
			for range reps {
				b = append(b, h...)
			}
		}
		return b, nil
	case len(args) == 2 && args[0].s == "status" && strings.HasPrefix(args[1].s, "size="):
		n, err := strconv.Atoi(strings.TrimPrefix(args[1].s, "size="))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad status size %q", args[1].s)
		}
		return fuzzseed.StatusOfSize(t, n), nil
	case len(args) == 1 && args[0].s == "empty" && !args[0].quoted:
		return (&messages.GossipPacket{}).Encode()
	}
	p := &messages.GossipPacket{}
	for len(args) > 0 {
		kind := args[0]
		args = args[1:]
		if kind.quoted {
			return nil, fmt.Errorf("expected rumor, status or simple, got %q", kind.s)
		}
		switch kind.s {
		case "datarequest", "datareply":
			rest, err := s.dataPart(p, kind.s, args)
			if err != nil {
				return nil, err
			}
			args = rest
		case "rumor":
			if len(args) < 2 || p.Rumor != nil {
				return nil, fmt.Errorf("a packet holds one rumor: origin/ID and a text")
			}
			i := strings.LastIndexByte(args[0].s, '/')
			id, err := strconv.ParseUint(args[0].s[i+1:], 10, 32)
			if i < 0 || err != nil {
				return nil, fmt.Errorf("bad rumor origin/ID %q", args[0].s)
			}
			p.Rumor = fuzzseed.Rumor(args[0].s[:i], uint32(id), args[1].s).Rumor
			args = args[2:]
		case "status":
			if p.Status != nil {
				return nil, fmt.Errorf("a packet holds one status")
			}
			var pairs []any
			var proof messages.AddressProof
			for len(args) > 0 && (args[0].quoted || !isPart(args[0].s)) {
				if k, v, ok := strings.Cut(args[0].s, "="); ok && !args[0].quoted && (k == "ask" || k == "echo") {
					n, err := strconv.ParseUint(v, 10, 64)
					if err != nil {
						return nil, fmt.Errorf("bad %s token %q", k, v)
					}
					if k == "ask" {
						proof.Ask = protobuf.Ufixed64(n)
					} else {
						proof.Echo = protobuf.Ufixed64(n)
					}
					args = args[1:]
					continue
				}
				i := strings.LastIndexByte(args[0].s, ':')
				next, err := strconv.ParseUint(args[0].s[i+1:], 10, 32)
				if i < 0 || err != nil {
					return nil, fmt.Errorf("bad status entry %q", args[0].s)
				}
				pairs = append(pairs, args[0].s[:i], int(next))
				args = args[1:]
			}
			p.Status = fuzzseed.Status(pairs...).Status
			if proof != (messages.AddressProof{}) {
				p.Status.Proof = &proof
			}
		case "simple":
			if p.Simple != nil {
				return nil, fmt.Errorf("a packet holds one simple message")
			}
			var origin, relay string
		fields:
			for ; len(args) > 0; args = args[1:] {
				k, v, ok := strings.Cut(args[0].s, "=")
				switch {
				case ok && !args[0].quoted && k == "origin":
					origin = v
				case ok && !args[0].quoted && k == "relay":
					relay = v
				default:
					break fields
				}
			}
			if len(args) == 0 {
				return nil, fmt.Errorf("a simple message needs a text")
			}
			p.Simple = fuzzseed.Simple(origin, relay, args[0].s).Simple
			args = args[1:]
		case "private":
			if p.Private != nil {
				return nil, fmt.Errorf("a packet holds one private message")
			}
			pm, rest, err := privatePart(args)
			if err != nil {
				return nil, err
			}
			p.Private, args = pm, rest
		default:
			return nil, fmt.Errorf("expected rumor, status, simple or private, got %q", kind.s)
		}
	}
	return p.Encode()
}

// privatePart parses origin=A dest=B hop=10 [id=N] "text".
func privatePart(args []token) (*messages.PrivateMessage, []token, error) {
	pm := &messages.PrivateMessage{}
	for ; len(args) > 0 && !args[0].quoted; args = args[1:] {
		k, v, ok := strings.Cut(args[0].s, "=")
		if !ok {
			break
		}
		switch k {
		case "origin":
			pm.Origin = v
		case "dest":
			pm.Destination = v
		case "hop", "id":
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				return nil, nil, fmt.Errorf("bad %s %q", k, v)
			}
			if k == "hop" {
				pm.HopLimit = uint32(n)
			} else {
				pm.ID = uint32(n)
			}
		default:
			return nil, nil, fmt.Errorf("unknown private field %q", k)
		}
	}
	if len(args) == 0 {
		return nil, nil, fmt.Errorf("a private message needs a text")
	}
	pm.Text = args[0].s
	return pm, args[1:], nil
}

func privateText(e PrivateEntry) string {
	dir := "from"
	if e.Sent {
		dir = "to"
	}
	return fmt.Sprintf("%s %s %s->%s hop=%d %s", dir, word(e.With()), word(e.Origin), word(e.Destination), e.HopLimit, quote(e.Text))
}

func isPart(s string) bool {
	return s == "rumor" || s == "status" || s == "simple" || s == "private" || s == "datarequest" || s == "datareply"
}

// repeated splits "chunk*N" into the chunk and N (1 without a star).
func repeated(s string) (string, int, error) {
	chunk, n, ok := strings.Cut(s, "*")
	if !ok {
		return s, 1, nil
	}
	reps, err := strconv.Atoi(n)
	if err != nil || reps < 0 {
		return "", 0, fmt.Errorf("bad repeat count in %q", s)
	}
	return chunk, reps, nil
}

func hexBytes(s string) ([]byte, error) {
	if len(s)%2 != 0 {
		return nil, fmt.Errorf("odd number of hex digits in %q", s)
	}
	b := make([]byte, len(s)/2)
	for i := range b {
		v, err := strconv.ParseUint(s[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil, fmt.Errorf("bad hex %q", s)
		}
		b[i] = byte(v)
	}
	return b, nil
}

// token is one word of a command line, its quoted parts unquoted. quoted
// says it began with a quote: a text or a name, never a keyword.
type token struct {
	s      string
	quoted bool
}

// tokenize splits a command line at spaces outside quotes. A Go-quoted
// string may be followed by *N to repeat it N times.
func tokenize(line string) ([]token, error) {
	var toks []token
	i := 0
	for {
		for i < len(line) && line[i] == ' ' {
			i++
		}
		if i == len(line) {
			break
		}
		tok := token{quoted: line[i] == '"'}
		var b strings.Builder
		for i < len(line) && line[i] != ' ' {
			if line[i] != '"' {
				b.WriteByte(line[i])
				i++
				continue
			}
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, fmt.Errorf("unterminated string in %q", line)
			}
			str, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, fmt.Errorf("bad string %s: %v", line[i:j+1], err)
			}
			i = j + 1
			reps := 1
			if i < len(line) && line[i] == '*' {
				k := i + 1
				for k < len(line) && line[k] >= '0' && line[k] <= '9' {
					k++
				}
				if reps, err = strconv.Atoi(line[i+1 : k]); err != nil {
					return nil, fmt.Errorf("bad repeat count after %s", str)
				}
				i = k
			}
			b.WriteString(strings.Repeat(str, reps))
		}
		tok.s = b.String()
		toks = append(toks, tok)
	}
	if len(toks) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return toks, nil
}
