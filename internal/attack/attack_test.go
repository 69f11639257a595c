package attack

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

func TestPacketsDecode(t *testing.T) {
	p, err := messages.DecodeGossip(Rumor("Z", 7, "x y"))
	if err != nil || p.Rumor == nil || *p.Rumor != (messages.RumorMessage{Origin: "Z", ID: 7, Text: "x y"}) {
		t.Errorf("rumor: %+v, %v", p, err)
	}
	if b := Status(); len(b) != 2 {
		t.Errorf("an empty status is %d bytes (%x), want 2", len(b), b)
	}
	p, err = messages.DecodeGossip(Status(messages.PeerStatus{Identifier: "A", NextID: 4000000000}))
	if err != nil || p.Status == nil || len(p.Status.Want) != 1 || p.Status.Want[0].NextID != 4000000000 {
		t.Errorf("status: %+v, %v", p, err)
	}
	p, err = messages.DecodeGossip(LoopingPrivate("S", "X"))
	if err != nil || p.Private == nil || p.Private.HopLimit != 1<<32-1 || p.Private.Destination != "X" || p.Private.Origin != "S" {
		t.Errorf("private: %+v, %v", p, err)
	}
	m, err := messages.DecodeMessage(ClientPost("hi", "B"))
	if err != nil || m.Text != "hi" || m.Destination != "B" {
		t.Errorf("client post: %+v, %v", m, err)
	}
	// A duplicate of a one-letter origin's first message is the issue's
	// "about 11 bytes".
	if n := len(Rumor("A", 1, "")); n < 8 || n > 12 {
		t.Errorf("a duplicate rumor is %d bytes", n)
	}
}

func TestOriginNames(t *testing.T) {
	names := OriginNames("amp-", 1000, 40)
	seen := map[string]bool{}
	for _, n := range names {
		if len(n) != 40 || seen[n] || strings.ContainsAny(n, " \t\n") {
			t.Fatalf("name %q (len %d, seen %v)", n, len(n), seen[n])
		}
		seen[n] = true
	}
	if short := OriginNames("O", 3, 0); short[2] != "O3-" {
		t.Errorf("names %q", short)
	}
}

// The bytes below were computed apart from this package, from RFC 791 and
// RFC 768 (a Python script, struct.pack and a plain ones' complement sum).
const knownPacket = "45000021000140004011" + "3cc9" + "7f0000017f000001" + // IPv4, checksum 0x3cc9
	"b7df1388000d" + "f297" + "68656c6c6f" // UDP 47071 -> 5000, checksum 0xf297, "hello"

func TestBuildIPv4UDPKnownPacket(t *testing.T) {
	src := netip.MustParseAddrPort("127.0.0.1:47071")
	dst := netip.MustParseAddrPort("127.0.0.1:5000")
	pkt, err := BuildIPv4UDP(src, dst, 1, []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	if got := hex.EncodeToString(pkt); got != knownPacket {
		t.Errorf("packet\n got %s\nwant %s", got, knownPacket)
	}
	// A receiver's check: the header sums to 0xffff with its checksum in,
	// and so do the pseudo-header and the UDP datagram.
	if c := Checksum(pkt[:20]); c != 0 {
		t.Errorf("IP header does not verify: %#04x", c)
	}
	if c := UDPChecksum([4]byte{127, 0, 0, 1}, [4]byte{127, 0, 0, 1}, pkt[20:]); c != 0xffff {
		// With the checksum in place the sum is all ones, whose
		// complement 0 is sent as 0xffff.
		t.Errorf("UDP datagram does not verify: %#04x", c)
	}
	if _, err := BuildIPv4UDP(src, dst, 1, make([]byte, MaxSpoofPayload+1)); err == nil {
		t.Error("a payload past one datagram was taken")
	}
}

func TestChecksumOddLength(t *testing.T) {
	// 0x0102 + 0x0300 = 0x0402, complement 0xfbfd.
	if c := Checksum([]byte{1, 2, 3}); c != 0xfbfd {
		t.Errorf("checksum %#04x, want 0xfbfd", c)
	}
	// Carries fold back in: 0xffff + 0x0001 = 0x0001 after the fold.
	if c := Checksum([]byte{0xff, 0xff, 0, 1}); c != 0xfffe {
		t.Errorf("checksum %#04x, want 0xfffe", c)
	}
}

func TestOnlyLoopback(t *testing.T) {
	sp := &Spoofer{fd: -1} // never reaches the socket
	ok := netip.MustParseAddrPort("127.0.0.1:5000")
	for _, bad := range []string{"127.0.0.2:5000", "[::1]:5000", "0.0.0.0:5000", "127.0.0.1:0"} {
		a := netip.MustParseAddrPort(bad)
		if err := sp.Send(a, ok, nil); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("spoofing from %s: %v", a, err)
		}
		if err := sp.Send(ok, a, nil); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("spoofing to %s: %v", a, err)
		}
	}
	s := listen(t)
	for _, bad := range []string{"[::1]:5000", "0.0.0.0:5000", "127.0.0.1:0"} {
		if err := s.Send(netip.MustParseAddrPort(bad), []byte("x")); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("sending to %s: %v", bad, err)
		}
	}
	if s.Sent() != (Count{}) {
		t.Errorf("refused sends counted: %+v", s.Sent())
	}
	for _, bad := range []string{"http://localhost:80/", "http://[::1]:80/", "http://127.0.0.1/"} {
		if _, _, _, err := GetCapped(http.DefaultClient, bad, nil, 10); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("GET %s: %v", bad, err)
		}
	}
}

