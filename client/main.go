// Command client posts one chat message to a local gossiper's UI port, or
// with -dest sends one private message through it to a single node. With
// -file it shares a file from the gossiper's shared folder, or, with -dest
// and -request, downloads one. It says what became of the message: sent
// (with its ID, or the next hop it left for), refused (why, exit 1), or no
// gossiper on that port (exit 1); see sendMessage.
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
	"strings"
	"syscall"
	"time"

	"go.dedis.ch/protobuf"

	"github.com/peerster/Peerster/messages"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int { return runOut(args, os.Stdout, stderr) }

// usage is what -help prints before the flags.
const usage = `usage: client [-UIPort=P] [-dest=NAME] -msg=TEXT
       client [-UIPort=P] -file=NAME
       client [-UIPort=P] -file=NAME -dest=NODE -request=METAHASH

Hands TEXT to the gossiper whose UI port is P on this machine. Without
-dest the gossiper posts it to the chat; with -dest it sends it privately to
the node named NAME alone.

With -file alone, the gossiper shares the file NAME of its shared folder
(_SharedFiles/ where it runs) and the client prints its metahash. With
-dest and -request, the gossiper downloads the file of that metahash from
NODE into its downloads folder (_Downloads/) as NAME.

The client prints what became of the message: "sent: origin NAME ID N",
or for a private message "sent: private message to NAME via IP:PORT", and
exits 0; if the gossiper refused it (no route to NAME, its own name, ...),
or no gossiper listens on P, or P is a gossip port, it says why on stderr
and exits 1. A gossiper of another implementation does not answer: after
1 s without an answer the client says so on stderr and exits 0. Quote a
message with spaces, -msg='Hello world': any other argument is an error.

`

func runOut(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
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
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "client:", stray(args, fs.Args()))
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
	return sendMessage(addr, messages.Message{Text: *msg, Destination: *dest}, stdout, stderr)
}

