package web

import (
	"net/http"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// alert is one thing the user must see, as the API shows it.
type alert struct {
	Kind  string    `json:"kind"`
	Text  string    `json:"text"`
	First time.Time `json:"first"`
	Last  time.Time `json:"last"`
	Count int       `json:"count"`
}

// alertsOf never answers null, so that clients can always iterate.
func alertsOf(as []gossiper.Alert) []alert {
	out := make([]alert, len(as))
	for i, a := range as {
		out[i] = alert{Kind: a.Kind, Text: a.Text, First: a.First.UTC(), Last: a.Last.UTC(), Count: a.Count}
	}
	return out
}

func (h *handler) alerts(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		getOnly(w)
		return
	}
	writeJSON(w, http.StatusOK, alertsOf(h.node.Alerts()))
}