func listen(t *testing.T) *Socket {
	t.Helper()
	s, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestVictimCountsArrivals(t *testing.T) {
	victim, sender := listen(t), listen(t)
	if !victim.Addr().Addr().IsLoopback() || victim.Addr().Port() == 0 {
		t.Fatalf("victim at %s", victim.Addr())
	}
	for range 10 {
		if err := sender.Send(victim.Addr(), bytes.Repeat([]byte("v"), 100)); err != nil {
			t.Fatal(err)
		}
	}
	got, quiet := victim.WaitQuiet(200*time.Millisecond, 5*time.Second)
	if !quiet || got != (Count{10, 1000}) {
		t.Errorf("victim counted %+v (quiet %v), want 10 datagrams, 1000 bytes", got, quiet)
	}
	if sender.Sent() != (Count{10, 1000}) || sender.Received() != (Count{}) {
		t.Errorf("sender sent %+v, received %+v", sender.Sent(), sender.Received())
	}
	if victim.LastArrival().IsZero() {
		t.Error("no last arrival")
	}
	// Arrivals that keep coming keep it from being quiet; the limit ends
	// the wait.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
				_ = sender.Send(victim.Addr(), []byte("x"))
			}
		}
	}()
	start := time.Now()
	_, quiet = victim.WaitQuiet(200*time.Millisecond, 500*time.Millisecond)
	close(stop)
	wg.Wait()
	if quiet || time.Since(start) < 500*time.Millisecond {
		t.Errorf("quiet %v after %v while datagrams kept arriving", quiet, time.Since(start))
	}
}

// fakeNode answers like a node: it takes each origin's next rumor, answers
// every rumor with its status, and drops the first copy of the rumors in
// lose (as a full socket would).
type fakeNode struct {
	s      *Socket
	mu     sync.Mutex
	next   map[string]uint32
	lose   map[uint32]bool
	claims int
	texts  map[uint32]string
}

func newFakeNode(t *testing.T, lose ...uint32) *fakeNode {
	f := &fakeNode{s: listen(t), next: map[string]uint32{}, lose: map[uint32]bool{}, texts: map[uint32]string{}}
	for _, id := range lose {
		f.lose[id] = true
	}
	f.s.Tap(func(a Arrival) {
		if a.Packet == nil {
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case a.Packet.Status != nil:
			f.claims++
		case a.Packet.Rumor != nil:
			r := a.Packet.Rumor
			if f.lose[r.ID] {
				delete(f.lose, r.ID)
				return
			}
			if f.next[r.Origin] == 0 {
				f.next[r.Origin] = 1
			}
			if r.ID == f.next[r.Origin] {
				f.next[r.Origin]++
				f.texts[r.ID] = r.Text
			}
			var want []messages.PeerStatus
			for o, n := range f.next {
				want = append(want, messages.PeerStatus{Identifier: o, NextID: n})
			}
			_ = f.s.Send(a.From, Status(want...))
		}
	})
	return f
}

