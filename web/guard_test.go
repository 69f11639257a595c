package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestCrossOriginPost checks who may post, with and without the
// Sec-Fetch-Site header that older browsers and scripts do not send.
func TestCrossOriginPost(t *testing.T) {
	tests := []struct {
		name   string
		hdr    map[string]string
		status int
		says   string
	}{
		{"page's own fetch", nil, http.StatusOK, ""},
		{"no header at all", map[string]string{"Origin": "", "Sec-Fetch-Site": ""}, http.StatusOK, ""},
		{"old browser, own origin", map[string]string{"Sec-Fetch-Site": ""}, http.StatusOK, ""},
		{"old browser, origin in capitals", map[string]string{"Sec-Fetch-Site": "", "Origin": "http://LOCALHOST:8080", "Host": "localhost:8080"}, http.StatusOK, ""},
		{"old browser, host in capitals", map[string]string{"Sec-Fetch-Site": "", "Origin": "http://localhost:8080", "Host": "LocalHost:8080"}, http.StatusOK, ""},
		{"old browser, foreign origin", map[string]string{"Sec-Fetch-Site": "", "Origin": "http://evil.example"}, http.StatusForbidden, `origin "http://evil.example" is not this page's origin http://127.0.0.1:8080`},
		{"old browser, https origin", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://" + pageAddr}, http.StatusForbidden, "is not this page's origin"},
		{"old browser, null origin", map[string]string{"Sec-Fetch-Site": "", "Origin": "null"}, http.StatusForbidden, "is not this page's origin"},
		{"cross-site with own origin", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden, "request comes from a cross-site page"},
		{"cross-site with foreign origin", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}, http.StatusForbidden, "request comes from a cross-site page"},
		{"unknown Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "elsewhere"}, http.StatusForbidden, "request comes from a elsewhere page"},
		{"typed URL, foreign origin", map[string]string{"Sec-Fetch-Site": "none", "Origin": "http://evil.example"}, http.StatusForbidden, "is not this page's origin"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeNode("A")
			w := do(t, f, "POST", "/message", `{"text":"hi"}`, tc.hdr)
			if tc.status == http.StatusOK {
				decodeJSON[posted](t, w, tc.status)
				return
			}
			if got := decodeJSON[apiError](t, w, tc.status); !strings.Contains(got.Error, tc.says) {
				t.Errorf("error %q does not say %q", got.Error, tc.says)
			}
			if len(f.LogSince(0)) != 0 {
				t.Error("a refused post reached the node")
			}
		})
	}
}

// guardPaths are every path a browser can GET, the API's and the page's.
var guardPaths = []string{"/message", "/message?before=2", "/node", "/id", "/routes", "/private", "/private?with=B",
	"/events", "/alerts", "/metrics", "/files", "/files/" + strings.Repeat("0", 64), "/files/not-a-hash", "/downloads",
	"/", "/index.html", "/app.js", "/common.js", "/private.js", "/files.js", "/style.css", "/favicon.svg", "/nothing-here"}

// guardGet sends a request through a handler with metrics, with the given
// headers only. Its context is over, so that /events answers what it sends
// first and returns.
func guardGet(t *testing.T, method, target string, hdr map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	f := newFakeNode("A")
	f.receive("B", 1, "hi")
	metrics := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "peerster_up 1") })
	h := NewHandler(f, Options{Addr: pageAddr, Metrics: metrics})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequestWithContext(ctx, method, target, nil)
	r.Host = pageAddr
	for k, v := range hdr {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestCrossSiteReads checks that no other site's page gets anything from
// any path, by an <img>, a <script>, a fetch or a frame, while the page's
// own requests, scripts such as curl, and a link followed to the page do.
func TestCrossSiteReads(t *testing.T) {
	refused := []struct {
		name string
		hdr  map[string]string
		says string
	}{
		{"cross-site <img>", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, "request comes from a cross-site page"},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty", "Origin": "http://evil.example"}, "cross-site"},
		{"same-site <script>", map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"}, "request comes from a same-site page"},
		{"cross-site frame", map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}, "cross-site"},
		{"old browser, foreign origin", map[string]string{"Origin": "http://evil.example"}, `origin "http://evil.example" is not this page's origin`},
		{"null origin", map[string]string{"Origin": "null"}, "is not this page's origin"},
		{"same-origin claim, foreign origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://evil.example:8080"}, "is not this page's origin"},
		{"unknown Sec-Fetch-Site", map[string]string{"Sec-Fetch-Site": "elsewhere"}, "elsewhere"},
	}
	allowed := []struct {
		name string
		hdr  map[string]string
	}{
		{"curl", nil},
		{"the page's fetch", map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}},
		{"the page's fetch with Origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "http://" + pageAddr}},
		{"typed in the address bar", map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}},
	}
	for _, path := range guardPaths {
		want := guardGet(t, "GET", path, nil).Code
		if want == http.StatusForbidden {
			t.Fatalf("GET %s from curl: 403", path)
		}
		for _, tc := range refused {
			for _, method := range []string{"GET", "HEAD"} {
				w := guardGet(t, method, path, tc.hdr)
				if w.Code != http.StatusForbidden {
					t.Errorf("%s %s, %s: %d, want 403", method, path, tc.name, w.Code)
					continue
				}
				if method == "GET" {
					if got := decodeJSON[apiError](t, w, 403); !strings.Contains(got.Error, tc.says) {
						t.Errorf("GET %s, %s: error %q does not say %q", path, tc.name, got.Error, tc.says)
					}
				}
			}
		}
		for _, tc := range allowed {
			if w := guardGet(t, "GET", path, tc.hdr); w.Code != want {
				t.Errorf("GET %s, %s: %d, want %d as from curl", path, tc.name, w.Code, want)
			}
		}
	}
	// A link followed from another site opens the page, and nothing else.
	link := map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "Sec-Fetch-User": "?1"}
	if w := guardGet(t, "GET", "/", link); w.Code != 200 || !strings.Contains(w.Body.String(), `id="chat-box"`) {
		t.Errorf("link from another site to the page: %d", w.Code)
	}
	for _, path := range []string{"/message", "/app.js", "/events", "/index.html"} {
		if w := guardGet(t, "GET", path, link); w.Code != http.StatusForbidden {
			t.Errorf("link from another site to %s: %d, want 403", path, w.Code)
		}
	}
	if w := guardGet(t, "POST", "/", link); w.Code != http.StatusForbidden {
		t.Errorf("cross-site form posted to the page: %d, want 403", w.Code)
	}
}
