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

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/store"
)

// wantPrivate is one private message a node should keep, sent or received.
type wantPrivate struct {
	origin, dest, text string
	hopLimit           uint32
	sent               bool
}

func (w wantPrivate) String() string {
	dir := "received"
	if w.sent {
		dir = "sent"
	}
	return fmt.Sprintf("%s %s->%s %q hop-limit %d", dir, w.origin, w.dest, w.text, w.hopLimit)
}

// TestPrivateConversationSurvivesRestart runs A - B - C in a line, all with
// -data and -rtimer=1. A and C talk privately through B, both restart, and
// the conversation is still there: on their web API, in what they tell the
// log at start, and in their data folders, once each, with the hop limits
// and directions it had. It goes on after the restart. B, which only
// forwarded the messages, printed none of them and kept none on disk.
func TestPrivateConversationSurvivesRestart(t *testing.T) {
	root := t.TempDir()
	dirs := map[string]string{}
	nodes := map[string]*proctest.Node{}
	for _, name := range []string{"A", "B", "C"} {
		dirs[name] = filepath.Join(root, name+"-data")
		nodes[name] = proctest.Loopback(t, name, "-data="+dirs[name], "-rtimer=1")
	}
	a, b, c := nodes["A"], nodes["B"], nodes["C"]
	startLine(t, a, b, c)

	awaitRoute(t, a, "C")
	awaitRoute(t, c, "A")
	talk(t, a, c, "A to C: are you there?")
	talk(t, c, a, "C to A: yes, through B")
	// Crossing B costs one hop.
	aToC := wantPrivate{"A", "C", "A to C: are you there?", 10, true}
	cToA := wantPrivate{"C", "A", "C to A: yes, through B", 10, true}
	wantA := []wantPrivate{aToC, received(cToA)}
	wantC := []wantPrivate{received(aToC), cToA}

	for _, n := range []*proctest.Node{a, c} {
		if st := n.Kill(syscall.SIGTERM); st.ExitCode() != 0 {
			t.Fatalf("%s exited with %v on SIGTERM, want 0", n.Name, st)
		}
	}
	a2, c2 := a.Again(), c.Again()
	a2.Start(t)
	c2.Start(t)
	for _, n := range []*proctest.Node{a2, c2} {
		testkit.Eventually(t, 10*time.Second, n.Name+" logs what it restored", func() bool {
			return strings.Contains(n.Stderr(), "history restored")
		})
		if !strings.Contains(n.Stderr(), " private=2") {
			t.Errorf("%s restored other than 2 private messages: %q", n.Name, n.Stderr())
		}
	}
	checkWebPrivate(t, a2, "C", wantA)
	checkWebPrivate(t, c2, "A", wantC)

	// The conversation goes on, after what was restored.
	awaitRoute(t, a2, "C")
	talk(t, a2, c2, "A to C: back again")
	again := wantPrivate{"A", "C", "A to C: back again", 10, true}
	wantA = append(wantA, again)
	wantC = append(wantC, received(again))
	checkWebPrivate(t, a2, "C", wantA)

	if got := b.Out.Privates(); len(got) != 0 {
		t.Errorf("B, which only forwarded, printed private messages: %+v", got)
	}
	for _, n := range []*proctest.Node{a2, b, c2} {
		if st := n.Kill(syscall.SIGTERM); st.ExitCode() != 0 {
			t.Errorf("%s exited with %v on SIGTERM, want 0", n.Name, st)
		}
	}
	checkStorePrivate(t, "A", dirs["A"], wantA)
	checkStorePrivate(t, "C", dirs["C"], wantC)
	checkStorePrivate(t, "B", dirs["B"], nil)
}

// received is w as its destination keeps it, having crossed one forwarder.
func received(w wantPrivate) wantPrivate {
	w.sent = false
	w.hopLimit--
	return w
}

// awaitRoute waits until n prints a DSDV line for dest.
func awaitRoute(t *testing.T, n *proctest.Node, dest string) {
	t.Helper()
	testkit.Eventually(t, 15*time.Second, n.Name+" has a route to "+dest, func() bool {
		return n.Out.Routes()[dest] != ""
	})
}

// talk has from send text privately to to, and waits until to prints it.
func talk(t *testing.T, from, to *proctest.Node, text string) {
	t.Helper()
	sendPrivate(t, from, to.Name, text)
	testkit.Eventually(t, 5*time.Second, to.Name+" prints "+from.Name+"'s private message", func() bool {
		for _, p := range to.Out.Privates() {
			if p.Origin == from.Name && p.Text == text {
				return true
			}
		}
		return false
	})
}

// checkWebPrivate asks n's web API for its conversation with other.
func checkWebPrivate(t *testing.T, n *proctest.Node, other string, want []wantPrivate) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/private?with=%s", n.GUIPort, other))
	if err != nil {
		t.Errorf("GET /private on %s: %v", n.Name, err)
		return
	}
	defer resp.Body.Close()
	var conv []struct {
		Origin      string    `json:"origin"`
		Destination string    `json:"destination"`
		Text        string    `json:"text"`
		HopLimit    uint32    `json:"hopLimit"`
		Sent        bool      `json:"sent"`
		Time        time.Time `json:"time"`
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /private?with=%s on %s: status %s", other, n.Name, resp.Status)
		return
	}
	if err := json.NewDecoder(resp.Body).Decode(&conv); err != nil {
		t.Errorf("GET /private?with=%s on %s: %v", other, n.Name, err)
		return
	}
	got := make([]gossiper.PrivateEntry, len(conv))
	for i, m := range conv {
		got[i] = gossiper.PrivateEntry{Origin: m.Origin, Destination: m.Destination, Text: m.Text,
			HopLimit: m.HopLimit, Sent: m.Sent, At: m.Time}
	}
	comparePrivate(t, n.Name+"'s GET /private?with="+other, got, want)
}

// checkStorePrivate reads the data folder a node left, which must hold
// exactly want as private messages, in order.
func checkStorePrivate(t *testing.T, name, dir string, want []wantPrivate) {
	t.Helper()
	l, entries, err := store.Open(dir, nil)
	if err != nil {
		t.Fatalf("reopening %s's data folder: %v", name, err)
	}
	defer l.Close()
	if len(entries) == 0 {
		t.Errorf("%s's data folder holds no rumor, not even a route rumor", name)
	}
	comparePrivate(t, name+"'s data folder", l.TakePrivate(), want)
}

func comparePrivate(t *testing.T, where string, got []gossiper.PrivateEntry, want []wantPrivate) {
	t.Helper()
	ok := len(got) == len(want)
	for i := 0; ok && i < len(want); i++ {
		g := got[i]
		ok = g.Origin == want[i].origin && g.Destination == want[i].dest && g.Text == want[i].text &&
			g.HopLimit == want[i].hopLimit && g.Sent == want[i].sent && !g.At.IsZero()
	}
	if ok {
		return
	}
	var lines []string
	for _, g := range got {
		lines = append(lines, wantPrivate{g.Origin, g.Destination, g.Text, g.HopLimit, g.Sent}.String()+" at "+g.At.String())
	}
	t.Errorf("%s holds %d private messages:\n\t%s\nwant %v", where, len(got), strings.Join(lines, "\n\t"), want)
}
