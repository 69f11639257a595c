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
//
// A message event's id is the number of messages sent so far, so a browser
// that reconnects (it sends that id as Last-Event-ID) gets only the rest.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", "GET")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use GET")
		return
	}
	sent := 0
	if s := r.Header.Get("Last-Event-ID"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			writeError(w, http.StatusBadRequest, "Last-Event-ID "+quote(s)+" is not a count of messages")
			return
		}
		sent = n
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// A browser reconnects after this many milliseconds when the stream
	// breaks, which keeps a restarted node's page live within a second.
	fmt.Fprint(w, "retry: 1000\n\n")

	if all := h.node.LogSince(0); sent > len(all) {
		// The node restarted with a shorter log than the page holds.
		writeEvent(w, "reset", "", struct{}{})
		sent = 0
	}
	var (
		name      string
		peers     []string
		first     = true
		lastWrite = time.Now()
		tick      = time.NewTicker(recheck)
	)
	defer tick.Stop()
	for {
		// Taken before reading, so that a change made while we read is
		// not missed.
		changed := h.node.Changed()
		wrote := false
		if n := h.node.Name(); first || n != name {
			name = n
			writeEvent(w, "id", "", identity{Name: n})
			wrote = true
		}
		if p := h.peers(); first || !slices.Equal(p, peers) {
			peers = p
			writeEvent(w, "node", "", p)
			wrote = true
		}
		if entries := h.node.LogSince(sent); first || len(entries) > 0 {
			sent += len(entries)
			writeEvent(w, "message", strconv.Itoa(sent), h.messages(entries))
			wrote = true
		}
		first = false
		if !wrote && time.Since(lastWrite) >= keepAlive {
			fmt.Fprint(w, ": keep-alive\n\n")
			wrote = true
		}
		if wrote {
			lastWrite = time.Now()
			_ = rc.SetWriteDeadline(time.Now().Add(keepAlive))
			if err := rc.Flush(); err != nil {
				return
			}
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-r.Context().Done():
			return
		}
	}
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
