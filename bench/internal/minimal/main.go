// Command minimal is the yardstick of "go run ./bench startup": the least a
// Go program can do to be a gossiper as far as its peers can tell, which is
// to bind two UDP sockets on the addresses it is given and wait.
//
//	minimal 127.0.0.1:5000 127.0.0.1:8080
package main

import (
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: minimal gossip-ip:port ui-ip:port")
		os.Exit(2)
	}
	var conns []net.PacketConn
	for _, addr := range os.Args[1:] {
		c, err := net.ListenPacket("udp4", addr)
		if err != nil {
			fmt.Fprintln(os.Stderr, "minimal:", err)
			os.Exit(2)
		}
		conns = append(conns, c)
	}
	// Wait for the benchmark to kill the process; reading keeps the
	// runtime from calling an idle program deadlocked.
	buf := make([]byte, 1)
	for {
		if _, _, err := conns[0].ReadFrom(buf); err != nil {
			os.Exit(1)
		}
	}
}
