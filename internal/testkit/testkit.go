// Package testkit holds what the tests of several packages need alike: a
// stdout that a test reads while a node writes it, a free or a held loopback
// port, waits for a condition or a channel, and a slow disk with the posts
// and reads that check nothing waits for it (slowdisk.go).
package testkit

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// SyncBuffer is a stdout that tests read while a node writes it from several
// goroutines.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// FreePort returns a port on 127.0.0.1 that was free a moment ago, for
// "udp" (gossip and UI sockets) or "tcp" (the web server).
func FreePort(tb testing.TB, network string) int {
	tb.Helper()
	c, port := listen(tb, network)
	c.Close()
	return port
}

// HeldPort returns a port on 127.0.0.1 that this process holds, bound (and
// for "tcp" listening), until tb ends: a port another program finds taken.
func HeldPort(tb testing.TB, network string) int {
	tb.Helper()
	c, port := listen(tb, network)
	tb.Cleanup(func() { c.Close() })
	return port
}

// listen binds a socket of network ("udp" or "tcp") to a free port on
// 127.0.0.1.
func listen(tb testing.TB, network string) (io.Closer, int) {
	tb.Helper()
	if network == "udp" {
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		return c, c.LocalAddr().(*net.UDPAddr).Port
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	return l, l.Addr().(*net.TCPAddr).Port
}

// Eventually polls cond until it holds, and returns how long that took; it
// fails tb, saying what did not happen, if within passes first.
func Eventually(tb testing.TB, within time.Duration, what string, cond func() bool) time.Duration {
	tb.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			tb.Fatalf("not done after %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(start)
}
