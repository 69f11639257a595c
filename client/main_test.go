package main

import (
	"bytes"
	"errors"
	"net"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

func TestRefusesBadInputWithStatusTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"-msg="}, "-msg"},
		{[]string{}, "-msg"},
		{[]string{"-msg=" + strings.Repeat("x", messages.MaxTextBytes+1)}, "-msg"},
		{[]string{"-UIPort=0", "-msg=hi"}, "-UIPort"},
		{[]string{"-UIPort=x", "-msg=hi"}, "-UIPort"},
		{[]string{"-dest=", "-msg=hi"}, "-dest"},
		{[]string{"-dest=two words", "-msg=hi"}, "-dest"},
		{[]string{"-dest=" + strings.Repeat("d", messages.MaxNameBytes+1), "-msg=hi"}, "-dest"},
	} {
		var stderr bytes.Buffer
		msg := func() string { return strings.TrimSpace(stderr.String()) }
		if code := run(tc.args, &stderr); code != 2 || strings.Count(msg(), "\n") > 0 || !strings.Contains(msg(), tc.flag+":") {
			t.Errorf("%.40q: exit %d, stderr %q; want 2 and one line naming %s", tc.args, code, msg(), tc.flag)
		}
	}
}

// The largest message allowed leaves as one datagram holding a Message with
// its text and no destination: a chat post.
func TestSendsOneMessageToTheUIPort(t *testing.T) {
	text := strings.Repeat("x", messages.MaxTextBytes)
	m := sendAndReceive(t, "-msg="+text)
	if m.Text != text || m.Destination != "" {
		t.Fatalf("received %d bytes of text for %q, want the %d sent for the chat", len(m.Text), m.Destination, len(text))
	}
}

// With -dest, the gossiper gets the name as the message's Destination.
func TestSendsAPrivateMessageToTheUIPort(t *testing.T) {
	name := strings.Repeat("n", messages.MaxNameBytes)
	for _, dest := range []string{"Bob", name} {
		if m := sendAndReceive(t, "-dest="+dest, "-msg=for you"); m.Text != "for you" || m.Destination != dest || m.File != "" {
			t.Fatalf("received %+v, want the text for %.20q", *m, dest)
		}
	}
}

