package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// asset is one embedded file, ready to serve.
type asset struct {
	data        []byte
	contentType string
	etag        string
}

// contentTypes is fixed here rather than taken from the mime package, whose
// answers depend on the system's mime.types files.
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".ico":  "image/x-icon",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// contentSecurityPolicy allows only the page's own files and WebSocket
// connections; everything the page needs is embedded.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; " +
	"img-src 'self' data:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

func loadAssets() map[string]asset {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		panic("webui: " + err.Error())
	}
	assets := make(map[string]asset)
	err = fs.WalkDir(sub, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(sub, name)
		if err != nil {
			return err
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			ct = http.DetectContentType(data)
		}
		sum := sha256.Sum256(data)
		assets["/"+name] = asset{
			data:        data,
			contentType: ct,
			etag:        `"` + hex.EncodeToString(sum[:12]) + `"`,
		}
		return nil
	})
	if err != nil {
		panic("webui: " + err.Error())
	}
	return assets
}

var assets = loadAssets()

// Handler returns an http.Handler serving the chat page: index.html at "/"
// and the other embedded files by name ("/app.js", "/style.css"). Unknown
// paths get 404, methods other than GET and HEAD get 405. Every response
// carries "Cache-Control: no-cache" (with an ETag, so revalidation is cheap).
func Handler() http.Handler {
	return http.HandlerFunc(serve)
}

func serve(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		h.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}

	// Exact names only: no directory listings, no redirects, and anything
	// not in canonical form (trailing slash, "..", "//") is simply unknown.
	name := r.URL.Path
	if name == "" || name == "/" {
		name = "/index.html"
	}
	a, ok := assets[name]
	if !ok {
		http.NotFound(w, r)
		return
	}

	h.Set("Content-Type", a.contentType)
	h.Set("ETag", a.etag)
	h.Set("Referrer-Policy", "no-referrer")
	if strings.HasPrefix(a.contentType, "text/html") {
		h.Set("Content-Security-Policy", contentSecurityPolicy)
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.data))
}
