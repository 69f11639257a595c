package gossiper

import (
	"fmt"
	"strings"
	"time"

	"github.com/peerster/Peerster/messages"
)

// Send asks the runtime to send Packet to the peer at To.
type Send struct {
	To     string
	Packet *messages.GossipPacket
}

// Timer asks the runtime to call Core.Timeout with it once After has passed.
type Timer struct {
	Peer  string
	Seq   uint64
	After time.Duration
	// Probe marks the wait for an answer to an anti-entropy status.
	Probe bool
	// CatchUp marks the wait for the next rumor from a peer that has more.
	CatchUp bool
}

// Output is what one event asks the runtime to do: keep Accepted (the rumors
// this event added to the node's history, to be stored before anything is
// sent), print Lines to stdout in order, send Sends, and arm Timers.
type Output struct {
	Accepted []Entry
	Lines    []string
	Sends    []Send
	Timers   []Timer
	// Warnings are diagnostics for stderr.
	Warnings []string
}

// Entry is one chat message in a node's log.
type Entry struct {
	Origin   string
	ID       uint32
	Text     string
	Received time.Time
}

// Posted identifies a message this node originated.
type Posted struct {
	Origin string
	ID     uint32
}

// Stats counts what a node has seen. Dropped is keyed by the reason.
type Stats struct {
	PacketsIn, PacketsOut uint64
	Accepted, Duplicates  uint64
	OutOfOrder            uint64
	Dropped               map[string]uint64
}

// session is a rumor sent to a peer whose status has not come back yet.
type session struct {
	rumor *messages.RumorMessage
	seq   uint64
}

// Random is the randomness a Core draws on; *rand.Rand from math/rand/v2
// provides it, and tests script it.
type Random interface {
	// IntN returns a number in [0, n). IntN(2) is the coin: 1 goes on.
	IntN(n int) int
	Shuffle(n int, swap func(i, j int))
}

// Core is the protocol state of one node. It is not safe for concurrent use;
// the runtime serialises calls.
type Core struct {
	cfg   Config
	name  string
	rng   Random
	peers *peerList

	origins []string            // in the order first seen: the status vector's order
	texts   map[string][]string // texts[o][i] is the text of message i+1 of origin o
	log     []Entry

	sessions map[string]session
	probes   map[string]uint64 // anti-entropy statuses not answered yet, by timer seq
	timerSeq uint64
	latest   *messages.RumorMessage
	latestAt time.Time
	aeBag    []string

	simpleForwarded map[simpleKey]time.Time
	simpleBudget    bucket
	catchUps        map[string]*catchUp

	limiter *rateLimiter
	// ownFloor is the lowest ID this node may give its next message: peers
	// have shown they hold its origin's messages below it.
	ownFloor uint32
	// ahead holds this node's own messages numbered past a gap in its
	// history (after it lost its data), until the gap is filled.
	ahead map[Posted]string

	stats Stats
	out   Output
}

// NewCore returns a node's protocol state. Peers in cfg must already be
// canonical addresses (see ParseAddr); rng drives every random choice.
func NewCore(cfg Config, rng Random) *Core {
	c := &Core{
		cfg:             cfg,
		name:            cfg.Name,
		rng:             rng,
		peers:           newPeerList(cfg.MaxPeers),
		texts:           map[string][]string{},
		sessions:        map[string]session{},
		probes:          map[string]uint64{},
		simpleForwarded: map[simpleKey]time.Time{},
		catchUps:        map[string]*catchUp{},
		stats:           Stats{Dropped: map[string]uint64{}},
		limiter:         newRateLimiter(cfg.MaxPacketsPerSecond),
		ahead:           map[Posted]string{},
	}
	for _, p := range cfg.Peers {
		if p != cfg.Addr {
			c.peers.add(p, true)
		}
	}
	return c
}

// Name is the origin of the messages this node sends now.
func (c *Core) Name() string { return c.name }

// SetName changes the origin of messages sent from now on. A name's sequence
// numbers continue from what the node already holds of it, so a fresh name
// starts at 1.
func (c *Core) SetName(name string) error {
	if err := ValidateName(name); err != nil {
		return err
	}
	c.name = name
	return nil
}

