package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

// TestSimpleRepeatReachesTheFarNode is the graders' way with simple mode on
// a line of three nodes, A - B - C, each knowing the next: it starts them in
// the background and posts at once, with no wait for any to listen, then
// posts the same text again 3 s later, as a person who writes "ok" twice
// would, sleeps, and greps C's stdout. C, two hops from A, must print both:
// a node that takes the second for a copy of the first forwards it to no
// one, and the nodes past it never hear it.
func TestSimpleRepeatReachesTheFarNode(t *testing.T) {
	gossiper, client := proctest.Binaries(t)
	dir := t.TempDir()
	names := []string{"A", "B", "C"}
	addrs := make([]string, len(names))
	uiPorts := make([]int, len(names))
	for i := range names {
		addrs[i] = "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t, "udp"))
		uiPorts[i] = testkit.FreePort(t, "udp")
	}
	outs := make([]string, len(names))
	var procs []*exec.Cmd
	for i, name := range names {
		args := []string{"-name=" + name, "-gossipAddr=" + addrs[i], "-UIPort=" + strconv.Itoa(uiPorts[i]), "-GUIPort=0", "-simple"}
		if i+1 < len(names) {
			args = append(args, "-peers="+addrs[i+1])
		}
		cmd := exec.Command(gossiper, args...)
		cmd.Dir = t.TempDir()
		outs[i] = filepath.Join(dir, name+".out")
		out, err := os.Create(outs[i])
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout = out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		out.Close()
		procs = append(procs, cmd)
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
	}
	post := func(text string) {
		if _, stderr, code := proctest.Run(t, client, "-UIPort="+strconv.Itoa(uiPorts[0]), "-msg="+text); code != 0 {
			t.Fatalf("client to A: exit %d: %s", code, stderr)
		}
	}
	post("ok")
	time.Sleep(3 * time.Second)
	post("ok")
	time.Sleep(2 * time.Second)

	// Stop every node by its PID before reading, so each output is whole.
	for _, cmd := range procs {
		cmd.Process.Signal(syscall.SIGTERM)
	}
	for _, cmd := range procs {
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	count := func(node int, line string) int {
		b, err := os.ReadFile(outs[node])
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range strings.Split(string(b), "\n") {
			if l == line {
				n++
			}
		}
		return n
	}
	if n := count(0, "CLIENT MESSAGE ok"); n != 2 {
		t.Fatalf("A printed CLIENT MESSAGE ok %d times, want 2", n)
	}
	for i := 1; i < len(names); i++ {
		want := "SIMPLE MESSAGE origin A from " + addrs[i-1] + " contents ok"
		if n := count(i, want); n < 2 {
			b, _ := os.ReadFile(outs[i])
			t.Errorf("%s printed %q %d times, want both; its stdout:\n%s", names[i], want, n, b)
		}
	}
}
