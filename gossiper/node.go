package gossiper

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/peerster/Peerster/messages"
)

// ErrClosed is what Post returns once the node is closed.
var ErrClosed = errors.New("node is closed")

// Node runs a Core: it reads datagrams from a Transport and client messages
// from the UI socket, fires the anti-entropy ticker and the rumor timers, and
// carries out what the Core returns. Calls into the Core are serialised by
// one mutex; storing, printing and sending happen after it is released, so
// that reads of the node's state never wait for the disk.
type Node struct {
	cfg    Config
	tr     Transport
	stdout io.Writer
	log    *slog.Logger
	now    func() time.Time
	store  Store

	// files keeps the files it shares and downloads; nil keeps none.
	files Files
	// starting makes one download start at a time, so that a second
	// request for the same file cannot abort the first one's partial file.
	starting sync.Mutex

	mu      sync.Mutex
	core    *Core
	closed  bool
	changed chan struct{}

	timers timerSet

	// Outputs are queued while mu is held, so the queue is in the order
	// the Core decided them, and carried out under outMu, which is never
	// taken with mu held: an event waiting for the disk holds up the
	// events behind it, but not the readers.
	queueMu sync.Mutex
	queue   []Output
	outMu   sync.Mutex
}

// NewNode returns a node gossiping over tr. cfg.Addr defaults to tr.Addr();
// protocol lines go to stdout, diagnostics to logger.
func NewNode(cfg Config, tr Transport, stdout io.Writer, logger *slog.Logger) *Node {
	if cfg.Addr == "" {
		cfg.Addr = tr.Addr()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Node{
		cfg:     cfg,
		tr:      tr,
		stdout:  stdout,
		log:     logger,
		now:     time.Now,
		core:    NewCore(cfg, rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))),
		changed: make(chan struct{}),
	}
}

// Store keeps the rumors a node accepts, so that a restarted node has its
// whole history and goes on with its own IDs where it left off.
type Store interface {
	// Append returns once entries are durable.
	Append(entries []Entry) error
}

// SetStore makes the node append every rumor it accepts to s before it
// prints or sends anything that follows from it, so that no peer ever hears
// of a rumor the node could forget. Call it before Run.
func (n *Node) SetStore(s Store) { n.store = s }

// Restore rebuilds the history from entries an earlier run stored, oldest
// first; entries that do not continue their origin's sequence are skipped and
// counted. Call it before Run.
func (n *Node) Restore(entries []Entry) (skipped int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Restore(entries)
}

// Run gossips until ctx is cancelled, then closes the transport.
func (n *Node) Run(ctx context.Context) error {
	readDone := make(chan error, 1)
	go func() { readDone <- n.readLoop() }()
	ticker := time.NewTicker(n.cfg.AntiEntropyInterval)
	defer ticker.Stop()
	// A status at start tells the bootstrap peers that we exist.
	n.do(func(c *Core) Output { return c.Tick(n.now()) })
	var routeTicks <-chan time.Time
	if n.cfg.RouteInterval > 0 {
		n.do(func(c *Core) Output { return c.RouteRumor(n.now()) })
		t := time.NewTicker(n.cfg.RouteInterval)
		defer t.Stop()
		routeTicks = t.C
	}
	for {
		select {
		case <-routeTicks:
			n.do(func(c *Core) Output { return c.RouteRumor(n.now()) })
		case <-ctx.Done():
			n.Close()
			<-readDone
			return nil
		case err := <-readDone:
			n.Close()
			return err
		case <-ticker.C:
			n.do(func(c *Core) Output { return c.Tick(n.now()) })
		}
	}
}

// Close stops the node: no more packets, lines or timers.
func (n *Node) Close() {
	n.mu.Lock()
	if !n.closed {
		n.closed = true
		n.tr.Close()
	}
	n.mu.Unlock()
	// Events that got in before closed was set may still have rumors to
	// store; carrying them out here lets the caller close the store.
	n.flush()
}

// readLoop reads datagrams into the fair queue (inqueue.go), which a
// second goroutine empties into the Core: reading never waits for the CPU
// the handling takes, so the kernel's buffer does not overflow with one
// sender's datagrams, and each sender is served in turn.
func (n *Node) readLoop() error {
	q := newInQueue(budgetsFor(n.cfg.MemoryBudget).inbound)
	handled := make(chan struct{})
	go func() {
		defer close(handled)
		n.handleQueue(q)
	}()
	defer func() {
		q.close()
		<-handled
	}()
	buf := make([]byte, messages.MaxPacketSize)
	for {
		size, from, err := n.tr.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return nil
		}
		var refused *UnreachableError
		if errors.As(err, &refused) {
			n.unreachable(refused.To)
			continue
		}
		if err != nil {
			n.log.Debug("gossip read failed", "err", err)
			continue
		}
		q.put(from, bytes.Clone(buf[:size]))
	}
}

