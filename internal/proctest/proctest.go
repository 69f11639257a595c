// Package proctest starts real Peerster gossipers for tests: it builds the
// gossiper and client binaries once per test process, runs a node with the
// flags a test gives (on loopback, or inside a network namespace through ip
// netns exec), waits until it listens, reads its stdout as it prints, posts
// messages with the client, and ends the node by its PID when the test ends.
//
// A package whose tests start nodes runs its tests through Main:
//
//	func TestMain(m *testing.M) { os.Exit(proctest.Main(m)) }
package proctest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// Node is one gossiper process: the fields up to Netns say how to run it,
// Start runs it.
type Node struct {
	Name    string
	Addr    string   // gossip address (-gossipAddr), host:port
	UIPort  int      // the client's port (-UIPort)
	GUIPort int      // the web server's port (-GUIPort), 0 for none
	Peers   []string // -peers
	Flags   []string // more flags, after the others
	Netns   string   // run inside this network namespace, if set
	// Dir is the node's working directory, where its _SharedFiles/ and
	// _Downloads/ folders are; empty gives it a fresh one.
	Dir string

	// TermWithin, if set, is how the node ends when the test ends, if it
	// still runs: by SIGTERM, and the test fails if it has not exited
	// TermWithin after it (it is then killed). Else it is killed by SIGKILL.
	TermWithin time.Duration

	// Out is what the node prints on stdout, from Start on.
	Out *Stdout

	t       testing.TB
	cmd     *exec.Cmd
	client  string
	errPath string
	exited  chan struct{}
	state   *os.ProcessState
}

// Loopback describes a node on 127.0.0.1 with fresh gossip, UI and web
// ports, and flags after the usual ones.
func Loopback(tb testing.TB, name string, flags ...string) *Node {
	return &Node{
		Name:    name,
		Addr:    "127.0.0.1:" + strconv.Itoa(testkit.FreePort(tb, "udp")),
		UIPort:  testkit.FreePort(tb, "udp"),
		GUIPort: testkit.FreePort(tb, "tcp"),
		Flags:   flags,
	}
}

// WithPeers adds the gossip addresses of peers to the node's -peers.
func (n *Node) WithPeers(peers ...*Node) *Node {
	for _, p := range peers {
		n.Peers = append(n.Peers, p.Addr)
	}
	return n
}

// Again describes the same node (name, ports, flags) for a restart.
func (n *Node) Again() *Node {
	return &Node{Name: n.Name, Addr: n.Addr, UIPort: n.UIPort, GUIPort: n.GUIPort, Peers: slices.Clone(n.Peers),
		Flags: slices.Clone(n.Flags), Netns: n.Netns, Dir: n.Dir, TermWithin: n.TermWithin}
}

// Args returns the gossiper's flags.
func (n *Node) Args() []string {
	args := []string{"-name=" + n.Name, "-gossipAddr=" + n.Addr, "-UIPort=" + strconv.Itoa(n.UIPort),
		"-GUIPort=" + strconv.Itoa(n.GUIPort)}
	if len(n.Peers) > 0 {
		args = append(args, "-peers="+strings.Join(n.Peers, ","))
	}
	return append(args, n.Flags...)
}

// inNetns prefixes argv to run in the node's namespace, if it has one. ip
// netns exec execs the program in place, so the PID is the program's own.
func (n *Node) inNetns(argv ...string) []string {
	if n.Netns == "" {
		return argv
	}
	return append([]string{"ip", "netns", "exec", n.Netns}, argv...)
}

// Start runs the node, waits until it has bound its gossip and UI ports,
// and has it ended, by its PID, when tb ends (see TermWithin). It fails tb if
// the node exits or does not listen within 10 s.
func (n *Node) Start(tb testing.TB) {
	tb.Helper()
	gossiper, client := Binaries(tb)
	n.t, n.client = tb, client
	argv := n.inNetns(append([]string{gossiper}, n.Args()...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	if n.Dir == "" {
		n.Dir = tb.TempDir()
	}
	cmd.Dir = n.Dir
	r, w, err := os.Pipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = w
	n.errPath = filepath.Join(tb.TempDir(), n.Name+".stderr")
	errFile, err := os.Create(n.errPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", n.Name, err)
	}
	w.Close()
	errFile.Close()
	n.cmd, n.Out, n.exited = cmd, newStdout(r), make(chan struct{})
	go func() {
		cmd.Wait()
		n.state = cmd.ProcessState
		close(n.exited)
	}()
	tb.Cleanup(n.stop)
	n.waitReady()
}

// stop ends the node if it still runs, when the test ends.
func (n *Node) stop() {
	select {
	case <-n.exited:
	default:
		if n.TermWithin == 0 {
			n.cmd.Process.Kill()
			<-n.exited
			break
		}
		n.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-n.exited:
		case <-time.After(n.TermWithin):
			n.t.Errorf("%s did not stop within %v of SIGTERM", n.Name, n.TermWithin)
			n.cmd.Process.Kill()
			<-n.exited
		}
	}
	<-n.Out.done
	if n.t.Failed() {
		n.report()
	}
}

// waitReady waits until the node has bound its sockets: a client message
// sent before that would be lost, as UDP loses it.
func (n *Node) waitReady() {
	n.t.Helper()
	_, p, _ := net.SplitHostPort(n.Addr)
	gossipPort, _ := strconv.Atoi(p)
	want := []int{gossipPort, n.UIPort}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if boundUDP(n.Pid(), want) {
			return
		}
		select {
		case <-n.exited:
			n.t.Fatalf("%s exited at start: %v", n.Name, n.state)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s has not bound ports %v after 10 s", n.Name, want)
		}
	}
}

