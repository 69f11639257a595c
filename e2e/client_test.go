package e2e

import (
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/internal/proctest"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// The client says what became of each message (issue 16): sent, with the
// chat message's ID or the private message's next hop, and exit 0; refused,
// with the gossiper's reason, exit 1; no gossiper on the port, exit 1; a
// gossip port given for the UI port, exit 1; a stray argument, exit 2. A
// gossiper of another implementation, which takes a message and says
// nothing, is not a failure: exit 0 and a line on stderr.

// runClient runs the client binary with args, as a user would, and returns
// what it printed and its exit status.
func runClient(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	_, client := proctest.Binaries(t)
	return proctest.Run(t, append([]string{client}, args...)...)
}

// expectClient runs the client against n's UI port with args and fails the
// test unless it exits with code, prints stdout exactly, and prints one
// stderr line holding stderr ("" for none at all).
func expectClient(t *testing.T, n *proctest.Node, code int, stdout, stderr string, args ...string) {
	t.Helper()
	out, errOut, got := n.Client(args...)
	if got != code || out != stdout || (stderr == "" && errOut != "") ||
		(stderr != "" && (!strings.Contains(errOut, stderr) || strings.Count(errOut, "\n") != 1)) {
		t.Errorf("client %q to %s: exit %d, stdout %q, stderr %q; want exit %d, stdout %q and stderr %q",
			args, n.Name, got, out, errOut, code, stdout, stderr)
	}
}

// onlyPost posts text through the client and checks that it is the first
// CLIENT MESSAGE n printed: whatever the client was made to do before, it
// printed nothing of it.
func onlyPost(t *testing.T, n *proctest.Node, text string, id int) {
	t.Helper()
	expectClient(t, n, 0, "sent: origin "+n.Name+" ID "+strconv.Itoa(id)+"\n", "", "-msg="+text)
	testkit.Eventually(t, 5*time.Second, n.Name+" prints the post", func() bool { return n.Out.Has(text) })
	head := n.Out.Head()
	if i := strings.Index(head, "CLIENT MESSAGE "); i < 0 || !strings.HasPrefix(head[i:], "CLIENT MESSAGE "+text+"\n") {
		t.Errorf("%s printed a client message before %q:\n%s", n.Name, text, head)
	}
	if strings.Contains(head, "PRIVATE") {
		t.Errorf("%s printed a private message:\n%s", n.Name, head)
	}
}

// A chat post says its origin and ID, each post the next; in simple mode,
// which numbers none, it says so.
func TestClientSaysTheID(t *testing.T) {
	a := proctest.Loopback(t, "A")
	a.Start(t)
	expectClient(t, a, 0, "sent: origin A ID 1\n", "", "-msg=first")
	expectClient(t, a, 0, "sent: origin A ID 2\n", "", "-msg=second")
	testkit.Eventually(t, 5*time.Second, "A prints both posts", func() bool { return a.Out.Has("first", "second") })

	s := proctest.Loopback(t, "S", "-simple")
	s.Start(t)
	expectClient(t, s, 0, "sent: origin S (simple mode numbers no message)\n", "", "-msg=simple")
	testkit.Eventually(t, 5*time.Second, "S prints the post", func() bool { return s.Out.Has("simple") })
}

// A private message says the next hop it left for, once the node has a
// route; before, and to a name the node never heard of, its own name or a
// text too long, the gossiper refuses and the client says why, exit 1.
func TestClientPrivateAndRefusals(t *testing.T) {
	a := proctest.Loopback(t, "A")
	b := proctest.Loopback(t, "B", "-rtimer=1")
	a.WithPeers(b)
	b.WithPeers(a)
	// A sends no route rumor and starts first: B has no route to A until
	// A posts.
	a.Start(t)

	// B is not running yet: A has heard nothing of it.
	expectClient(t, a, 1, "", `client: refused: no route to "B": this node has not heard from it yet`, "-dest=B", "-msg=early")
	b.Start(t)
	testkit.Eventually(t, 10*time.Second, "A learns its route to B", func() bool { return a.Out.Routes()["B"] == b.Addr })
	expectClient(t, b, 1, "", `client: refused: no route to "A": this node has not heard from it yet`, "-dest=A", "-msg=no route yet")
	expectClient(t, a, 1, "", `client: refused: no route to "Zed": this node has not heard from it yet`, "-dest=Zed", "-msg=hi")
	expectClient(t, a, 1, "", `client: refused: "A" is this node's own name`, "-dest=A", "-msg=hi")

	expectClient(t, a, 0, "sent: private message to B via "+b.Addr+"\n", "", "-dest=B", "-msg=psst")
	testkit.Eventually(t, 5*time.Second, "B prints A's private message", func() bool {
		return strings.Contains(b.Out.Head(), "PRIVATE origin A hop-limit 10 contents psst\n")
	})
	if strings.Contains(b.Out.Head(), "contents early") || strings.Contains(b.Out.Head(), "contents no route yet") {
		t.Errorf("a refused private message reached B:\n%s", b.Out.Head())
	}

	// The client refuses a text too long itself (exit 2); sent anyway,
	// the gossiper refuses it too.
	long := strings.Repeat("x", messages.MaxTextBytes+1)
	if out, errOut, code := a.Client("-msg=" + long); code != 2 || out != "" || !strings.HasPrefix(errOut, "client: -msg: message is 60001 bytes") {
		t.Errorf("a text too long: exit %d, stdout %q, stderr %q; want 2 and why", code, out, errOut)
	}
	r := exchangeRaw(t, a.UIPort, messages.Message{Text: long, Client: messages.ClientMark})
	if r.Error != "message is 60001 bytes, more than the limit of 60000" || r.ID != 0 {
		t.Errorf("the gossiper answers a text too long with %+v", r)
	}
	onlyPost(t, a, "after the refusals", 1)
}

// exchangeRaw sends m, encoded whole (the Client field last), to the UI
// port and returns the gossiper's answer.
func exchangeRaw(t *testing.T, port int, m messages.Message) *messages.ClientReply {
	t.Helper()
	b, err := protobuf.Encode(&m)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, messages.MaxPacketSize)
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatalf("no answer to a %d-byte message: %v", len(b), err)
	}
	r, err := messages.DecodeClientReply(buf[:n])
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// With no gossiper on the port, the client tries for 5 s, then says so and
// exits 1.
func TestClientWithoutGossiper(t *testing.T) {
	port := testkit.FreePort(t, "udp4")
	out, errOut, code := runClient(t, "-UIPort="+strconv.Itoa(port), "-msg=anyone?")
	want := "client: no gossiper listens on 127.0.0.1:" + strconv.Itoa(port)
	if code != 1 || out != "" || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Fatalf("exit %d, stdout %q, stderr %q; want 1 and %q", code, out, errOut, want)
	}
}

