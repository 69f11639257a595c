package web

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
	"github.com/peerster/Peerster/messages"
)

// linkRE reads one link of a Link header.
var linkRE = regexp.MustCompile(`<([^>]*)>; rel="([a-z]+)"`)

// pageLinks returns a page's links by their rel, and fails the test on a
// Link header it cannot read.
func pageLinks(t *testing.T, w interface{ Header() http.Header }) map[string]string {
	t.Helper()
	out := map[string]string{}
	h := w.Header().Get("Link")
	if h == "" {
		return out
	}
	for _, part := range strings.Split(h, ", ") {
		m := linkRE.FindStringSubmatch(part)
		if m == nil {
			t.Fatalf("Link %q: cannot read %q", h, part)
		}
		if _, dup := out[m[2]]; dup {
			t.Fatalf("Link %q: rel %q twice", h, m[2])
		}
		out[m[2]] = m[1]
	}
	return out
}

func seqsOf(ms []message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func textBytes(ms []message) int {
	n := 0
	for _, m := range ms {
		n += len(m.Origin) + len(m.Text)
	}
	return n
}

// TestMessagePageBoundedByCount checks that a node holding 10,000 messages
// answers the newest 100, and at most 500 when asked for more.
func TestMessagePageBoundedByCount(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 10000, func(i int) string { return "m" + strconv.Itoa(i+1) })
	h := NewHandler(f, Options{Addr: pageAddr})

	w := serve(t, h, "GET", "/message", "", nil)
	got := decodeJSON[[]message](t, w, 200)
	if len(got) != pageLimit || got[0].Seq != 9901 || got[len(got)-1].Seq != 10000 {
		t.Fatalf("GET /message of 10,000 gave %d messages, seq %v..., want the newest %d", len(got), seqsOf(got)[:min(3, len(got))], pageLimit)
	}
	if l := pageLinks(t, w); l["prev"] != "/message?before=9901" || l["next"] != "" {
		t.Errorf("newest page's links %v, want only prev before=9901", l)
	}
	got = decodeJSON[[]message](t, serve(t, h, "GET", "/message?limit=500&since=0", "", nil), 200)
	if len(got) != 500 || got[0].Seq != 1 {
		t.Errorf("limit=500 since=0 gave %d messages from seq %d, want 500 from 1", len(got), got[0].Seq)
	}
	for _, target := range []string{"/message?limit=501", "/message?limit=1000000"} {
		decodeJSON[apiError](t, serve(t, h, "GET", target, "", nil), 400)
	}
}

// TestMessagePageBoundedByBytes checks that messages of the largest size
// come four to a page, about 256 KiB, however many are asked for, and that a
// page always holds one.
func TestMessagePageBoundedByBytes(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 20, func(i int) string { return strings.Repeat(string(rune('a'+i)), messages.MaxTextBytes) })
	h := NewHandler(f, Options{Addr: pageAddr})
	for _, target := range []string{"/message", "/message?limit=500", "/message?after=0&limit=500", "/message?before=20&limit=500"} {
		w := serve(t, h, "GET", target, "", nil)
		got := decodeJSON[[]message](t, w, 200)
		if len(got) != 4 || textBytes(got) > pageBytes {
			t.Errorf("GET %s gave %d messages of %d bytes, want 4 within %d", target, len(got), textBytes(got), pageBytes)
		}
		if w.Body.Len() > pageBytes+64<<10 {
			t.Errorf("GET %s answered %d bytes", target, w.Body.Len())
		}
	}
	if got := decodeJSON[[]message](t, serve(t, h, "GET", "/message?limit=1", "", nil), 200); len(got) != 1 || got[0].Seq != 20 {
		t.Errorf("limit=1 gave %v", seqsOf(got))
	}
}