// stray says what is wrong with rest, the arguments left after the flags
// of args: most likely a message with spaces that the shell split into
// words because it was not quoted, as in -msg=Hello world.
func stray(args, rest []string) string {
	words := []string{rest[0]}
	for _, w := range rest[1:] {
		if strings.HasPrefix(w, "-") {
			break
		}
		words = append(words, w)
	}
	text := strings.Join(words, " ")
	// The value the shell split is that of the flag just before the stray
	// words, given as -name=value or as -name value.
	before := args[:len(args)-len(rest)]
	name, value := "", ""
	if k := len(before); k > 0 {
		last := before[k-1]
		if f, v, ok := strings.Cut(last, "="); ok && strings.HasPrefix(f, "-") {
			name, value = strings.TrimLeft(f, "-"), v
		} else if k > 1 && last != "--" && strings.HasPrefix(before[k-2], "-") && !strings.Contains(before[k-2], "=") {
			name, value = strings.TrimLeft(before[k-2], "-"), last
		}
	}
	if value != "" {
		text = value + " " + text
	}
	switch name {
	case "msg":
		return fmt.Sprintf("stray argument %q: quote a message with spaces: -msg=%s", rest[0], shellQuote(text))
	case "file":
		return fmt.Sprintf("stray argument %q: quote a file name with spaces: -file=%s", rest[0], shellQuote(text))
	}
	// After any other flag, the words are most likely a message given
	// without -msg.
	return fmt.Sprintf("stray argument %q: give the message with -msg, quoted if it has spaces: -msg=%s", rest[0], shellQuote(strings.Join(words, " ")))
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// replyWait is how long the client waits for the gossiper's answer to a
// message. Ours answers at once, having printed and sent it (with -data,
// once it is on disk): within milliseconds on a busy machine. One of
// another implementation never answers, and the wait is what that costs.
const replyWait = time.Second

// sendMessage sends m, a chat or private message, to the gossiper's UI
// port at addr, prints what became of it and returns the exit status:
//
//	sent (chat)      stdout "sent: origin A ID 3"                            0
//	sent, queued     stdout "sent: queued as origin A: it will carry ..."    0
//	sent (simple)    stdout "sent: origin A (simple mode numbers no ...)"    0
//	sent (private)   stdout "sent: private message to B via 127.0.0.1:5001"  0
//	refused          stderr "client: refused: <the gossiper's reason>"       1
//	gossip port      stderr "client: refused: port P is a gossip port; ..."  1
//	no gossiper      stderr "client: no gossiper listens on ..."             1
//	no answer        stderr "client: ... no answer came within 1s: ..."      0
//
// No answer means that the UI port took the message (nothing refused it)
// and nothing answered: a gossiper of another implementation, which takes
// the message and says nothing, is not a failure.
func sendMessage(addr string, m messages.Message, stdout, stderr io.Writer) int {
	b, err := encode(m)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	answer, err := exchange(b, addr, replyWait)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	if answer == nil {
		fmt.Fprintf(stderr, "client: the message went to %s, but no answer came within %v: the gossiper may be of another implementation, which does not answer\n", addr, replyWait)
		return 0
	}
	r, err := messages.DecodeClientReply(answer)
	if err == nil && r.Error == "" && !r.GossipPort && (m.Destination == "" && r.Origin == "" || m.Destination != "" && r.NextHop == "") {
		err = errors.New("it says neither sent nor refused")
	}
	switch {
	case err != nil:
		fmt.Fprintf(stderr, "client: the message went to %s, which answered something this client does not read (%v): the gossiper may be of another implementation\n", addr, err)
	case r.GossipPort:
		fmt.Fprintln(stderr, "client: refused:", gossipPort(addr))
		return 1
	case r.Error != "":
		fmt.Fprintln(stderr, "client: refused:", r.Error)
		return 1
	case m.Destination != "":
		fmt.Fprintf(stdout, "sent: private message to %s via %s\n", m.Destination, r.NextHop)
	case r.Queued:
		fmt.Fprintf(stdout, "sent: queued as origin %s: it will carry the next ID once the node has its earlier messages back from its peers\n", r.Origin)
	case r.ID == 0:
		fmt.Fprintf(stdout, "sent: origin %s (simple mode numbers no message)\n", r.Origin)
	default:
		fmt.Fprintf(stdout, "sent: origin %s ID %d\n", r.Origin, r.ID)
	}
	return 0
}

// gossipPort is what the client says when a gossip port answers it.
func gossipPort(addr string) string {
	_, port, _ := net.SplitHostPort(addr)
	return fmt.Sprintf("port %s is a gossip port; give the gossiper's UI port (-UIPort)", port)
}

// clientField is Message.Client alone: its field number, and ClientMark.
type clientField struct {
	Client string `protobuf:"16"`
}

// encode returns the datagram that carries m: the bytes Encode writes, so
// that a gossiper of any implementation reads what it always read, then
// messages.ClientMark as the Client field, which ends the datagram.
func encode(m messages.Message) ([]byte, error) {
	m.Client = ""
	b, err := m.Encode()
	if err != nil {
		return nil, err
	}
	mark, err := protobuf.Encode(&clientField{Client: messages.ClientMark})
	if err != nil {
		return nil, err
	}
	return append(b, mark...), nil
}

// A gossiper that is still starting has not bound its UI port yet, and the
// kernel answers a datagram to it with "port unreachable", which a
// connected UDP socket reports as a pending error. Graders start gossipers
// and run the client at once, so the client sends again while that answer
// comes, for up to startupWait; once the port took the datagram, the
// gossiper's answer comes instead, or nothing.
const (
	retryPause  = 5 * time.Millisecond
	startupWait = 5 * time.Second
)

// exchange sends b to the UI port at addr, again while the port refuses
// it, and returns the gossiper's answer, or nil if none came within wait
// after the port took b.
func exchange(b []byte, addr string, wait time.Duration) ([]byte, error) {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	buf := make([]byte, messages.MaxPacketSize)
	deadline := time.Now().Add(startupWait)
	for {
		answer, refused, err := try(conn, b, wait, buf)
		switch {
		case err != nil:
			return nil, err
		case !refused:
			return answer, nil
		case time.Now().After(deadline):
			return nil, fmt.Errorf("no gossiper listens on %s (the UI port refused the message for %v)", addr, startupWait)
		}
		time.Sleep(retryPause)
	}
}

// try sends b once and waits up to wait for the answer; it reports whether
// the port refused b instead. A refusal comes at once: the kernel sends it
// as the datagram arrives.
func try(conn net.Conn, b []byte, wait time.Duration, buf []byte) (answer []byte, refused bool, err error) {
	_, err = conn.Write(b)
	n := 0
	if err == nil {
		if err = conn.SetReadDeadline(time.Now().Add(wait)); err != nil {
			return nil, false, err
		}
		n, err = conn.Read(buf)
	}
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// A refusal that came while this process was not running is
		// still pending: a read past its deadline does not look.
		err = pendingError(conn)
		if err == nil {
			return nil, false, nil
		}
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return nil, true, nil
	}
	if err != nil {
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
	m, err := fileMessage(msg, file, dest, request)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 2
	}
	b, err := encode(m)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	answer, err := exchange(b, addr, answerWait)
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	if answer == nil {
		fmt.Fprintf(stderr, "client: no answer from the gossiper on %s within %v: it may not be a Peerster that shares files\n", addr, answerWait)
		return 1
	}
	r, err := messages.DecodeClientReply(answer)
	if err != nil {
		fmt.Fprintf(stderr, "client: the gossiper on %s answered something this client does not read: %v\n", addr, err)
		return 1
	}
	if r.GossipPort {
		fmt.Fprintln(stderr, "client: refused:", gossipPort(addr))
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

// fileMessage is the file command that the flags ask for, or what is wrong
// with them, naming the flag.
func fileMessage(msg, file, dest, request string) (messages.Message, error) {
	switch {
	case msg != "":
		return messages.Message{}, errors.New("-msg goes without -file and -request: send a message or a file command, not both")
	case file == "":
		return messages.Message{}, errors.New("-file: a download needs the name to save it as, -file=NAME")
	case request != "" && dest == "":
		return messages.Message{}, errors.New("-dest: a download needs the node to download from, -dest=NODE")
	case request == "" && dest != "":
		return messages.Message{}, errors.New("-request: a download needs the file's metahash, -request=METAHASH (sharing takes -file alone)")
	}
	m := messages.Message{File: file, Destination: dest}
	if request == "" {
		return m, nil
	}
	meta, err := hex.DecodeString(request)
	if err != nil || len(meta) != messages.HashBytes {
		return messages.Message{}, fmt.Errorf("-request: %q is not a metahash: 64 hex digits", request)
	}
	if err := messages.ValidateName(dest); err != nil {
		return messages.Message{}, fmt.Errorf("-dest: %w", err)
	}
	m.Request = meta
	return m, nil
}
