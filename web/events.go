package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// The event stream re-reads the node's state at least this often, so that
// a change the node does not signal on Changed still reaches the page within
// a second, and sends a comment when it has been quiet for keepAlive, so that
// a dead connection is noticed.
const (
	recheck   = time.Second
	keepAlive = 15 * time.Second
)

// events streams the node's state as Server-Sent Events:
//
//	event: id       data: {"name":"A"}           at start and on each change
//	event: node     data: ["127.0.0.1:5001"]     at start and on each change
//	event: message  data: [{...}, ...]           the messages not sent yet
//	event: reset    data: {}                     forget the messages shown
//	event: routes   data: [{"origin":"B",...}]   at start and on each change
//	event: private  data: [{...}, ...]           private messages, see below
//
// A message event's id is the number of messages sent so far, so a browser
// that reconnects (it sends that id as Last-Event-ID) gets only the rest.
// Private events carry no id, which would take the place of the messages'
// one: the first of each stream holds every private message kept and
// replaces what the browser holds, the next ones only the new messages.
// The node keeps a bounded number of private messages (see the gossiper's
// maxPrivateKept), so a reconnect sends at most that many again.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		getOnly(w)
		return
	}
	sent, ok := lastEventID(w, r)
	if !ok {
		return
	}
	s := h.openStream(w, sent)
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		// Taken before reading, so that a change made while we read is
		// not missed.
		changed := h.node.Changed()
		if !s.flush(s.update()) {
			return
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
	}
}

// lastEventID returns how many messages a reconnecting browser has already
// been sent, 0 for a new one. It answers the request itself and returns
// false when the header is not a count.
func lastEventID(w http.ResponseWriter, r *http.Request) (int, bool) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		return 0, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		writeError(w, http.StatusBadRequest, "Last-Event-ID "+quote(s)+" is not a count of messages")
		return 0, false
	}
	return n, true
}

// stream is one open event stream and what it has told its browser.
type stream struct {
	h         *handler
	w         http.ResponseWriter
	rc        *http.ResponseController
	name      string
	peers     []string
	routes    []route
	sent      int  // messages sent, the id of the last message event
	privates  int  // the count of private messages to ask from next
	first     bool // nothing sent yet: every event goes out
	lastWrite time.Time
}

// openStream starts the stream's response, for a browser that has been
// sent the first sent messages.
func (h *handler) openStream(w http.ResponseWriter, sent int) *stream {
	s := &stream{h: h, w: w, rc: http.NewResponseController(w), sent: sent, first: true}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// A browser reconnects after this many milliseconds when the stream
	// breaks, which keeps a restarted node's page live within a second.
	fmt.Fprint(w, "retry: 1000\n\n")

	if all := h.logSince(0); sent > len(all) {
		// The node restarted with a shorter log than the page holds.
		writeEvent(w, "reset", "", struct{}{})
		s.sent = 0
	}
	s.lastWrite = time.Now()
	return s
}

// update writes an event for each part of the node's state that changed
// since the last update, and reports whether it wrote any.
func (s *stream) update() bool {
	node := s.h.node
	wrote := false
	if n := node.Name(); s.first || n != s.name {
		s.name = n
		writeEvent(s.w, "id", "", identity{Name: n})
		wrote = true
	}
	if p := s.h.peers(); s.first || !slices.Equal(p, s.peers) {
		s.peers = p
		writeEvent(s.w, "node", "", p)
		wrote = true
	}
	if entries := s.h.logSince(s.sent); s.first || len(entries) > 0 {
		s.sent += len(entries)
		writeEvent(s.w, "message", strconv.Itoa(s.sent), s.h.messages(entries))
		wrote = true
	}
	if rs := routesOf(node.Routes()); s.first || !slices.Equal(rs, s.routes) {
		s.routes = rs
		writeEvent(s.w, "routes", "", rs)
		wrote = true
	}
	if entries, next := node.PrivatesSince(s.privates); s.first || len(entries) > 0 {
		s.privates = next
		writeEvent(s.w, "private", "", privateMessages(entries))
		wrote = true
	}
	s.first = false
	return wrote
}

// flush sends what update wrote, or a keep-alive comment when the stream
// has been quiet for keepAlive. It returns false once the browser is gone.
func (s *stream) flush(wrote bool) bool {
	if !wrote && time.Since(s.lastWrite) >= keepAlive {
		fmt.Fprint(s.w, ": keep-alive\n\n")
		wrote = true
	}
	if !wrote {
		return true
	}
	s.lastWrite = time.Now()
	_ = s.rc.SetWriteDeadline(time.Now().Add(keepAlive))
	return s.rc.Flush() == nil
}

// writeEvent writes one event; a write error shows at the next Flush.
func writeEvent(w http.ResponseWriter, event, id string, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("web: encoding an event: %v", err))
	}
	if id != "" {
		fmt.Fprintf(w, "id: %s\n", id)
	}
	// JSON has no raw newlines, so the data fits one line of the stream.
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}