// handleQueue hands the queued datagrams to the Core, a source at a time,
// until the queue is closed and empty.
func (n *Node) handleQueue(q *inQueue) {
	for {
		from, b, dropped, ok := q.take()
		if !ok {
			return
		}
		misdirected, peer := false, false
		n.do(func(c *Core) Output {
			c.dropQueued(dropped)
			limited := c.stats.Dropped["rate-limited"]
			out := c.Datagram(from, b, n.now())
			peer = c.proven(from)
			if len(out.Lines) == 0 && len(out.Sends) == 0 && len(out.Serve) == 0 && len(out.FileWrites) == 0 {
				n.log.Debug("datagram dropped", "from", from, "bytes", len(b))
				// Not for its sender's rate: it may be a client's message
				// sent to the wrong port, which is answered.
				misdirected = c.stats.Dropped["rate-limited"] == limited
			}
			return out
		})
		// The queue favours proven peers (see inqueue.go); the Core is
		// what knows them.
		q.setPeer(from, peer)
		if misdirected {
			n.answerMisdirected(from, b)
		}
	}
}

// ServeClients reads client messages from conn until ctx is cancelled.
func (n *Node) ServeClients(ctx context.Context, conn net.PacketConn) {
	go func() {
		<-ctx.Done()
		conn.Close()
	}()
	buf := make([]byte, messages.MaxPacketSize)
	for {
		size, from, err := conn.ReadFrom(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			n.log.Debug("client read failed", "err", err)
			continue
		}
		m, err := messages.DecodeMessage(buf[:size])
		switch {
		case err == nil && (m.File != "" || len(m.Request) > 0):
			n.fileCommand(conn, from, m)
			continue
		case err == nil && m.Client == messages.ClientMark:
			// Our client, which waits for the answer (node_client.go).
			n.clientMessage(conn, from, m)
			continue
		}
		var cerr error
		n.do(func(c *Core) Output {
			out, err := c.ClientDatagram(buf[:size], n.now())
			cerr = err
			return out
		})
		if cerr != nil {
			n.log.Warn("client message refused", "from", from.String(), "err", cerr)
		}
	}
}

// Post sends a chat message as if a client had sent it.
func (n *Node) Post(text string) (Posted, error) {
	var posted Posted
	var perr error
	n.do(func(c *Core) Output {
		out, p, err := c.Client(text, n.now())
		posted, perr = p, err
		return out
	})
	if perr == nil && posted.Origin == "" {
		return posted, ErrClosed
	}
	return posted, perr
}

// Log returns the chat log, oldest first.
func (n *Node) Log() []Entry {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Log()
}

// LogAfter returns, oldest first, the chat messages accepted after the one
// numbered seq (0: from the first), at most limit of them and, beyond the
// first, at most maxBytes of origin and text; more tells whether later ones
// remain.
func (n *Node) LogAfter(seq uint64, limit, maxBytes int) (entries []Entry, more bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.LogAfter(seq, limit, maxBytes)
}

// LogBefore returns, oldest first, the newest chat messages accepted before
// the one numbered seq (0: the newest of all), within the bounds of
// LogAfter; more tells whether older ones remain.
func (n *Node) LogBefore(seq uint64, limit, maxBytes int) (entries []Entry, more bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.LogBefore(seq, limit, maxBytes)
}

// LastSeq is the Seq of the newest chat message, 0 before the first.
func (n *Node) LastSeq() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.LastSeq()
}

// Alerts returns what the node's user should know, the newest last.
func (n *Node) Alerts() []Alert {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Alerts()
}

// Peers returns the known peers in the order they were learned.
func (n *Node) Peers() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Peers()
}

// AddPeer adds the peer at addr ("ip:port").
func (n *Node) AddPeer(addr string) error {
	a, err := messages.ParseAddr(addr)
	if err != nil {
		return err
	}
	n.mu.Lock()
	err = n.core.AddPeer(a)
	n.notifyLocked()
	n.mu.Unlock()
	return err
}

