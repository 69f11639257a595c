// Package web serves a Peerster node's chat page and its JSON API.
//
// The API has four resources read with GET and changed with POST: /message
// (the chat log; post a text to send it), /node (the peers; post an address
// to add one), /id (the node's name; post a new one) and /private (the
// private conversations; post a destination and a text to send one). GET
// /routes reads the routing table: the names this node can send privately
// to; GET /alerts what the user must know. /files lists the files the node
// shares (post a file's bytes to share it, GET /files/METAHASH to save one)
// and /downloads its downloads (post a name, a node and a metahash to start
// one). /events streams the same state to the page as Server-Sent Events.
// The README documents the shapes with an example request for each.
//
// Anyone can send a node messages, so histories are read a page at a time
// (see pageLimit and pageBytes): no answer or event grows with the log.
//
// The page is reachable by every web site its user visits, so the handler
// refuses requests whose Host is not the page's own address (DNS rebinding),
// requests another site's page makes (cross-site request forgery, and
// cross-site reads of the API, which cost the node work), state-changing
// requests without a JSON content type (an upload to /files is
// application/octet-stream instead), and bodies over MaxBodyBytes (over
// MaxFileBytes for an upload).
package web

import (
	"log/slog"
	"net/http"
	"sync"

	"github.com/peerster/Peerster/gossiper"
)

// MaxBodyBytes is the largest request body the API reads; larger ones get
// 413. It leaves room for a message of messages.MaxTextBytes and its JSON.
const MaxBodyBytes = 64 << 10

// Node is what the handler needs of a running gossiper; *gossiper.Node
// implements it.
type Node interface {
	// Post sends text as a client message would be sent. It returns
	// gossiper.ErrClosed once the node is closed, and any other error
	// only for a text it refuses, saying what is wrong with it.
	Post(text string) (gossiper.Posted, error)
	// LogAfter returns, oldest first, the chat messages after the one
	// numbered seq (0: from the first), at most limit of them and, beyond
	// the first, at most maxBytes of origin and text; more tells whether
	// later ones remain.
	LogAfter(seq uint64, limit, maxBytes int) (entries []gossiper.Entry, more bool)
	// LogBefore returns, oldest first, the newest chat messages before the
	// one numbered seq (0: the newest of all), within the same bounds;
	// more tells whether older ones remain.
	LogBefore(seq uint64, limit, maxBytes int) (entries []gossiper.Entry, more bool)
	// LastSeq is the Seq of the newest chat message, 0 before the first.
	LastSeq() uint64
	// Alerts returns what the user should know, the newest last.
	Alerts() []gossiper.Alert
	// Peers returns the known peers' addresses.
	Peers() []string
	// AddPeer adds a peer given as "ip:port".
	AddPeer(addr string) error
	// Name is the origin of messages sent from now on.
	Name() string
	// SetName changes Name.
	SetName(name string) error
	// SendPrivate sends text to the node named dest and returns the
	// message as kept. Its error wraps gossiper.ErrNoRoute when no next
	// hop towards dest is known, is gossiper.ErrClosed once the node is
	// closed, and otherwise says what is wrong with dest or text.
	SendPrivate(dest, text string) (gossiper.PrivateEntry, error)
	// Routes returns the next hop towards each origin, by origin.
	Routes() []gossiper.Route
	// PrivatesAfter returns, oldest first, the private messages kept after
	// the one numbered seq (0: from the first), within the bounds of
	// LogAfter; more tells whether later ones remain.
	PrivatesAfter(seq uint64, limit, maxBytes int) (entries []gossiper.NumberedPrivate, more bool)
	// PrivatesBefore returns, oldest first, the newest private messages
	// kept before the one numbered seq (0: the newest of all), of the
	// conversation with that name unless with is empty, within the same
	// bounds; more tells whether older ones of it remain.
	PrivatesBefore(seq uint64, with string, limit, maxBytes int) (entries []gossiper.NumberedPrivate, more bool)
	// ShareBytes saves data in the node's shared folder as name and shares
	// it. Its error says what is wrong with the name or the bytes, or that
	// the name is taken by other content; it is gossiper.ErrNoFiles on a
	// node that keeps no files.
	ShareBytes(name string, data []byte) (gossiper.SharedFile, error)
	// SharedFiles returns the files the node shares, downloaded ones too.
	SharedFiles() []gossiper.SharedFile
	// Download starts downloading the file of metahash meta from the node
	// named dest, to save as name. Its error wraps gossiper.ErrNoRoute when
	// no next hop towards dest is known, and otherwise says what is wrong
	// with the name or dest, or what stands in the way.
	Download(name, dest string, meta gossiper.Hash) error
	// Downloads returns what each download has done, oldest first.
	Downloads() []gossiper.DownloadInfo
	// FilePath is where the complete file of metahash meta is on disk.
	FilePath(meta gossiper.Hash) (string, bool)
	// Changed returns a channel closed at the next change of log, peers,
	// name, routes, private messages, alerts, files or downloads; the event
	// stream also re-reads them every second.
	Changed() <-chan struct{}
}

var _ Node = (*gossiper.Node)(nil)

// Options configure a handler.
type Options struct {
	// Addr is the "ip:port" the page is served on. Requests must carry it
	// (or localhost with its port, when the page listens on loopback) in
	// their Host header. An Addr that does not parse refuses every request.
	Addr string
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
	// Metrics, if set, is served at GET /metrics.
	Metrics http.Handler
}

// handler serves the page, the API and the event stream of one node.
type handler struct {
	node  Node
	log   *slog.Logger
	hosts hostCheck
	mux   *http.ServeMux

	// names holds every name this node has sent under, so that the page
	// can mark the user's own messages also after a change of name.
	mu    sync.Mutex
	names map[string]bool
}

// NewHandler returns the handler of node's page and API.
func NewHandler(node Node, opts Options) http.Handler {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := &handler{
		node:  node,
		log:   logger,
		hosts: newHostCheck(opts.Addr),
		mux:   http.NewServeMux(),
		names: map[string]bool{node.Name(): true},
	}
	h.mux.HandleFunc("/message", h.message)
	h.mux.HandleFunc("/node", h.nodes)
	h.mux.HandleFunc("/id", h.id)
	h.mux.HandleFunc("/routes", h.routes)
	h.mux.HandleFunc("/private", h.private)
	h.mux.HandleFunc("/events", h.events)
	h.mux.HandleFunc("/alerts", h.alerts)
	h.mux.HandleFunc("/files", h.files)
	h.mux.HandleFunc("/files/{metahash}", h.file)
	h.mux.HandleFunc("/downloads", h.downloads)
	if opts.Metrics != nil {
		h.mux.Handle("GET /metrics", opts.Metrics)
	}
	h.mux.Handle("/", pageHandler())
	return h
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	if !h.hosts.allowed(r.Host) {
		writeError(w, http.StatusForbidden, "host "+quote(r.Host)+" is not this node's address; open the page at http://"+h.hosts.canonical)
		return
	}
	if why := crossSite(r); why != "" {
		// Any page the user visits can make the browser send these, so a
		// refused read is not worth more than a debug line each.
		level := slog.LevelWarn
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			level = slog.LevelDebug
		}
		h.log.Log(r.Context(), level, "web request refused", "method", r.Method, "path", r.URL.Path, "why", why)
		writeError(w, http.StatusForbidden, why)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// own reports whether origin is a name this node has sent under.
func (h *handler) own(origin string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.names[origin]
}

// remember records a name this node sends under.
func (h *handler) remember(name string) {
	h.mu.Lock()
	h.names[name] = true
	h.mu.Unlock()
}
