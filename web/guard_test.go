package web

import (
	"net/http"
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