// sendAndReceive runs the client with args against a UI port of its own on
// 127.0.0.1 and returns the one message that port got.
func sendAndReceive(t *testing.T, args ...string) *messages.Message {
	t.Helper()
	ui, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	port := ui.LocalAddr().(*net.UDPAddr).Port
	var stderr bytes.Buffer
	if code := run(append([]string{"-UIPort=" + strconv.Itoa(port)}, args...), &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	buf := make([]byte, messages.MaxPacketSize)
	if err := ui.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	n, _, err := ui.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m, err := messages.DecodeMessage(buf[:n])
	if err != nil {
		t.Fatalf("received %d bytes that do not decode: %v", n, err)
	}
	return m
}

// -h tells how to send a private message, and is not an error.
func TestUsageNamesDest(t *testing.T) {
	var stderr bytes.Buffer
	if code := run([]string{"-h"}, &stderr); code != 0 || !strings.Contains(stderr.String(), "-dest=NAME") {
		t.Fatalf("exit %d, usage %q; want 0 and -dest=NAME explained", code, stderr.String())
	}
}

// A gossiper that binds its UI port after the client ran still gets the
// message: the client sends again while the port refuses it.
func TestWaitsForAGossiperThatIsStarting(t *testing.T) {
	port := testkit.FreePort(t, "udp4")
	got := make(chan string, 1)
	go func() {
		time.Sleep(300 * time.Millisecond)
		ui, err := net.ListenPacket("udp4", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			got <- "listen: " + err.Error()
			return
		}
		defer ui.Close()
		buf := make([]byte, messages.MaxPacketSize)
		_ = ui.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := ui.ReadFrom(buf)
		if err != nil {
			got <- "read: " + err.Error()
			return
		}
		m, err := messages.DecodeMessage(buf[:n])
		if err != nil {
			got <- "decode: " + err.Error()
			return
		}
		got <- m.Text
	}()
	var stderr bytes.Buffer
	if code := run([]string{"-UIPort=" + strconv.Itoa(port), "-msg=late"}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	if text := <-got; text != "late" {
		t.Fatalf("the gossiper got %q, want the message", text)
	}
}

// With no gossiper at all, the client says so and exits 1.
func TestNoGossiperIsAnError(t *testing.T) {
	port := testkit.FreePort(t, "udp4")
	var stderr bytes.Buffer
	if code := run([]string{"-UIPort=" + strconv.Itoa(port), "-msg=hello"}, &stderr); code != 1 {
		t.Fatalf("exit %d, want 1: %s", code, stderr.String())
	}
	if !strings.Contains(stderr.String(), "no gossiper listens on") {
		t.Fatalf("stderr %q does not say that no gossiper listens", stderr.String())
	}
}

// A refusal that arrived while the client was not reading is still seen:
// the socket's pending error is taken after the read's deadline.
func TestPendingRefusalIsSeen(t *testing.T) {
	port := testkit.FreePort(t, "udp4")
	conn, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "the refusal is pending", func() bool {
		return errors.Is(pendingError(conn), syscall.ECONNREFUSED)
	})
}

// fakeGossiper answers the first file command on a UI port of its own with
// reply (none when nil), and returns its port and the command it got.
func fakeGossiper(t *testing.T, reply *messages.ClientReply) (int, <-chan *messages.Message) {
	t.Helper()
	var answer []byte
	if reply != nil {
		answer = encodeReply(t, *reply)
	}
	return answeringGossiper(t, answer)
}

// -file shares a file and prints its metahash; -dest and -request download
// one; what the gossiper refuses, the client says and exits 1.
func TestFileCommands(t *testing.T) {
	meta := bytes.Repeat([]byte{0xab}, messages.HashBytes)
	hexMeta := strings.Repeat("ab", messages.HashBytes)
	for _, tc := range []struct {
		name   string
		args   []string
		reply  *messages.ClientReply
		code   int
		stdout string
		stderr string
		want   messages.Message
	}{
		{"share", []string{"-file=report.pdf"}, &messages.ClientReply{MetaHash: meta}, 0, hexMeta + "  report.pdf\n", "", messages.Message{File: "report.pdf"}},
		{"download", []string{"-file=copy.pdf", "-dest=Bob", "-request=" + hexMeta}, &messages.ClientReply{MetaHash: meta}, 0, "downloading " + hexMeta + " from Bob as copy.pdf\n", "", messages.Message{File: "copy.pdf", Destination: "Bob", Request: meta}},
		{"refused", []string{"-file=../etc/passwd"}, &messages.ClientReply{Error: `file name "../etc/passwd" holds a "/"`}, 1, "", `holds a "/"`, messages.Message{File: "../etc/passwd"}},
		{"no answer", []string{"-file=report.pdf"}, nil, 1, "", "no answer from the gossiper", messages.Message{File: "report.pdf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			port, got := fakeGossiper(t, tc.reply)
			var stdout, stderr bytes.Buffer
			code := runOut(append([]string{"-UIPort=" + strconv.Itoa(port)}, tc.args...), &stdout, &stderr)
			if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, and %q said", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
			m := <-got
			if m == nil || m.File != tc.want.File || m.Destination != tc.want.Destination || !bytes.Equal(m.Request, tc.want.Request) || m.Text != "" {
				t.Fatalf("the gossiper got %+v, want %+v", m, tc.want)
			}
		})
	}
}

// A file command the client can tell is wrong never reaches the gossiper.
func TestBadFileCommandsExitTwo(t *testing.T) {
	for _, args := range [][]string{
		{"-file=a", "-msg=hi"},
		{"-request=" + strings.Repeat("ab", 32), "-dest=Bob"},
		{"-file=a", "-request=" + strings.Repeat("ab", 32)},
		{"-file=a", "-dest=Bob"},
		{"-file=a", "-dest=Bob", "-request=xyz"},
		{"-file=a", "-dest=Bob", "-request=" + strings.Repeat("ab", 31)},
		{"-file=a", "-dest=two words", "-request=" + strings.Repeat("ab", 32)},
	} {
		var stdout, stderr bytes.Buffer
		if code := runOut(append([]string{"-UIPort=" + strconv.Itoa(testkit.FreePort(t, "udp4"))}, args...), &stdout, &stderr); code != 2 || stderr.Len() == 0 {
			t.Errorf("%v: exit %d, stderr %q; want 2 and why", args, code, stderr.String())
		}
	}
}

// An argument that is not a flag's is an error that shows the quoted form,
// and nothing is sent: `client -msg=Hello world` used to send "Hello" alone.
func TestStrayArgumentsExitTwo(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-msg=Hello", "world"}, `client: stray argument "world": quote a message with spaces: -msg='Hello world'`},
		{[]string{"-msg", "Hello", "big", "world"}, `client: stray argument "big": quote a message with spaces: -msg='Hello big world'`},
		{[]string{"--msg=Hello", "world", "-dest=Bob"}, `client: stray argument "world": quote a message with spaces: -msg='Hello world'`},
		{[]string{"-dest=Bob", "-msg=it's", "fine"}, `client: stray argument "fine": quote a message with spaces: -msg='it'\''s fine'`},
		{[]string{"-file=my", "report.pdf"}, `client: stray argument "report.pdf": quote a file name with spaces: -file='my report.pdf'`},
		{[]string{"Hello"}, `client: stray argument "Hello": give the message with -msg, quoted if it has spaces: -msg='Hello'`},
		{[]string{"-dest=Bob", "hi", "there"}, `client: stray argument "hi": give the message with -msg, quoted if it has spaces: -msg='hi there'`},
		{[]string{"-msg=hi", "--", "there"}, `client: stray argument "there": give the message with -msg, quoted if it has spaces: -msg='there'`},
	} {
		ui, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ui.LocalAddr().(*net.UDPAddr).Port
		var stdout, stderr bytes.Buffer
		code := runOut(append([]string{"-UIPort=" + strconv.Itoa(port)}, tc.args...), &stdout, &stderr)
		if code != 2 || stdout.Len() > 0 || stderr.String() != tc.want+"\n" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want 2 and %q", tc.args, code, stdout.String(), stderr.String(), tc.want)
		}
		// The first datagram the port gets is this one, sent after the
		// client exited: the client sent none.
		if got := firstDatagram(t, ui, port, "after"); got != "after" {
			t.Errorf("%q: the UI port got %q before the client's exit", tc.args, got)
		}
		ui.Close()
	}
}