// Name is the origin of messages this node sends now.
func (n *Node) Name() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Name()
}

// SetName changes the origin of messages sent from now on.
func (n *Node) SetName(name string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	err := n.core.SetName(name)
	if err == nil {
		n.notifyLocked()
	}
	return err
}

// Addr is this node's gossip address.
func (n *Node) Addr() string { return n.cfg.Addr }

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.core.Stats()
}

// Changed returns a channel that is closed at the node's next change of log,
// peers, name, alerts or downloads.
func (n *Node) Changed() <-chan struct{} {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.changed
}

func (n *Node) notifyLocked() {
	close(n.changed)
	n.changed = make(chan struct{})
}

// unreachable tells the Core of peers whose ports were unreachable.
func (n *Node) unreachable(to []string) {
	n.do(func(c *Core) Output { return c.Unreachable(to, n.now()) })
}

func (n *Node) fire(t Timer) {
	n.do(func(c *Core) Output { return c.Timeout(t, n.now()) })
}

// do runs one event through the Core and returns once its output has been
// carried out.
func (n *Node) do(event func(c *Core) Output) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	out := event(n.core)
	if len(out.Lines) > 0 || len(out.Private) > 0 || out.Alerted || len(out.FileWrites) > 0 || out.DownloadsChanged {
		n.notifyLocked()
	}
	for _, w := range out.Warnings {
		n.log.Warn(w)
	}
	n.queueMu.Lock()
	n.queue = append(n.queue, out)
	n.queueMu.Unlock()
	n.mu.Unlock()
	n.flush()
}

// flush carries out the queued outputs in order. Whoever holds outMu when
// an output is queued either carries it out with the rest or lets go of
// outMu before that output's own flush gets it, so when flush returns, its
// caller's output has been carried out, by itself or by another.
func (n *Node) flush() {
	n.outMu.Lock()
	n.queueMu.Lock()
	outs := n.queue
	n.queue = nil
	n.queueMu.Unlock()
	var refused []string
	var later []func()
	for _, out := range outs {
		r, l := n.carryOut(out)
		refused, later = append(refused, r...), append(later, l...)
	}
	n.outMu.Unlock()
	// Telling the Core runs an event, whose flush needs outMu.
	if len(refused) > 0 {
		n.unreachable(refused)
	}
	for _, f := range later {
		f()
	}
}

// carryOut stores, prints, sends and arms what one event decided, and
// returns the peers found unreachable and the events its files' outcomes
// call for. The rumors and downloads are stored first so that no peer
// hears of one the node could forget, and no line says a file is whole
// before it is.
func (n *Node) carryOut(out Output) (refused []string, later []func()) {
	if n.store != nil && len(out.Accepted) > 0 {
		// The node carries on if the disk fails: peers still get the
		// rumor, and after a restart it comes back from them.
		if err := n.store.Append(out.Accepted); err != nil {
			n.log.Error("storing accepted rumors failed", "count", len(out.Accepted), "err", err)
		}
	}
	if ps, ok := n.store.(PrivateStore); ok && len(out.Private) > 0 {
		if err := ps.AppendPrivate(out.Private); err != nil {
			n.log.Error("storing private messages failed", "count", len(out.Private), "err", err)
		}
	}
	if len(out.FileWrites) > 0 {
		later = n.carryOutFiles(out)
	}
	n.printLines(out.Lines)
	for _, s := range out.Sends {
		refused = append(refused, n.sendPacket(s.To, s.Packet)...)
	}
	refused = append(refused, n.serve(out)...)
	for _, t := range out.Timers {
		n.timers.arm(t, n.fire)
	}
	return refused, later
}

func (n *Node) printLines(lines []string) {
	if len(lines) == 0 {
		return
	}
	if _, err := io.WriteString(n.stdout, strings.Join(lines, "\n")+"\n"); err != nil {
		n.log.Debug("stdout write failed", "err", err)
	}
}

// sendPacket sends p to the peer at to, and returns the peers the network
// reported unreachable.
func (n *Node) sendPacket(to string, p *messages.GossipPacket) (refused []string) {
	b, err := p.Encode()
	if err == nil {
		err = n.tr.WriteTo(b, to)
	}
	var ue *UnreachableError
	if errors.As(err, &ue) {
		return ue.To
	} else if err != nil {
		n.log.Debug("send failed", "to", to, "err", err)
	}
	return nil
}
