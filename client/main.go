// Command client posts one chat message to a local gossiper's UI port.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"

	"github.com/peerster/Peerster/messages"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stderr))
}

func run(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("client", flag.ContinueOnError)
	fs.SetOutput(stderr)
	uiPort := fs.String("UIPort", "8080", "port for the UI client")
	msg := fs.String("msg", "", "message to be sent")
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
	b, err := (&messages.Message{Text: *msg}).Encode()
	if err == nil {
		err = send(b, net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	if err != nil {
		fmt.Fprintln(stderr, "client:", err)
		return 1
	}
	return 0
}

func send(b []byte, addr string) error {
	conn, err := net.Dial("udp4", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	_, err = conn.Write(b)
	return err
}
