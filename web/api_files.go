package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/peerster/Peerster/files"
	"github.com/peerster/Peerster/gossiper"
)

// MaxFileBytes is the largest upload POST /files reads, the protocol's
// largest file (256 chunks of 8 KiB); larger ones get 413. Only that path
// reads so much: every other body stays under MaxBodyBytes.
const MaxFileBytes = files.MaxFileSize

// uploadTimeout bounds how long an upload may take to arrive: 2 MiB over
// loopback takes milliseconds, and a client that stalls must not hold one of
// the server's connections for ever.
const uploadTimeout = 2 * time.Minute

// sharedFile is a file this node shares, as POST /files answers it.
type sharedFile struct {
	Name     string `json:"name"`
	MetaHash string `json:"metahash"`
	Size     int64  `json:"size"`
	Chunks   int    `json:"chunks"`
}

// fileEntry is one file of GET /files: Downloaded marks those this node
// downloaded rather than had shared with it by its user.
type fileEntry struct {
	sharedFile
	Downloaded bool `json:"downloaded"`
}

// download is one download as the API shows it. Rate is in bytes a second
// since it started, up to now or to when it ended.
type download struct {
	Name        string    `json:"name"`
	Destination string    `json:"destination"`
	MetaHash    string    `json:"metahash"`
	State       string    `json:"state"`
	Chunks      int       `json:"chunks"`
	Have        int       `json:"have"`
	Bytes       int64     `json:"bytes"`
	Rate        int64     `json:"rate"`
	Started     time.Time `json:"started"`
	Updated     time.Time `json:"updated"`
	Error       string    `json:"error"`
	Warning     string    `json:"warning"`
}

type downloadRequest struct {
	Name        *string `json:"name"`
	Destination *string `json:"destination"`
	MetaHash    *string `json:"metahash"`
}

// hexHash writes a hash the way the network names files, and every place a
// user sees one: 64 lower-case hex digits.
func hexHash(h gossiper.Hash) string { return hex.EncodeToString(h[:]) }

func sharedOf(f gossiper.SharedFile) sharedFile {
	return sharedFile{Name: f.Name, MetaHash: hexHash(f.MetaHash), Size: f.Size, Chunks: len(f.Metafile) / sha256.Size}
}

// fileList never answers null, so that clients can always iterate.
func fileList(node Node) []fileEntry {
	fs := node.SharedFiles()
	out := make([]fileEntry, len(fs))
	for i, f := range fs {
		out[i] = fileEntry{sharedFile: sharedOf(f), Downloaded: f.Downloaded}
	}
	return out
}

func downloadOf(d gossiper.DownloadInfo, now time.Time) download {
	return download{Name: d.Name, Destination: d.Dest, MetaHash: hexHash(d.MetaHash), State: d.State,
		Chunks: d.Chunks, Have: d.Have, Bytes: d.Bytes, Rate: rateOf(d, now),
		Started: d.Started.UTC(), Updated: d.Updated.UTC(), Error: d.Error, Warning: d.Warning}
}

// rateOf is the bytes a second d has taken since it started: until now
// while it goes on, until its end once it has ended, so that the rate of a
// finished download stays what it was.
func rateOf(d gossiper.DownloadInfo, now time.Time) int64 {
	end := now
	if d.State == gossiper.DownloadDone || d.State == gossiper.DownloadFailed {
		end = d.Updated
	}
	took := end.Sub(d.Started)
	if took <= 0 || d.Bytes <= 0 {
		return 0
	}
	return int64(float64(d.Bytes) / took.Seconds())
}

// downloadList never answers null, so that clients can always iterate.
func downloadList(ds []gossiper.DownloadInfo, now time.Time) []download {
	out := make([]download, len(ds))
	for i, d := range ds {
		out[i] = downloadOf(d, now)
	}
	return out
}

func (h *handler) files(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, fileList(h.node))
	case http.MethodPost:
		h.share(w, r)
	default:
		methodNotAllowed(w)
	}
}

