package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"sync"
)

// assets serves the embedded static files under content-hash URLs
// (/static/<hash>/app.css), so they can be cached forever and a new
// release never meets a stale copy. Text files are also kept gzipped
// (Leaflet is 148 KB as shipped, 43 KB gzipped: that difference is
// seconds on a weak phone link) and served so to clients that accept it.
type assets struct {
	files map[string][]byte // name -> content
	gz    map[string][]byte // name -> gzipped content, for text files that shrink
	hash  map[string]string // name -> short hash
}

// embeddedAssets are the binary's static files, hashed and compressed once
// per process (they cannot change while it runs; every Server shares them).
var embeddedAssets = sync.OnceValues(func() (*assets, error) {
	sub, err := fs.Sub(staticFS, "static")
	if err != nil {
		return nil, err
	}
	return newAssets(sub)
})

func newAssets(fsys fs.FS) (*assets, error) {
	a := &assets{files: map[string][]byte{}, gz: map[string][]byte{}, hash: map[string]string{}}
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		a.files[p] = b
		a.hash[p] = hex.EncodeToString(sum[:])[:12]
		switch path.Ext(p) {
		case ".js", ".css", ".svg", ".json", ".html", ".txt":
			var buf bytes.Buffer
			zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			if _, err := zw.Write(b); err != nil {
				return err
			}
			if err := zw.Close(); err != nil {
				return err
			}
			if buf.Len() < len(b)*9/10 {
				a.gz[p] = buf.Bytes()
			}
		}
		return nil
	})
	return a, err
}

// url returns the versioned URL of a static file.
func (a *assets) url(name string) string {
	return "/static/" + a.hash[name] + "/" + name
}

func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/static/")
	hash, name, ok := strings.Cut(rest, "/")
	b, found := a.files[name]
	if !ok || !found {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	if hash == a.hash[name] {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		h.Set("Content-Type", ct)
	}
	if z, ok := a.gz[name]; ok {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r.Header.Values("Accept-Encoding")) {
			h.Set("Content-Encoding", "gzip")
			b = z
		}
	}
	h.Set("Content-Length", strconv.Itoa(len(b)))
	if r.Method == http.MethodHead {
		return
	}
	w.Write(b)
}

// acceptsGzip reads Accept-Encoding: gzip (or x-gzip) with a q above
// zero, or else * with a q above zero.
func acceptsGzip(values []string) bool {
	gz, star := -1.0, -1.0
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gz = max(gz, q)
			case "*":
				star = max(star, q)
			}
		}
	}
	if gz >= 0 {
		return gz > 0
	}
	return star > 0
}
