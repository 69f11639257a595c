package proctest

import (
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

func TestMain(m *testing.M) { os.Exit(Main(m)) }

// TestStdoutReadsLines feeds a Stdout what a node may print and reads it
// back.
func TestStdoutReadsLines(t *testing.T) {
	r, w := io.Pipe()
	s := newStdout(r)
	io.WriteString(w, "CLIENT MESSAGE hi there\n"+
		"RUMOR origin B from 127.0.0.1:5001 ID 2 contents a b\n"+
		"STATUS from 127.0.0.1:5001 peer B nextID 3\n"+
		"RUMOR origin B from 127.0.0.1:5002 ID 2 contents a b\n"+
		"RUMOR origin C from 127.0.0.1:5002 ID x contents c\n"+
		"level=INFO msg=hello\n"+
		"PEERS 127.0.0.1:5001")
	w.Close()
	<-s.done

	if !s.Has("hi there", "a b") || s.Has("c") {
		t.Errorf("texts: has hi there and a b %v, has c %v", s.Has("hi there", "a b"), s.Has("c"))
	}
	if m := s.Missing([]string{"a b", "zz"}); len(m) != 1 || m[0] != "zz" {
		t.Errorf("missing %q, want [zz]", m)
	}
	if line, times := s.Rumor("B", 2); times != 2 || line != "RUMOR origin B from 127.0.0.1:5001 ID 2 contents a b" {
		t.Errorf("rumor B/2: %q %d times", line, times)
	}
	if r := s.Rumors(); len(r) != 1 || r[RumorKey{"B", 2}] != 2 {
		t.Errorf("rumors %v", r)
	}
	if odd := s.Odd(); len(odd) != 2 || !strings.Contains(odd[0], "ID x") || odd[1] != "level=INFO msg=hello" {
		t.Errorf("odd lines %q", odd)
	}
	if !strings.HasSuffix(s.Head(), "\nPEERS 127.0.0.1:5001") || s.Bytes() != int64(len(s.Head())+1) {
		t.Errorf("%d bytes, head %q", s.Bytes(), s.Head())
	}
}

// TestNodeRunsAndEnds starts a node, posts to it, and ends it with SIGTERM.
func TestNodeRunsAndEnds(t *testing.T) {
	n := Loopback(t, "solo")
	n.Start(t)
	n.Post("hello")
	testkit.Eventually(t, 10*time.Second, "the node prints the client message", func() bool { return n.Out.Has("hello") })
	if st := n.Kill(syscall.SIGTERM); st.ExitCode() != 0 {
		t.Errorf("exit %v on SIGTERM, want 0", st)
	}
	if !strings.Contains(n.Out.Head(), "CLIENT MESSAGE hello\n") {
		t.Errorf("stdout %q", n.Out.Head())
	}
}

// A port counts as bound by a process only on a socket of its own, by its
// local address: not one it sends to, nor another process's.
func TestBoundUDPCountsOwnLocalPorts(t *testing.T) {
	if _, err := os.Stat("/proc/self/net/udp"); err != nil {
		t.Skip(err)
	}
	own, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	port := own.LocalAddr().(*net.UDPAddr).Port
	target := testkit.FreePort(t, "udp")
	conn, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(target))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	self := os.Getpid()
	if !boundUDP(self, []int{port}) {
		t.Errorf("port %d, bound here, not seen", port)
	}
	if boundUDP(self, []int{port, target}) {
		t.Errorf("port %d, only sent to, seen as bound", target)
	}
	if boundUDP(1, []int{port}) {
		t.Errorf("port %d, bound by this process, seen as pid 1's", port)
	}
}
