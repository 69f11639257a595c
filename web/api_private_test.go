package web

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

func TestPrivateShapes(t *testing.T) {
	f := newFakeNode("A")
	f.addRoute("C", "127.0.0.1:5001")
	f.addRoute("B", "127.0.0.1:5001")
	f.receivePrivate("B", "psst", 9)

	// The exact bytes: scripts depend on the field names.
	for _, tc := range []struct{ target, want string }{
		{"/routes", `[{"origin":"B","nextHop":"127.0.0.1:5001"},{"origin":"C","nextHop":"127.0.0.1:5001"}]`},
		{"/private?with=B", `[{"origin":"B","destination":"A","text":"psst","hopLimit":9,"sent":false,"time":"2024-05-01T12:02:00Z","with":"B","seq":1}]`},
		{"/private", `[{"origin":"B","destination":"A","text":"psst","hopLimit":9,"sent":false,"time":"2024-05-01T12:02:00Z","with":"B","seq":1}]`},
		{"/private?with=C", `[]`},
		{"/private?with=nobody", `[]`},
	} {
		w := do(t, f, "GET", tc.target, "", nil)
		if w.Code != http.StatusOK || w.Body.String() != tc.want+"\n" {
			t.Errorf("GET %s = %d %s, want %s", tc.target, w.Code, w.Body, tc.want)
		}
	}
	if w := do(t, newFakeNode("A"), "GET", "/routes", "", nil); w.Body.String() != "[]\n" {
		t.Errorf("GET /routes with no route = %s, want []", w.Body)
	}
}

func TestPostPrivate(t *testing.T) {
	f := newFakeNode("A")
	f.addRoute("B", "127.0.0.1:5001")
	f.receivePrivate("B", "hello A", 10)
	got := decodeJSON[privateMessage](t, do(t, f, "POST", "/private", `{"destination":"B","text":"hello B"}`, nil), 200)
	want := privateMessage{Origin: "A", Destination: "B", Text: "hello B", HopLimit: 10, Sent: true,
		Time: time.Date(2024, 5, 1, 12, 1, 0, 0, time.UTC), With: "B"}
	if got != want {
		t.Errorf("POST /private = %+v, want %+v", got, want)
	}
	conv := decodeJSON[[]privateMessage](t, do(t, f, "GET", "/private?with=B", "", nil), 200)
	if len(conv) != 2 || conv[0].Sent || !conv[1].Sent || conv[1].Text != "hello B" {
		t.Errorf("conversation with B, oldest first: %+v", conv)
	}
}

