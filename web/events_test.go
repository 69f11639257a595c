package web

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestStreamKeepAlive checks that a quiet stream sends a comment once
// keepAlive has passed since its last write, and nothing before.
func TestStreamKeepAlive(t *testing.T) {
	rec := httptest.NewRecorder()
	s := &stream{w: rec, rc: http.NewResponseController(rec), lastWrite: time.Now()}
	if !s.flush(false) || rec.Body.Len() != 0 {
		t.Fatalf("a stream that just wrote sent %q", rec.Body)
	}
	s.lastWrite = time.Now().Add(-keepAlive)
	if !s.flush(false) || rec.Body.String() != ": keep-alive\n\n" {
		t.Fatalf("after %v of quiet the stream sent %q, want a keep-alive comment", keepAlive, rec.Body)
	}
	if !rec.Flushed {
		t.Error("keep-alive not flushed")
	}
	if time.Since(s.lastWrite) > time.Second {
		t.Error("keep-alive does not count as a write")
	}
	rec.Body.Reset()
	if !s.flush(false) || rec.Body.Len() != 0 {
		t.Errorf("right after a keep-alive the stream sent %q", rec.Body)
	}
}