// walk follows the rel links of pages from target until there are none,
// and returns every seq seen, in the order seen.
func walk(t *testing.T, h http.Handler, target, rel string) []uint64 {
	t.Helper()
	var seen []uint64
	for pages := 0; target != ""; pages++ {
		if pages > 1000 {
			t.Fatalf("walking %s links: still going after 1000 pages", rel)
		}
		w := serve(t, h, "GET", target, "", nil)
		got := decodeJSON[[]message](t, w, 200)
		if len(got) == 0 {
			t.Fatalf("GET %s: an empty page, linked from the one before", target)
		}
		if !slices.IsSortedFunc(got, func(a, b message) int { return int(a.Seq) - int(b.Seq) }) {
			t.Fatalf("GET %s: not oldest first: %v", target, seqsOf(got))
		}
		if rel == "prev" {
			seen = append(seqsOf(got), seen...)
		} else {
			seen = append(seen, seqsOf(got)...)
		}
		target = pageLinks(t, w)[rel]
	}
	return seen
}

// TestMessageCursorsWalkTheLog walks a log with gaps (messages the node
// forgot) back from the newest page and forward from the first, by the
// Link headers: both must see every message kept once, in order.
func TestMessageCursorsWalkTheLog(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 1000, func(i int) string { return strings.Repeat("x", (i*7919)%3000) })
	f.forget(func(e gossiper.Entry) bool { return e.Seq <= 30 || e.Seq%7 == 0 || (e.Seq > 500 && e.Seq < 560) })
	var want []uint64
	for _, e := range f.LogSince(0) {
		want = append(want, e.Seq)
	}
	h := NewHandler(f, Options{Addr: pageAddr})
	for _, start := range []struct{ target, rel string }{
		{"/message?limit=37", "prev"},
		{"/message", "prev"},
		{"/message?after=0&limit=37", "next"},
		{"/message?since=0&limit=41", "next"},
		{"/message?after=0", "next"},
	} {
		if got := walk(t, h, start.target, start.rel); !slices.Equal(got, want) {
			t.Errorf("from %s by rel=%s: saw %d messages, want the %d kept, each once, in order", start.target, start.rel, len(got), len(want))
		}
	}
}

// TestMessagePageLinks checks the links of pages in the middle and at the
// ends of a log, and of empty pages.
func TestMessagePageLinks(t *testing.T) {
	f := newFakeNode("A")
	for i := range 5 {
		f.receive("B", uint32(i+1), "m")
	}
	h := NewHandler(f, Options{Addr: pageAddr})
	for _, tc := range []struct {
		target     string
		seqs       []uint64
		prev, next string
	}{
		{"/message?limit=2", []uint64{4, 5}, "/message?before=4&limit=2", ""},
		{"/message?before=4&limit=2", []uint64{2, 3}, "/message?before=2&limit=2", "/message?after=3&limit=2"},
		{"/message?before=2&limit=2", []uint64{1}, "", "/message?after=1&limit=2"},
		{"/message?after=0&limit=2", []uint64{1, 2}, "", "/message?after=2&limit=2"},
		{"/message?after=2", []uint64{3, 4, 5}, "/message?before=3", ""},
		{"/message?since=3", []uint64{4, 5}, "/message?before=4", ""},
		{"/message?after=5", []uint64{}, "/message?before=6", ""},
		{"/message?after=99", []uint64{}, "/message?before=100", ""},
		{"/message?before=1", []uint64{}, "", "/message?after=0"},
		{"/message?before=99", []uint64{1, 2, 3, 4, 5}, "", ""},
	} {
		w := serve(t, h, "GET", tc.target, "", nil)
		got := decodeJSON[[]message](t, w, 200)
		if !slices.Equal(seqsOf(got), tc.seqs) {
			t.Errorf("GET %s gave %v, want %v", tc.target, seqsOf(got), tc.seqs)
		}
		l := pageLinks(t, w)
		if l["prev"] != tc.prev || l["next"] != tc.next {
			t.Errorf("GET %s: links %v, want prev %q next %q", tc.target, l, tc.prev, tc.next)
		}
	}
	if w := serve(t, NewHandler(newFakeNode("A"), Options{Addr: pageAddr}), "GET", "/message", "", nil); w.Header().Get("Link") != "" {
		t.Errorf("an empty log's page links %q", w.Header().Get("Link"))
	}
}

