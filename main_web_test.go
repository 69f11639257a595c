package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
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

// TestMain runs the tests through proctest, which builds the gossiper and the
// client the first time a test starts a node, and removes them at the end.
func TestMain(m *testing.M) { os.Exit(proctest.Main(m)) }

// startGossiper starts n, which must stop within 5 s of SIGTERM when the test
// ends, as a user would stop it.
func startGossiper(t *testing.T, n *proctest.Node) *proctest.Node {
	t.Helper()
	n.TermWithin = 5 * time.Second
	n.Start(t)
	return n
}

// TestGUIPortTaken starts a gossiper whose page port is taken: it must say
// so once on stderr and go on gossiping.
func TestGUIPortTaken(t *testing.T) {
	p := proctest.Loopback(t, "A")
	p.GUIPort = testkit.HeldPort(t, "tcp")
	startGossiper(t, p)

	testkit.Eventually(t, 10*time.Second, "no word of the taken port on stderr", func() bool { return strings.Contains(p.Stderr(), "no web page") })
	p.Post("still gossiping")
	testkit.Eventually(t, 10*time.Second, "the client message never showed on stdout", func() bool {
		return strings.Contains(p.Out.Head(), "CLIENT MESSAGE still gossiping\n")
	})
	if n := strings.Count(p.Stderr(), "no web page"); n != 1 {
		t.Errorf("the taken port was reported %d times:\n%s", n, p.Stderr())
	}
	if !strings.Contains(p.Stderr(), "address already in use") {
		t.Errorf("stderr does not say why:\n%s", p.Stderr())
	}
}

// TestGUIServes starts a gossiper with its page and reads its name from the
// API.
func TestGUIServes(t *testing.T) {
	p := startGossiper(t, proctest.Loopback(t, "webnode"))
	guiPort := strconv.Itoa(p.GUIPort)
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
	if out := p.Out.Head(); strings.Contains(out, "level=") {
		t.Errorf("diagnostics on stdout:\n%s", out)
	}
}
