package e2e

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Paths of the binaries TestMain builds, and whether the gossiper serves the
// web API (-GUIPort).
var (
	gossiperBin string
	clientBin   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peerster-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := func() int {
		defer os.RemoveAll(dir)
		// The binaries are built without -race even when the tests run
		// with it: the race detector is for this process, and the node's
		// memory is measured as users would run it.
		build := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
			"github.com/peerster/Peerster", "github.com/peerster/Peerster/client")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building the binaries:", err)
			return 1
		}
		gossiperBin = filepath.Join(dir, "Peerster")
		clientBin = filepath.Join(dir, "client")
		return m.Run()
	}()
	os.Exit(code)
}

// rumorKey names one message of one origin.
type rumorKey struct {
	origin string
	id     uint64
}

// stdout collects, from a gossiper's stdout, the chat texts it printed (its
// own client messages and the rumors it accepted) and counts the rest, so a
// flood of STATUS and PEERS lines costs no memory here.
type stdout struct {
	mu     sync.Mutex
	texts  map[string]bool
	rumors map[rumorKey]*rumorSeen
	chat   int      // CLIENT MESSAGE and RUMOR lines
	bad    []string // lines that are not the handout's
	bytes  int64
	done   chan struct{}
}

// rumorSeen is what a node printed for one origin/ID: its first RUMOR line
// and how many times it printed one.
type rumorSeen struct {
	line  string
	times int
}

func newStdout(r io.ReadCloser) *stdout {
	s := &stdout{texts: map[string]bool{}, rumors: map[rumorKey]*rumorSeen{}, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer r.Close()
		br := bufio.NewReaderSize(r, 1<<20)
		for {
			line, err := br.ReadString('\n')
			if len(line) > 0 {
				s.add(strings.TrimSuffix(line, "\n"))
			}
			if err != nil {
				return
			}
		}
	}()
	return s
}

var handoutPrefixes = []string{"CLIENT MESSAGE ", "SIMPLE MESSAGE ", "RUMOR ", "MONGERING with ", "STATUS from ", "FLIPPED COIN sending rumor to ", "IN SYNC WITH ", "PEERS"}

func (s *stdout) add(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bytes += int64(len(line)) + 1
	switch {
	case strings.HasPrefix(line, "CLIENT MESSAGE "):
		s.texts[strings.TrimPrefix(line, "CLIENT MESSAGE ")] = true
		s.chat++
	case strings.HasPrefix(line, "RUMOR "):
		// RUMOR origin <name> from <addr> ID <id> contents <text>
		f := strings.SplitN(line, " ", 9)
		if len(f) < 8 || f[1] != "origin" || f[3] != "from" || f[5] != "ID" || f[7] != "contents" {
			s.bad = append(s.bad, line)
			return
		}
		id, err := strconv.ParseUint(f[6], 10, 32)
		if err != nil {
			s.bad = append(s.bad, line)
			return
		}
		text := ""
		if len(f) == 9 {
			text = f[8]
		}
		k := rumorKey{f[2], id}
		if s.rumors[k] == nil {
			s.rumors[k] = &rumorSeen{line: line}
		}
		s.rumors[k].times++
		s.texts[text] = true
		s.chat++
	default:
		for _, p := range handoutPrefixes {
			if strings.HasPrefix(line, p) {
				return
			}
		}
		if len(s.bad) < 100 {
			s.bad = append(s.bad, line)
		}
	}
}

// has reports whether every one of texts was printed.
func (s *stdout) has(texts ...string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, x := range texts {
		if !s.texts[x] {
			return false
		}
	}
	return true
}

func (s *stdout) missing(texts []string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var m []string
	for _, x := range texts {
		if !s.texts[x] {
			m = append(m, x)
		}
	}
	return m
}

// rumor returns the first RUMOR line printed for origin/id and how many
// were printed.
func (s *stdout) rumor(origin string, id uint64) (string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.rumors[rumorKey{origin, id}]; r != nil {
		return r.line, r.times
	}
	return "", 0
}

