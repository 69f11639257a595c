package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/peerster/Peerster/messages"
)

// A ring is a set of real gossipers on loopback, node i knowing only node
// i+1 (the last knowing the first), as the handout's ring tests start them.
// The traffic and throughput commands start a fresh one for every run. Each
// node's stdout is read as it is printed (see stdout.go); each node may
// serve its /metrics on a port of its own.
type ring struct {
	nodes []*ringNode
	// deliveries records, for the messages a run posts, when each node
	// printed each of them.
	deliveries *deliveries
}

// ringNode is one gossiper of a ring.
type ringNode struct {
	name               string
	gossipPort, uiPort int
	guiPort            int // 0: no page
	cmd                *exec.Cmd
	exited             chan struct{}
	stderr             *os.File
	stdout             *stdoutReader
	post               *net.UDPConn // to the node's UI port
}

// ringName names node i of a ring: A, B, ... Z, then N26, N27...
func ringName(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return "N" + strconv.Itoa(i)
}

// ringStartAttempts is how many times startRing tries fresh ports: a port
// found free may be taken by another program before the node binds it.
const ringStartAttempts = 3

// startRing starts n gossipers of binary bin in a ring, with their stderr
// in files under dir, and waits until each has bound its sockets (and
// serves /metrics, if gui). d records the messages the nodes print.
func startRing(bin, dir string, n int, gui bool, d *deliveries) (*ring, error) {
	var err error
	for range ringStartAttempts {
		var r *ring
		if r, err = tryStartRing(bin, dir, n, gui, d); err == nil {
			return r, nil
		}
	}
	return nil, err
}

func tryStartRing(bin, dir string, n int, gui bool, d *deliveries) (*ring, error) {
	udp, err := freeUDPPorts(2 * n)
	if err != nil {
		return nil, err
	}
	tcp := make([]int, n)
	if gui {
		if tcp, err = freeTCPPorts(n); err != nil {
			return nil, err
		}
	}
	r := &ring{deliveries: d}
	for i := range n {
		r.nodes = append(r.nodes, &ringNode{name: ringName(i), gossipPort: udp[2*i], uiPort: udp[2*i+1], guiPort: tcp[i]})
	}
	for i, nd := range r.nodes {
		next := r.nodes[(i+1)%n]
		if err := nd.start(bin, dir, i, next.gossipPort, d); err != nil {
			r.stop()
			return nil, err
		}
	}
	if err := r.waitReady(5 * time.Second); err != nil {
		r.stop()
		return nil, err
	}
	return r, nil
}

// start runs the node as graders do, with its stdout in a pipe that
// readStdout drains.
func (nd *ringNode) start(bin, dir string, index, nextPort int, d *deliveries) error {
	args := []string{"-name=" + nd.name, "-gossipAddr=127.0.0.1:" + strconv.Itoa(nd.gossipPort),
		"-UIPort=" + strconv.Itoa(nd.uiPort), "-peers=127.0.0.1:" + strconv.Itoa(nextPort),
		"-GUIPort=" + strconv.Itoa(nd.guiPort)}
	stderr, err := os.CreateTemp(dir, "stderr-"+nd.name+"-")
	if err != nil {
		return err
	}
	nd.stderr = stderr
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	// A larger pipe lets a node print a burst while the bench is busy
	// elsewhere, instead of blocking in write(2). Linux only; without it
	// the pipe holds 64 KiB.
	_, _ = fcntl(pw, syscall.F_SETPIPE_SZ, pipeSize)
	nd.cmd = exec.Command(bin, args...)
	// Its file folders go beside its stderr, in the run's temporary folder.
	nd.cmd.Dir = filepath.Dir(stderr.Name())
	nd.cmd.Stdout = pw
	nd.cmd.Stderr = stderr
	err = nd.cmd.Start()
	pw.Close()
	if err != nil {
		pr.Close()
		return err
	}
	nd.exited = make(chan struct{})
	go func() { _ = nd.cmd.Wait(); close(nd.exited) }()
	nd.stdout = readStdout(pr, index, d)
	nd.post, err = net.DialUDP("udp4", nil, &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: nd.uiPort})
	return err
}

// pipeSize is the size asked for each node's stdout pipe, the most an
// unprivileged process may ask for by default (/proc/sys/fs/pipe-max-size).
const pipeSize = 1 << 20

func fcntl(f *os.File, cmd, arg int) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), uintptr(cmd), uintptr(arg))
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}

