package gossiper

import (
	"errors"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
)

// A datagram to a port where no socket is bound comes back, on Linux, as an
// *UnreachableError naming the port, from the next ReadFrom.
func TestUDPTransportReportsUnreachablePorts(t *testing.T) {
	tr, nobody := refusingSetup(t)
	if err := tr.WriteTo([]byte("hello"), nobody); err != nil {
		t.Fatal(err)
	}
	if err := tr.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, _, err := tr.ReadFrom(make([]byte, 100))
	var refused *UnreachableError
	if !errors.As(err, &refused) || len(refused.To) != 1 || refused.To[0] != nobody {
		t.Fatalf("ReadFrom returned %v, want an UnreachableError for %s", err, nobody)
	}
}

// After a datagram to a port with no socket, the kernel fails the socket's
// next send with the pending refusal and sends nothing. WriteTo sends again,
// so the datagram goes, and reports the refused address.
func TestUDPTransportSendsThroughAPendingRefusal(t *testing.T) {
	tr, nobody := refusingSetup(t)
	peer := listenLoopback(t)
	if err := tr.WriteTo([]byte("lost"), nobody); err != nil {
		t.Fatal(err)
	}
	var refused *UnreachableError
	testkit.Eventually(t, 5*time.Second, "the refusal comes back with the next send", func() bool {
		err := tr.WriteTo([]byte("hello"), peer.Addr())
		if errors.As(err, &refused) {
			return true
		}
		if err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		return false
	})
	if len(refused.To) != 1 || refused.To[0] != nobody {
		t.Fatalf("refused %v, want %s", refused.To, nobody)
	}
	if err := peer.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 100)
	n, _, err := peer.ReadFrom(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("the peer read %q, %v; want hello", buf[:n], err)
	}
}

// refusingSetup returns a transport on loopback and an address where no
// socket is bound; the kernel reports refusals on Linux only.
func refusingSetup(t *testing.T) (*UDPTransport, string) {
	if runtime.GOOS != "linux" {
		t.Skip("the kernel's error queue is Linux's")
	}
	return listenLoopback(t), "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t, "udp4"))
}

func listenLoopback(t *testing.T) *UDPTransport {
	tr, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return tr
}
