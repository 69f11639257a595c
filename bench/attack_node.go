package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/peerster/Peerster/internal/attack"
	"github.com/peerster/Peerster/internal/stdoutline"
)

// attackNode is one gossiper the attack command runs: a target, its honest
// peer, or a node that joins later. Its stdout is read as it prints; the
// attacks watch the lines they need.
type attackNode struct {
	name    string
	gossip  netip.AddrPort
	uiPort  int
	guiPort int
	cmd     *exec.Cmd
	exited  chan struct{}
	stderr  *os.File
	post    *net.UDPConn
	out     *nodeOutput
}

// startAttackNode runs bin as node name on fresh loopback ports, knowing
// peers, and waits until it has bound its sockets and serves /metrics. A
// port found free may be taken before the node binds it, so it tries
// again on fresh ports.
func startAttackNode(bin, dir, name, chatPrefix string, peers []netip.AddrPort, flags []string) (*attackNode, error) {
	var err error
	for range ringStartAttempts {
		var nd *attackNode
		if nd, err = tryStartAttackNode(bin, dir, name, chatPrefix, peers, flags); err == nil {
			return nd, nil
		}
	}
	return nil, err
}

func tryStartAttackNode(bin, dir, name, chatPrefix string, peers []netip.AddrPort, flags []string) (*attackNode, error) {
	udp, err := freeUDPPorts(2)
	if err != nil {
		return nil, err
	}
	gui, err := freeTCPPort()
	if err != nil {
		return nil, err
	}
	nd := &attackNode{name: name, gossip: netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), uint16(udp[0])),
		uiPort: udp[1], guiPort: gui}
	args := []string{"-name=" + name, "-gossipAddr=" + nd.gossip.String(), "-UIPort=" + strconv.Itoa(nd.uiPort),
		"-GUIPort=" + strconv.Itoa(gui)}
	if len(peers) > 0 {
		ps := make([]string, len(peers))
		for i, p := range peers {
			ps[i] = p.String()
		}
		args = append(args, "-peers="+strings.Join(ps, ","))
	}
	args = append(args, flags...)
	if nd.stderr, err = os.CreateTemp(dir, "stderr-"+name+"-"); err != nil {
		return nil, err
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		nd.stderr.Close()
		return nil, err
	}
	// Targets of a flood print tens of megabytes: a larger pipe lets them
	// go on while the bench is busy elsewhere.
	_, _ = fcntl(pw, syscall.F_SETPIPE_SZ, pipeSize)
	nd.cmd = exec.Command(bin, args...)
	// Its file folders go beside its stderr, in the run's temporary folder.
	nd.cmd.Dir = filepath.Dir(nd.stderr.Name())
	nd.cmd.Stdout = pw
	nd.cmd.Stderr = nd.stderr
	err = nd.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		nd.stderr.Close()
		return nil, err
	}
	nd.exited = make(chan struct{})
	go func() { _ = nd.cmd.Wait(); close(nd.exited) }()
	nd.out = readNodeOutput(pr, chatPrefix)
	if nd.post, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nd.uiPort}); err == nil {
		err = nd.waitReady(5 * time.Second)
	}
	if err != nil {
		nd.stop()
		return nil, err
	}
	return nd, nil
}

func (nd *attackNode) waitReady(timeout time.Duration) error {
	table, err := openUDPTable()
	if err != nil {
		return err
	}
	defer table.Close()
	return awaitStart(nd.name, nd.exited, nd.stderr, time.Now().Add(timeout), func() (bool, error) {
		bound, err := table.allBound([]int{int(nd.gossip.Port()), nd.uiPort})
		if err != nil || !bound {
			return false, err
		}
		_, err = scrapeNode(nd.guiPort)
		return err == nil, nil
	})
}

// stop ends the node by its PID: SIGTERM, then SIGKILL if it has not
// exited 5 s later (a node kept busy by an attack may not get to its
// signal), and waits until its stdout is read to the end.
func (nd *attackNode) stop() {
	if nd.exited != nil {
		_ = nd.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-nd.exited:
		case <-time.After(5 * time.Second):
			_ = nd.cmd.Process.Kill()
			<-nd.exited
		}
	}
	if nd.out != nil {
		<-nd.out.done
	}
	if nd.post != nil {
		nd.post.Close()
	}
	if nd.stderr != nil {
		nd.stderr.Close()
	}
}

func (nd *attackNode) alive() bool {
	select {
	case <-nd.exited:
		return false
	default:
		return true
	}
}

func (nd *attackNode) pid() int { return nd.cmd.Process.Pid }

// postChat sends text to the node's UI port as the client does.
func (nd *attackNode) postChat(text string) error {
	_, err := nd.post.Write(attack.ClientPost(text, ""))
	return err
}

