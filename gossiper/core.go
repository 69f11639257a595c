package gossiper

import (
	crand "crypto/rand"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/peerster/Peerster/internal/stdoutline"
	"github.com/peerster/Peerster/messages"
)

// Core is the protocol state of one node. It is not safe for concurrent use;
// the runtime serialises calls.
type Core struct {
	cfg     Config
	budgets budgets
	name    string
	rng     Random
	peers   *peerList

	// origins are those the status lists, in the order first listed: the
	// status vector's order (origins.go). statusBytes is what they add to
	// an encoded status; owners counts them by who brought them;
	// tombstones are the next IDs of evicted ones, oldest first in
	// tombstoneOrder. textBytes is what their held texts weigh.
	origins        []*origin
	byName         map[string]*origin
	statusBytes    int
	owners         map[string]int
	tombstones     map[string]uint32
	tombstoneOrder []string
	textBytes      int
	// ownNames are the names this node has sent under.
	ownNames map[string]bool
	// newUnproven is what unproven addresses together may still bring of
	// new origins.
	newUnproven bucket

	// log is the chat log (log.go): logSeq is the Seq of its newest entry,
	// logBytes what it weighs, logWeights that by origin.
	log        []Entry
	logSeq     uint64
	logBytes   int
	logWeights map[string]int
	alerts     []Alert
	// ownSent tracks whether peers take this node's messages (alerts.go).
	ownSent ownSent

	// peerStates are the exchanges with each peer: sessions, probes,
	// catch-ups, flips and in-flight marks (peerstate.go).
	peerStates peerStates
	timerSeq   uint64
	latest     *messages.RumorMessage
	latestAt   time.Time
	aeBag      []string

	simpleForwarded map[simpleKey]*simpleSeen
	simpleBudget    bucket
	simpleSent      []sentSimple
	simpleSentBytes int

	// sources keeps, by address, what may come in and go out (sources.go).
	sources *sources
	// claim and held are a peer's word that the network holds more of
	// this node's messages than it does, and the posts waiting for them.
	claim     *claim
	held      []heldPost
	heldBytes int

	// routes is the next hop towards each origin (routing.go); privates
	// are the private messages kept for the user, after privateBase
	// forgotten ones (private.go).
	routes       map[string]string
	privates     []PrivateEntry
	privateBase  int
	privateBytes int

	// shared are the sizes of the metafiles and chunks this node serves,
	// by hash, of sharedFiles; downloads are those going on or ended
	// (data.go, download.go).
	shared      map[Hash]int
	sharedFiles map[Hash]SharedFile
	downloads   map[Hash]*download

	// holders are the peers known to hold recent rumors; with the flips
	// in peerStates they steer the coin.
	holders recentHolders
	window  window

	stats Stats
	out   Output
}

// NewCore returns a node's protocol state. Peers in cfg must already be
// canonical addresses (see messages.ParseAddr); rng drives every random
// choice. The tokens that prove addresses (sources.go) come from
// cfg.Secret, or, when it is empty, from a secret of the system's
// randomness: a stranger must not guess them.
func NewCore(cfg Config, rng Random) *Core {
	secret := cfg.Secret
	if len(secret) == 0 {
		secret = make([]byte, 32)
		crand.Read(secret)
	}
	c := &Core{
		cfg:             cfg,
		budgets:         budgetsFor(cfg.MemoryBudget),
		name:            cfg.Name,
		rng:             rng,
		peers:           newPeerList(cfg.MaxPeers),
		byName:          map[string]*origin{},
		owners:          map[string]int{},
		tombstones:      map[string]uint32{},
		ownNames:        map[string]bool{},
		logWeights:      map[string]int{},
		simpleForwarded: map[simpleKey]*simpleSeen{},
		stats:           Stats{Dropped: map[string]uint64{}, Forgotten: map[string]uint64{}},
		sources:         newSources(secret),
		routes:          map[string]string{},
	}
	c.peerStates = newPeerStates(&c.cfg)
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
	if err := messages.ValidateName(name); err != nil {
		return err
	}
	if c.byName[name] == nil {
		if reason := c.fits(name); reason != "" && c.victim("") == nil {
			return fmt.Errorf("this node's status has no room for another origin (%s): keep the name %q", reason, c.name)
		}
	}
	c.name = name
	return nil
}

// Peers returns the known peers in the order they were learned.
func (c *Core) Peers() []string { return c.peers.list() }

// AddPeer adds a peer by hand; addr must be canonical (see messages.ParseAddr).
func (c *Core) AddPeer(addr string) error {
	if addr == c.cfg.Addr {
		return fmt.Errorf("%s is this node's own address", addr)
	}
	c.peers.add(addr, true)
	return nil
}

// Alerts returns what the node's user should know, the newest last.
func (c *Core) Alerts() []Alert { return slices.Clone(c.alerts) }

// Stats returns a copy of the counters.
func (c *Core) Stats() Stats {
	s := c.stats
	s.Dropped = maps.Clone(c.stats.Dropped)
	s.Forgotten = maps.Clone(c.stats.Forgotten)
	s.TextBytes, s.LogBytes = c.textBytes, c.logBytes
	return s
}

// Restore rebuilds the history from entries kept by an earlier run, in the
// order they were accepted. Entries that do not extend their origin's
// sequence (a gap, a repeat) are skipped and counted in the returned number;
// the room and the memory budgets apply as they do to rumors that arrive.
func (c *Core) Restore(entries []Entry) (skipped int) {
	for _, e := range entries {
		if !c.restore(e) {
			skipped++
		}
	}
	c.out = Output{}
	c.latest = nil
	return skipped
}

