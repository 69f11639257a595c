package main

import (
	"bytes"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

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
	} {
		var stderr bytes.Buffer
		msg := func() string { return strings.TrimSpace(stderr.String()) }
		if code := run(tc.args, &stderr); code != 2 || strings.Count(msg(), "\n") > 0 || !strings.Contains(msg(), tc.flag+":") {
			t.Errorf("%.40q: exit %d, stderr %q; want 2 and one line naming %s", tc.args, code, msg(), tc.flag)
		}
	}
}

// The largest message allowed leaves as one datagram holding a Message with
// its text.
func TestSendsOneMessageToTheUIPort(t *testing.T) {
	ui, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ui.Close()
	port := ui.LocalAddr().(*net.UDPAddr).Port
	text := strings.Repeat("x", messages.MaxTextBytes)
	var stderr bytes.Buffer
	if code := run([]string{"-UIPort=" + strconv.Itoa(port), "-msg=" + text}, &stderr); code != 0 {
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
	if m.Text != text {
		t.Fatalf("received %d bytes of text, want the %d sent", len(m.Text), len(text))
	}
}