// Peers returns the known peers in the order they were learned.
func (c *Core) Peers() []string { return c.peers.list() }

// AddPeer adds a peer by hand; addr must be canonical (see ParseAddr).
func (c *Core) AddPeer(addr string) error {
	if addr == c.cfg.Addr {
		return fmt.Errorf("%s is this node's own address", addr)
	}
	c.peers.add(addr, true)
	return nil
}

// Log returns the chat messages in the order this node accepted them.
func (c *Core) Log() []Entry { return append([]Entry(nil), c.log...) }

// LogSince returns the chat messages after the first n.
func (c *Core) LogSince(n int) []Entry {
	if n < 0 || n > len(c.log) {
		n = len(c.log)
	}
	return append([]Entry(nil), c.log[n:]...)
}

// Status returns this node's vector clock.
func (c *Core) Status() []messages.PeerStatus {
	if len(c.origins) == 0 {
		return nil
	}
	want := make([]messages.PeerStatus, 0, len(c.origins))
	size := 0
	for _, o := range c.origins {
		// Past one datagram's worth the status would not be sent at all;
		// the origins left out are compared on a later exchange.
		if size += len(o) + 16; size > maxStatusBytes {
			break
		}
		want = append(want, messages.PeerStatus{Identifier: o, NextID: c.next(o)})
	}
	return want
}

// Stats returns a copy of the counters.
func (c *Core) Stats() Stats {
	s := c.stats
	s.Dropped = make(map[string]uint64, len(c.stats.Dropped))
	for k, v := range c.stats.Dropped {
		s.Dropped[k] = v
	}
	return s
}

func (c *Core) next(origin string) uint32 { return uint32(len(c.texts[origin])) + 1 }

// Restore rebuilds the history from entries kept by an earlier run, in the
// order they were accepted. Entries that do not extend their origin's
// sequence (a gap, a repeat) are skipped and counted in the returned number.
func (c *Core) Restore(entries []Entry) (skipped int) {
	for _, e := range entries {
		switch {
		case e.Origin == "" || e.ID < c.next(e.Origin) || c.ahead[Posted{e.Origin, e.ID}] != "":
			skipped++
		case e.ID == c.next(e.Origin):
			c.accept(&messages.RumorMessage{Origin: e.Origin, ID: e.ID, Text: e.Text}, e.Received)
		case e.Origin == c.name && e.Text != "":
			// A message this node posted past a gap in its history.
			c.ahead[Posted{e.Origin, e.ID}] = e.Text
			c.log = append(c.log, e)
			c.ownFloor = max(c.ownFloor, e.ID+1)
		default:
			skipped++
		}
	}
	c.out = Output{}
	c.latest = nil
	return skipped
}

// Client handles a chat message typed by this node's user.
func (c *Core) Client(text string, now time.Time) (Output, Posted, error) {
	if err := ValidateText(text); err != nil {
		return Output{}, Posted{}, err
	}
	c.print("CLIENT MESSAGE " + printable(text))
	if c.cfg.Simple {
		c.simpleForwarded[newSimpleKey(c.name, text, "")] = now
		m := &messages.SimpleMessage{OriginalName: c.name, RelayPeerAddr: c.cfg.Addr, Contents: text}
		for _, p := range c.peers.addrs {
			c.send(p, &messages.GossipPacket{Simple: m})
		}
		return c.take(), Posted{Origin: c.name}, nil
	}
	r := &messages.RumorMessage{Origin: c.name, ID: max(c.next(c.name), c.ownFloor), Text: text}
	if r.ID == c.next(c.name) {
		c.accept(r, now)
	} else {
		// Peers hold messages of ours that this node has not got back yet:
		// number past them, and keep this one aside until the gap fills.
		c.ahead[Posted{r.Origin, r.ID}] = r.Text
		c.ownFloor = r.ID + 1
		e := Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now}
		c.log = append(c.log, e)
		c.out.Accepted = append(c.out.Accepted, e)
		c.latest, c.latestAt = r, now
	}
	if to, ok := c.pickPeer(""); ok {
		c.monger(to, r)
	}
	return c.take(), Posted{Origin: r.Origin, ID: r.ID}, nil
}

