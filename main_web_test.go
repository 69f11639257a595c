package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

func TestWebFlagsParse(t *testing.T) {
	base := []string{"-name=A", "-gossipAddr=127.0.0.1:5000"}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "127.0.0.1:8080"},
		{[]string{"-GUIPort=9090"}, "127.0.0.1:9090"},
		{[]string{"-GUIPort=0"}, ""},
		{[]string{"-GUIHost=0.0.0.0", "-GUIPort=8081"}, "0.0.0.0:8081"},
		{[]string{"-GUIHost=::1"}, "[::1]:8080"},
	}
	for _, tc := range tests {
		o, err := parseFlags(append(base, tc.args...), &bytes.Buffer{})
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if o.guiAddr != tc.want {
			t.Errorf("%v: page on %q, want %q", tc.args, o.guiAddr, tc.want)
		}
	}
	for _, tc := range []struct{ arg, flag string }{
		{"-GUIPort=x", "-GUIPort"},
		{"-GUIPort=-1", "-GUIPort"},
		{"-GUIPort=65536", "-GUIPort"},
		{"-GUIHost=localhost", "-GUIHost"},
		{"-GUIHost=", "-GUIHost"},
		{"-GUIHost=fe80::1%eth0", "-GUIHost"},
	} {
		var stderr bytes.Buffer
		if code := run(append(base, tc.arg), &bytes.Buffer{}, &stderr); code != 2 || !strings.Contains(stderr.String(), tc.flag+":") {
			t.Errorf("%s: exit %d, stderr %q; want 2 naming %s", tc.arg, code, stderr.String(), tc.flag)
		}
	}
}

// TestMain makes this test binary a gossiper when PEERSTER_RUN_MAIN=1, with
// the gossiper's arguments after "--", so that the tests of the web flags can
// start one and stop it with a signal as a user would.
func TestMain(m *testing.M) {
	if os.Getenv("PEERSTER_RUN_MAIN") == "1" {
		flag.Parse()
		os.Exit(run(flag.Args(), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// gossiperProcess is this binary run as a gossiper.
type gossiperProcess struct {
	cmd            *exec.Cmd
	stdout, stderr *testkit.SyncBuffer
}

func startGossiper(t *testing.T, args ...string) *gossiperProcess {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p := &gossiperProcess{cmd: exec.Command(exe, append([]string{"--"}, args...)...), stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}}
	p.cmd.Env = append(os.Environ(), "PEERSTER_RUN_MAIN=1")
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = p.cmd.Process.Kill()
			<-done
			t.Error("gossiper did not stop within 5s of SIGTERM")
		}
	})
	return p
}

// TestGUIPortTaken starts a gossiper whose page port is taken: it must say
// so once on stderr and go on gossiping.
func TestGUIPortTaken(t *testing.T) {
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, busyPort, _ := net.SplitHostPort(busy.Addr().String())
	uiPort := strconv.Itoa(testkit.FreePort(t, "udp"))
	p := startGossiper(t, "-name=A", "-gossipAddr=127.0.0.1:"+strconv.Itoa(testkit.FreePort(t, "udp")), "-UIPort="+uiPort, "-GUIPort="+busyPort)

	testkit.Eventually(t, 10*time.Second, "no word of the taken port on stderr", func() bool { return strings.Contains(p.stderr.String(), "no web page") })
	send, err := (&messages.Message{Text: "still gossiping"}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp4", "127.0.0.1:"+uiPort)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	testkit.Eventually(t, 10*time.Second, "the client message never showed on stdout", func() bool {
		_, _ = conn.Write(send)
		return strings.Contains(p.stdout.String(), "CLIENT MESSAGE still gossiping\n")
	})
	if n := strings.Count(p.stderr.String(), "no web page"); n != 1 {
		t.Errorf("the taken port was reported %d times:\n%s", n, p.stderr)
	}
	if !strings.Contains(p.stderr.String(), "address already in use") {
		t.Errorf("stderr does not say why:\n%s", p.stderr)
	}
}

// TestGUIServes starts a gossiper with its page and reads its name from the
// API.
func TestGUIServes(t *testing.T) {
	guiPort := strconv.Itoa(testkit.FreePort(t, "tcp"))
	p := startGossiper(t, "-name=webnode", "-gossipAddr=127.0.0.1:"+strconv.Itoa(testkit.FreePort(t, "udp")), "-UIPort="+strconv.Itoa(testkit.FreePort(t, "udp")), "-GUIPort="+guiPort)
	var id struct{ Name string }
	testkit.Eventually(t, 10*time.Second, "GET /id never answered", func() bool {
		res, err := http.Get("http://127.0.0.1:" + guiPort + "/id")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		return res.StatusCode == 200 && json.NewDecoder(res.Body).Decode(&id) == nil
	})
	if id.Name != "webnode" {
		t.Errorf("GET /id: name %q, want webnode", id.Name)
	}
	res, err := http.Get("http://127.0.0.1:" + guiPort + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, want := range []string{"peerster_packets_received_total", "peerster_uptime_seconds", "process_resident_memory_bytes"} {
		if res.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("GET /metrics: %d, no %s", res.StatusCode, want)
		}
	}
	if out := p.stdout.String(); strings.Contains(out, "level=") {
		t.Errorf("diagnostics on stdout:\n%s", out)
	}
}
