package web

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/messages"
)

// TestStreamKeepAlive checks that a quiet stream sends a comment once
// keepAlive has passed since its last write, and nothing before.
func TestStreamKeepAlive(t *testing.T) {
	rec := httptest.NewRecorder()
	s := &stream{w: rec, rc: http.NewResponseController(rec), lastWrite: time.Now()}
	if !s.flush(false) || rec.Body.Len() != 0 {
		t.Fatalf("a stream that just wrote sent %q", rec.Body)
	}
	s.lastWrite = time.Now().Add(-keepAlive)
	if !s.flush(false) || rec.Body.String() != ": keep-alive\n\n" {
		t.Fatalf("after %v of quiet the stream sent %q, want a keep-alive comment", keepAlive, rec.Body)
	}
	if !rec.Flushed {
		t.Error("keep-alive not flushed")
	}
	if time.Since(s.lastWrite) > time.Second {
		t.Error("keep-alive does not count as a write")
	}
	rec.Body.Reset()
	if !s.flush(false) || rec.Body.Len() != 0 {
		t.Errorf("right after a keep-alive the stream sent %q", rec.Body)
	}
}

// eventsUntil reads events until one of the given type, and returns them
// all.
func eventsUntil(t *testing.T, ch <-chan sseEvent, last string) []sseEvent {
	t.Helper()
	var evs []sseEvent
	for {
		ev := nextEvent(t, ch)
		evs = append(evs, ev)
		if ev.event == last {
			return evs
		}
	}
}

// kinds lists the events' types.
func kinds(evs []sseEvent) []string {
	var out []string
	for _, ev := range evs {
		out = append(out, ev.event)
	}
	return out
}

func decodeData[T any](t *testing.T, ev sseEvent) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(ev.data), &v); err != nil {
		t.Fatalf("%s event: %v in %.200s", ev.event, err, ev.data)
	}
	return v
}

// TestEventsFirstBatchBounded checks that a stream opened on a node with
// 10,000 messages and 1,000 private ones starts with the newest page of
// each, and that what comes later goes a page at a time.
func TestEventsFirstBatchBounded(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 10000, func(i int) string { return "m" + strconv.Itoa(i+1) })
	f.receivePrivates("B", 1000)
	s := startPage(t, f)
	ch := openEvents(t, s, "")
	evs := eventsUntil(t, ch, "downloads")
	if want := []string{"id", "node", "message", "routes", "private", "alerts", "files", "downloads"}; !slices.Equal(kinds(evs), want) {
		t.Fatalf("stream began with %v, want %v", kinds(evs), want)
	}
	msgs := decodeData[[]message](t, evs[2])
	if len(msgs) != pageLimit || msgs[0].Seq != 9901 || evs[2].id != "10000" {
		t.Errorf("first message event: %d messages from seq %d, id %q; want the newest %d, id 10000", len(msgs), msgs[0].Seq, evs[2].id, pageLimit)
	}
	privs := decodeData[[]privateMessage](t, evs[4])
	if len(privs) != pageLimit || privs[0].Seq != 901 || privs[len(privs)-1].Text != "p1000" {
		t.Errorf("first private event: %d messages from seq %d; want the newest %d", len(privs), privs[0].Seq, pageLimit)
	}

	f.receive("C", 1, "one new")
	ev := nextEvent(t, ch)
	if got := decodeData[[]message](t, ev); ev.event != "message" || ev.id != "10001" || len(got) != 1 || got[0].Text != "one new" {
		t.Errorf("after one new message: %+v", ev)
	}
	// More than a page at once: the browser starts over from the newest.
	f.receiveMany("D", 150, func(i int) string { return "burst" })
	if ev := nextEvent(t, ch); ev.event != "reset" {
		t.Errorf("after 150 new messages: %+v, want a reset", ev)
	}
	ev = nextEvent(t, ch)
	if got := decodeData[[]message](t, ev); ev.event != "message" || ev.id != "10151" || len(got) != pageLimit || got[0].Seq != 10052 {
		t.Errorf("after the reset: %s id %s with %d messages, want the newest %d, id 10151", ev.event, ev.id, len(got), pageLimit)
	}
	// Private messages have no reset: they come a page at a time, all of
	// them.
	f.receivePrivates("C", 250)
	var got []privateMessage
	for len(got) < 250 {
		ev := nextEvent(t, ch)
		page := decodeData[[]privateMessage](t, ev)
		if ev.event != "private" || len(page) > pageLimit || len(page) == 0 {
			t.Fatalf("while 250 private messages came: %s event of %d", ev.event, len(page))
		}
		got = append(got, page...)
	}
	for i, m := range got {
		if m.Seq != uint64(1001+i) {
			t.Fatalf("private message %d of the 250 has seq %d, want %d", i, m.Seq, 1001+i)
		}
	}

	f.setAlerts(gossiper.Alert{Kind: "refused", Text: "Refused.", Count: 1})
	ev = nextEvent(t, ch)
	if a := decodeData[[]alert](t, ev); ev.event != "alerts" || len(a) != 1 || a[0].Kind != "refused" {
		t.Errorf("after an alert: %+v", ev)
	}
	if err := f.AddPeer("127.0.0.1:5001"); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, ch); ev.event != "node" {
		t.Errorf("an unchanged alert was sent again: %+v", ev)
	}
}