// firstDatagram sends mark to ui, on port, and returns the first datagram
// ui holds.
func firstDatagram(t *testing.T, ui net.PacketConn, port int, mark string) string {
	t.Helper()
	conn, err := net.Dial("udp4", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte(mark)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, messages.MaxPacketSize)
	_ = ui.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := ui.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	return string(buf[:n])
}

// answeringGossiper answers the first datagram on a UI port of its own with
// answer (none when nil), and returns its port and the message it got.
func answeringGossiper(t *testing.T, answer []byte) (int, <-chan *messages.Message) {
	t.Helper()
	ui, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ui.Close() })
	got := make(chan *messages.Message, 1)
	go func() {
		buf := make([]byte, messages.MaxPacketSize)
		_ = ui.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, from, err := ui.ReadFrom(buf)
		if err != nil {
			close(got)
			return
		}
		m, _ := messages.DecodeMessage(buf[:n])
		got <- m
		if answer != nil {
			_, _ = ui.WriteTo(answer, from)
		}
	}()
	return ui.LocalAddr().(*net.UDPAddr).Port, got
}

func encodeReply(t *testing.T, r messages.ClientReply) []byte {
	t.Helper()
	b, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The client says what the gossiper's answer says: sent, with the ID or the
// next hop, or refused; silence, or an answer it does not read, is what a
// gossiper of another implementation gives, and is not a failure.
func TestSaysWhatBecameOfTheMessage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		args   []string
		answer []byte
		code   int
		stdout string
		stderr string
	}{
		{"sent", []string{"-msg=hi"}, encodeReply(t, messages.ClientReply{Origin: "Alice", ID: 3}), 0, "sent: origin Alice ID 3\n", ""},
		{"queued", []string{"-msg=hi"}, encodeReply(t, messages.ClientReply{Origin: "Alice", Queued: true}), 0,
			"sent: queued as origin Alice: it will carry the next ID once the node has its earlier messages back from its peers\n", ""},
		{"simple", []string{"-msg=hi"}, encodeReply(t, messages.ClientReply{Origin: "Alice"}), 0, "sent: origin Alice (simple mode numbers no message)\n", ""},
		{"private", []string{"-dest=Bob", "-msg=hi"}, encodeReply(t, messages.ClientReply{NextHop: "127.0.0.1:5001"}), 0, "sent: private message to Bob via 127.0.0.1:5001\n", ""},
		{"refused", []string{"-dest=Zed", "-msg=hi"}, encodeReply(t, messages.ClientReply{Error: `no route to "Zed": this node has not heard from it yet`}), 1,
			"", "client: refused: no route to \"Zed\": this node has not heard from it yet\n"},
		{"gossip port", []string{"-msg=hi"}, encodeReply(t, messages.ClientReply{GossipPort: true}), 1,
			"", "is a gossip port; give the gossiper's UI port (-UIPort)\n"},
		{"another implementation", []string{"-msg=hi"}, nil, 0,
			"", "but no answer came within 1s: the gossiper may be of another implementation, which does not answer\n"},
		{"an answer it does not read", []string{"-msg=hi"}, []byte("\xff\xff"), 0,
			"", "answered something this client does not read"},
		{"an answer that says nothing", []string{"-dest=Bob", "-msg=hi"}, encodeReply(t, messages.ClientReply{Origin: "Alice", ID: 3}), 0,
			"", "answered something this client does not read"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			port, got := answeringGossiper(t, tc.answer)
			var stdout, stderr bytes.Buffer
			code := runOut(append([]string{"-UIPort=" + strconv.Itoa(port)}, tc.args...), &stdout, &stderr)
			if code != tc.code || stdout.String() != tc.stdout || !strings.Contains(stderr.String(), tc.stderr) || strings.Count(stderr.String(), "\n") > 1 {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, and one line with %q", code, stdout.String(), stderr.String(), tc.code, tc.stdout, tc.stderr)
			}
			if tc.code == 1 && !strings.HasPrefix(stderr.String(), "client: refused: ") {
				t.Fatalf("stderr %q does not say it was refused", stderr.String())
			}
			if m := <-got; m == nil || m.Text != "hi" || m.Client != messages.ClientMark {
				t.Fatalf("the gossiper got %+v, want the text and the client's mark", m)
			}
		})
	}
}

