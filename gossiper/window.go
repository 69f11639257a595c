package gossiper

import "github.com/peerster/Peerster/messages"

// window keeps rumors that arrived ahead of their origin's next ID until the
// gap before them fills. On a busy network the rumors of one origin travel
// different paths and overtake each other; dropping each one that arrives
// early would cost a resend, one round trip at a time. The status still
// shows only what is held without a gap. The window is bounded, and once it
// is full the node drops early rumors as it did without one.
type window struct {
	rumors map[Posted]heldRumor
	bytes  int
}

type heldRumor struct {
	rumor *messages.RumorMessage
	from  string
}

const (
	// maxAheadIDs is how far past its origin's next ID a rumor may be kept.
	maxAheadIDs = 4096
	// maxWindowRumors and maxWindowBytes cap the rumors kept at once and the
	// bytes of their texts.
	maxWindowRumors = 4096
	maxWindowBytes  = 8 << 20
)

// keep holds r, from the peer at from, if it fits; next is its origin's
// next ID.
func (w *window) keep(r *messages.RumorMessage, from string, next uint32) {
	k := Posted{r.Origin, r.ID}
	if r.ID-next >= maxAheadIDs || len(w.rumors) >= maxWindowRumors || w.bytes+len(r.Text) > maxWindowBytes {
		return
	}
	if _, held := w.rumors[k]; held {
		return
	}
	if w.rumors == nil {
		w.rumors = map[Posted]heldRumor{}
	}
	w.rumors[k] = heldRumor{r, from}
	w.bytes += len(r.Text)
}

// take removes and returns the rumor held as k, if there is one.
func (w *window) take(k Posted) (heldRumor, bool) {
	h, ok := w.rumors[k]
	if ok {
		delete(w.rumors, k)
		w.bytes -= len(h.rumor.Text)
	}
	return h, ok
}
