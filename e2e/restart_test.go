package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/store"
)

// TestRestartKeepsHistory runs A - B - C in a line, B with -data. B is
// killed with SIGKILL while messages are in flight, A and C talk while it is
// down, and B restarts with the same name and folder: it must have kept all
// it had (nothing it held comes to it again), number its next message after
// its old ones so that A and C take it, get what it missed, and end cleanly on
// SIGTERM with the whole history on disk.
func TestRestartKeepsHistory(t *testing.T) {
	data := filepath.Join(t.TempDir(), "B-data")
	a := proctest.Loopback(t, "A")
	b := proctest.Loopback(t, "B", "-data="+data)
	c := proctest.Loopback(t, "C")
	startLine(t, a, b, c)

	var all []string
	post := func(n *proctest.Node, k int) {
		text := fmt.Sprintf("%s-%d", n.Name, k)
		n.Post(text)
		all = append(all, text)
	}
	for k := 1; k <= 3; k++ {
		post(a, k)
		post(b, k)
		post(c, k)
	}
	testkit.Eventually(t, 30*time.Second, "the first 9 messages at A, B and C", func() bool {
		return a.Out.Has(all...) && b.Out.Has(all...) && c.Out.Has(all...)
	})

	// Mid-conversation: A's and C's rumors are on their way when B dies.
	post(b, 4)
	testkit.Eventually(t, 10*time.Second, "B takes its 4th message", func() bool { return b.Out.Has("B-4") })
	post(a, 4)
	post(c, 4)
	b.Kill(syscall.SIGKILL)
	before := b.Out
	t.Logf("B killed holding %d of %d messages", len(all)-len(before.Missing(all)), len(all))

	for k := 5; k <= 6; k++ {
		post(a, k)
		post(c, k)
	}
	// B stays down for 1.5 s while they talk: longer than the monger
	// timeout (1 s), so that what A and C sent it times out. This paces
	// the scenario; the test waits for nothing here.
	time.Sleep(1500 * time.Millisecond)

	b2 := b.Again()
	b2.Start(t)
	testkit.Eventually(t, 30*time.Second, "B back gets what A and C said while it was down", func() bool {
		return b2.Out.Has("A-5", "A-6", "C-5", "C-6")
	})
	post(b2, 5)
	testkit.Eventually(t, 30*time.Second, "A and C get B's first message after its restart", func() bool {
		return a.Out.Has(all...) && c.Out.Has(all...)
	})
	for _, n := range []*proctest.Node{a, c} {
		line, _ := n.Out.Rumor("B", 5)
		if !strings.HasSuffix(line, " ID 5 contents B-5") {
			t.Errorf("%s: B's message after the restart came as %q, want ID 5", n.Name, line)
		}
		for k := range before.Rumors() {
			if _, times := n.Out.Rumor(k.Origin, k.ID); times > 1 {
				t.Errorf("%s took %s/%d %d times", n.Name, k.Origin, k.ID, times)
			}
		}
	}
	// Had B lost anything, A and C would have sent it again, and B would
	// have printed it again.
	for k := range before.Rumors() {
		if line, times := b2.Out.Rumor(k.Origin, k.ID); times > 0 {
			t.Errorf("B after restart took again what it had: %q", line)
		}
	}
	for id := uint64(1); id <= 5; id++ {
		if line, times := b2.Out.Rumor("B", id); times > 0 {
			t.Errorf("B after restart took its own message back from a peer: %q", line)
		}
	}

	checkWebLog(t, b2, all)

	if st := b2.Kill(syscall.SIGTERM); st.ExitCode() != 0 {
		t.Errorf("B exited with %v on SIGTERM, want 0", st)
	}
	checkStore(t, data, all)
}

// checkWebLog asks the node's web API for its chat log.
func checkWebLog(t *testing.T, n *proctest.Node, want []string) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/message", n.GUIPort))
	if err != nil {
		t.Errorf("GET /message: %v", err)
		return
	}
	defer resp.Body.Close()
	var log []struct {
		Origin string `json:"origin"`
		ID     uint32 `json:"id"`
		Text   string `json:"text"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&log); err != nil {
		t.Errorf("GET /message: status %s, %v", resp.Status, err)
		return
	}
	got := map[string]bool{}
	for _, m := range log {
		got[m.Text] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("GET /message on %s lacks %q (has %d messages)", n.Name, w, len(log))
		}
	}
}

// checkStore reads the data folder the node left: every message, each origin
// numbered 1, 2, 3... as sent.
func checkStore(t *testing.T, dir string, want []string) {
	t.Helper()
	l, entries, err := store.Open(dir, nil)
	if err != nil {
		t.Fatalf("reopening the data folder: %v", err)
	}
	defer l.Close()
	got := map[string]bool{}
	for _, e := range entries {
		if text := fmt.Sprintf("%s-%d", e.Origin, e.ID); e.Text != text {
			t.Errorf("stored %s/%d is %q, want %q", e.Origin, e.ID, e.Text, text)
		}
		if got[e.Text] {
			t.Errorf("stored %q twice", e.Text)
		}
		got[e.Text] = true
	}
	for _, w := range want {
		if !got[w] {
			t.Errorf("the data folder lacks %q", w)
		}
	}
	if len(entries) != len(want) {
		t.Errorf("the data folder holds %d messages, want %d", len(entries), len(want))
	}
}