// share shares the bytes of the request's body under the name of ?name=.
// The body is the file itself, not JSON: the page sends a picked file as it
// is, and a script as curl --data-binary does.
func (h *handler) share(w http.ResponseWriter, r *http.Request) {
	// application/octet-stream, like application/json, is a type no
	// cross-site form can send without a CORS preflight, which the handler
	// never grants; ServeHTTP has refused other sites' requests already.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/octet-stream" {
		writeError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/octet-stream, not "+quote(r.Header.Get("Content-Type")))
		return
	}
	q := r.URL.Query()
	if !q.Has("name") {
		writeError(w, http.StatusBadRequest, "missing ?name=; send the file's bytes to /files?name=NAME")
		return
	}
	tooLarge := fmt.Sprintf("the file is larger than the %d bytes (2 MiB) a shared file may be", MaxFileBytes)
	if r.ContentLength > MaxFileBytes {
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	}
	_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(uploadTimeout))
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxFileBytes))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, tooLarge)
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "reading the body: "+err.Error())
		return
	}
	f, err := h.node.ShareBytes(q.Get("name"), data)
	if err != nil {
		writeError(w, fileStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, sharedOf(f))
}

// file answers the bytes of a file this node shares or downloaded, for the
// browser to save.
func (h *handler) file(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed; use GET")
		return
	}
	meta, bad := parseMetaHash(r.PathValue("metahash"))
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	var shared *gossiper.SharedFile
	for _, f := range h.node.SharedFiles() {
		if f.MetaHash == meta {
			shared = &f
			break
		}
	}
	unknown := "this node has no file of metahash " + hexHash(meta)
	path, ok := h.node.FilePath(meta)
	if shared == nil || !ok {
		writeError(w, http.StatusNotFound, unknown)
		return
	}
	fh, err := os.Open(path)
	if err != nil {
		h.log.Warn("a shared file cannot be read", "name", shared.Name, "err", err)
		writeError(w, http.StatusNotFound, unknown+" any more: it cannot be read")
		return
	}
	defer fh.Close()
	// The network names the file by its hash: bytes changed on disk since
	// it was shared are not that file, and are not handed out as it. The
	// check reads a chunk at a time, so that it costs no more memory than
	// a small buffer whatever the file.
	fi, err := fh.Stat()
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != shared.Size || !hashesTo(fh, meta) {
		h.log.Warn("a shared file changed on disk; it is not served", "name", shared.Name)
		writeError(w, http.StatusNotFound, unknown+" any more: "+quote(shared.Name)+" changed on disk since it was shared")
		return
	}
	if _, err := fh.Seek(0, io.SeekStart); err != nil {
		writeError(w, http.StatusInternalServerError, "reading the file: "+err.Error())
		return
	}
	hd := w.Header()
	// FormatMediaType quotes the name, escaping " and \, and writes a name
	// outside ASCII as RFC 2231's filename*=, so that no name can break
	// out of the header or change its meaning.
	hd.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": shared.Name}))
	hd.Set("Content-Type", "application/octet-stream")
	hd.Set("X-Content-Type-Options", "nosniff")
	// The bytes of a metahash never change, so the metahash is their
	// strong validator: ServeContent answers If-None-Match and If-Range
	// with it.
	hd.Set("ETag", `"`+hexHash(meta)+`"`)
	hd.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, "", fi.ModTime(), fh)
}

