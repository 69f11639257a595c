package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peerster/Peerster/files"
	"github.com/peerster/Peerster/gossiper"
	"github.com/peerster/Peerster/internal/testkit"
)

// octet are the headers of the page's upload of a file.
var octet = map[string]string{"Content-Type": "application/octet-stream"}

// randomBytes returns n bytes that differ from test to test but not from
// run to run.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 2))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return b
}

// metaHashOf is the metahash of data as the protocol defines it, written
// as the API writes it.
func metaHashOf(t *testing.T, data []byte) string {
	t.Helper()
	var metafile []byte
	for off := 0; off < len(data); off += files.ChunkSize {
		h := sha256.Sum256(data[off:min(off+files.ChunkSize, len(data))])
		metafile = append(metafile, h[:]...)
	}
	h := sha256.Sum256(metafile)
	return hex.EncodeToString(h[:])
}

func mustHash(t *testing.T, s string) gossiper.Hash {
	t.Helper()
	h, err := files.ParseHash(s)
	if err != nil {
		t.Fatal(err)
	}
	return gossiper.Hash(h)
}

// upload posts data to /files?name= through h as the page does.
func upload(t *testing.T, h http.Handler, name string, data []byte) *httptest.ResponseRecorder {
	t.Helper()
	return serve(t, h, "POST", "/files?name="+escapeQuery(name), string(data), octet)
}

func escapeQuery(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", " ", "%20", "#", "%23", "?", "%3F").Replace(s)
}

// TestShareUpload checks POST /files and what GET /files lists after it.
func TestShareUpload(t *testing.T) {
	f := newFileNode(t, "A")
	h := NewHandler(f, Options{Addr: pageAddr})
	data := randomBytes(20000, 1) // three chunks, the last short
	w := upload(t, h, "notes 1.txt", data)
	if w.Code != http.StatusOK {
		t.Fatalf("POST /files: %d %s", w.Code, w.Body)
	}
	meta := metaHashOf(t, data)
	want := `{"name":"notes 1.txt","metahash":"` + meta + `","size":20000,"chunks":3}` + "\n"
	if got := w.Body.String(); got != want {
		t.Errorf("POST /files = %s, want %s", got, want)
	}
	if got, _ := os.ReadFile(filepath.Join(f.fileDir, "notes 1.txt")); !bytes.Equal(got, data) {
		t.Error("the node was not given the uploaded bytes")
	}
	w = serve(t, h, "GET", "/files", "", nil)
	want = `[{"name":"notes 1.txt","metahash":"` + meta + `","size":20000,"chunks":3,"downloaded":false}]` + "\n"
	if got := w.Body.String(); w.Code != 200 || got != want {
		t.Errorf("GET /files = %d %s, want %s", w.Code, got, want)
	}
	// The same bytes under the same name again are shared already: no
	// conflict.
	if w := upload(t, h, "notes 1.txt", data); w.Code != http.StatusOK {
		t.Errorf("the same file uploaded again: %d %s", w.Code, w.Body)
	}
	// The largest file there may be.
	if w := upload(t, h, "big.bin", randomBytes(MaxFileBytes, 2)); w.Code != http.StatusOK {
		t.Errorf("an upload of exactly %d bytes: %d %s", MaxFileBytes, w.Code, w.Body)
	}
	// A file the node downloaded is marked so, as the node says, not as
	// its downloads do: after a restart it has none.
	f.mu.Lock()
	for i := range f.shared {
		f.shared[i].Downloaded = f.shared[i].Name == "notes 1.txt"
	}
	f.mu.Unlock()
	f.setDownload(gossiper.DownloadInfo{Name: "big.bin", Dest: "B", MetaHash: mustHash(t, metaHashOf(t, randomBytes(MaxFileBytes, 2))), State: gossiper.DownloadDone}, false)
	list := decodeJSON[[]fileEntry](t, serve(t, h, "GET", "/files", "", nil), 200)
	if len(list) != 2 || list[0].Name != "big.bin" || list[0].Downloaded || list[1].Name != "notes 1.txt" || !list[1].Downloaded {
		t.Errorf("GET /files after a download = %+v", list)
	}
	if w := serve(t, NewHandler(newFakeNode("A"), Options{Addr: pageAddr}), "GET", "/files", "", nil); w.Body.String() != "[]\n" {
		t.Errorf("GET /files on a node without files = %s, want []", w.Body)
	}
}