// node is one gossiper process.
type node struct {
	t       *testing.T
	name    string
	addr    string // gossip address
	uiPort  int
	guiPort int // the web server's port
	args    []string
	netns   string // run inside this network namespace, if set
	out     *stdout
	errPath string
	cmd     *exec.Cmd
	exited  chan struct{}
	state   *os.ProcessState
}

// start runs the gossiper and ends it, by its PID, when the test ends.
func (n *node) start() {
	t := n.t
	t.Helper()
	argv := append([]string{gossiperBin}, n.args...)
	if n.netns != "" {
		// ip netns exec execs the gossiper in place, so the PID is the
		// gossiper's own.
		argv = append([]string{"ip", "netns", "exec", n.netns}, argv...)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = w
	n.errPath = filepath.Join(t.TempDir(), n.name+".stderr")
	errFile, err := os.Create(n.errPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = errFile
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", n.name, err)
	}
	w.Close()
	errFile.Close()
	n.cmd, n.out, n.exited = cmd, newStdout(r), make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		n.state = cmd.ProcessState
		close(exited)
	}(n.exited)
	exited, out := n.exited, n.out
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
		<-out.done
		if t.Failed() {
			n.report()
		}
	})
	n.waitReady()
}

// waitReady waits until the node has bound its sockets: a client message
// sent before that would be lost, as UDP loses it.
func (n *node) waitReady() {
	n.t.Helper()
	_, gossipPort, _ := net.SplitHostPort(n.addr)
	want := []string{gossipPort, strconv.Itoa(n.uiPort)}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// /proc/<pid>/net shows the sockets of the process's own network
		// namespace, so this works inside a test namespace too.
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/net/udp", n.cmd.Process.Pid))
		bound := 0
		for _, p := range want {
			port, _ := strconv.Atoi(p)
			if bytes.Contains(b, []byte(fmt.Sprintf(":%04X ", port))) {
				bound++
			}
		}
		if bound == len(want) {
			return
		}
		select {
		case <-n.exited:
			n.t.Fatalf("%s exited at start: %v", n.name, n.state)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			n.t.Fatalf("%s has not bound ports %v after 10 s", n.name, want)
		}
	}
}

// report logs what the node said on stderr, for a failed test.
func (n *node) report() {
	b, _ := os.ReadFile(n.errPath)
	if len(b) > 4000 {
		b = append([]byte("…"), b[len(b)-4000:]...)
	}
	n.out.mu.Lock()
	defer n.out.mu.Unlock()
	n.t.Logf("%s (pid %d): %d stdout bytes, %d chat lines, odd lines %q; stderr:\n%s",
		n.name, n.cmd.Process.Pid, n.out.bytes, n.out.chat, n.out.bad, b)
}

// kill ends the node with sig and waits for it to exit.
func (n *node) kill(sig syscall.Signal) *os.ProcessState {
	n.t.Helper()
	if err := n.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		n.t.Fatalf("signalling %s: %v", n.name, err)
	}
	select {
	case <-n.exited:
	case <-time.After(10 * time.Second):
		n.t.Fatalf("%s did not exit within 10 s of %v", n.name, sig)
	}
	<-n.out.done
	return n.state
}

// post sends a chat message through the client binary, as a user would.
func (n *node) post(text string) {
	n.t.Helper()
	argv := []string{clientBin, "-UIPort=" + strconv.Itoa(n.uiPort), "-msg=" + text}
	if n.netns != "" {
		argv = append([]string{"ip", "netns", "exec", n.netns}, argv...)
	}
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		n.t.Fatalf("client to %s: %v: %s", n.name, err, out)
	}
}

// vmHWM returns the peak resident memory of process pid, from /proc.
func vmHWM(pid int) (int64, error) {
	return procStatusKB(pid, "VmHWM:")
}

func procStatusKB(pid int, field string) (int64, error) {
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
