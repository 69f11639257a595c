package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/peerster/Peerster/gossiper"
)

// A page of history holds at most pageLimit messages (a client may ask for
// up to maxPageLimit) and pageBytes of their origins and texts, but always
// one message: anyone can fill a node's log, and neither an answer nor an
// event may grow with it. 256 KiB holds four messages of the largest size.
const (
	pageLimit    = 100
	maxPageLimit = 500
	pageBytes    = 256 << 10
)

// pageQuery is where a client asks a page to start, and how long it may be.
type pageQuery struct {
	limit     int
	limitSet  bool
	before    uint64 // 0: the newest page
	after     uint64
	fromAfter bool // after (or since) was given
}

// parsePage reads limit=, before= and, when afterOK, after= and its old
// name since=. It returns what is wrong with them, or "".
func parsePage(q url.Values, afterOK bool) (pageQuery, string) {
	p := pageQuery{limit: pageLimit}
	if s, ok := param(q, "limit"); ok {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxPageLimit {
			return p, fmt.Sprintf("limit=%s is not a number of messages from 1 to %d", quote(s), maxPageLimit)
		}
		p.limit, p.limitSet = n, true
	}
	if s, ok := param(q, "before"); ok {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil || n == 0 {
			return p, "before=" + quote(s) + " is not a message's seq (1 or more); leave it out for the newest page"
		}
		p.before = n
	}
	after, hasAfter := param(q, "after")
	since, hasSince := param(q, "since")
	switch {
	case (hasAfter || hasSince) && !afterOK:
		return p, "after= is not offered here; read older pages with before="
	case hasAfter && hasSince:
		return p, "since= is the old name of after=; give one of them"
	case hasSince:
		after, hasAfter = since, true
	}
	if hasAfter {
		if p.before != 0 {
			return p, "give before= or after=, not both"
		}
		n, err := strconv.ParseUint(after, 10, 64)
		if err != nil {
			what := "after="
			if hasSince {
				what = "since="
			}
			return p, what + quote(after) + " is not a message's seq (0 or more)"
		}
		p.after, p.fromAfter = n, true
	}
	return p, ""
}

// param is a query parameter, present even when empty, so that "before="
// is refused rather than read as no parameter.
func param(q url.Values, name string) (string, bool) {
	if !q.Has(name) {
		return "", false
	}
	return q.Get(name), true
}

// links sets the Link header (RFC 8288) of a page: rel="prev" to the page
// of older messages when there are some, rel="next" to that of newer ones.
// extra holds the query parameters every link keeps, such as with=.
func links(w http.ResponseWriter, path string, extra url.Values, p pageQuery, prevBefore uint64, older bool, nextAfter uint64, newer bool) {
	link := func(cursor string, seq uint64, rel string) string {
		q := url.Values{}
		for k, v := range extra {
			q[k] = v
		}
		q.Set(cursor, strconv.FormatUint(seq, 10))
		if p.limitSet {
			q.Set("limit", strconv.Itoa(p.limit))
		}
		return "<" + path + "?" + q.Encode() + `>; rel="` + rel + `"`
	}
	var ls []string
	if older {
		ls = append(ls, link("before", prevBefore, "prev"))
	}
	if newer {
		ls = append(ls, link("after", nextAfter, "next"))
	}
	if len(ls) > 0 {
		w.Header().Set("Link", strings.Join(ls, ", "))
	}
}

// getMessages answers one page of the chat log: the newest, the newest
// before a message, or the first after one.
func (h *handler) getMessages(w http.ResponseWriter, r *http.Request) {
	p, bad := parsePage(r.URL.Query(), true)
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	node := h.node
	var entries []gossiper.Entry
	var older, newer bool
	// The links of an empty page lead on from its cursor.
	var prev, next uint64
	if p.fromAfter {
		entries, newer = node.LogAfter(p.after, p.limit, pageBytes)
		prev = p.after + 1
		if len(entries) > 0 {
			prev, next = entries[0].Seq, entries[len(entries)-1].Seq
		}
		older = h.anyBefore(prev)
	} else {
		entries, older = node.LogBefore(p.before, p.limit, pageBytes)
		if len(entries) > 0 {
			prev, next = entries[0].Seq, entries[len(entries)-1].Seq
			newer = next < node.LastSeq()
		} else if p.before > 0 {
			next = p.before - 1
			newer = next < node.LastSeq()
		}
	}
	links(w, r.URL.Path, nil, p, prev, older, next, newer)
	writeJSON(w, http.StatusOK, h.messages(entries))
}

// anyBefore reports whether the node keeps a message older than seq.
func (h *handler) anyBefore(seq uint64) bool {
	if seq <= 1 {
		return false
	}
	e, _ := h.node.LogBefore(seq, 1, 0)
	return len(e) > 0
}