func (c *Core) restore(e Entry) bool {
	o := c.byName[e.Origin]
	if o == nil && messages.ValidateName(e.Origin) == nil && e.ID == c.next(e.Origin) {
		owner := restoredOwner
		if c.protected(e.Origin) {
			owner = ""
		}
		o, _ = c.admit(e.Origin, owner, "", e.Received)
	}
	if o == nil || e.ID != o.next() {
		return false
	}
	c.accept(o, &messages.RumorMessage{Origin: e.Origin, ID: e.ID, Text: e.Text}, false, e.Received)
	return true
}

// Client handles a chat message typed by this node's user.
func (c *Core) Client(text string, now time.Time) (Output, Posted, error) {
	if err := messages.ValidateText(text); err != nil {
		return Output{}, Posted{}, err
	}
	if err := c.mayHold(text); err != nil && !c.cfg.Simple {
		return Output{}, Posted{}, err
	}
	c.print(stdoutline.ClientMessage{Text: text}.String())
	if c.cfg.Simple {
		c.postSimple(text, now)
		return c.take(), Posted{Origin: c.name}, nil
	}
	posted := c.postRumor(text, now)
	return c.take(), posted, nil
}

// ClientDatagram handles the bytes of one datagram from a local client.
func (c *Core) ClientDatagram(b []byte, now time.Time) (Output, error) {
	m, err := messages.DecodeMessage(b)
	if err != nil {
		c.drop("client-undecodable")
		return Output{}, fmt.Errorf("undecodable client message: %w", err)
	}
	var out Output
	if m.Destination != "" {
		out, _, err = c.SendPrivate(m.Destination, m.Text, now)
	} else {
		out, _, err = c.Client(m.Text, now)
	}
	if err != nil {
		c.drop("client-invalid")
	}
	return out, err
}

// Datagram handles the bytes of one datagram from the peer at from.
func (c *Core) Datagram(from string, b []byte, now time.Time) Output {
	c.stats.PacketsIn++
	if len(b) > messages.MaxPacketSize {
		c.drop("too-large")
		return c.take()
	}
	// The cheap checks go first: decoding is most of what a packet costs.
	if !c.received(from, len(b), now) {
		c.drop("rate-limited")
		return c.take()
	}
	if n, ok := messages.StatusEntries(b); ok && n > MaxStatusEntries {
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
	for _, set := range []bool{p.Simple != nil, p.Rumor != nil, p.Status != nil, p.Private != nil, p.DataRequest != nil, p.DataReply != nil} {
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
	case p.Private != nil:
		c.onPrivate(from, p.Private, now)
	case p.DataRequest != nil:
		c.onDataRequest(from, p.DataRequest, now)
	case p.DataReply != nil:
		c.onDataReply(from, p.DataReply, now)
	default:
		c.onStatus(from, p.Status, now)
	}
	return c.take()
}

// Timeout handles a timer that fired. A timer whose exchange has since ended,
// by a status or a newer rumor to the same peer, does nothing.
func (c *Core) Timeout(t Timer, now time.Time) Output {
	switch t.Kind {
	case TimerCatchUp:
		c.catchUpTimeout(t, now)
	case TimerProbe:
		c.probeTimeout(t, now)
	case TimerResend:
		c.resendTimeout(t, now)
	case TimerRecover:
		c.recoverTimeout(t, now)
	case TimerData:
		c.dataTimeout(t, now)
	default:
		c.mongerTimeout(t, now)
	}
	return c.take()
}

// pickPeer returns a random known peer other than except, if there is one.
func (c *Core) pickPeer(except string) (string, bool) {
	return c.pickPeerWhere(func(p string) bool { return p != except })
}

// pickPeerWhere returns a random known peer for which ok holds, if there is
// one.
func (c *Core) pickPeerWhere(ok func(peer string) bool) (string, bool) {
	n := 0
	for _, p := range c.peers.addrs {
		if ok(p) {
			n++
		}
	}
	if n == 0 {
		return "", false
	}
	i := 0
	if n > 1 {
		i = c.rng.IntN(n)
	}
	for _, p := range c.peers.addrs {
		if !ok(p) {
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

// send sends p to the peer at to if its budget affords it (sources.go),
// and reports whether it did.
func (c *Core) send(to string, p *messages.GossipPacket, now time.Time) bool {
	if !c.affords(to, p, now) {
		c.stats.Refused++
		c.probeAddress(to, now)
		return false
	}
	c.spend(to, p, now)
	c.stats.PacketsOut++
	c.out.Sends = append(c.out.Sends, Send{To: to, Packet: p})
	return true
}

func (c *Core) print(line string) { c.out.Lines = append(c.out.Lines, line) }

func (c *Core) drop(reason string) { c.stats.Dropped[reason]++ }

// arm asks the runtime for a timer of kind for peer, to fire after after,
// and returns its Seq. What waits for the timer keeps the Seq: a timer
// that fires after a newer one of its kind and peer was armed finds
// another Seq there, and does nothing.
func (c *Core) arm(kind TimerKind, peer string, after time.Duration) uint64 {
	c.timerSeq++
	c.rearm(kind, peer, c.timerSeq, after)
	return c.timerSeq
}

// rearm asks for a timer again under the Seq it was given before.
func (c *Core) rearm(kind TimerKind, peer string, seq uint64, after time.Duration) {
	c.out.Timers = append(c.out.Timers, Timer{Kind: kind, Peer: peer, Seq: seq, After: after})
}

// dropQueued counts datagrams the runtime's queue dropped for room before
// they reached the Core (see inqueue.go).
func (c *Core) dropQueued(n int) {
	if n > 0 {
		c.stats.PacketsIn += uint64(n)
		c.stats.Dropped["queue-full"] += uint64(n)
	}
}

func (c *Core) take() Output {
	o := c.out
	c.out = Output{}
	return o
}
