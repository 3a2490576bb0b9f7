// Package web serves the browser app: the party join page (/j/<code>), the staff console
// (/console), the minimal room page (/room) and their assets, all embedded from dist/.
// dist/ is built by `npm run build` in this directory and committed, so `go build` needs
// no npm. The package imports nothing of ours.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed all:dist
var dist embed.FS

// Handler serves the app. Files under /assets/ are served as they are (hashed names are
// cached for a year); any other GET path is the single-page app's index.html, so /room,
// /j/<code> and /console/... all load the app, which routes on the path itself.
// Mount it as the fallback ("/") after the API and signaling routes.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic("web: dist missing from embed: " + err.Error()) // cannot happen: embedded at build
	}
	index, err := fs.ReadFile(sub, "index.html")
	if err != nil {
		index = []byte("<!doctype html><title>yizhan</title><p>web/dist is not built: run npm run build in web/</p>")
	}
	sum := sha256.Sum256(index)
	return &handler{files: sub, index: index, indexTag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

type handler struct {
	files    fs.FS  // dist/, read-only
	index    []byte // dist/index.html
	indexTag string // ETag of index
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hdr := w.Header()
	hdr.Set("X-Content-Type-Options", "nosniff")
	// Invitation codes are in the path: never send them to another site.
	hdr.Set("Referrer-Policy", "no-referrer")
	p := path.Clean("/" + r.URL.Path)
	if strings.HasPrefix(p, "/assets/") {
		h.serveAsset(w, r, strings.TrimPrefix(p, "/"))
		return
	}
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("ETag", h.indexTag)
	hdr.Set("Permissions-Policy", "camera=(self), microphone=(self), display-capture=(self)")
	hdr.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data: blob:; media-src 'self' blob:; connect-src 'self' http: https: ws: wss:; "+
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	if match := r.Header.Get("If-None-Match"); match != "" && match == h.indexTag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(h.index)
}

func (h *handler) serveAsset(w http.ResponseWriter, r *http.Request, name string) {
	data, err := fs.ReadFile(h.files, name)
	if err != nil || strings.HasSuffix(name, ".gz") {
		http.NotFound(w, r)
		return
	}
	hdr := w.Header()
	ctype := mime.TypeByExtension(path.Ext(name))
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	hdr.Set("Content-Type", ctype)
	if hashed(name) {
		hdr.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		hdr.Set("Cache-Control", "public, max-age=3600")
	}
	hdr.Set("Vary", "Accept-Encoding")
	if acceptsGzip(r) {
		if gz, err := fs.ReadFile(h.files, name+".gz"); err == nil {
			hdr.Set("Content-Encoding", "gzip")
			data = gz
		}
	}
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(data)
}

// hashed reports whether an asset name carries esbuild's content hash (name-HASH.ext),
// so that it can be cached forever.
func hashed(name string) bool {
	base := path.Base(name)
	base = strings.TrimSuffix(base, path.Ext(base))
	i := strings.LastIndexByte(base, '-')
	if i < 0 || len(base)-i-1 != 8 {
		return false
	}
	for _, c := range base[i+1:] {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		enc, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.TrimSpace(enc) == "gzip" && strings.TrimSpace(q) != "q=0" {
			return true
		}
	}
	return false
}