func (f *fakeNode) nextOf(origin string) uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.next[origin]
}

func TestWaitNextID(t *testing.T) {
	node, s := newFakeNode(t), listen(t)
	asked := time.Now()
	if err := s.Send(node.s.Addr(), Rumor("Z", 1, "a")); err != nil {
		t.Fatal(err)
	}
	if next, ok := s.WaitNextID(node.s.Addr(), "Z", asked, 2*time.Second); !ok || next != 2 {
		t.Errorf("next %d, %v; want 2", next, ok)
	}
	if next, at, ok := s.NextID(node.s.Addr(), "other"); !ok || next != 1 || at.Before(asked) {
		t.Errorf("an origin the status leaves out: %d %v %v", next, at, ok)
	}
	if _, ok := s.WaitNextID(node.s.Addr(), "Z", time.Now(), 50*time.Millisecond); ok {
		t.Error("an old status counted as a new one")
	}
}

func TestMemoryFloodResumesAfterLoss(t *testing.T) {
	node, s := newFakeNode(t, 5, 40), listen(t)
	res, err := MemoryFlood(s, node.s.Addr(), Flood{Origin: "Z", Text: strings.Repeat("x", 1000), Count: 200, Duration: 10 * time.Second, Ahead: 8})
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 200 {
		t.Errorf("sent %d, want 200", res.Sent)
	}
	// Each loss costs a resend of at most Ahead rumors.
	testkit.Eventually(t, 5*time.Second, "the node takes Z's rumors up to all but the last two losses' worth", func() bool {
		return node.nextOf("Z") >= 200-2*8
	})
	if next := node.nextOf("Z"); next > 201 {
		t.Errorf("the node took up to %d", next-1)
	}
	if got := s.Sent(); got.Datagrams != 200 || got.Bytes < 200*1000 {
		t.Errorf("counted %+v", got)
	}
}