// TestShareUploadRefused checks every way POST /files refuses an upload,
// and that none of them shares anything.
func TestShareUploadRefused(t *testing.T) {
	tests := []struct {
		name   string
		target string
		body   string
		hdr    map[string]string
		status int
		says   string
	}{
		{"no name", "/files", "abc", octet, 400, "missing ?name="},
		{"slash", "/files?name=a%2Fb", "abc", octet, 400, "contains a slash"},
		{"dot dot", "/files?name=..", "abc", octet, 400, "starts with a dot"},
		{"empty name", "/files?name=", "abc", octet, 400, "it is empty"},
		{"empty file", "/files?name=a.txt", "", octet, 400, "empty, and an empty file has no chunk"},
		{"too big", "/files?name=a.txt", strings.Repeat("x", MaxFileBytes+1), octet, 413, "larger than the 2097152 bytes"},
		{"taken name", "/files?name=taken.txt", "other bytes", octet, 409, "a different file of that name"},
		{"JSON", "/files?name=a.txt", `{"x":1}`, map[string]string{"Content-Type": "application/json"}, 415, "must be application/octet-stream"},
		{"form", "/files?name=a.txt", "a=b", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, "application/octet-stream"},
		{"multipart form", "/files?name=a.txt", "--x--", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 415, "application/octet-stream"},
		{"text", "/files?name=a.txt", "abc", map[string]string{"Content-Type": "text/plain"}, 415, "application/octet-stream"},
		{"no type", "/files?name=a.txt", "abc", map[string]string{"Content-Type": ""}, 415, "application/octet-stream"},
		{"PUT", "/files?name=a.txt", "abc", octet, 405, "method not allowed"},
		{"cross-site", "/files?name=a.txt", "abc", map[string]string{"Content-Type": "application/octet-stream", "Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"foreign origin", "/files?name=a.txt", "abc", map[string]string{"Content-Type": "application/octet-stream", "Sec-Fetch-Site": "", "Origin": "http://evil.example"}, 403, "not this page's origin"},
		{"rebound host", "/files?name=a.txt", "abc", map[string]string{"Content-Type": "application/octet-stream", "Host": "evil.example:8080"}, 403, "not this node's address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A real node: its files' refusals carry the errors fileStatus
			// tells apart.
			f := runLoneFileNode(t, "A")
			if _, err := f.ShareBytes("taken.txt", []byte("first bytes")); err != nil {
				t.Fatal(err)
			}
			method := "POST"
			if tc.name == "PUT" {
				method = "PUT"
			}
			w := do(t, f.Node, method, tc.target, tc.body, tc.hdr)
			got := decodeJSON[apiError](t, w, tc.status)
			if !strings.Contains(got.Error, tc.says) {
				t.Errorf("error %q does not say %q", got.Error, tc.says)
			}
			if n := len(f.SharedFiles()); n != 1 {
				t.Errorf("a refused upload left %d files shared, want the 1 there was", n)
			}
		})
	}
}

// TestShareUploadTooBigUnannounced checks the 413 of a body that does not
// say its length, read up to the limit and no further.
func TestShareUploadTooBigUnannounced(t *testing.T) {
	f := newFileNode(t, "A")
	body := &countingReader{r: bytes.NewReader(make([]byte, 3*MaxFileBytes))}
	r := httptest.NewRequest("POST", "/files?name=a.bin", body)
	r.ContentLength = -1
	r.Host = pageAddr
	r.Header.Set("Content-Type", "application/octet-stream")
	w := httptest.NewRecorder()
	NewHandler(f, Options{Addr: pageAddr}).ServeHTTP(w, r)
	decodeJSON[apiError](t, w, http.StatusRequestEntityTooLarge)
	if body.n > MaxFileBytes+64<<10 {
		t.Errorf("read %d bytes of a body refused past %d", body.n, MaxFileBytes)
	}
	if len(f.SharedFiles()) != 0 {
		t.Error("a refused upload was shared")
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestShareWithoutFiles(t *testing.T) {
	got := decodeJSON[apiError](t, do(t, newFakeNode("A"), "POST", "/files?name=a.txt", "abc", octet), http.StatusServiceUnavailable)
	if got.Error != gossiper.ErrNoFiles.Error() {
		t.Errorf("error %q, want %q", got.Error, gossiper.ErrNoFiles)
	}
	got = decodeJSON[apiError](t, do(t, newFakeNode("A"), "POST", "/downloads", `{"name":"a","destination":"B","metahash":"`+strings.Repeat("ab", 32)+`"}`, nil), http.StatusServiceUnavailable)
	if got.Error != gossiper.ErrNoFiles.Error() {
		t.Errorf("error %q, want %q", got.Error, gossiper.ErrNoFiles)
	}
}

// TestGetFile checks GET /files/METAHASH: the bytes, the headers that make
// a browser save them under their name and never run them, ranges, and the
// refusals.
func TestGetFile(t *testing.T) {
	f := newFileNode(t, "A")
	h := NewHandler(f, Options{Addr: pageAddr})
	data := randomBytes(30000, 3)
	names := []string{`plain.bin`, `with "quotes" in it.txt`, `résumé été.pdf`, `semi;colon = x.html`}
	for i, name := range names {
		content := append(data, byte(i)) // each its own metahash
		sf, err := f.ShareBytes(name, content)
		if err != nil {
			t.Fatal(err)
		}
		meta := hexHash(sf.MetaHash)
		w := serve(t, h, "GET", "/files/"+meta, "", nil)
		if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), content) {
			t.Fatalf("GET /files/%s for %q: %d, %d bytes, want the file's %d", meta, name, w.Code, w.Body.Len(), len(content))
		}
		hd := w.Header()
		if got := hd.Get("Content-Type"); got != "application/octet-stream" {
			t.Errorf("%q: Content-Type %q", name, got)
		}
		if got := hd.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("%q: X-Content-Type-Options %q", name, got)
		}
		disp, params, err := mime.ParseMediaType(hd.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Errorf("%q: Content-Disposition %q reads as %q %q (%v)", name, hd.Get("Content-Disposition"), disp, params, err)
		}
		if strings.ContainsAny(hd.Get("Content-Disposition"), "\r\n") {
			t.Errorf("%q: Content-Disposition holds a line break", name)
		}
		if got := hd.Get("ETag"); got != `"`+meta+`"` {
			t.Errorf("%q: ETag %q", name, got)
		}
	}
	sf, _ := f.ShareBytes("plain.bin", append(data, 0))
	meta := hexHash(sf.MetaHash)

	// Ranges, as a browser resuming a download asks.
	w := serve(t, h, "GET", "/files/"+meta, "", map[string]string{"Range": "bytes=100-199"})
	if w.Code != http.StatusPartialContent || !bytes.Equal(w.Body.Bytes(), data[100:200]) {
		t.Errorf("Range 100-199: %d, %d bytes", w.Code, w.Body.Len())
	}
	if w := serve(t, h, "GET", "/files/"+meta, "", map[string]string{"If-None-Match": `"` + meta + `"`}); w.Code != http.StatusNotModified {
		t.Errorf("If-None-Match its metahash: %d, want 304", w.Code)
	}
	if w := serve(t, h, "HEAD", "/files/"+meta, "", nil); w.Code != 200 || w.Body.Len() != 0 || w.Header().Get("Content-Length") != strconv.Itoa(len(data)+1) {
		t.Errorf("HEAD: %d, %d bytes, Content-Length %q", w.Code, w.Body.Len(), w.Header().Get("Content-Length"))
	}
	// A pasted metahash in capitals names the same file.
	if w := serve(t, h, "GET", "/files/"+strings.ToUpper(meta), "", nil); w.Code != 200 || w.Body.Len() != len(data)+1 {
		t.Errorf("metahash in capitals: %d", w.Code)
	}

	for _, tc := range []struct {
		path   string
		status int
		says   string
	}{
		{"/files/" + strings.Repeat("0", 64), 404, "this node has no file of metahash " + strings.Repeat("0", 64)},
		{"/files/abc", 400, "is not a hash: a hash is 64 hex digits"},
		{"/files/" + strings.Repeat("g", 64), 400, "is not a hex digit"},
		{"/files/" + meta + "0", 400, "is not a hash"},
	} {
		got := decodeJSON[apiError](t, serve(t, h, "GET", tc.path, "", nil), tc.status)
		if !strings.Contains(got.Error, tc.says) {
			t.Errorf("GET %s: error %q does not say %q", tc.path, got.Error, tc.says)
		}
	}
	w = serve(t, h, "POST", "/files/"+meta, "", octet)
	decodeJSON[apiError](t, w, http.StatusMethodNotAllowed)
	if w.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("405 with Allow %q", w.Header().Get("Allow"))
	}

	// Bytes changed on disk behind the node's back are not the file its
	// metahash names, and are not handed out as it.
	path := filepath.Join(f.fileDir, "plain.bin")
	changed := append([]byte(nil), data...)
	changed = append(changed, 0)
	changed[5] ^= 1
	if err := os.WriteFile(path, changed, 0o644); err != nil {
		t.Fatal(err)
	}
	got := decodeJSON[apiError](t, serve(t, h, "GET", "/files/"+meta, "", nil), http.StatusNotFound)
	if !strings.Contains(got.Error, "changed on disk") {
		t.Errorf("a file changed on disk: error %q", got.Error)
	}
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	got = decodeJSON[apiError](t, serve(t, h, "GET", "/files/"+meta, "", nil), http.StatusNotFound)
	if !strings.Contains(got.Error, "cannot be read") {
		t.Errorf("a file removed from disk: error %q", got.Error)
	}
}

