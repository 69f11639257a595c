package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// The event stream re-reads the node's state at least this often, so that
// a change the node does not signal on Changed still reaches the page within
// a second, and sends a comment when it has been quiet for keepAlive, so that
// a dead connection is noticed.
const (
	recheck   = time.Second
	keepAlive = 15 * time.Second
)

// A download changes with every chunk, hundreds of times a second on a fast
// link: the stream sends the downloads at most once every downloadsEvery,
// the last change included, and once a second while one goes on, so that
// its rate stays current even when nothing arrives.
const downloadsEvery = 250 * time.Millisecond

// events streams the node's state as Server-Sent Events:
//
//	event: id       data: {"name":"A"}           at start and on each change
//	event: node     data: ["127.0.0.1:5001"]     at start and on each change
//	event: message  data: [{...}, ...]           messages, see below
//	event: reset    data: {}                     forget the messages shown
//	event: routes   data: [{"origin":"B",...}]   at start and on each change
//	event: private  data: [{...}, ...]           private messages, see below
//	event: alerts   data: [{"kind":...}, ...]    at start and on each change
//	event: files    data: [{"name":...}, ...]    at start and on each change
//	event: downloads data: [{"name":...}, ...]   at start and on changes, see
//	                                             downloadsEvery
//
// No event holds more than a page (pageLimit, pageBytes): anyone can fill
// the log, and the page fetches older messages itself (GET /message?before=)
// when its user scrolls up. The first message event holds the newest page;
// the next ones the messages accepted since. A message event's id is the Seq
// of the newest message sent, so a browser that reconnects (it sends that id
// as Last-Event-ID) gets only the rest, unless more than a page of them
// arrived meanwhile, or the id is past the node's newest message (the node
// restarted): then a reset comes first, and the newest page. The same goes
// for a browser too slow to take what arrives. Private events carry no id,
// which would take the place of the messages' one: the first of each stream
// holds the newest page of private messages and replaces what the browser
// holds, the next ones the new messages, a page at a time.
func (h *handler) events(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		getOnly(w)
		return
	}
	sent, resumed, ok := lastEventID(w, r)
	if !ok {
		return
	}
	s := h.openStream(w, sent, resumed)
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		// Taken before reading, so that a change made while we read is
		// not missed.
		changed := h.node.Changed()
		if !s.flush(s.update()) {
			return
		}
		if s.behind {
			// More private messages wait: the next page goes at once.
			select {
			case <-r.Context().Done():
				return
			default:
				continue
			}
		}
		// Downloads held back by downloadsEvery go out when it has passed,
		// whether or not anything else happens.
		var due <-chan time.Time
		var timer *time.Timer
		if !s.downloadsDue.IsZero() {
			timer = time.NewTimer(time.Until(s.downloadsDue))
			due = timer.C
		}
		select {
		case <-changed:
		case <-tick.C:
		case <-due:
		case <-r.Context().Done():
			return
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// lastEventID returns the Seq of the newest message a reconnecting browser
// has been sent, and whether it sent one. It answers the request itself and
// returns false when the header is not a Seq.
func lastEventID(w http.ResponseWriter, r *http.Request) (seq uint64, resumed, ok bool) {
	s := r.Header.Get("Last-Event-ID")
	if s == "" {
		return 0, false, true
	}
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Last-Event-ID "+quote(s)+" is not a message's seq")
		return 0, false, false
	}
	return n, true, true
}

// stream is one open event stream and what it has told its browser.
type stream struct {
	h      *handler
	w      http.ResponseWriter
	rc     *http.ResponseController
	name   string
	peers  []string
	routes []route
	alerts []byte // the data of the last alerts event
	files  []byte // the data of the last files event
	// downloads is the data of the last downloads event without the
	// rates, which change with the clock, sent at downloadsAt; once a
	// change is held back, downloadsDue is when it may go.
	downloads    []byte
	downloadsAt  time.Time
	downloadsDue time.Time
	// sent is the Seq of the newest message sent, the id of the last
	// message event; resumed says the browser held messages up to it
	// when the stream opened.
	sent      uint64
	resumed   bool
	privates  uint64 // the Seq of the newest private message sent
	behind    bool   // more private messages wait than the last event held
	first     bool   // nothing sent yet: every event goes out
	lastWrite time.Time
}

