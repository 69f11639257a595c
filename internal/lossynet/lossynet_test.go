package lossynet

import (
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRules(t *testing.T) {
	for _, tc := range []struct {
		loss float64
		want string
	}{
		{0.3, "udp dport 5000-5009 numgen random mod 1000 < 300 counter drop"},
		{0.25, "udp dport 5000-5009 numgen random mod 1000 < 250 counter drop"},
		{0.0005, "udp dport 5000-5009 numgen random mod 1000 < 1 counter drop"},
		{0, "udp dport 5000-5009 numgen random mod 1000 < 0 counter drop"},
	} {
		r := rules(5000, 5009, tc.loss)
		if !strings.Contains(r, "\t\tudp dport 5000-5009 counter\n") || !strings.Contains(r, tc.want) {
			t.Errorf("loss %v: the rules lack %q or the counting rule:\n%s", tc.loss, tc.want, r)
		}
	}
}

func TestParseCounters(t *testing.T) {
	listing := `table inet peerster {
	chain input {
		type filter hook input priority filter; policy accept;
		udp dport 5000-5003 counter packets 1234 bytes 99999
		udp dport 5000-5003 numgen random mod 1000 < 300 counter packets 371 bytes 5000 drop
	}
}
`
	total, dropped, err := parseCounters(listing)
	if err != nil || total != 1234 || dropped != 371 {
		t.Errorf("got %d, %d, %v; want 1234, 371", total, dropped, err)
	}
	if _, _, err := parseCounters("table inet peerster {\n}\n"); err == nil {
		t.Error("a listing without counters parsed")
	}
}

// TestNamespace makes a namespace dropping half the datagrams to two ports,
// sends 200 datagrams inside it, and checks the counters against what
// arrived; a page listening inside it is reached through HTTPClient, and a
// listener of the process's own namespace is not.
func TestNamespace(t *testing.T) {
	if why := Unavailable(); why != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	n, err := New("peerster-lossynet-test-", 5000, 5001, 0.5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Delete(); err != nil {
			t.Error(err)
		}
	})
	if _, err := os.Stat("/run/netns/" + n.Name); err != nil || !strings.HasSuffix(n.Name, strconv.Itoa(os.Getpid())) {
		t.Fatalf("namespace %q: %v", n.Name, err)
	}

	// A page of the process's own namespace, and one on the same port
	// inside the namespace.
	hostPage, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, hostPage, "outside")

	// Datagrams inside the namespace: to 5001, in the range, and 5002,
	// out of it (neither counted nor dropped).
	var in, out net.PacketConn
	var page net.Listener
	if err := n.do(func() error {
		var err error
		if in, err = net.ListenPacket("udp4", "127.0.0.1:5001"); err != nil {
			return err
		}
		if out, err = net.ListenPacket("udp4", "127.0.0.1:5002"); err != nil {
			return err
		}
		page, err = net.Listen("tcp4", hostPage.Addr().String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	defer out.Close()
	const sent = 200
	for range sent {
		for _, to := range []net.Addr{in.LocalAddr(), out.LocalAddr()} {
			if _, err := in.WriteTo([]byte("datagram"), to); err != nil {
				t.Fatal(err)
			}
		}
	}
	// receive reads up to want datagrams from c, within 5 s.
	receive := func(c net.PacketConn, want int) int {
		buf := make([]byte, 64)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for k := range want {
			if _, _, err := c.ReadFrom(buf); err != nil {
				return k
			}
		}
		return want
	}
	// Each datagram to 5002 was sent after the one to 5001: once all have
	// arrived, nftables has seen every datagram to 5001.
	if got := receive(out, sent); got != sent {
		t.Fatalf("%d of %d datagrams to a port outside the range arrived", got, sent)
	}
	total, dropped, err := n.Counters()
	if err != nil {
		t.Fatal(err)
	}
	gotIn := receive(in, int(total-dropped))
	t.Logf("sent %d datagrams to each port: %d of those to the lossy one arrived; nftables counted %d, dropped %d", sent, gotIn, total, dropped)
	if total != sent || dropped < sent/4 || dropped > 3*sent/4 || int64(gotIn) != total-dropped {
		t.Errorf("counted %d, dropped %d, arrived %d of %d sent to the lossy port; want all counted, about half dropped, the rest arrived",
			total, dropped, gotIn, sent)
	}

	// The page inside, reached from outside the namespace through it; the
	// process's own client reaches the page outside.
	serve(t, page, "inside")
	url := "http://" + page.Addr().String() + "/"
	for _, tc := range []struct {
		client *http.Client
		want   string
	}{{n.HTTPClient(), "inside"}, {&http.Client{Timeout: 5 * time.Second}, "outside"}} {
		resp, err := tc.client.Get(url)
		if err != nil {
			t.Fatalf("GET %s (%s wanted): %v", url, tc.want, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != tc.want {
			t.Errorf("GET %s: %q, want %q", url, body, tc.want)
		}
	}
}

// serve answers every request on l with body, until the test ends.
func serve(t *testing.T, l net.Listener, body string) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}