// TestHashesTo checks the check of a file's bytes against its metahash at
// the edges of chunks.
func TestHashesTo(t *testing.T) {
	for _, n := range []int{1, files.ChunkSize - 1, files.ChunkSize, files.ChunkSize + 1, 3 * files.ChunkSize, MaxFileBytes} {
		data := randomBytes(n, uint64(n))
		meta := mustHash(t, metaHashOf(t, data))
		if !hashesTo(bytes.NewReader(data), meta) {
			t.Errorf("%d bytes do not hash to their own metahash", n)
		}
		if hashesTo(bytes.NewReader(data[:n-1]), meta) {
			t.Errorf("%d bytes less one hash to the metahash of %d", n, n)
		}
	}
	if hashesTo(bytes.NewReader(nil), gossiper.Hash(sha256.Sum256(nil))) {
		t.Error("no bytes hash to a metahash")
	}
}

// TestDownloads checks POST and GET /downloads with the fake node.
func TestDownloads(t *testing.T) {
	f := newFileNode(t, "A")
	f.addRoute("B", "127.0.0.1:5001")
	h := NewHandler(f, Options{Addr: pageAddr})
	meta := strings.Repeat("0123456789abcdef", 4)
	before := time.Now()
	w := serve(t, h, "POST", "/downloads", `{"name":"copy.bin","destination":"B","metahash":"`+strings.ToUpper(meta)+`"}`, nil)
	d := decodeJSON[download](t, w, http.StatusAccepted)
	if d.Name != "copy.bin" || d.Destination != "B" || d.MetaHash != meta || d.State != "metafile" || d.Chunks != 0 || d.Have != 0 ||
		d.Bytes != 0 || d.Rate != 0 || d.Error != "" || d.Warning != "" || d.Started.Before(before.Add(-time.Second)) || d.Started.Location() != time.UTC {
		t.Errorf("POST /downloads = %+v", d)
	}
	if got := f.Downloads(); len(got) != 1 || got[0].MetaHash != mustHash(t, meta) || got[0].Dest != "B" || got[0].Name != "copy.bin" {
		t.Fatalf("the node was asked for %+v", got)
	}

	// The exact shape, with a download part way and one ended.
	start := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	f.setDownload(gossiper.DownloadInfo{Name: "copy.bin", Dest: "B", MetaHash: mustHash(t, meta), State: gossiper.DownloadFailed,
		Chunks: 10, Have: 4, Bytes: 4 * 8192, Started: start, Updated: start.Add(2 * time.Second),
		Error: "B does not have chunk 5", Warning: "B sent bytes that do not match their hash; they were dropped and asked for again"}, false)
	other := strings.Repeat("ff", 32)
	f.setDownload(gossiper.DownloadInfo{Name: "b.bin", Dest: "B", MetaHash: mustHash(t, other), State: gossiper.DownloadChunks,
		Chunks: 256, Have: 1, Bytes: 1000, Started: time.Now().Add(-10 * time.Second), Updated: time.Now()}, false)
	w = serve(t, h, "GET", "/downloads", "", nil)
	want := `[{"name":"copy.bin","destination":"B","metahash":"` + meta + `","state":"failed","chunks":10,"have":4,"bytes":32768,"rate":16384,` +
		`"started":"2024-05-01T12:00:00Z","updated":"2024-05-01T12:00:02Z","error":"B does not have chunk 5",` +
		`"warning":"B sent bytes that do not match their hash; they were dropped and asked for again"},`
	if got := w.Body.String(); w.Code != 200 || !strings.HasPrefix(got, want) {
		t.Errorf("GET /downloads = %d %s, want it to start %s", w.Code, got, want)
	}
	list := decodeJSON[[]download](t, serve(t, h, "GET", "/downloads", "", nil), 200)
	// 1000 bytes in the 10 s since it started, until now.
	if len(list) != 2 || list[1].Rate < 90 || list[1].Rate > 100 {
		t.Errorf("rate of a download going on: %+v", list)
	}
	if w := serve(t, NewHandler(newFakeNode("A"), Options{Addr: pageAddr}), "GET", "/downloads", "", nil); w.Body.String() != "[]\n" {
		t.Errorf("GET /downloads with none = %s, want []", w.Body)
	}
}

