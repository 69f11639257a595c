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
	if runtime.GOOS != "linux" {
		t.Skip("the kernel's error queue is Linux's")
	}
	tr, err := ListenUDP("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	nobody := "127.0.0.1:" + strconv.Itoa(testkit.FreePort(t, "udp4"))
	if err := tr.WriteTo([]byte("hello"), nobody); err != nil {
		t.Fatal(err)
	}
	if err := tr.conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	_, _, err = tr.ReadFrom(make([]byte, 100))
	var refused *UnreachableError
	if !errors.As(err, &refused) || refused.To != nobody {
		t.Fatalf("ReadFrom returned %v, want an UnreachableError for %s", err, nobody)
	}
}