func TestPageBadParams(t *testing.T) {
	for _, tc := range []struct{ target, says string }{
		{"/message?limit=0", "limit=\"0\" is not a number of messages from 1 to 500"},
		{"/message?limit=501", "from 1 to 500"},
		{"/message?limit=x", "limit=\"x\""},
		{"/message?limit=", "limit=\"\""},
		{"/message?limit=-3", "limit=\"-3\""},
		{"/message?before=0", "before=\"0\" is not a message's seq (1 or more)"},
		{"/message?before=-1", "before=\"-1\""},
		{"/message?before=x", "before=\"x\""},
		{"/message?before=", "before=\"\""},
		{"/message?before=18446744073709551616", "before="},
		{"/message?after=-1", "after=\"-1\" is not a message's seq (0 or more)"},
		{"/message?after=1.5", "after=\"1.5\""},
		{"/message?since=x", "since=\"x\""},
		{"/message?since=-1", "since="},
		{"/message?before=3&after=1", "give before= or after=, not both"},
		{"/message?before=3&since=1", "not both"},
		{"/message?after=1&since=1", "since= is the old name of after="},
		{"/private?limit=0", "limit="},
		{"/private?before=x", "before="},
		{"/private?after=1", "after= is not offered here"},
	} {
		w := do(t, newFakeNode("A"), "GET", tc.target, "", nil)
		if got := decodeJSON[apiError](t, w, 400); !strings.Contains(got.Error, tc.says) {
			t.Errorf("GET %s: error %q does not say %q", tc.target, got.Error, tc.says)
		}
	}
}

// TestForgedIsNotOwn checks that a message under the node's own name that
// it did not write is shown forged and never as the user's.
func TestForgedIsNotOwn(t *testing.T) {
	f := newFakeNode("A")
	h := NewHandler(f, Options{Addr: pageAddr})
	decodeJSON[posted](t, serve(t, h, "POST", "/message", `{"text":"mine"}`, nil), 200)
	f.receiveEntry(gossiper.Entry{Origin: "A", ID: 2, Text: "not mine", Forged: true})
	got := decodeJSON[[]message](t, serve(t, h, "GET", "/message", "", nil), 200)
	if len(got) != 2 || !got[0].Own || got[0].Forged || got[1].Own || !got[1].Forged {
		t.Errorf("own and forged marks %+v, want the first own, the second forged and not own", got)
	}
}

func TestAlertsShape(t *testing.T) {
	f := newFakeNode("A")
	if w := do(t, f, "GET", "/alerts", "", nil); w.Code != 200 || w.Body.String() != "[]\n" {
		t.Errorf("GET /alerts with none = %d %s, want []", w.Code, w.Body)
	}
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	f.setAlerts(gossiper.Alert{Kind: "impersonation", Text: "Someone writes as A.", First: at, Last: at.Add(time.Minute), Count: 3})
	want := `[{"kind":"impersonation","text":"Someone writes as A.","first":"2024-05-01T10:00:00Z","last":"2024-05-01T10:01:00Z","count":3}]` + "\n"
	if w := do(t, f, "GET", "/alerts", "", nil); w.Body.String() != want {
		t.Errorf("GET /alerts = %s, want %s", w.Body, want)
	}
	if w := do(t, f, "POST", "/alerts", `{}`, nil); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /alerts: %d", w.Code)
	}
}