// TestDownloadsRefused checks every refusal of POST /downloads, and that
// none starts a download.
func TestDownloadsRefused(t *testing.T) {
	meta := strings.Repeat("ab", 32)
	going := strings.Repeat("cd", 32)
	body := func(name, dest, hash string) string {
		b, _ := json.Marshal(map[string]string{"name": name, "destination": dest, "metahash": hash})
		return string(b)
	}
	tests := []struct {
		name   string
		method string
		body   string
		hdr    map[string]string
		status int
		says   string
	}{
		{"bad metahash", "POST", body("a.bin", "B", "abc"), nil, 400, `metahash "abc" is not a hash: a hash is 64 hex digits`},
		{"metahash not hex", "POST", body("a.bin", "B", strings.Repeat("z", 64)), nil, 400, "is not a hex digit"},
		{"empty metahash", "POST", body("a.bin", "B", ""), nil, 400, "is not a hash"},
		{"name with a slash", "POST", body("../a.bin", "B", meta), nil, 400, "contains a slash"},
		{"empty name", "POST", body("", "B", meta), nil, 400, "it is empty"},
		{"hidden name", "POST", body(".a", "B", meta), nil, 400, "starts with a dot"},
		{"empty destination", "POST", body("a.bin", "", meta), nil, 400, "node: "},
		{"destination with a space", "POST", body("a.bin", "B C", meta), nil, 400, "node: "},
		{"own name", "POST", body("a.bin", "A", meta), nil, 400, `"A" is this node's own name`},
		{"no route", "POST", body("a.bin", "Z", meta), nil, 409, `no route to "Z": this node has not heard from it yet`},
		{"already downloading", "POST", body("other.bin", "B", going), nil, 409, `already downloading ` + going + ` as "going.bin"`},
		{"name taken", "POST", body("going.bin", "B", meta), nil, 409, "is saving to that name"},
		{"missing fields", "POST", `{"name":"a.bin"}`, nil, 400, `missing "destination", "metahash"`},
		{"missing all", "POST", `{}`, nil, 400, `missing "name", "destination", "metahash"`},
		{"unknown field", "POST", `{"name":"a","destination":"B","metahash":"` + meta + `","dest":"B"}`, nil, 400, `unknown field "dest"`},
		{"wrong type", "POST", `{"name":"a","destination":"B","metahash":7}`, nil, 400, `"metahash" must be a JSON string`},
		{"not JSON", "POST", body("a.bin", "B", meta), map[string]string{"Content-Type": "text/plain"}, 415, "must be application/json"},
		{"octet-stream", "POST", body("a.bin", "B", meta), octet, 415, "must be application/json"},
		{"too large", "POST", `{"name":"` + strings.Repeat("a", MaxBodyBytes) + `"}`, nil, 413, "larger than"},
		{"cross-site", "POST", body("a.bin", "B", meta), map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, "cross-site"},
		{"foreign origin", "POST", body("a.bin", "B", meta), map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, 403, "not this page's origin"},
		{"DELETE", "DELETE", "", nil, 405, "method not allowed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			// A real node, whose refusals carry the errors fileStatus
			// tells apart, downloading from a peer that never answers.
			f := runFileNodeWithSilentPeer(t)
			if err := f.Download("going.bin", "B", mustHash(t, going)); err != nil {
				t.Fatal(err)
			}
			w := do(t, f.Node, tc.method, "/downloads", tc.body, tc.hdr)
			got := decodeJSON[apiError](t, w, tc.status)
			if !strings.Contains(got.Error, tc.says) {
				t.Errorf("error %q does not say %q", got.Error, tc.says)
			}
			if n := len(f.Downloads()); n != 1 {
				t.Errorf("a refused request left %d downloads, want the 1 there was", n)
			}
		})
	}
}