// waitReady waits until every node has bound its two UDP sockets and, if
// it has a page, answers on /metrics (the page starts after the sockets).
func (r *ring) waitReady(timeout time.Duration) error {
	table, err := openUDPTable()
	if err != nil {
		return err
	}
	defer table.Close()
	deadline := time.Now().Add(timeout)
	for _, nd := range r.nodes {
		if err := awaitStart(nd.name, nd.exited, nd.stderr, deadline, func() (bool, error) { return nd.ready(table) }); err != nil {
			return err
		}
	}
	return nil
}

// awaitStart polls ready until it holds, the node exits, or deadline
// passes; an error quotes the node's stderr.
func awaitStart(name string, exited <-chan struct{}, stderr *os.File, deadline time.Time, ready func() (bool, error)) error {
	for {
		ok, err := ready()
		if err != nil || ok {
			return err
		}
		select {
		case <-exited:
			return fmt.Errorf("node %s exited at start: %s", name, readAll(stderr))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("node %s not ready in time: %s", name, readAll(stderr))
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func (nd *ringNode) ready(table *udpTable) (bool, error) {
	bound, err := table.allBound([]int{nd.gossipPort, nd.uiPort})
	if err != nil || !bound || nd.guiPort == 0 {
		return bound, err
	}
	_, err = scrapeNode(nd.guiPort)
	return err == nil, nil
}

// postTo sends text to node i's UI port as the client does: one datagram
// holding the protobuf encoding of messages.Message.
func (r *ring) postTo(i int, text string) error {
	b, err := (&messages.Message{Text: text}).Encode()
	if err != nil {
		return err
	}
	_, err = r.nodes[i].post.Write(b)
	return err
}

// stop ends every node that was started: SIGTERM, as a user's Ctrl-C or a
// grader's kill does, then SIGKILL for one that has not exited after 5 s;
// then it waits until their stdout has been read to the end.
func (r *ring) stop() {
	for _, nd := range r.nodes {
		if nd.cmd != nil && nd.cmd.Process != nil && nd.exited != nil {
			_ = nd.cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	var wg sync.WaitGroup
	for _, nd := range r.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			nd.end()
		}()
	}
	wg.Wait()
}

func (nd *ringNode) end() {
	if nd.exited != nil {
		select {
		case <-nd.exited:
		case <-time.After(5 * time.Second):
			_ = nd.cmd.Process.Kill()
			<-nd.exited
		}
	}
	if nd.stdout != nil {
		nd.stdout.wait()
	}
	if nd.post != nil {
		nd.post.Close()
	}
	if nd.stderr != nil {
		nd.stderr.Close()
	}
}

// pids are the nodes' process IDs.
func (r *ring) pids() []int {
	ps := make([]int, len(r.nodes))
	for i, nd := range r.nodes {
		ps[i] = nd.cmd.Process.Pid
	}
	return ps
}

// ports are the nodes' gossip and UI ports, where the kernel counts the
// datagrams it dropped for a full receive queue.
func (r *ring) ports() []int {
	var ps []int
	for _, nd := range r.nodes {
		ps = append(ps, nd.gossipPort, nd.uiPort)
	}
	return ps
}

// exitedEarly names a node that has exited while the ring should run.
func (r *ring) exitedEarly() error {
	for _, nd := range r.nodes {
		select {
		case <-nd.exited:
			return errors.New("node " + nd.name + " exited: " + readAll(nd.stderr))
		default:
		}
	}
	return nil
}

// waitDelivered waits until every node has printed every message of the
// ring's deliveries, or deadline, when it says what is missing.
func (r *ring) waitDelivered(deadline time.Time) error {
	for !r.deliveries.complete() {
		if err := r.exitedEarly(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not every message printed on every node before the timeout: %s", r.missing())
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}

// missing says which messages which nodes have not printed.
func (r *ring) missing() string {
	texts := make([]string, r.deliveries.messages())
	for t, m := range r.deliveries.index {
		texts[m] = t
	}
	names := make([]string, len(r.nodes))
	for i, nd := range r.nodes {
		names[i] = nd.name
	}
	return r.deliveries.missing(texts, names)
}

// printMachine writes the machine's core count and load average, which
// the figures of a run on real processes depend on.
// startBench gets the gossiper to measure (see gossiperBinary) and prints
// the command's title and the machine it runs on.
func startBench(gossiper string, out io.Writer, title string) (bin, dir string, cleanup func(), err error) {
	if bin, dir, cleanup, err = gossiperBinary(gossiper); err != nil {
		return "", "", nil, err
	}
	fmt.Fprintln(out, title)
	printMachine(out)
	return bin, dir, cleanup, nil
}

func printMachine(out io.Writer) {
	fmt.Fprintf(out, "cores %d (runtime.NumCPU), load average %s, %s %s/%s\n",
		runtime.NumCPU(), loadAverage(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// newTable is a table with right-aligned columns, as the commands print.
func newTable(out io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
}
