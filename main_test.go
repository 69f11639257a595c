package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/peerster/Peerster/internal/testkit"
)

func TestBadFlagsExitTwoNamingTheFlag(t *testing.T) {
	busy, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.LocalAddr().String())
	cases := []struct {
		args []string
		flag string
	}{
		{[]string{"-name="}, "-name"},
		{[]string{"-name=a b"}, "-name"},
		{[]string{"-name=A", "-gossipAddr=localhost"}, "-gossipAddr"},
		{[]string{"-name=A", "-gossipAddr=127.0.0.1:70000"}, "-gossipAddr"},
		{[]string{"-name=A", "-gossipAddr=127.0.0.1:0"}, "-gossipAddr"},
		{[]string{"-name=A", "-UIPort=0"}, "-UIPort"},
		{[]string{"-name=A", "-UIPort=x"}, "-UIPort"},
		{[]string{"-name=A", "-peers=127.0.0.1:5001,nope"}, "-peers"},
		{[]string{"-name=A", "-maxMemory=lots"}, "-maxMemory"},
		{[]string{"-name=A", "-maxMemory=32MiB"}, "-maxMemory"},
		{[]string{"-name=A", "-maxMemory=0"}, "-maxMemory"},
		{[]string{"-name=A", "-maxMemory=99999999999GiB"}, "-maxMemory"},
		{[]string{"-name=A", "-gossipAddr=127.0.0.1:0", "-UIPort=" + busyPort}, "-gossipAddr"},
		{[]string{"-name=A", "-gossipAddr=127.0.0.1:" + strconv.Itoa(testkit.FreePort(t, "udp")), "-UIPort=" + busyPort}, "-UIPort"},
	}
	for _, tc := range cases {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		msg := strings.TrimSpace(stderr.String())
		if code != 2 || strings.Count(msg, "\n") > 0 || !strings.Contains(msg, tc.flag+":") {
			t.Errorf("%v: exit %d, stderr %q; want 2 and one line naming %s", tc.args, code, msg, tc.flag)
		}
		if stdout.Len() > 0 {
			t.Errorf("%v: wrote %q to stdout", tc.args, stdout.String())
		}
	}
}

func TestMemoryFlag(t *testing.T) {
	for flag, want := range map[string]int64{"": 256 << 20, "64": 64 << 20, "512MiB": 512 << 20, "2GiB": 2 << 30} {
		args := []string{"-name=A"}
		if flag != "" {
			args = append(args, "-maxMemory="+flag)
		}
		o, err := parseFlags(args, &bytes.Buffer{})
		if err != nil {
			t.Errorf("-maxMemory=%s: %v", flag, err)
		} else if o.cfg.MemoryBudget != want {
			t.Errorf("-maxMemory=%s: budget %d, want %d", flag, o.cfg.MemoryBudget, want)
		}
	}
}

func TestFlagsParse(t *testing.T) {
	o, err := parseFlags([]string{"-UIPort=10000", "-gossipAddr=127.0.0.1:5000", "-name=nodeA", "-peers=127.0.0.1:5001,127.0.0.1:5000,127.1.1.7:5002", "-simple"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if o.uiAddr != "127.0.0.1:10000" || o.cfg.Name != "nodeA" || !o.cfg.Simple || strings.Join(o.cfg.Peers, ",") != "127.0.0.1:5001,127.1.1.7:5002" {
		t.Fatalf("parsed %+v", o)
	}
}

// TestRingScripts runs the end-to-end ring scripts at the top of the
// repository: ten real gossiper processes each, checked as graders check
// them (test_private_ring.sh: routes and private messages;
// test_files_ring.sh: files shared and downloaded through hops).
func TestRingScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("the ring scripts take about 30 s")
	}
	for _, script := range []string{"test_1_ring.sh", "test_2_ring.sh", "test_private_ring.sh", "test_files_ring.sh"} {
		t.Run(script, func(t *testing.T) {
			// Reading what bash reads makes go test's cache hold the
			// result only as long as the scripts and their data are
			// unchanged.
			for _, f := range []string{script, "ring_common.sh", "jobs_common.sh", "testdata/ring_checks/test_2.txt", "testdata/private_ring/messages.txt"} {
				if _, err := os.ReadFile(f); err != nil {
					t.Fatal(err)
				}
			}
			before := builtInTree()
			// The ring's ports, on which nothing else listens: not the
			// graders', which a node started by hand may hold.
			cmd := exec.Command("bash", script)
			cmd.Env = append(os.Environ(),
				"RING_GOSSIP_BASE="+strconv.Itoa(testkit.FreeBlock(t, "udp", 10)),
				"RING_UI_BASE="+strconv.Itoa(testkit.FreeBlock(t, "udp", 10)))
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s: %v\n%s", script, err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			t.Log(lines[len(lines)-1])
			if after := builtInTree(); after != before {
				t.Errorf("%s built into the source tree: %q, before %q", script, after, before)
			}
		})
	}
}

// builtInTree describes the binaries a plain go build leaves in the source
// tree, with their times: the ring scripts build into a folder of their own.
func builtInTree() string {
	var s []string
	for _, f := range []string{"Peerster", "client/client"} {
		if fi, err := os.Stat(f); err == nil {
			s = append(s, f+" "+fi.ModTime().String())
		}
	}
	return strings.Join(s, ", ")
}