// hw3Message is the client message of the handout's Homework 3, which
// gossipers of other implementations decode.
type hw3Message struct {
	Text        string
	Destination *string
	File        *string
	Request     *[]byte
	Keywords    *string
	Budget      *uint64
}

// Every datagram is the bytes Encode writes, which any gossiper reads as
// it always did, then the mark, which ends it: a gossiper of the first
// homework reads the text, one of the third sees no search.
func TestDatagramsEndWithTheMark(t *testing.T) {
	meta := bytes.Repeat([]byte{0xab}, messages.HashBytes)
	for _, m := range []messages.Message{
		{Text: "hi"},
		{Text: "hi", Destination: "Bob"},
		{File: "report.pdf"},
		{File: "copy.pdf", Destination: "Bob", Request: meta},
	} {
		b, err := encode(m)
		if err != nil {
			t.Fatal(err)
		}
		plain, err := m.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, plain) || !bytes.HasSuffix(b, []byte(messages.ClientMark)) {
			t.Errorf("%+v: %x does not start with Encode's %x and end with the mark", m, b, plain)
		}
		got, err := messages.DecodeMessage(b)
		if err != nil || got.Text != m.Text || got.Destination != m.Destination || got.File != m.File || !bytes.Equal(got.Request, m.Request) || got.Client != messages.ClientMark {
			t.Errorf("%+v decodes as %+v, %v", m, got, err)
		}
		var hw1 struct{ Text string }
		if err := protobuf.Decode(b, &hw1); err != nil || hw1.Text != m.Text {
			t.Errorf("%+v: a first-homework gossiper reads %+v, %v", m, hw1, err)
		}
		var hw3 hw3Message
		if err := protobuf.Decode(b, &hw3); err != nil || hw3.Text != m.Text || hw3.Keywords != nil || hw3.Budget != nil {
			t.Errorf("%+v: a third-homework gossiper reads %+v, %v", m, hw3, err)
		}
	}
}

// A gossip port answers with GossipPort alone, which is never larger than
// the smallest message the client sends: the node sends no one more than
// it was sent in their name.
func TestGossipPortAnswerIsNoLargerThanAMessage(t *testing.T) {
	smallest, err := encode(messages.Message{Text: "x"})
	if err != nil {
		t.Fatal(err)
	}
	answer := encodeReply(t, messages.ClientReply{GossipPort: true})
	if len(answer) > len(smallest) {
		t.Fatalf("the gossip port's answer is %d bytes, the smallest message %d", len(answer), len(smallest))
	}
}