// TestEventsFiles checks the files and downloads events: at start, on a
// change, and downloads no more than every downloadsEvery however fast the
// node changes, the last change included.
func TestEventsFiles(t *testing.T) {
	f := newFileNode(t, "A")
	s := startPage(t, f)
	ch := openEvents(t, s, "")
	evs := eventsUntil(t, ch, "downloads")
	if n := len(evs); evs[n-2] != (sseEvent{"", "files", `[]`}) || evs[n-1] != (sseEvent{"", "downloads", `[]`}) {
		t.Fatalf("stream began with %+v", evs)
	}

	sf, err := f.ShareBytes("a.txt", []byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"name":"a.txt","metahash":"` + hexHash(sf.MetaHash) + `","size":5,"chunks":1,"downloaded":false}]`
	if ev := nextEvent(t, ch); ev != (sseEvent{"", "files", want}) {
		t.Errorf("after a share: %+v, want files %s", ev, want)
	}

	// A download of 256 chunks that takes one every 4 ms.
	meta := mustHash(t, strings.Repeat("12", 32))
	start := time.Now()
	info := gossiper.DownloadInfo{Name: "b.bin", Dest: "B", MetaHash: meta, State: gossiper.DownloadChunks, Chunks: 256, Started: start}
	go func() {
		for i := range 256 {
			info.Have, info.Bytes, info.Updated = i+1, int64(i+1)*8192, time.Now()
			if i == 255 {
				info.State = gossiper.DownloadDone
			}
			f.setDownload(info, false)
			time.Sleep(4 * time.Millisecond)
		}
	}()
	var got []download
	for {
		ev := nextEvent(t, ch)
		if ev.event != "downloads" {
			t.Fatalf("while downloading: %+v", ev)
		}
		list := decodeData[[]download](t, ev)
		if len(list) != 1 {
			t.Fatalf("downloads event of %d", len(list))
		}
		got = append(got, list[0])
		if list[0].State == "done" {
			break
		}
	}
	took := time.Since(start)
	if max := int(took/downloadsEvery) + 2; len(got) > max {
		t.Errorf("%d downloads events in %v, want at most %d", len(got), took, max)
	}
	if len(got) < 2 {
		t.Errorf("only %d downloads events in %v: no progress shown", len(got), took)
	}
	last := got[len(got)-1]
	if last.Have != 256 || last.Bytes != 256*8192 || last.Rate <= 0 {
		t.Errorf("last downloads event: %+v", last)
	}

	// An ended download is not sent again: nothing changes.
	select {
	case ev := <-ch:
		t.Errorf("with nothing changing: %+v", ev)
	case <-time.After(1500 * time.Millisecond):
	}
}

// TestEventsDownloadRate checks that a download going on without progress
// (its node silent) is sent again every second, with its rate falling, and
// that a change held back by downloadsEvery goes out without a further
// signal.
func TestEventsDownloadRate(t *testing.T) {
	f := newFileNode(t, "A")
	meta := mustHash(t, strings.Repeat("34", 32))
	info := gossiper.DownloadInfo{Name: "c.bin", Dest: "B", MetaHash: meta, State: gossiper.DownloadChunks, Chunks: 10, Have: 2,
		Bytes: 2 * 8192, Started: time.Now().Add(-time.Second), Updated: time.Now()}
	f.setDownload(info, false)
	ch := openEvents(t, startPage(t, f), "")
	evs := eventsUntil(t, ch, "downloads")
	first := decodeData[[]download](t, evs[len(evs)-1])[0]
	ev := nextEvent(t, ch)
	again := decodeData[[]download](t, ev)[0]
	if ev.event != "downloads" || again.Have != 2 || again.Rate >= first.Rate {
		t.Errorf("a second later: %+v, want the same download at a lower rate than %d", again, first.Rate)
	}

	// Two changes in a row: the second is held back, and still arrives.
	info.Have = 3
	f.setDownload(info, false)
	if got := decodeData[[]download](t, nextEvent(t, ch))[0]; got.Have != 3 {
		t.Errorf("after a chunk: %+v", got)
	}
	info.Have = 4
	f.setDownload(info, false)
	sent := time.Now()
	if got := decodeData[[]download](t, nextEvent(t, ch))[0]; got.Have != 4 {
		t.Errorf("after another chunk: %+v", got)
	}
	// Sooner than the once-a-second re-read would bring it, but for a busy
	// machine.
	if d := time.Since(sent); d > downloadsEvery+450*time.Millisecond {
		t.Errorf("the held back change came after %v", d)
	}
}

// TestFilesRealNode shares and downloads through the API of two real
// gossipers that keep their files in files.Library, and pins the statuses
// and words of their refusals: fileStatus tells them apart with errors.Is,
// but for the gossiper's refusal of one download too many, which it
// recognises by its words.
func TestFilesRealNode(t *testing.T) {
	net := gossiper.NewMemNetwork(1)
	trA, _ := net.Listen("127.0.0.1:5000")
	trB, _ := net.Listen("127.0.0.1:5001")
	trC, _ := net.Listen("127.0.0.1:5002")
	muteC := &mutedTransport{Transport: trC}
	a := runFileNode(t, trA, "A", "127.0.0.1:5001")
	b := runFileNode(t, trB, "B", "127.0.0.1:5000", "127.0.0.1:5002")
	runFileNode(t, muteC, "C", "127.0.0.1:5001")
	hA, hB := NewHandler(a.Node, Options{Addr: pageAddr}), NewHandler(b.Node, Options{Addr: pageAddr})

	data := randomBytes(100000, 4)
	sf := decodeJSON[sharedFile](t, upload(t, hA, "report.pdf", data), 200)
	if sf.MetaHash != metaHashOf(t, data) || sf.Chunks != 13 || sf.Size != 100000 {
		t.Errorf("POST /files = %+v", sf)
	}
	if got, _ := os.ReadFile(filepath.Join(a.dir, "_SharedFiles", "report.pdf")); !bytes.Equal(got, data) {
		t.Error("the upload is not in A's _SharedFiles")
	}
	e := decodeJSON[apiError](t, upload(t, hA, "report.pdf", []byte("other bytes")), http.StatusConflict)
	if !strings.Contains(e.Error, "a different file of that name") {
		t.Errorf("name taken: %q", e.Error)
	}

	testkit.Eventually(t, 5*time.Second, "B never learned routes to A and C", func() bool {
		return len(b.Routes()) == 2
	})
	// C says nothing from now on: a download from it goes on, waiting.
	muteC.mute.Store(true)
	req := func(name, dest, meta string) string {
		return `{"name":"` + name + `","destination":"` + dest + `","metahash":"` + meta + `"}`
	}
	d := decodeJSON[download](t, serve(t, hB, "POST", "/downloads", req("copy.pdf", "A", sf.MetaHash), nil), http.StatusAccepted)
	if d.Name != "copy.pdf" || d.Destination != "A" || d.MetaHash != sf.MetaHash {
		t.Errorf("POST /downloads = %+v", d)
	}
	testkit.Eventually(t, 5*time.Second, "B's download never completed", func() bool {
		ds := decodeJSON[[]download](t, serve(t, hB, "GET", "/downloads", "", nil), 200)
		return len(ds) == 1 && ds[0].State == "done"
	})
	ds := decodeJSON[[]download](t, serve(t, hB, "GET", "/downloads", "", nil), 200)
	if d := ds[0]; d.Chunks != 13 || d.Have != 13 || d.Bytes != 100000 || d.Rate <= 0 || d.Error != "" {
		t.Errorf("the download done: %+v", d)
	}
	w := serve(t, hB, "GET", "/files/"+sf.MetaHash, "", nil)
	if w.Code != 200 || !bytes.Equal(w.Body.Bytes(), data) || w.Header().Get("Content-Disposition") != `attachment; filename=copy.pdf` {
		t.Errorf("GET /files/%s on B: %d, %d bytes, %q", sf.MetaHash, w.Code, w.Body.Len(), w.Header().Get("Content-Disposition"))
	}
	list := decodeJSON[[]fileEntry](t, serve(t, hB, "GET", "/files", "", nil), 200)
	if len(list) != 1 || list[0].Name != "copy.pdf" || !list[0].Downloaded || list[0].MetaHash != sf.MetaHash {
		t.Errorf("B's files: %+v", list)
	}
	if !strings.Contains(b.out.String(), "RECONSTRUCTED file copy.pdf\n") {
		t.Errorf("B's stdout lacks the RECONSTRUCTED line:\n%s", b.out)
	}

	other := hexHash(gossiper.Hash(sha256.Sum256([]byte("C has nothing"))))
	decodeJSON[download](t, serve(t, hB, "POST", "/downloads", req("waits.bin", "C", other), nil), http.StatusAccepted)
	fresh := hexHash(gossiper.Hash(sha256.Sum256([]byte("nobody has it"))))
	// The same request again is refused, and the download it repeats
	// keeps its partial file (files keeps them in _Downloads/.partial).
	partials := func() int {
		es, _ := os.ReadDir(filepath.Join(b.dir, "_Downloads", ".partial"))
		return len(es)
	}
	if n := partials(); n != 1 {
		t.Fatalf("%d partial files for one download waiting on C", n)
	}
	e = decodeJSON[apiError](t, serve(t, hB, "POST", "/downloads", req("waits.bin", "C", other), nil), http.StatusConflict)
	if e.Error != `already downloading `+other+` as "waits.bin"` {
		t.Errorf("the same download again: %q", e.Error)
	}
	if n := partials(); n != 1 {
		t.Errorf("refusing the same download again left %d partial files, want the 1 of the download going on", n)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		says       string
	}{
		{"file already here", req("again.pdf", "A", sf.MetaHash), 409, "already has that file"},
		{"name of a downloaded file", req("copy.pdf", "A", hexHash(gossiper.Hash(sha256.Sum256([]byte("x"))))), 409, "a different file of that name"},
		{"already downloading", req("waits2.bin", "C", other), 409, `already downloading ` + other + ` as "waits.bin"`},
		{"name of a download going on", req("waits.bin", "C", strings.Repeat("0", 64)), 409, "is saving to that name"},
		{"no route", req("z.bin", "Z", fresh), 409, `no route to "Z"`},
		{"own name", req("z.bin", "B", fresh), 400, "own name"},
		{"bad name", req("a/b", "A", fresh), 400, "slash"},
	} {
		got := decodeJSON[apiError](t, serve(t, hB, "POST", "/downloads", tc.body, nil), tc.status)
		if !strings.Contains(got.Error, tc.says) {
			t.Errorf("%s: error %q does not say %q", tc.name, got.Error, tc.says)
		}
	}
	// A download that failed (A does not have the file) leaves its partial
	// file, which it takes up again when asked under the same name; under
	// another it is refused.
	decodeJSON[download](t, serve(t, hB, "POST", "/downloads", req("gone.bin", "A", fresh), nil), http.StatusAccepted)
	testkit.Eventually(t, 5*time.Second, "the download of a file A does not have never failed", func() bool {
		for _, d := range decodeJSON[[]download](t, serve(t, hB, "GET", "/downloads", "", nil), 200) {
			if d.MetaHash == fresh {
				return d.State == "failed" && d.Error == "A does not have the file"
			}
		}
		return false
	})
	e = decodeJSON[apiError](t, serve(t, hB, "POST", "/downloads", req("gone2.bin", "A", fresh), nil), http.StatusConflict)
	if !strings.Contains(e.Error, "already being downloaded") {
		t.Errorf("a failed download under another name: %q", e.Error)
	}
	decodeJSON[download](t, serve(t, hB, "POST", "/downloads", req("gone.bin", "A", fresh), nil), http.StatusAccepted)

	// As many downloads as a node takes at once, all waiting on C: one
	// more is refused until one ends.
	for i := 1; i <= 2*64+1; i++ {
		meta := hexHash(gossiper.Hash(sha256.Sum256([]byte{byte(i)})))
		w := serve(t, hB, "POST", "/downloads", req("many"+strconv.Itoa(i), "C", meta), nil)
		if w.Code == http.StatusAccepted {
			if i == 2*64+1 {
				t.Errorf("%d downloads waiting on C at once, and no refusal", i+1)
			}
			continue
		}
		got := decodeJSON[apiError](t, w, http.StatusConflict)
		if !strings.Contains(got.Error, "downloads are going on already") || i < 10 {
			t.Errorf("download %d waiting on C: error %q", i+1, got.Error)
		}
		break
	}
}

// mutedTransport drops what its node sends once mute is set, as a node
// that went silent.
type mutedTransport struct {
	gossiper.Transport
	mute atomic.Bool
}

func (m *mutedTransport) WriteTo(b []byte, to string) error {
	if m.mute.Load() {
		return nil
	}
	return m.Transport.WriteTo(b, to)
}

// TestFilesDownloadedAfterRestart checks that GET /files still marks a
// file downloaded after a restart with a state folder, when the node has no
// download left to tell it by.
func TestFilesDownloadedAfterRestart(t *testing.T) {
	dir := t.TempDir()
	opts := files.Options{
		SharedDir:    filepath.Join(dir, files.DefaultSharedDir),
		DownloadsDir: filepath.Join(dir, files.DefaultDownloadsDir),
		StateDir:     filepath.Join(dir, "state"),
		Logger:       testLogger(t, 0),
	}
	lib, err := files.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Put("mine.txt", []byte("shared by the user")); err != nil {
		t.Fatal(err)
	}
	// The first run downloads a file, as its node would write it.
	data := randomBytes(20000, 7)
	metafile, chunks, err := files.Split(data)
	if err != nil {
		t.Fatal(err)
	}
	meta := files.HashOf(metafile)
	if _, err := lib.Begin("copy.bin", meta, "B"); err != nil {
		t.Fatal(err)
	}
	if err := lib.SetMetafile(meta, metafile); err != nil {
		t.Fatal(err)
	}
	for i, c := range chunks {
		if err := lib.WriteChunk(meta, i, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := lib.Complete(meta); err != nil {
		t.Fatal(err)
	}
	if err := lib.Close(); err != nil {
		t.Fatal(err)
	}

	// The restart: the files opened again and given to a new node, as
	// the gossiper binary does (openFiles, in library.go).
	lib, err = files.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lib.Close() })
	var shared []gossiper.SharedFile
	for _, f := range lib.Files() {
		shared = append(shared, sharedFileOf(f))
	}
	tr, err := gossiper.NewMemNetwork(1).Listen("127.0.0.1:5000")
	if err != nil {
		t.Fatal(err)
	}
	cfg := gossiper.DefaultConfig()
	cfg.Name = "A"
	node, _ := runSetUp(t, tr, cfg, func(n *gossiper.Node) { n.SetFiles(testLibrary{lib}, shared, nil) })
	if ds := node.Downloads(); len(ds) != 0 {
		t.Fatalf("downloads after the restart: %+v", ds)
	}
	list := decodeJSON[[]fileEntry](t, do(t, node, "GET", "/files", "", nil), 200)
	if len(list) != 2 || list[0].Name != "copy.bin" || !list[0].Downloaded || list[0].MetaHash != meta.String() ||
		list[1].Name != "mine.txt" || list[1].Downloaded {
		t.Errorf("GET /files after a restart = %+v; want copy.bin downloaded, mine.txt not", list)
	}
}

// TestFileStatus checks the status of each kind of refusal, however deep
// it is wrapped.
func TestFileStatus(t *testing.T) {
	for _, tc := range []struct {
		err    error
		status int
	}{
		{gossiper.ErrNoFiles, 503},
		{gossiper.ErrClosed, 503},
		{files.ErrClosed, 503},
		{gossiper.ErrNoRoute, 409},
		{gossiper.ErrDownloading, 409},
		{files.ErrAlreadyHave, 409},
		{files.ErrDownloading, 409},
		{files.ErrNameTaken, 409},
		{files.ErrTooManyFiles, 409},
		{files.ErrDisk, 500},
		{files.ErrInvalid, 400},
		{errors.New("anything else"), 400},
	} {
		err := fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", tc.err))
		if got := fileStatus(err); got != tc.status {
			t.Errorf("fileStatus(%v) = %d, want %d", err, got, tc.status)
		}
	}
}