// TestPrivateBadRequests covers every way a request about private messages
// can be wrong; none may send anything.
func TestPrivateBadRequests(t *testing.T) {
	long := strings.Repeat("x", messages.MaxTextBytes+1)
	longName := strings.Repeat("n", messages.MaxNameBytes+1)
	tests := []struct {
		name         string
		method, path string
		body         string
		hdr          map[string]string
		status       int
		says         string
	}{
		{"no route", "POST", "/private", `{"destination":"Z","text":"hi"}`, nil, 409, `no route to "Z": this node has not heard from it yet`},
		{"destination with a space", "POST", "/private", `{"destination":"a b","text":"hi"}`, nil, 400, "destination: name \"a b\" contains white space"},
		{"empty destination", "POST", "/private", `{"destination":"","text":"hi"}`, nil, 400, "destination: name is empty"},
		{"destination too long", "POST", "/private", `{"destination":"` + longName + `","text":"hi"}`, nil, 400, "more than"},
		{"own name", "POST", "/private", `{"destination":"A","text":"hi"}`, nil, 400, `"A" is this node's own name`},
		{"empty text", "POST", "/private", `{"destination":"B","text":""}`, nil, 400, "message is empty"},
		{"text over the limit", "POST", "/private", `{"destination":"B","text":"` + long + `"}`, nil, 400, "more than the limit"},
		{"missing destination", "POST", "/private", `{"text":"hi"}`, nil, 400, `missing "destination"; send {"destination":"NAME","text":"..."}`},
		{"missing text", "POST", "/private", `{"destination":"B"}`, nil, 400, `missing "text"; send`},
		{"missing both", "POST", "/private", `{}`, nil, 400, `missing "destination" and "text"`},
		{"null destination", "POST", "/private", `{"destination":null,"text":"hi"}`, nil, 400, `missing "destination"`},
		{"destination a number", "POST", "/private", `{"destination":5,"text":"hi"}`, nil, 400, `"destination" must be a JSON string`},
		{"misspelt field", "POST", "/private", `{"dest":"B","text":"hi"}`, nil, 400, `unknown field "dest"`},
		{"not JSON", "POST", "/private", `hi`, nil, 400, "not valid JSON"},

		{"foreign origin", "POST", "/private", `{"destination":"B","text":"hi"}`, map[string]string{"Origin": "http://evil.example"}, 403, "origin"},
		{"cross-site fetch", "POST", "/private", `{"destination":"B","text":"hi"}`, map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": ""}, 403, "cross-site"},
		{"text/plain", "POST", "/private", `{"destination":"B","text":"hi"}`, map[string]string{"Content-Type": "text/plain"}, 415, "application/json"},
		{"rebound host", "GET", "/private", "", map[string]string{"Host": "evil.example:8080"}, 403, "not this node's address"},
		{"rebound host on routes", "GET", "/routes", "", map[string]string{"Host": "evil.example:8080"}, 403, "not this node's address"},

		{"empty with", "GET", "/private?with=", "", nil, 400, "with= is empty"},
		{"with too long", "GET", "/private?with=" + longName, "", nil, 400, "longer than any name"},
		{"PUT private", "PUT", "/private", `{"destination":"B","text":"hi"}`, nil, 405, "method not allowed"},
		{"POST routes", "POST", "/routes", `{}`, nil, 405, "use GET"},
		{"DELETE routes", "DELETE", "/routes", ``, nil, 405, "use GET"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNode("A")
			f.addRoute("B", "127.0.0.1:5001")
			w := do(t, f, tc.method, tc.path, tc.body, tc.hdr)
			got := decodeJSON[apiError](t, w, tc.status)
			if !strings.Contains(got.Error, tc.says) {
				t.Errorf("error %q does not say %q", got.Error, tc.says)
			}
			if tc.status == 405 && w.Header().Get("Allow") == "" {
				t.Error("405 without an Allow header")
			}
			if sent, _ := f.PrivatesSince(0); len(sent) != 0 {
				t.Errorf("a refused request sent %+v", sent)
			}
		})
	}
}

func TestPostPrivateWhenNodeCannotSend(t *testing.T) {
	f := newFakeNode("A")
	f.addRoute("B", "127.0.0.1:5001")
	f.postErr = gossiper.ErrClosed
	got := decodeJSON[apiError](t, do(t, f, "POST", "/private", `{"destination":"B","text":"hi"}`, nil), http.StatusServiceUnavailable)
	if got.Error != "node is closed" {
		t.Errorf("error %q", got.Error)
	}
}

