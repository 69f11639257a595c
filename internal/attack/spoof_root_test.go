package attack

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"testing"
	"time"
)

// TestSpoofedDatagramArrives sends one datagram with a forged source on
// loopback and checks that the receiver sees it come from there. It needs
// a raw socket: without root it skips, except in CI (CI=true), where the
// scripts run as root and a skip would hide a broken spoofer.
func TestSpoofedDatagramArrives(t *testing.T) {
	ci := os.Getenv("CI") == "true"
	if os.Geteuid() != 0 && !ci {
		t.Skip("needs root (or CAP_NET_RAW) for a raw socket")
	}
	sp, err := NewSpoofer()
	if err != nil {
		if errors.Is(err, ErrSpoofNotPermitted) && !ci {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	defer sp.Close()

	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	// The forged source is a port bound by nobody else: this test's own
	// socket, so that a stray answer could reach no other program.
	forged, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer forged.Close()
	from := forged.LocalAddr().(*net.UDPAddr).AddrPort()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()

	payload := Rumor("X", 1, "")
	if err := sp.Send(from, to, payload); err != nil {
		t.Fatal(err)
	}
	if got := sp.Sent(); got != (Count{1, int64(len(payload))}) {
		t.Errorf("spoofer counted %+v", got)
	}
	rx.SetReadDeadline(time.Now().Add(2 * time.Second))
	buf := make([]byte, 1<<16)
	n, src, err := rx.ReadFromUDPAddrPort(buf)
	if err != nil {
		t.Fatalf("no spoofed datagram arrived: %v", err)
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if src != from || string(buf[:n]) != string(payload) {
		t.Errorf("got %x from %s, want %x from %s", buf[:n], src, payload, from)
	}
}