// TestEventsFirstBatchBoundedByBytes checks that the first event holds
// messages of the largest size four at a time, about 256 KiB.
func TestEventsFirstBatchBoundedByBytes(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 20, func(i int) string { return strings.Repeat("z", messages.MaxTextBytes) })
	ch := openEvents(t, startPage(t, f), "")
	evs := eventsUntil(t, ch, "message")
	if got := decodeData[[]message](t, evs[len(evs)-1]); len(got) != 4 || got[3].Seq != 20 {
		t.Errorf("first message event holds %d messages of %d bytes, want the newest 4", len(got), messages.MaxTextBytes)
	}
}

// TestEventsReconnect checks what a browser that reconnects with
// Last-Event-ID is sent, on a node with 1,000 messages.
func TestEventsReconnect(t *testing.T) {
	f := newFakeNode("A")
	f.receiveMany("B", 1000, func(i int) string { return "m" + strconv.Itoa(i+1) })
	s := startPage(t, f)
	for _, tc := range []struct {
		lastID string
		reset  bool
		first  uint64 // the seq of the first message sent, 0 for none
		n      int
	}{
		{"995", false, 996, 5},
		{"1000", false, 0, 0},
		{"900", false, 901, 100}, // exactly a page after it
		{"899", true, 901, 100},  // more than a page: the newest page
		{"0", true, 901, 100},
		{"5000", true, 901, 100}, // the node restarted
	} {
		evs := eventsUntil(t, openEvents(t, s, tc.lastID), "message")
		if reset := slices.Contains(kinds(evs), "reset"); reset != tc.reset {
			t.Errorf("Last-Event-ID %s: events %v, reset %v, want %v", tc.lastID, kinds(evs), reset, tc.reset)
		}
		ev := evs[len(evs)-1]
		got := decodeData[[]message](t, ev)
		if ev.id != "1000" || len(got) != tc.n || (tc.n > 0 && got[0].Seq != tc.first) {
			t.Errorf("Last-Event-ID %s: id %s, %d messages, want id 1000 and %d from %d", tc.lastID, ev.id, len(got), tc.n, tc.first)
		}
	}
	// A restarted node with an empty log.
	evs := eventsUntil(t, openEvents(t, startPage(t, newFakeNode("A")), "7"), "message")
	if ev := evs[len(evs)-1]; !slices.Contains(kinds(evs), "reset") || ev.id != "0" || ev.data != "[]" {
		t.Errorf("Last-Event-ID 7 on an empty log: %+v", evs)
	}
}