// Given a gossip port for the UI port, the client is told so by the node
// and exits 1, for a post, a private message and a file command alike; the
// node takes none of them.
func TestClientGivenTheGossipPort(t *testing.T) {
	a := proctest.Loopback(t, "A")
	a.Start(t)
	_, port, _ := net.SplitHostPort(a.Addr)
	want := "client: refused: port " + port + " is a gossip port; give the gossiper's UI port (-UIPort)\n"
	for _, args := range [][]string{
		{"-msg=hi"},
		{"-msg=hi", "-dest=B"},
		{"-file=report.pdf"},
	} {
		if out, errOut, code := runClient(t, append([]string{"-UIPort=" + port}, args...)...); code != 1 || out != "" || errOut != want {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 1 and %q", args, code, out, errOut, want)
		}
	}
	onlyPost(t, a, "through the UI port", 1)
}

// An argument that belongs to no flag, `client -msg=Hello world`, is an
// error that shows the quoted form; nothing is sent.
func TestClientStrayArgument(t *testing.T) {
	a := proctest.Loopback(t, "A")
	a.Start(t)
	out, errOut, code := a.Client("-msg=Hello", "world")
	want := "client: stray argument \"world\": quote a message with spaces: -msg='Hello world'\n"
	if code != 2 || out != "" || errOut != want {
		t.Errorf("exit %d, stdout %q, stderr %q; want 2 and %q", code, out, errOut, want)
	}
	onlyPost(t, a, "Hello world", 1)
}

