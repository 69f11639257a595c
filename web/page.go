package web

import (
	"embed"
	"io/fs"
	"net/http"
)

// static holds the page. It is plain HTML, CSS and JavaScript, so the
// binary serves it as it is: no build step, nothing fetched from elsewhere.
//
//go:embed static
var static embed.FS

func pageHandler() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the directory is embedded above, so it is there
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			writeError(w, http.StatusMethodNotAllowed, "method not allowed; the page is read with GET")
			return
		}
		// The files change with the binary, so a browser must ask again
		// rather than keep a page that no longer matches the API.
		w.Header().Set("Cache-Control", "no-cache")
		fileServer.ServeHTTP(w, r)
	})
}
