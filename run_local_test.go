package main

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// freeBlock returns the first of n consecutive loopback ports that were all
// free a moment ago, for network "udp" or "tcp".
func freeBlock(t *testing.T, network string, n int) int {
	t.Helper()
	for range 100 {
		base := 20000 + rand.IntN(40000)
		var held []io.Closer
		for p := base; p < base+n; p++ {
			var c io.Closer
			var err error
			if network == "udp" {
				c, err = net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(p))
			} else {
				c, err = net.Listen("tcp4", "127.0.0.1:"+strconv.Itoa(p))
			}
			if err != nil {
				break
			}
			held = append(held, c)
		}
		for _, c := range held {
			c.Close()
		}
		if len(held) == n {
			return base
		}
	}
	t.Fatalf("no %d free %s ports in a row", n, network)
	return 0
}

func httpGet(url string) (int, string, error) {
	res, err := http.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, string(b), err
}

// TestRunLocal runs run_local.sh, as a newcomer would, on ports of its own:
// it builds outside the source tree, the three pages answer, the nodes know
// their neighbours and routes to each other, a private message from Alice
// reaches Carol through Bob with the command the script prints, and SIGINT
// (Ctrl-C) stops the three nodes and the script, which removes its folder.
func TestRunLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("run_local.sh builds the binaries")
	}
	// Reading the script makes go test's cache hold this test's result
	// only as long as the script is unchanged.
	if b, err := os.ReadFile("run_local.sh"); err != nil || !strings.HasPrefix(string(b), "#!/usr/bin/env bash\n") {
		t.Fatalf("run_local.sh: %v, or no bash shebang", err)
	}
	gossip, ui, gui := freeBlock(t, "udp", 3), freeBlock(t, "udp", 3), freeBlock(t, "tcp", 3)
	logs := t.TempDir()
	before := builtInTree()
	// The script's output goes to a file, not a pipe: Wait then does not
	// wait for whatever else holds the pipe.
	outFile, err := os.Create(filepath.Join(t.TempDir(), "run_local.out"))
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	out := func() string {
		b, _ := os.ReadFile(outFile.Name())
		return string(b)
	}
	cmd := exec.Command("bash", "run_local.sh")
	cmd.Env = append(os.Environ(), fmt.Sprintf("GOSSIP_PORT=%d", gossip), fmt.Sprintf("UI_PORT=%d", ui),
		fmt.Sprintf("GUI_PORT=%d", gui), "LOG_DIR="+logs, "NODES_DIR="+t.TempDir())
	cmd.Stdout, cmd.Stderr = outFile, outFile
	// A process started with SIGINT ignored (a background job of a
	// non-interactive shell) passes that on to its children, and bash
	// cannot trap a signal ignored when it starts. While this process
	// handles SIGINT the script starts with the default disposition.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	err = cmd.Start()
	signal.Stop(sigs)
	if err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{}) // closed when the script has exited, with waitErr
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	var nodePids []int
	var tmp string
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(10 * time.Second):
				cmd.Process.Kill()
				<-exited
			}
		}
		// Nodes the script left running: only ours, by PID.
		for _, pid := range nodePids {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil && tmp != "" && strings.Contains(string(b), tmp) {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		if t.Failed() {
			t.Logf("run_local.sh said:\n%s", out())
		}
	})

	testkit.Eventually(t, 3*time.Minute, "run_local.sh says the nodes run", func() bool {
		select {
		case <-exited:
			t.Fatalf("run_local.sh exited (%v):\n%s", waitErr, out())
		default:
		}
		return strings.Contains(out(), "Ctrl-C stops the three nodes.")
	})
	text := out()
	if m := regexp.MustCompile(`into (\S+)`).FindStringSubmatch(text); m != nil {
		tmp = m[1]
	} else {
		t.Fatalf("run_local.sh does not say where it builds:\n%s", text)
	}
	for _, m := range regexp.MustCompile(`pid (\d+)`).FindAllStringSubmatch(text, -1) {
		pid, _ := strconv.Atoi(m[1])
		nodePids = append(nodePids, pid)
	}
	if len(nodePids) != 3 {
		t.Fatalf("run_local.sh names %d node PIDs, want 3:\n%s", len(nodePids), text)
	}
	if strings.HasPrefix(tmp, mustAbs(t, ".")) {
		t.Errorf("run_local.sh builds into %s, inside the source tree", tmp)
	}
	names := []string{"Alice", "Bob", "Carol"}
	addr := func(i int) string { return "127.0.0.1:" + strconv.Itoa(gossip+i) }
	for i, name := range names {
		base := "http://127.0.0.1:" + strconv.Itoa(gui+i)
		if !strings.Contains(text, base+"/") {
			t.Errorf("run_local.sh does not print %s's page, %s/", name, base)
		}
		if code, body, err := httpGet(base + "/"); err != nil || code != 200 || !strings.Contains(body, "<") {
			t.Errorf("GET %s/: %d %v %.80q", base, code, err, body)
		}
		if code, body, err := httpGet(base + "/id"); err != nil || code != 200 || !strings.Contains(body, `"`+name+`"`) {
			t.Errorf("GET %s/id: %d %v %q, want %s", base, code, err, body, name)
		}
	}
	// Bob is in the middle of the line.
	if _, body, err := httpGet("http://127.0.0.1:" + strconv.Itoa(gui+1) + "/node"); err != nil ||
		!strings.Contains(body, addr(0)) || !strings.Contains(body, addr(2)) {
		t.Errorf("GET Bob's /node: %q, %v; want Alice's and Carol's addresses", body, err)
	}

	// Routes, from the nodes' DSDV lines: Alice and Carol reach everyone
	// through Bob, Bob each directly.
	routes := map[string]map[string]string{
		"Alice": {"Bob": addr(1), "Carol": addr(1)},
		"Bob":   {"Alice": addr(0), "Carol": addr(2)},
		"Carol": {"Alice": addr(1), "Bob": addr(1)},
	}
	for node, want := range routes {
		for origin, hop := range want {
			line := "DSDV " + origin + " " + hop + "\n"
			testkit.Eventually(t, 10*time.Second, node+" prints "+strings.TrimSpace(line), func() bool {
				b, _ := os.ReadFile(filepath.Join(logs, node+".log"))
				return strings.Contains(string(b), line)
			})
		}
	}

	// The private message the script shows how to send.
	m := regexp.MustCompile(`(\S+/client) -UIPort=(\d+) -dest=Carol -msg='([^']*)'`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("run_local.sh does not show how to send privately:\n%s", text)
	}
	if b, err := exec.Command(m[1], "-UIPort="+m[2], "-dest=Carol", "-msg="+m[3]).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", m[0], err, b)
	}
	want := "PRIVATE origin Alice hop-limit 9 contents " + m[3] + "\n"
	testkit.Eventually(t, 5*time.Second, "Carol prints "+strings.TrimSpace(want), func() bool {
		b, _ := os.ReadFile(filepath.Join(logs, "Carol.log"))
		return strings.Contains(string(b), want)
	})

	// Ctrl-C.
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("run_local.sh after SIGINT: %v, want exit status 0", waitErr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("run_local.sh still runs 20 s after SIGINT")
	}
	for _, pid := range nodePids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("node pid %d still there after run_local.sh exited (kill -0: %v)", pid, err)
		}
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run_local.sh left %s behind (%v)", tmp, err)
	}
	if after := builtInTree(); after != before {
		t.Errorf("run_local.sh built into the source tree: %q, before %q", after, before)
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