// boundUDP reports whether process pid has bound each of ports. Its
// /proc/<pid>/net/udp lists every UDP socket of the process's network
// namespace (so this works inside a test namespace too), another
// process's among them, and a port shows there as a remote one too: only
// a local address on a socket of pid's own counts.
func boundUDP(pid int, ports []int) bool {
	own := map[string]bool{}
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	for _, fd := range fds {
		link, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			own[strings.TrimSuffix(inode, "]")] = true
		}
	}
	table, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", pid))
	bound := map[string]bool{}
	for _, line := range strings.Split(string(table), "\n") {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when
		// retrnsmt uid timeout inode ...
		f := strings.Fields(line)
		if len(f) > 9 && own[f[9]] {
			if _, port, ok := strings.Cut(f[1], ":"); ok {
				bound[port] = true
			}
		}
	}
	for _, p := range ports {
		if !bound[fmt.Sprintf("%04X", p)] {
			return false
		}
	}
	return true
}

// report logs what the node said on stderr, for a failed test.
func (n *Node) report() {
	b := []byte(n.Stderr())
	if len(b) > 4000 {
		b = append([]byte("…"), b[len(b)-4000:]...)
	}
	n.Out.mu.Lock()
	defer n.Out.mu.Unlock()
	n.t.Logf("%s (pid %d): %d stdout bytes, %d chat lines, odd lines %q; stderr:\n%s",
		n.Name, n.Pid(), n.Out.bytes, n.Out.chat, n.Out.odd, b)
}

// Pid is the node's process ID.
func (n *Node) Pid() int { return n.cmd.Process.Pid }

// Stderr returns what the node has written to stderr so far.
func (n *Node) Stderr() string {
	b, _ := os.ReadFile(n.errPath)
	return string(b)
}

// Kill sends sig to the node, waits until it has exited and its stdout is
// read, and returns how it ended. It fails the test if the node has not
// exited within 10 s.
func (n *Node) Kill(sig syscall.Signal) *os.ProcessState {
	n.t.Helper()
	if err := n.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		n.t.Fatalf("signalling %s: %v", n.Name, err)
	}
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.t.Fatalf("%s did not exit within 10 s of %v", n.Name, sig)
	}
	<-n.Out.done
	return n.state
}

// Post sends a chat message to the node through the client binary, as a
// user would (inside the node's namespace, if it has one).
func (n *Node) Post(text string) {
	n.t.Helper()
	argv := n.inNetns(n.client, "-UIPort="+strconv.Itoa(n.UIPort), "-msg="+text)
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		n.t.Fatalf("client to %s: %v: %s", n.Name, err, out)
	}
}

// Client runs the client binary against the node's UI port with args, as
// a user would, and returns what it printed and its exit status.
func (n *Node) Client(args ...string) (stdout, stderr string, code int) {
	n.t.Helper()
	return Run(n.t, n.inNetns(append([]string{n.client, "-UIPort=" + strconv.Itoa(n.UIPort)}, args...)...)...)
}

// Run runs argv to its end and returns what it printed and its exit
// status; a program that cannot be started fails the test.
func Run(t testing.TB, argv ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(argv[0], argv[1:]...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		code = ee.ExitCode()
	case err != nil:
		t.Fatalf("%s: %v", argv[0], err)
	}
	return out.String(), errb.String(), code
}

// VmHWM returns the node's peak resident memory in bytes.
func (n *Node) VmHWM() (int64, error) { return n.ProcStatus("VmHWM:") }

// ProcStatus returns a size field of /proc/<pid>/status ("VmRSS:", ...) of
// the node, in bytes.
func (n *Node) ProcStatus(field string) (int64, error) {
	pid := n.Pid()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, field) {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, err := strconv.ParseInt(f[1], 10, 64)
				return kb * 1024, err
			}
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}
