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
		if reply != nil {
			b, _ := reply.Encode()
			_, _ = ui.WriteTo(b, from)
		}
	}()
	return ui.LocalAddr().(*net.UDPAddr).Port, got
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