// ClientDatagram handles the bytes of one datagram from a local client.
func (c *Core) ClientDatagram(b []byte, now time.Time) (Output, error) {
	m, err := messages.DecodeMessage(b)
	if err != nil {
		c.drop("client-undecodable")
		return Output{}, fmt.Errorf("undecodable client message: %w", err)
	}
	out, _, err := c.Client(m.Text, now)
	if err != nil {
		c.drop("client-invalid")
	}
	return out, err
}

// Datagram handles the bytes of one datagram from the peer at from.
func (c *Core) Datagram(from string, b []byte, now time.Time) Output {
	c.stats.PacketsIn++
	if len(b) > MaxPacketSize {
		c.drop("too-large")
		return c.take()
	}
	// The cheap checks go first: decoding is most of what a packet costs.
	if !c.limiter.allow(from, now) {
		c.drop("rate-limited")
		return c.take()
	}
	if n, ok := statusEntries(b); ok && n > MaxStatusEntries {
		c.drop("status-too-large")
		return c.take()
	}
	p, err := messages.DecodeGossip(b)
	if err != nil {
		c.drop("undecodable")
		return c.take()
	}
	return c.packet(from, p, now)
}

func (c *Core) packet(from string, p *messages.GossipPacket, now time.Time) Output {
	if from == c.cfg.Addr {
		c.drop("from-self")
		return c.take()
	}
	n := 0
	for _, set := range []bool{p.Simple != nil, p.Rumor != nil, p.Status != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		c.drop("no-message")
	case n > 1:
		c.drop("several-messages")
	case p.Simple != nil:
		c.onSimple(from, p.Simple, now)
	case c.cfg.Simple:
		c.drop("gossip-in-simple-mode")
	case p.Rumor != nil:
		c.onRumor(from, p.Rumor, now)
	default:
		c.onStatus(from, p.Status, now)
	}
	return c.take()
}

func (c *Core) onSimple(from string, m *messages.SimpleMessage, now time.Time) {
	if m.OriginalName == "" || len(m.OriginalName) > MaxNameBytes {
		c.drop("bad-origin")
		return
	}
	if len(m.Contents) > MaxTextBytes {
		c.drop("text-too-large")
		return
	}
	// The handout learns the relay from the message; a relay field that does
	// not parse, or names us, falls back to the datagram's source.
	relay := from
	if a, err := ParseAddr(m.RelayPeerAddr); err == nil && a != c.cfg.Addr {
		relay = a
	}
	c.learn(relay)
	c.print(fmt.Sprintf("SIMPLE MESSAGE origin %s from %s contents %s", printable(m.OriginalName), relay, printable(m.Contents)))
	c.print(c.peers.line())
	if !c.mayForwardSimple(newSimpleKey(m.OriginalName, m.Contents, relay), now) {
		return
	}
	var to []string
	for _, p := range c.peers.addrs {
		if p != relay && p != from {
			to = append(to, p)
		}
	}
	if rate := c.cfg.SimpleSendsPerSecond; rate > 0 && !c.simpleBudget.take(float64(len(to)), rate, now) {
		c.drop("simple-send-budget")
		return
	}
	fwd := &messages.SimpleMessage{OriginalName: m.OriginalName, RelayPeerAddr: c.cfg.Addr, Contents: m.Contents}
	for _, p := range to {
		c.send(p, &messages.GossipPacket{Simple: fwd})
	}
}