// TestPrivatePages checks that /private answers a page, by count and by
// bytes, and that before= walks a conversation back without a gap.
func TestPrivatePages(t *testing.T) {
	f := newFakeNode("A")
	for i := range 250 {
		from := "B"
		if i%3 == 0 {
			from = "C"
		}
		f.receivePrivate(from, fmt.Sprintf("p%d", i+1), 10)
	}
	h := NewHandler(f, Options{Addr: pageAddr})
	w := serve(t, h, "GET", "/private", "", nil)
	if got := decodeJSON[[]privateMessage](t, w, 200); len(got) != pageLimit || got[len(got)-1].Seq != 250 {
		t.Errorf("GET /private of 250 gave %d, want the newest %d", len(got), pageLimit)
	}
	if l := pageLinks(t, w); l["prev"] != "/private?before=151" {
		t.Errorf("links %v", l)
	}
	var seen []uint64
	for target := "/private?with=B&limit=30"; target != ""; {
		w := serve(t, h, "GET", target, "", nil)
		got := decodeJSON[[]privateMessage](t, w, 200)
		var page []uint64
		for _, m := range got {
			if m.With != "B" {
				t.Fatalf("GET %s holds a message with %s", target, m.With)
			}
			page = append(page, m.Seq)
		}
		seen = append(page, seen...)
		target = pageLinks(t, w)["prev"]
		if target != "" && !strings.Contains(target, "with=B") {
			t.Fatalf("link %q lost with=", target)
		}
	}
	var want []uint64
	for i := range 250 {
		if i%3 != 0 {
			want = append(want, uint64(i+1))
		}
	}
	if !slices.Equal(seen, want) {
		t.Errorf("walking back B's conversation saw %v, want %v", seen, want)
	}

	big := newFakeNode("A")
	for range 10 {
		big.receivePrivate("B", strings.Repeat("y", messages.MaxTextBytes), 10)
	}
	if got := decodeJSON[[]privateMessage](t, do(t, big, "GET", "/private?with=B&limit=500", "", nil), 200); len(got) != 4 {
		t.Errorf("private messages of the largest size: %d to a page, want 4", len(got))
	}
}

// TestPrivatePagesRealNode pages through the private messages a real node
// keeps, past its bound of 10,000, where it forgets the oldest.
func TestPrivatePagesRealNode(t *testing.T) {
	net := gossiper.NewMemNetwork(1)
	tr, _ := net.Listen("127.0.0.1:5000")
	cfg := gossiper.DefaultConfig()
	cfg.Name = "A"
	node := gossiper.NewNode(cfg, tr, &testkit.SyncBuffer{}, nil)
	t.Cleanup(node.Close)
	var restored []gossiper.PrivateEntry
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for i := range 10050 {
		from := "B"
		if i%2 == 0 {
			from = "C"
		}
		restored = append(restored, gossiper.PrivateEntry{Origin: from, Destination: "A", Text: strconv.Itoa(i + 1), HopLimit: 10, At: at})
	}
	node.RestorePrivate(restored)
	kept, _ := node.PrivatesSince(0)
	h := NewHandler(node, Options{Addr: pageAddr})

	var texts []string
	for target := "/private?limit=500"; target != ""; {
		w := serve(t, h, "GET", target, "", nil)
		got := decodeJSON[[]privateMessage](t, w, 200)
		var page []string
		for i, m := range got {
			if m.Text != strconv.FormatUint(m.Seq, 10) {
				t.Fatalf("message %q numbered %d", m.Text, m.Seq)
			}
			if i > 0 && m.Seq != got[i-1].Seq+1 {
				t.Fatalf("GET %s: a gap between %d and %d", target, got[i-1].Seq, m.Seq)
			}
			page = append(page, m.Text)
		}
		texts = append(page, texts...)
		target = pageLinks(t, w)["prev"]
	}
	if len(texts) != len(kept) || texts[0] != kept[0].Text || texts[len(texts)-1] != "10050" {
		t.Errorf("walked %d private messages, from %q; the node keeps %d, from %q", len(texts), texts[0], len(kept), kept[0].Text)
	}
	got := decodeJSON[[]privateMessage](t, serve(t, h, "GET", "/private?with=B&limit=3", "", nil), 200)
	if len(got) != 3 || got[0].Text != "10046" || got[2].Text != "10050" {
		t.Errorf("B's newest three: %+v", got)
	}
	got = decodeJSON[[]privateMessage](t, serve(t, h, "GET", "/private?with=C&limit=2&before=10049", "", nil), 200)
	if len(got) != 2 || got[0].Text != "10045" || got[1].Text != "10047" {
		t.Errorf("C's two before 10049: %+v", got)
	}
}