// TestPrivateRealNodes sends a private message through the API along a line
// of real gossipers, A-B-C, which learn their routes from route rumors.
func TestPrivateRealNodes(t *testing.T) {
	net := gossiper.NewMemNetwork(1)
	trA, _ := net.Listen("127.0.0.1:5000")
	trB, _ := net.Listen("127.0.0.1:5001")
	trC, _ := net.Listen("127.0.0.1:5002")
	a, _ := runRouted(t, trA, "A", "127.0.0.1:5001")
	b, _ := runRouted(t, trB, "B", "127.0.0.1:5000", "127.0.0.1:5002")
	c, outC := runRouted(t, trC, "C", "127.0.0.1:5001")
	hA, hB, hC := NewHandler(a, Options{Addr: pageAddr}), NewHandler(b, Options{Addr: pageAddr}), NewHandler(c, Options{Addr: pageAddr})

	testkit.Eventually(t, 5*time.Second, "A never learned routes to B and C", func() bool {
		rs := decodeJSON[[]route](t, serve(t, hA, "GET", "/routes", "", nil), 200)
		return len(rs) == 2 && rs[1] == route{Origin: "C", NextHop: "127.0.0.1:5001"}
	})
	p := decodeJSON[privateMessage](t, serve(t, hA, "POST", "/private", `{"destination":"C","text":"for C only"}`, nil), 200)
	if p.Origin != "A" || p.Destination != "C" || p.HopLimit != 10 || !p.Sent || p.With != "C" || time.Since(p.Time) > time.Minute {
		t.Errorf("POST /private = %+v", p)
	}
	testkit.Eventually(t, 5*time.Second, "C never got the private message", func() bool {
		return strings.Contains(outC.String(), "PRIVATE origin A hop-limit 9 contents for C only\n")
	})
	got := decodeJSON[[]privateMessage](t, serve(t, hC, "GET", "/private?with=A", "", nil), 200)
	if len(got) != 1 || got[0].Sent || got[0].HopLimit != 9 || got[0].Text != "for C only" {
		t.Errorf("C's conversation with A: %+v", got)
	}
	if got := decodeJSON[[]privateMessage](t, serve(t, hB, "GET", "/private", "", nil), 200); len(got) != 0 {
		t.Errorf("B, which only forwarded it, shows %+v", got)
	}

	e := decodeJSON[apiError](t, serve(t, hA, "POST", "/private", `{"destination":"Z","text":"hi"}`, nil), http.StatusConflict)
	if e.Error != `no route to "Z": this node has not heard from it yet` {
		t.Errorf("no route: error %q", e.Error)
	}
	a.Close()
	e = decodeJSON[apiError](t, serve(t, hA, "POST", "/private", `{"destination":"C","text":"hi"}`, nil), http.StatusServiceUnavailable)
	if e.Error != "node is closed" {
		t.Errorf("closed node: error %q", e.Error)
	}
}

func TestEventsPrivate(t *testing.T) {
	f := newFakeNode("A")
	f.receivePrivate("B", "one", 10)
	s := startPage(t, f)
	ch := openEvents(t, s, "")
	for range 3 {
		nextEvent(t, ch) // id, node, message
	}
	if got := nextEvent(t, ch); got != (sseEvent{"", "routes", `[]`}) {
		t.Errorf("first routes event %+v", got)
	}
	if got := nextEvent(t, ch); got.event != "private" || got.id != "" || !strings.Contains(got.data, `"text":"one"`) {
		t.Errorf("first private event %+v, want every private message", got)
	}
	if got := nextEvent(t, ch); got != (sseEvent{"", "alerts", `[]`}) {
		t.Errorf("first alerts event %+v", got)
	}
	nextEvent(t, ch) // files
	nextEvent(t, ch) // downloads
	f.addRoute("B", "127.0.0.1:5001")
	if got := nextEvent(t, ch); got != (sseEvent{"", "routes", `[{"origin":"B","nextHop":"127.0.0.1:5001"}]`}) {
		t.Errorf("after a new route: %+v", got)
	}
	f.receivePrivate("B", "two", 10)
	if got := nextEvent(t, ch); got.event != "private" || strings.Contains(got.data, `"one"`) || !strings.Contains(got.data, `"text":"two"`) {
		t.Errorf("after a new private message: %+v, want only the new one", got)
	}

	// A browser that reconnects is sent them all again, whatever its
	// Last-Event-ID, and replaces what it holds.
	again := openEvents(t, s, "0")
	for range 4 {
		nextEvent(t, again)
	}
	if got := nextEvent(t, again); got.event != "private" || !strings.Contains(got.data, `"one"`) || !strings.Contains(got.data, `"two"`) {
		t.Errorf("on reconnecting: %+v", got)
	}
}