// mayForwardSimple allows one forward a minute per (origin, contents, relay)
// and none of a message this node sent itself. Keying on the relay lets two
// copies that travel a ring in opposite directions each complete their round,
// so every node hears the message from both neighbours, while a copy that
// comes round a second time stops.
func (c *Core) mayForwardSimple(k simpleKey, now time.Time) bool {
	recent := func(k simpleKey) bool {
		t, ok := c.simpleForwarded[k]
		return ok && now.Sub(t) < c.cfg.SimpleForwardInterval
	}
	if recent(k) || recent(simpleKey{k.origin, k.sum, ""}) {
		return false
	}
	if len(c.simpleForwarded) >= maxSimpleRemembered {
		for old, t := range c.simpleForwarded {
			if now.Sub(t) >= c.cfg.SimpleForwardInterval {
				delete(c.simpleForwarded, old)
			}
		}
		if len(c.simpleForwarded) >= maxSimpleRemembered {
			c.drop("simple-flood")
			return false
		}
	}
	c.simpleForwarded[k] = now
	return true
}

func (c *Core) onRumor(from string, r *messages.RumorMessage, now time.Time) {
	if r.Origin == "" || len(r.Origin) > MaxNameBytes {
		c.drop("bad-origin")
		return
	}
	if r.ID == 0 {
		c.drop("bad-id")
		return
	}
	if len(r.Text) > MaxTextBytes {
		c.drop("text-too-large")
		return
	}
	if _, known := c.texts[r.Origin]; !known && len(c.origins) >= MaxOrigins {
		c.drop("too-many-origins")
		return
	}
	c.learn(from)
	if next := c.next(r.Origin); r.ID != next {
		// Only the next message of an origin is taken, so a log never has a
		// gap; the status tells the sender where to resume.
		if r.ID < next {
			c.stats.Duplicates++
		} else {
			c.stats.OutOfOrder++
		}
		c.sendStatus(from)
		return
	}
	delete(c.probes, from) // a rumor we lacked answers our anti-entropy status
	c.accept(r, now)
	c.print(fmt.Sprintf("RUMOR origin %s from %s ID %d contents %s", printable(r.Origin), from, r.ID, printable(r.Text)))
	c.print(c.peers.line())
	c.sendStatus(from)
	c.probe(from)
	c.awaitCatchUp(from, true)
	if to, ok := c.pickPeer(from); ok {
		c.monger(to, r)
	}
}

func (c *Core) onStatus(from string, s *messages.StatusPacket, now time.Time) {
	if len(s.Want) > MaxStatusEntries {
		c.drop("status-too-large")
		return
	}
	c.learn(from)
	theirs := make(map[string]uint32, len(s.Want))
	var b strings.Builder
	b.WriteString("STATUS from ")
	b.WriteString(from)
	for _, w := range s.Want {
		fmt.Fprintf(&b, " peer %s nextID %d", printable(w.Identifier), w.NextID)
		if _, dup := theirs[w.Identifier]; !dup {
			theirs[w.Identifier] = max(w.NextID, 1)
		}
	}
	if want := theirs[c.name]; want > max(c.next(c.name), c.ownFloor) {
		c.ownFloor = want
		c.out.Warnings = append(c.out.Warnings, fmt.Sprintf(
			"peer %s holds messages of this node's origin %s up to ID %d that this node lacks: its next message takes ID %d", from, c.name, want-1, want))
	}
	c.print(b.String())
	c.print(c.peers.line())
	lacks := c.noteAhead(from, theirs)

	sess := c.sessions[from]
	delete(c.sessions, from)

	for _, o := range c.origins {
		want := max(theirs[o], 1)
		if want < c.next(o) {
			delete(c.probes, from) // this may answer our anti-entropy status
			c.monger(from, &messages.RumorMessage{Origin: o, ID: want, Text: c.texts[o][want-1]})
			return
		}
	}
	if lacks {
		delete(c.probes, from)
		c.sendStatus(from)
		return
	}
	c.print("IN SYNC WITH " + from)
	c.goOn(from, sess.rumor, now, false)
}

// goOn is the coin flip that ends an exchange with peer, in sync or silent:
// on heads it mongers r (or, without one, the freshest rumor) with another
// peer. Only when peer is the sole one and retry is set does it try peer
// again.
func (c *Core) goOn(peer string, r *messages.RumorMessage, now time.Time, retry bool) {
	if r == nil {
		if c.latest == nil || now.Sub(c.latestAt) >= c.cfg.RumorFreshness {
			return
		}
		r = c.latest
	}
	if c.rng.IntN(2) == 0 {
		return
	}
	to, ok := c.pickPeer(peer)
	if !ok && retry && c.peers.has(peer) {
		to, ok = peer, true
	}
	if ok {
		c.print("FLIPPED COIN sending rumor to " + to)
		c.monger(to, r)
	}
}

