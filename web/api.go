package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/peerster/Peerster/gossiper"
)

// message is one chat message as the API shows it.
type message struct {
	Origin   string    `json:"origin"`
	ID       uint32    `json:"id"`
	Text     string    `json:"text"`
	Received time.Time `json:"received"`
	// Own marks messages this node sent, under any of its names.
	Own bool `json:"own"`
	// Seq is the message's place in the order this node accepted them:
	// the cursor of before= and after=.
	Seq uint64 `json:"seq"`
	// Forged marks a message under this node's name that it did not
	// write; it is never Own.
	Forged bool `json:"forged"`
}

type posted struct {
	Origin string `json:"origin"`
	ID     uint32 `json:"id"`
}

type identity struct {
	Name string `json:"name"`
}

type apiError struct {
	Error string `json:"error"`
}

// The request bodies use pointers so that a missing field is told apart
// from an empty one.
type (
	messageRequest struct {
		Text *string `json:"text"`
	}
	nodeRequest struct {
		Address *string `json:"address"`
	}
	idRequest struct {
		Name *string `json:"name"`
	}
)

func (h *handler) messages(entries []gossiper.Entry) []message {
	h.remember(h.node.Name())
	out := make([]message, len(entries))
	for i, e := range entries {
		out[i] = message{Origin: e.Origin, ID: e.ID, Text: e.Text, Received: e.Received.UTC(),
			Own: !e.Forged && h.own(e.Origin), Seq: e.Seq, Forged: e.Forged}
	}
	return out
}

func (h *handler) message(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		h.getMessages(w, r)
	case http.MethodPost:
		var req messageRequest
		if !h.decode(w, r, &req) {
			return
		}
		if req.Text == nil {
			writeError(w, http.StatusBadRequest, `missing "text"; send {"text":"..."}`)
			return
		}
		p, err := h.node.Post(*req.Text)
		switch {
		case errors.Is(err, gossiper.ErrClosed):
			writeError(w, http.StatusServiceUnavailable, err.Error())
			return
		case err != nil:
			// Any other error says what is wrong with the text.
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		h.remember(p.Origin)
		writeJSON(w, http.StatusOK, posted{Origin: p.Origin, ID: p.ID})
	default:
		methodNotAllowed(w)
	}
}

func (h *handler) nodes(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, h.peers())
	case http.MethodPost:
		var req nodeRequest
		if !h.decode(w, r, &req) {
			return
		}
		if req.Address == nil {
			writeError(w, http.StatusBadRequest, `missing "address"; send {"address":"ip:port"}`)
			return
		}
		if err := h.node.AddPeer(*req.Address); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		writeJSON(w, http.StatusOK, h.peers())
	default:
		methodNotAllowed(w)
	}
}

// peers never answers null, so that clients can always iterate.
func (h *handler) peers() []string {
	if p := h.node.Peers(); p != nil {
		return p
	}
	return []string{}
}

func (h *handler) id(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, identity{Name: h.node.Name()})
	case http.MethodPost:
		var req idRequest
		if !h.decode(w, r, &req) {
			return
		}
		if req.Name == nil {
			writeError(w, http.StatusBadRequest, `missing "name"; send {"name":"..."}`)
			return
		}
		if err := h.node.SetName(*req.Name); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		h.remember(*req.Name)
		writeJSON(w, http.StatusOK, identity{Name: h.node.Name()})
	default:
		methodNotAllowed(w)
	}
}

// decode checks that a state-changing request is JSON, and reads its body
// into v. It answers the request itself and returns false when something is
// wrong.
func (h *handler) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	// ServeHTTP has refused requests from other sites (crossSite).
	if !isJSON(r) {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, not "+quote(r.Header.Get("Content-Type")))
		return false
	}
	tooLarge := fmt.Sprintf("request body is larger than %d bytes", MaxBodyBytes)
	if r.ContentLength > MaxBodyBytes {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return false
	}
	// A client that stalls in the middle of its body must not hold the
	// connection forever.
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(30 * time.Second))
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return false
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	// A misspelt field is reported rather than read as a missing one.
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		writeError(w, http.StatusBadRequest, decodeError(err))
		return false
	}
	if _, err := dec.Token(); err != io.EOF {
		writeError(w, http.StatusBadRequest, "body has data after its JSON object")
		return false
	}
	return true
}

// decodeError says in the API's terms, not Go's, what is wrong with a body.
func decodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return "body is empty; send a JSON object"
	case errors.As(err, &typeErr) && typeErr.Field != "":
		return fmt.Sprintf("%q must be a JSON %s, not %s", typeErr.Field, typeErr.Type.Kind(), typeErr.Value)
	case errors.As(err, &typeErr):
		return "body must be a JSON object, not " + typeErr.Value
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "body is not valid JSON: " + err.Error()
	}
	return "body: " + strings.TrimPrefix(err.Error(), "json: ")
}

func methodNotAllowed(w http.ResponseWriter) {
	w.Header().Set("Allow", "GET, POST")
	writeError(w, http.StatusMethodNotAllowed, "method not allowed; use GET or POST")
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, apiError{Error: msg})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only the types above are written, and they always marshal.
		panic(fmt.Sprintf("web: encoding a response: %v", err))
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