// postPrivate sends text to dest through the node, as client -dest does.
func (nd *attackNode) postPrivate(dest, text string) error {
	_, err := nd.post.Write(attack.ClientPost(text, dest))
	return err
}

// peakRSS is the node's peak resident memory (VmHWM), in bytes, or -1.
func (nd *attackNode) peakRSS() int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(nd.pid()) + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			if kb, err := strconv.ParseInt(f[1], 10, 64); err == nil {
				return kb << 10
			}
		}
	}
	return -1
}

func (nd *attackNode) url(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(nd.guiPort) + path
}

// counters reads every sample of the node's /metrics, keyed as written:
// name, or name{labels}.
func (nd *attackNode) counters() (map[string]float64, error) {
	resp, err := metricsClient.Get(nd.url("/metrics"))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics on %s: %s", nd.name, resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		name, labels, v, ok := metricSample(sc.Text())
		if !ok {
			continue
		}
		if labels != "" {
			name += "{" + labels + "}"
		}
		m[name] = v
	}
	return m, sc.Err()
}

// stderrText is what the node wrote to stderr so far.
func (nd *attackNode) stderrText() string { return readAll(nd.stderr) }

// nodeOutput reads a node's stdout: it notes when each chat text of the
// run (those starting with its prefix) was first printed, counts the
// terminal control bytes printed, and hands every line to the watchers an
// attack adds. It keeps nothing else, so a node that prints hundreds of
// megabytes of flood costs the bench no memory.
type nodeOutput struct {
	prefix   string
	mu       sync.Mutex
	texts    map[string]time.Time
	watchers []func(line []byte, at time.Time)
	control  atomic.Int64 // ESC (0x1b) and BEL (0x07) bytes
	bytes    atomic.Int64
	done     chan struct{}
}

func readNodeOutput(r io.ReadCloser, prefix string) *nodeOutput {
	o := &nodeOutput{prefix: prefix, texts: map[string]time.Time{}, done: make(chan struct{})}
	go func() {
		defer close(o.done)
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 1<<20), maxLine)
		for sc.Scan() {
			o.line(sc.Bytes(), time.Now())
		}
		if sc.Err() != nil {
			_, _ = io.Copy(io.Discard, r)
		}
	}()
	return o
}

func (o *nodeOutput) line(line []byte, now time.Time) {
	o.bytes.Add(int64(len(line)) + 1)
	if n := bytes.Count(line, []byte{0x1b}) + bytes.Count(line, []byte{0x07}); n > 0 {
		o.control.Add(int64(n))
	}
	o.mu.Lock()
	if text, ok := stdoutline.ChatText(line); ok && strings.HasPrefix(text, o.prefix) {
		if _, seen := o.texts[text]; !seen {
			o.texts[text] = now
		}
	}
	ws := o.watchers
	o.mu.Unlock()
	for _, w := range ws {
		w(line, now)
	}
}

// watch has fn called with every line printed from now on, from the
// reader: it must be quick and not keep line, which the reader reuses.
func (o *nodeOutput) watch(fn func(line []byte, at time.Time)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.watchers = append(o.watchers[:len(o.watchers):len(o.watchers)], fn)
}

// printed is when the node first printed chat text, if it did.
func (o *nodeOutput) printed(text string) (time.Time, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	t, ok := o.texts[text]
	return t, ok
}

// lineCounter counts the lines a node prints that start with prefix (and,
// if suffix is set, end with it), and remembers when it printed the first.
type lineCounter struct {
	n     atomic.Int64
	first atomic.Int64 // Unix ns
}

func (o *nodeOutput) count(prefix, suffix string) *lineCounter {
	c := &lineCounter{}
	p, s := []byte(prefix), []byte(suffix)
	o.watch(func(line []byte, at time.Time) {
		if bytes.HasPrefix(line, p) && bytes.HasSuffix(line, s) {
			if c.n.Add(1) == 1 {
				c.first.Store(at.UnixNano())
			}
		}
	})
	return c
}

func (c *lineCounter) count() int64 { return c.n.Load() }

// firstAt is when the first line came, or the zero time.
func (c *lineCounter) firstAt() time.Time {
	if ns := c.first.Load(); ns != 0 {
		return time.Unix(0, ns)
	}
	return time.Time{}
}

// addPeer tells the node about p through its page's API, as a user's Add
// node does: a node started before p cannot name it in -peers.
func (nd *attackNode) addPeer(p *attackNode) error {
	body := strings.NewReader(`{"address":"` + p.gossip.String() + `"}`)
	resp, err := metricsClient.Post(nd.url("/node"), "application/json", body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("POST /node on %s: %s: %s", nd.name, resp.Status, b)
	}
	return nil
}