// Timeout handles a timer that fired. A timer whose exchange has since ended,
// by a status or a newer rumor to the same peer, does nothing. A rumor that
// was not acknowledged may be retried with the same peer; a silent answer to
// an anti-entropy status means the peer was in sync.
func (c *Core) Timeout(t Timer, now time.Time) Output {
	if t.CatchUp {
		if cu := c.catchUps[t.Peer]; cu != nil && cu.seq == t.Seq {
			c.awaitCatchUp(t.Peer, false)
		}
		return c.take()
	}
	if t.Probe {
		if seq, ok := c.probes[t.Peer]; ok && seq == t.Seq {
			delete(c.probes, t.Peer)
			c.goOn(t.Peer, nil, now, false)
		}
		return c.take()
	}
	sess, ok := c.sessions[t.Peer]
	if !ok || sess.seq != t.Seq {
		return Output{}
	}
	delete(c.sessions, t.Peer)
	c.goOn(t.Peer, sess.rumor, now, sess.rumor != nil)
	return c.take()
}

// Tick handles the anti-entropy timer: a status to one peer. Peers are
// visited in a random order that is drawn anew each round, as memberlist
// probes its members, so each neighbour hears from a node once a round.
func (c *Core) Tick(now time.Time) Output {
	if c.cfg.Simple {
		return Output{}
	}
	for {
		if len(c.aeBag) == 0 {
			if c.peers.len() == 0 {
				return Output{}
			}
			c.aeBag = c.peers.list()
			c.rng.Shuffle(len(c.aeBag), func(i, j int) { c.aeBag[i], c.aeBag[j] = c.aeBag[j], c.aeBag[i] })
		}
		p := c.aeBag[len(c.aeBag)-1]
		c.aeBag = c.aeBag[:len(c.aeBag)-1]
		if c.peers.has(p) {
			c.sendStatus(p)
			c.probe(p)
			return c.take()
		}
	}
}

func (c *Core) accept(r *messages.RumorMessage, now time.Time) {
	if _, seen := c.texts[r.Origin]; !seen {
		c.origins = append(c.origins, r.Origin)
	}
	c.texts[r.Origin] = append(c.texts[r.Origin], r.Text)
	c.stats.Accepted++
	c.out.Accepted = append(c.out.Accepted, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now})
	// Empty rumors carry no chat text (later versions of the protocol use
	// them for routing); they are gossiped but kept out of the chat log.
	if r.Text != "" {
		c.log = append(c.log, Entry{Origin: r.Origin, ID: r.ID, Text: r.Text, Received: now})
	}
	c.latest, c.latestAt = r, now
	for {
		k := Posted{r.Origin, c.next(r.Origin)}
		text, ok := c.ahead[k]
		if !ok {
			break
		}
		delete(c.ahead, k)
		c.texts[k.Origin] = append(c.texts[k.Origin], text)
	}
}

func (c *Core) monger(to string, r *messages.RumorMessage) {
	c.print("MONGERING with " + to)
	c.send(to, &messages.GossipPacket{Rumor: r})
	c.timerSeq++
	c.sessions[to] = session{rumor: r, seq: c.timerSeq}
	c.out.Timers = append(c.out.Timers, Timer{Peer: to, Seq: c.timerSeq, After: c.cfg.MongerTimeout})
}

func (c *Core) sendStatus(to string) {
	c.send(to, &messages.GossipPacket{Status: &messages.StatusPacket{Want: c.Status()}})
}

