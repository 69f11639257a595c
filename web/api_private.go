package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/messages"
)

// route is one line of the routing table as the API shows it.
type route struct {
	Origin  string `json:"origin"`
	NextHop string `json:"nextHop"`
}

// privateMessage is one private message as the API shows it.
type privateMessage struct {
	Origin      string `json:"origin"`
	Destination string `json:"destination"`
	Text        string `json:"text"`
	// HopLimit is the limit the message arrived with, or left with when
	// this node sent it.
	HopLimit uint32 `json:"hopLimit"`
	// Sent marks the messages this node sent; the others it received.
	Sent bool      `json:"sent"`
	Time time.Time `json:"time"`
	// With is the other party, so that a client can group conversations
	// without repeating the rule (a sent message's destination, a received
	// one's origin).
	With string `json:"with"`
	// Seq is the message's place in the order this node kept private
	// messages: the cursor of before=. Left out of POST's answer (see
	// postPrivate).
	Seq uint64 `json:"seq,omitempty"`
}

type privateRequest struct {
	Destination *string `json:"destination"`
	Text        *string `json:"text"`
}

// routesOf never answers null, so that clients can always iterate.
func routesOf(rs []gossiper.Route) []route {
	out := make([]route, len(rs))
	for i, r := range rs {
		out[i] = route{Origin: r.Origin, NextHop: r.NextHop}
	}
	return out
}

func privateMessages(entries []gossiper.NumberedPrivate) []privateMessage {
	out := make([]privateMessage, len(entries))
	for i, e := range entries {
		out[i] = privateOf(e.PrivateEntry, e.Seq)
	}
	return out
}

func privateOf(e gossiper.PrivateEntry, seq uint64) privateMessage {
	return privateMessage{Origin: e.Origin, Destination: e.Destination, Text: e.Text,
		HopLimit: e.HopLimit, Sent: e.Sent, Time: e.At.UTC(), With: e.With(), Seq: seq}
}

func (h *handler) routes(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		getOnly(w)
		return
	}
	writeJSON(w, http.StatusOK, routesOf(h.node.Routes()))
}

func (h *handler) private(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.getPrivate(w, r)
	case http.MethodPost:
		h.postPrivate(w, r)
	default:
		methodNotAllowed(w)
	}
}

// getPrivate answers a page of one conversation, or of every private
// message kept when no "with" is given: the newest, or the newest before a
// message.
func (h *handler) getPrivate(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, bad := parsePage(q, false)
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	// Names from other implementations may hold spaces, so only what no
	// node can be called is refused.
	with := q.Get("with")
	switch {
	case q.Has("with") && with == "":
		writeError(w, http.StatusBadRequest, "with= is empty; ask /private?with=NAME for one conversation, or /private for all")
		return
	case len(with) > messages.MaxNameBytes:
		writeError(w, http.StatusBadRequest, "with="+quote(with)+" is longer than any name can be")
		return
	}
	entries, older := h.node.PrivatesBefore(p.before, with, p.limit, pageBytes)
	var extra url.Values
	if with != "" {
		extra = url.Values{"with": {with}}
	}
	var first uint64
	if len(entries) > 0 {
		first = entries[0].Seq
	}
	// Newer private messages are read from the event stream, so only the
	// way back is linked.
	links(w, r.URL.Path, extra, p, first, older, 0, false)
	writeJSON(w, http.StatusOK, privateMessages(entries))
}

func (h *handler) postPrivate(w http.ResponseWriter, r *http.Request) {
	var req privateRequest
	if !h.decode(w, r, &req) {
		return
	}
	if req.Destination == nil || req.Text == nil {
		writeError(w, http.StatusBadRequest, missingPrivate(req)+`; send {"destination":"NAME","text":"..."}`)
		return
	}
	sent, err := h.node.SendPrivate(*req.Destination, *req.Text)
	switch {
	case errors.Is(err, gossiper.ErrNoRoute):
		// The request is well formed: the same one may succeed once the
		// node hears from the destination, hence not 400.
		writeError(w, http.StatusConflict, err.Error())
		return
	case errors.Is(err, gossiper.ErrClosed):
		writeError(w, http.StatusServiceUnavailable, err.Error())
		return
	case err != nil:
		// Any other error says what is wrong with the text or the name.
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// The node numbers a message as it keeps it and does not say how, so
	// the answer has no seq; the event stream brings the message with it.
	writeJSON(w, http.StatusOK, privateOf(sent, 0))
}

func missingPrivate(req privateRequest) string {
	switch {
	case req.Destination == nil && req.Text == nil:
		return `missing "destination" and "text"`
	case req.Destination == nil:
		return `missing "destination"`
	}
	return `missing "text"`
}

func getOnly(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET")
	writeError(w, http.StatusMethodNotAllowed, "method not allowed; use GET")
}