// hashesTo reports whether the bytes of rd, cut into the protocol's chunks,
// have meta as their metahash.
func hashesTo(rd io.Reader, meta gossiper.Hash) bool {
	metafile := sha256.New()
	buf := make([]byte, files.ChunkSize)
	chunks := 0
	for {
		n, err := io.ReadFull(rd, buf)
		if n > 0 {
			c := sha256.Sum256(buf[:n])
			metafile.Write(c[:])
			chunks++
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil || chunks > files.MaxChunks {
			return false
		}
	}
	return chunks > 0 && bytes.Equal(metafile.Sum(nil), meta[:])
}

// parseMetaHash reads a metahash as a user pastes it: 64 hex digits,
// lower-case as the page shows them or upper-case. It returns what is
// wrong with it, or "".
func parseMetaHash(s string) (gossiper.Hash, string) {
	h, err := files.ParseHash(strings.TrimSpace(s))
	if err != nil {
		return gossiper.Hash{}, "metahash " + err.Error()
	}
	return gossiper.Hash(h), ""
}

func (h *handler) downloads(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, downloadList(h.node.Downloads(), time.Now()))
	case http.MethodPost:
		h.startDownload(w, r)
	default:
		methodNotAllowed(w)
	}
}

func (h *handler) startDownload(w http.ResponseWriter, r *http.Request) {
	var req downloadRequest
	if !h.decode(w, r, &req) {
		return
	}
	if missing := missingDownload(req); missing != "" {
		writeError(w, http.StatusBadRequest, missing+`; send {"name":"SAVE AS","destination":"NODE","metahash":"64 HEX DIGITS"}`)
		return
	}
	meta, bad := parseMetaHash(*req.MetaHash)
	if bad != "" {
		writeError(w, http.StatusBadRequest, bad)
		return
	}
	// The node's Download, refusing a download that goes on already,
	// also drops the files' record of it when the name is the same: the
	// running download's own. Refused here first, the same request sent
	// twice (a second tab, a script retrying) leaves it whole.
	for _, d := range h.node.Downloads() {
		if d.MetaHash == meta && (d.State == gossiper.DownloadMetafile || d.State == gossiper.DownloadChunks) {
			writeError(w, http.StatusConflict, fmt.Sprintf("%v %s as %q", gossiper.ErrDownloading, hexHash(meta), d.Name))
			return
		}
	}
	if err := h.node.Download(*req.Name, *req.Destination, meta); err != nil {
		writeError(w, fileStatus(err), err.Error())
		return
	}
	// The download may have moved on already; the answer shows it as it
	// is now, as GET /downloads would.
	now := time.Now()
	for _, d := range h.node.Downloads() {
		if d.MetaHash == meta {
			writeJSON(w, http.StatusAccepted, downloadOf(d, now))
			return
		}
	}
	writeJSON(w, http.StatusAccepted, download{Name: *req.Name, Destination: *req.Destination, MetaHash: hexHash(meta),
		State: gossiper.DownloadMetafile, Started: now.UTC(), Updated: now.UTC()})
}

func missingDownload(req downloadRequest) string {
	var missing []string
	if req.Name == nil {
		missing = append(missing, `"name"`)
	}
	if req.Destination == nil {
		missing = append(missing, `"destination"`)
	}
	if req.MetaHash == nil {
		missing = append(missing, `"metahash"`)
	}
	if len(missing) == 0 {
		return ""
	}
	return "missing " + strings.Join(missing, ", ")
}

// fileStatus is the status of the node's refusal of a file command, told
// by errors.Is: 409 when the request is well formed but the node's state
// stands in its way (no route to the node yet, the name taken, the file
// already here or downloading, as many downloads or files as the node
// takes), so that the same request may succeed later or under another name;
// 503 when the node keeps no files or is closing; 500 when its disk failed;
// 400 otherwise, when the refusal says what is wrong with the request.
func fileStatus(err error) int {
	switch {
	case errors.Is(err, gossiper.ErrNoFiles), errors.Is(err, gossiper.ErrClosed), errors.Is(err, files.ErrClosed):
		return http.StatusServiceUnavailable
	case errors.Is(err, gossiper.ErrNoRoute), errors.Is(err, gossiper.ErrDownloading),
		errors.Is(err, files.ErrAlreadyHave), errors.Is(err, files.ErrDownloading),
		errors.Is(err, files.ErrNameTaken), errors.Is(err, files.ErrTooManyFiles),
		errors.Is(err, gossiper.ErrTooManyDownloads):
		return http.StatusConflict
	case errors.Is(err, files.ErrDisk):
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
