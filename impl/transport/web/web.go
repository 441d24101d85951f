// Package web holds the web client of the chat: one page, its script and
// its style sheet, plain files embedded in the binary, with no build step
// and nothing loaded from elsewhere. The page opens a WebSocket at /chat
// on the host that served it (TRANS-5) and speaks the protocol's lines.
// On a server that offers the rooms extension (PROTOCOL.md 13.4) it is in
// several rooms at once and shows one, listing the others with their
// unread messages; on any other it is in one room at a time.
package web

import (
	"bytes"
	"embed"
	"net/http"
	"time"
)

//go:embed index.html app.js style.css
var files embed.FS

// CSP is the Content-Security-Policy of every file served: the page loads
// only its own script and style sheet, runs no inline script, and
// connects only to its own host, over WebSocket included.
const CSP = "default-src 'self'; connect-src 'self' ws: wss:; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// asset is a file served at a path.
type asset struct {
	name  string // in files
	ctype string // Content-Type
	body  []byte
}

// assets are the files served, by URL path; every other path is 404.
var assets = map[string]*asset{
	"/":          {name: "index.html", ctype: "text/html; charset=utf-8"},
	"/app.js":    {name: "app.js", ctype: "text/javascript; charset=utf-8"},
	"/style.css": {name: "style.css", ctype: "text/css; charset=utf-8"},
}

func init() {
	for _, a := range assets {
		b, err := files.ReadFile(a.name)
		if err != nil {
			panic(err) // embedded above: cannot happen
		}
		a.body = b
	}
}

// Handler returns the handler of the web client: GET or HEAD of "/",
// "/app.js" and "/style.css" answer the files, with the header CSP; any
// other path answers 404 and any other method 405.
func Handler() http.Handler { return handler{} }

type handler struct{}

func (handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := assets[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", CSP)
	h.Set("Content-Type", a.ctype)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
}