// A stand-in for a gossiper of another implementation takes the message and
// never answers: the client exits 0, saying on stderr that no answer came.
// The message it took is what such a gossiper reads: the text.
func TestClientToAnotherImplementation(t *testing.T) {
	ui, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	port := ui.LocalAddr().(*net.UDPAddr).Port
	out, errOut, code := runClient(t, "-UIPort="+strconv.Itoa(port), "-msg=hello there")
	want := "but no answer came within 1s: the gossiper may be of another implementation, which does not answer\n"
	if code != 0 || out != "" || !strings.HasSuffix(errOut, want) || strings.Count(errOut, "\n") != 1 {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and one line ending %q", code, out, errOut, want)
	}
	buf := make([]byte, messages.MaxPacketSize)
	_ = ui.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := ui.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	var hw1 struct{ Text string }
	if err := protobuf.Decode(buf[:n], &hw1); err != nil || hw1.Text != "hello there" {
		t.Errorf("the stand-in reads %+v, %v", hw1, err)
	}
}

// A post that must wait for the node's earlier messages (a proven peer says
// the network holds messages of B up to ID 99, which B lacks) is sent
// unnumbered: the client says it is queued, and it goes out with the next
// ID when the wait ends.
func TestClientQueuedPost(t *testing.T) {
	peer, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	// A peer given at start is proven: its status makes posts wait.
	b := proctest.Loopback(t, "B")
	b.Peers = []string{peer.LocalAddr().String()}
	b.Start(t)
	bAddr, err := net.ResolveUDPAddr("udp4", b.Addr)
	if err != nil {
		t.Fatal(err)
	}
	claim, err := (&messages.GossipPacket{Status: &messages.StatusPacket{Want: []messages.PeerStatus{{Identifier: "B", NextID: 100}}}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	const claimed = "holds messages of this node's origin B up to ID 99"
	queued := "sent: queued as origin B: it will carry the next ID once the node has its earlier messages back from its peers\n"
	// With no post waiting, a claim ends 1 s after it was made: on a busy
	// machine the post may come after that and be numbered at once. Each
	// such post takes an ID below the claim's, and the next claim is a new
	// one, which B reports anew; the claim reaches far enough for a busy
	// machine to miss it many times in a row.
	id := 1
	for ; ; id++ {
		if _, err := peer.WriteTo(claim, bAddr); err != nil {
			t.Fatal(err)
		}
		testkit.Eventually(t, 10*time.Second, "B takes the claim", func() bool {
			return strings.Count(b.Stderr(), claimed) >= id
		})
		out, errOut, code := b.Client("-msg=waits " + strconv.Itoa(id))
		if code == 0 && out == queued && errOut == "" {
			break
		}
		if code != 0 || out != "sent: origin B ID "+strconv.Itoa(id)+"\n" || id == 20 {
			t.Fatalf("post %d during a claim: exit %d, stdout %q, stderr %q; want 0 and %q", id, code, out, errOut, queued)
		}
		t.Logf("post %d came after the claim ended: %q", id, out)
	}

	// None of B's old messages comes back: the post goes out next.
	text := "waits " + strconv.Itoa(id)
	buf := make([]byte, messages.MaxPacketSize)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_ = peer.SetReadDeadline(deadline)
		n, _, err := peer.ReadFrom(buf)
		if err != nil {
			t.Fatalf("the queued post never reached B's peer: %v", err)
		}
		p, err := messages.DecodeGossip(buf[:n])
		if err == nil && p.Rumor != nil && p.Rumor.Text == text {
			if p.Rumor.Origin != "B" || p.Rumor.ID != uint32(id) {
				t.Errorf("the queued post went out as %s/%d, want B/%d", p.Rumor.Origin, p.Rumor.ID, id)
			}
			return
		}
	}
}