// openStream starts the stream's response, for a browser that holds the
// messages up to sent if resumed.
func (h *handler) openStream(w http.ResponseWriter, sent uint64, resumed bool) *stream {
	s := &stream{h: h, w: w, rc: http.NewResponseController(w), sent: sent, resumed: resumed, first: true}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	// A browser reconnects after this many milliseconds when the stream
	// breaks, which keeps a restarted node's page live within a second.
	fmt.Fprint(w, "retry: 1000\n\n")
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
	if s.updateMessages() {
		wrote = true
	}
	if rs := routesOf(node.Routes()); s.first || !slices.Equal(rs, s.routes) {
		s.routes = rs
		writeEvent(s.w, "routes", "", rs)
		wrote = true
	}
	if s.updatePrivates() {
		wrote = true
	}
	if a := mustJSON(alertsOf(node.Alerts())); s.first || !bytes.Equal(a, s.alerts) {
		s.alerts = a
		writeEvent(s.w, "alerts", "", json.RawMessage(a))
		wrote = true
	}
	if f := mustJSON(fileList(node)); s.first || !bytes.Equal(f, s.files) {
		s.files = f
		writeEvent(s.w, "files", "", json.RawMessage(f))
		wrote = true
	}
	if s.updateDownloads(time.Now()) {
		wrote = true
	}
	s.first = false
	return wrote
}

// updateMessages writes the messages the browser lacks, or a reset and the
// newest page when they are more than a page (see events).
func (s *stream) updateMessages() bool {
	node := s.h.node
	var entries []gossiper.Entry
	newest := s.first && !s.resumed
	if !newest {
		var more bool
		entries, more = node.LogAfter(s.sent, pageLimit, pageBytes)
		if more || s.sent > node.LastSeq() {
			writeEvent(s.w, "reset", "", struct{}{})
			newest = true
		}
	}
	if newest {
		entries, _ = node.LogBefore(0, pageLimit, pageBytes)
		s.sent = 0
	}
	if !newest && !s.first && len(entries) == 0 {
		return false
	}
	if len(entries) > 0 {
		s.sent = entries[len(entries)-1].Seq
	}
	writeEvent(s.w, "message", strconv.FormatUint(s.sent, 10), s.h.messages(entries))
	return true
}

// updatePrivates writes the newest page of private messages first, then
// those kept since, a page at a time.
func (s *stream) updatePrivates() bool {
	node := s.h.node
	var entries []gossiper.NumberedPrivate
	if s.first {
		entries, _ = node.PrivatesBefore(0, "", pageLimit, pageBytes)
	} else {
		entries, s.behind = node.PrivatesAfter(s.privates, pageLimit, pageBytes)
		if len(entries) == 0 {
			return false
		}
	}
	if len(entries) > 0 {
		s.privates = entries[len(entries)-1].Seq
	}
	writeEvent(s.w, "private", "", privateMessages(entries))
	return true
}

// updateDownloads writes the downloads when they changed, or when one goes
// on and its rate was last sent a second ago, but never sooner than
// downloadsEvery after the last time; a change held back is marked due.
func (s *stream) updateDownloads(now time.Time) bool {
	ds := s.h.node.Downloads()
	list := downloadList(ds, now)
	for i := range list {
		list[i].Rate = 0
	}
	key := mustJSON(list)
	changed := !bytes.Equal(key, s.downloads)
	going := false
	for _, d := range ds {
		going = going || d.State == gossiper.DownloadMetafile || d.State == gossiper.DownloadChunks
	}
	stale := going && now.Sub(s.downloadsAt) >= recheck
	switch {
	case s.first:
	case !changed && !stale:
		s.downloadsDue = time.Time{}
		return false
	case now.Sub(s.downloadsAt) < downloadsEvery:
		s.downloadsDue = s.downloadsAt.Add(downloadsEvery)
		return false
	}
	s.downloads, s.downloadsAt, s.downloadsDue = key, now, time.Time{}
	writeEvent(s.w, "downloads", "", downloadList(ds, now))
	return true
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
	b := mustJSON(v)
	if id != "" {
		fmt.Fprintf(w, "id: %s\n", id)
	}
	// JSON has no raw newlines, so the data fits one line of the stream.
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", event, b)
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the API's own types are written, and they always marshal.
		panic(fmt.Sprintf("web: encoding an event: %v", err))
	}
	return b
}
