package web

import (
	"errors"
	"net/http"
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

func privateMessages(entries []gossiper.PrivateEntry) []privateMessage {
	out := make([]privateMessage, len(entries))
	for i, e := range entries {
		out[i] = privateMessage{Origin: e.Origin, Destination: e.Destination, Text: e.Text,
			HopLimit: e.HopLimit, Sent: e.Sent, Time: e.At.UTC(), With: e.With()}
	}
	return out
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

// getPrivate answers one conversation, or every private message kept when
// no "with" is given.
func (h *handler) getPrivate(w http.ResponseWriter, r *http.Request) {
	all, _ := h.node.PrivatesSince(0)
	q := r.URL.Query()
	if !q.Has("with") {
		writeJSON(w, http.StatusOK, privateMessages(all))
		return
	}
	// Names from other implementations may hold spaces, so only what no
	// node can be called is refused.
	with := q.Get("with")
	switch {
	case with == "":
		writeError(w, http.StatusBadRequest, "with= is empty; ask /private?with=NAME for one conversation, or /private for all")
		return
	case len(with) > messages.MaxNameBytes:
		writeError(w, http.StatusBadRequest, "with="+quote(with)+" is longer than any name can be")
		return
	}
	var conv []gossiper.PrivateEntry
	for _, e := range all {
		if e.With() == with {
			conv = append(conv, e)
		}
	}
	writeJSON(w, http.StatusOK, privateMessages(conv))
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
	writeJSON(w, http.StatusOK, privateMessages([]gossiper.PrivateEntry{sent})[0])
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