// probe waits for an answer to the status just sent to peer. A peer that
// differs from us answers a status; silence until the timer fires means it is
// in sync, which ends the exchange with a coin flip like any other. Only
// anti-entropy statuses and acknowledgements of new rumors are probes: both
// are bounded in number, so the flips they add cannot feed on each other.
func (c *Core) probe(peer string) {
	c.timerSeq++
	c.probes[peer] = c.timerSeq
	c.out.Timers = append(c.out.Timers, Timer{Peer: peer, Seq: c.timerSeq, After: c.cfg.ProbeTimeout, Probe: true})
}

// pickPeer returns a random known peer other than except, if there is one.
func (c *Core) pickPeer(except string) (string, bool) {
	n := c.peers.len()
	if c.peers.has(except) {
		n--
	}
	if n <= 0 {
		return "", false
	}
	i := 0
	if n > 1 {
		i = c.rng.IntN(n)
	}
	for _, p := range c.peers.addrs {
		if p == except {
			continue
		}
		if i == 0 {
			return p, true
		}
		i--
	}
	panic("unreachable")
}

func (c *Core) learn(addr string) {
	if addr != c.cfg.Addr {
		c.peers.add(addr, false)
	}
}

func (c *Core) send(to string, p *messages.GossipPacket) {
	c.stats.PacketsOut++
	c.out.Sends = append(c.out.Sends, Send{To: to, Packet: p})
}

func (c *Core) print(line string) { c.out.Lines = append(c.out.Lines, line) }

func (c *Core) drop(reason string) { c.stats.Dropped[reason]++ }

func (c *Core) take() Output {
	o := c.out
	c.out = Output{}
	return o
}

// printable keeps a text on one stdout line: graders read stdout line by line.
func printable(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// catchUp follows a peer whose status showed messages this node lacks, while
// the peer sends them one at a time. Each step is a rumor and a status; on a
// lossy link one of them is often lost, and the exchange would stall until
// the next anti-entropy round. Asking again after a short silence keeps it
// going.
type catchUp struct {
	want   map[string]uint32 // origin: the peer's next ID, where ours is lower
	seq    uint64
	stalls int // statuses sent again since the peer last sent a rumor
}

const (
	// maxCatchUps caps the peers followed at once.
	maxCatchUps = 16
	// maxCatchUpStalls is how often a node asks a silent peer again.
	maxCatchUpStalls = 3
)

// noteAhead reports whether the peer's status shows messages this node
// lacks, and records those it can take, to follow the peer while it sends
// them.
func (c *Core) noteAhead(peer string, theirs map[string]uint32) (lacks bool) {
	var want map[string]uint32
	for o, n := range theirs {
		if o == "" || n <= c.next(o) {
			continue
		}
		lacks = true
		if _, known := c.texts[o]; known || len(c.origins) < MaxOrigins {
			if want == nil {
				want = map[string]uint32{}
			}
			want[o] = n
		}
	}
	if c.cfg.CatchUpTimeout <= 0 {
		return lacks
	}
	cu := c.catchUps[peer]
	switch {
	case len(want) == 0:
		delete(c.catchUps, peer)
	case cu != nil:
		cu.want = want
	case len(c.catchUps) < maxCatchUps:
		c.catchUps[peer] = &catchUp{want: want}
	}
	return lacks
}

// awaitCatchUp waits for the next rumor from a peer that has more, after the
// peer sent one (progress) or after a silence, when it asks again. Only a
// peer that has sent a rumor this node took is followed, so a status alone,
// perhaps spoofed, never makes the node send more than its one answer.
func (c *Core) awaitCatchUp(peer string, progress bool) {
	cu := c.catchUps[peer]
	if cu == nil {
		return
	}
	lacks := false
	for o, n := range cu.want {
		if n > c.next(o) {
			lacks = true
			break
		}
	}
	if !lacks || !c.peers.has(peer) || (!progress && cu.stalls >= maxCatchUpStalls) {
		delete(c.catchUps, peer)
		return
	}
	if progress {
		cu.stalls = 0
	} else {
		cu.stalls++
		c.sendStatus(peer)
	}
	c.timerSeq++
	cu.seq = c.timerSeq
	c.out.Timers = append(c.out.Timers, Timer{Peer: peer, Seq: cu.seq, After: c.cfg.CatchUpTimeout, CatchUp: true})
}
