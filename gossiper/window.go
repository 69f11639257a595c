package gossiper

import "github.com/peerster/Peerster/messages"

// window keeps rumors that arrived ahead of their origin's next ID until the
// gap before them fills. On a busy network the rumors of one origin travel
// different paths and overtake each other; dropping each one that arrives
// early would cost a resend, one round trip at a time. The status still
// shows only what is held without a gap.
//
// The window is bounded, and a stranger can send rumors that are early for
// ever (W/2, W/3, ... with no W/1). So that one source cannot hold all of
// it, a full window makes room for a rumor by dropping the newest rumor of
// the source that holds the most, as long as that source holds more than
// the newcomer's: a source's share shrinks under pressure, and an honest
// peer, which holds a few early rumors at most, always gets in. The
// rumor dropped is the one furthest ahead, the last its origin would need.
type window struct {
	rumors map[rumorKey]heldRumor
	bytes  int
	// bySource is the rumors each source has in the window, and what they
	// weigh.
	bySource map[string]*windowShare
}

type heldRumor struct {
	rumor *messages.RumorMessage
	from  string
}

type windowShare struct {
	keys   map[rumorKey]struct{}
	weight int
}

// farthest is the rumor of the share furthest ahead, the last its origin
// would need.
func (s *windowShare) farthest() rumorKey {
	var far rumorKey
	for k := range s.keys {
		if k.id > far.id || (k.id == far.id && k.origin > far.origin) {
			far = k
		}
	}
	return far
}

const (
	// maxAheadIDs is how far past its origin's next ID a rumor may be kept.
	maxAheadIDs = 4096
	// maxWindowRumors and maxWindowBytes cap the rumors kept at once and the
	// bytes of their texts; a smaller memory budget lowers the bytes (see
	// budgets).
	maxWindowRumors = 4096
	maxWindowBytes  = 8 << 20
	// heldRumorCost is what a held rumor weighs beside its text: a rumor
	// without text still takes a place.
	heldRumorCost = maxWindowBytes / maxWindowRumors
)

func heldWeight(r *messages.RumorMessage) int { return heldRumorCost + len(r.Text) }

// keep holds r, from the peer at from, if it fits within maxBytes of texts
// or room can fairly be made for it; next is its origin's next ID. It reports how many rumors of
// other sources were dropped to make room. A full window costs a scan of
// the sources and of one source's rumors per rumor kept: a few thousand
// steps, bounded like the window.
func (w *window) keep(r *messages.RumorMessage, from string, next uint32, maxBytes int) (evicted int) {
	k := keyOf(r)
	if r.ID-next >= maxAheadIDs || len(r.Text) > maxBytes {
		return 0
	}
	if _, held := w.rumors[k]; held {
		return 0
	}
	if w.rumors == nil {
		w.rumors = map[rumorKey]heldRumor{}
		w.bySource = map[string]*windowShare{}
	}
	mine := w.bySource[from]
	myWeight := heldWeight(r)
	if mine != nil {
		myWeight += mine.weight
	}
	for len(w.rumors) >= maxWindowRumors || w.bytes+len(r.Text) > maxBytes {
		heaviest := w.heaviest()
		if heaviest == "" || heaviest == from || w.bySource[heaviest].weight <= myWeight {
			return evicted
		}
		w.take(w.bySource[heaviest].farthest())
		evicted++
	}
	if mine == nil {
		mine = &windowShare{keys: map[rumorKey]struct{}{}}
		w.bySource[from] = mine
	}
	mine.keys[k] = struct{}{}
	mine.weight += heldWeight(r)
	w.rumors[k] = heldRumor{r, from}
	w.bytes += len(r.Text)
	return evicted
}

// heaviest is the source whose rumors weigh most, "" when none is held.
// There are at most maxWindowRumors sources, and it runs only when the
// window is full.
func (w *window) heaviest() string {
	best, weight := "", 0
	for s, share := range w.bySource {
		if share.weight > weight || (share.weight == weight && s < best) {
			best, weight = s, share.weight
		}
	}
	return best
}

// take removes and returns the rumor held as k, if there is one.
func (w *window) take(k rumorKey) (heldRumor, bool) {
	h, ok := w.rumors[k]
	if !ok {
		return h, false
	}
	delete(w.rumors, k)
	w.bytes -= len(h.rumor.Text)
	share := w.bySource[h.from]
	delete(share.keys, k)
	share.weight -= heldWeight(h.rumor)
	if len(share.keys) == 0 {
		delete(w.bySource, h.from)
	}
	return h, true
}
