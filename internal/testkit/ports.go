package testkit

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Ports for nodes. A node is given its ports before it starts: between the
// moment a port is found free and the moment the node binds it, or while a
// node restarts on its ports, anything else may take it. The kernel gives a
// socket bound to port 0 (a client's, another test's) a port at random in
// its ephemeral range, and other test processes, which run beside this one
// in go test ./..., pick ports too. So the ports handed out here lie below
// the ephemeral range, where the kernel gives none; and each is reserved
// until the test that got it ends (after its nodes are stopped): against
// this process's other tests (given) and against the other test processes
// that pick them here (reserve, a lock on the port's byte of a shared
// file). They also stay clear of the ports the README and the graders'
// scripts use (5000-5010, 8080-8090, 10000-10010, 12345-12354), which a
// node started by hand may hold.
const (
	pickLow  = 20000
	pickHigh = 32768 // exclusive; lowered to the ephemeral range's start
)

var (
	portsMu sync.Mutex
	given   = map[int]bool{} // reserved by this process's tests
)

// FreePort returns a port on 127.0.0.1, free for network ("udp" or "udp4"
// for gossip and UI sockets, "tcp" or "tcp4" for a web server), that no
// other test takes until tb ends.
func FreePort(tb testing.TB, network string) int {
	tb.Helper()
	return FreeBlock(tb, network, 1)
}

// FreeBlock returns the first of n consecutive ports, as FreePort, for the
// scripts that number their nodes' ports from a base.
func FreeBlock(tb testing.TB, network string, n int) int {
	tb.Helper()
	udp := isUDP(tb, network)
	lo, hi := pickRange()
	portsMu.Lock()
	defer portsMu.Unlock()
	for range 1000 {
		base := lo + rand.IntN(hi-lo-n+1)
		if ok, release := tryBlock(udp, base, n); ok {
			tb.Cleanup(release)
			return base
		}
	}
	tb.Fatalf("no %d free %s ports in a row in %d-%d", n, network, lo, hi-1)
	return 0
}

// tryBlock reserves base..base+n-1 if none is reserved and each is free
// now, and returns what releases the reservations.
func tryBlock(udp bool, base, n int) (bool, func()) {
	var locks []io.Closer
	release := func() {
		for _, l := range locks {
			l.Close()
		}
	}
	for p := base; p < base+n; p++ {
		if given[p] || !free(udp, p) {
			release()
			return false, nil
		}
		l, ok := reserve(p)
		if !ok {
			release()
			return false, nil
		}
		locks = append(locks, l)
	}
	for p := base; p < base+n; p++ {
		given[p] = true
	}
	return true, func() {
		portsMu.Lock()
		defer portsMu.Unlock()
		for p := base; p < base+n; p++ {
			delete(given, p)
		}
		release()
	}
}

func free(udp bool, port int) bool {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	var c io.Closer
	var err error
	if udp {
		c, err = net.ListenPacket("udp4", addr)
	} else {
		c, err = net.Listen("tcp4", addr)
	}
	if err != nil {
		return false
	}
	c.Close()
	return true
}

// pickRange is where ports are picked: pickLow up to pickHigh or the start
// of the kernel's ephemeral range, whichever is lower.
func pickRange() (lo, hi int) {
	lo, hi = pickLow, pickHigh
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if start, err := strconv.Atoi(f[0]); err == nil && start-lo >= 1000 {
				hi = min(hi, start)
			}
		}
	}
	return lo, hi
}

func isUDP(tb testing.TB, network string) bool {
	tb.Helper()
	switch network {
	case "udp", "udp4":
		return true
	case "tcp", "tcp4":
		return false
	}
	tb.Fatalf("testkit: network %q is none of udp, udp4, tcp, tcp4", network)
	return false
}

// HeldPort returns a port on 127.0.0.1 that this process holds, bound (and
// for "tcp" listening), until tb ends: a port another program finds taken.
func HeldPort(tb testing.TB, network string) int {
	tb.Helper()
	var c io.Closer
	var port int
	if isUDP(tb, network) {
		pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		c, port = pc, pc.LocalAddr().(*net.UDPAddr).Port
	} else {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		c, port = l, l.Addr().(*net.TCPAddr).Port
	}
	tb.Cleanup(func() { c.Close() })
	return port
}

// lockPath is the file through which the test processes of the machine
// reserve ports (reserve).
func lockPath() string {
	return fmt.Sprintf("%s/peerster-test-ports-%d.lock", os.TempDir(), os.Getuid())
}