func TestOwnClaimsForgesTheNextID(t *testing.T) {
	node, s := newFakeNode(t), listen(t)
	// The node has sent three messages of its own.
	for id := uint32(1); id <= 3; id++ {
		_ = s.Send(node.s.Addr(), Rumor("A", id, "own"))
	}
	// The node's answers to those must be in before the attack asks for
	// the next ID, or it may read an older one.
	deadline := time.Now().Add(2 * time.Second)
	for node.nextOf("A") != 4 || s.Received().Datagrams < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("the node holds A up to %d and answered %d times, want 3 and 3", node.nextOf("A")-1, s.Received().Datagrams)
		}
		time.Sleep(time.Millisecond)
	}
	res, err := OwnClaims(s, node.s.Addr(), Claims{Origin: "A", Claim: 4e9, ClaimEvery: 20 * time.Millisecond,
		ForgeEvery: 100 * time.Millisecond, Text: "forged", Duration: 350 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Claims < 10 || res.Claims > 20 || len(res.Forged) < 3 || res.Unanswered != 0 {
		t.Errorf("%+v", res)
	}
	if len(res.Forged) > 0 && res.Forged[0] != 4 {
		t.Errorf("first forged ID %d, want 4", res.Forged[0])
	}
	testkit.Eventually(t, 5*time.Second, fmt.Sprintf("the node sees the %d claims and takes the forged A/4", res.Claims), func() bool {
		node.mu.Lock()
		defer node.mu.Unlock()
		return node.claims >= res.Claims && node.texts[4] == "forged"
	})
	node.mu.Lock()
	defer node.mu.Unlock()
	if node.claims != res.Claims {
		t.Errorf("node saw %d claims, %d were sent", node.claims, res.Claims)
	}
}

func TestHijackRouteForgesTheNextRumor(t *testing.T) {
	node, s := newFakeNode(t), listen(t)
	for id := uint32(1); id <= 5; id++ {
		_ = s.Send(node.s.Addr(), Rumor("B", id, "b"))
	}
	testkit.Eventually(t, 5*time.Second, "the node takes B/1 to B/5", func() bool { return node.nextOf("B") == 6 })
	id, err := HijackRoute(s, node.s.Addr(), "B", time.Second)
	if err != nil || id != 6 {
		t.Fatalf("forged %d, %v; want 6", id, err)
	}
	testkit.Eventually(t, 5*time.Second, "the node takes the forged B/6", func() bool { return node.nextOf("B") == 7 })
}

func TestFillOriginsAndWindow(t *testing.T) {
	node := newFakeNode(t)
	socks := []*Socket{listen(t), listen(t), listen(t)}
	start := time.Now()
	n, err := FillOrigins(socks, node.s.Addr(), OriginNames("o", 30, 0), "hi", 60*time.Millisecond)
	if err != nil || n != 30 || time.Since(start) < 50*time.Millisecond {
		t.Fatalf("sent %d in %v: %v", n, time.Since(start), err)
	}
	for _, s := range socks {
		if s.Sent().Datagrams != 10 {
			t.Errorf("socket sent %d, want 10 each", s.Sent().Datagrams)
		}
	}
	w := listen(t)
	if n, err := FillWindow(w, node.s.Addr(), "W", 100, 60, "w", 5000); err != nil || n != 100 {
		t.Fatalf("window: %d, %v", n, err)
	}
	// The node answers each rumor: once it has answered all, what it did
	// with them shows.
	testkit.Eventually(t, 5*time.Second, "the node answers the 100 rumors of the window", func() bool {
		return w.Received().Datagrams >= 100
	})
	if w.Sent().Datagrams != 100 {
		t.Errorf("sent %d", w.Sent().Datagrams)
	}
	for _, o := range []string{"W1", "W2"} {
		if next := node.nextOf(o); next != 1 {
			t.Errorf("%s advanced to %d without its first rumor", o, next)
		}
	}
}

func TestFirstEvent(t *testing.T) {
	big := strings.Repeat("m", 300<<10) // past the reader's buffer
	stream := "retry: 1000\n\nevent: id\ndata: {\"name\":\"A\"}\n\nid: 1\nevent: message\ndata: [" + big + "]\n\nevent: node\ndata: []\n\n"
	want := int64(len("id: 1\nevent: message\ndata: [" + big + "]\n\n"))
	if n, capped, err := firstEvent(strings.NewReader(stream), "message", 1<<30); err != nil || capped || n != want {
		t.Errorf("size %d (capped %v, %v), want %d", n, capped, err, want)
	}
	if n, capped, err := firstEvent(strings.NewReader(stream), "message", 1000); err != nil || !capped || n != 1000 {
		t.Errorf("limited: %d %v %v", n, capped, err)
	}
	if _, _, err := firstEvent(strings.NewReader("event: id\ndata: x\n\n"), "message", 1000); err == nil {
		t.Error("a stream without the event gave a size")
	}
}

func TestGetCappedAndCrossSite(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Sec-Fetch-Site") == "cross-site" && r.Header.Get("Sec-Fetch-Mode") != "navigate" {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		fmt.Fprint(w, strings.Repeat("a", 5000))
	}))
	defer srv.Close()
	c := srv.Client()
	if st, n, capped, err := GetCapped(c, srv.URL, nil, 1000); err != nil || st != 200 || n != 1000 || !capped {
		t.Errorf("capped: %d %d %v %v", st, n, capped, err)
	}
	if st, n, capped, err := GetCapped(c, srv.URL, nil, 5000); err != nil || st != 200 || n != 5000 || capped {
		t.Errorf("whole: %d %d %v %v", st, n, capped, err)
	}
	if st, err := CrossSiteGET(c, srv.URL+"/message", false); err != nil || st != 403 {
		t.Errorf("cross-site: %d %v", st, err)
	}
	if st, err := CrossSiteGET(c, srv.URL+"/", true); err != nil || st != 200 {
		t.Errorf("navigate: %d %v", st, err)
	}
}
