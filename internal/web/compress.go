package web

import (
	"compress/gzip"
	"net/http"
	"strings"
	"sync"
)

// Pages and JSON go out gzipped to a client that accepts it: on a phone's
// network the bytes are the wait. Downloads (a Content-Disposition),
// what is already encoded (the static assets keep gzipped copies) and
// bodiless answers pass through; small bodies are not worth it but are
// not known small until written, so everything eligible is compressed.

// BestSpeed: most of the saving for a fraction of the CPU, which matters
// for the half-megabyte grid squares on a 2-core server.
var gzipPool = sync.Pool{New: func() any { w, _ := gzip.NewWriterLevel(nil, gzip.BestSpeed); return w }}

// gzipWriter decides at the first write whether the response is
// compressed.
type gzipWriter struct {
	http.ResponseWriter
	gz      *gzip.Writer
	decided bool
}

func compressible(h http.Header) bool {
	if h.Get("Content-Encoding") != "" || h.Get("Content-Disposition") != "" {
		return false
	}
	ct := h.Get("Content-Type")
	for _, p := range []string{"text/html", "application/json", "application/geo+json", "text/plain", "text/csv"} {
		if strings.HasPrefix(ct, p) {
			return true
		}
	}
	return false
}

func (g *gzipWriter) decide(status int) {
	if g.decided {
		return
	}
	g.decided = true
	h := g.ResponseWriter.Header()
	if status == http.StatusNoContent || status == http.StatusNotModified || status < 200 || !compressible(h) {
		return
	}
	h.Del("Content-Length")
	h.Set("Content-Encoding", "gzip")
	h.Add("Vary", "Accept-Encoding")
	g.gz = gzipPool.Get().(*gzip.Writer)
	g.gz.Reset(g.ResponseWriter)
}

func (g *gzipWriter) WriteHeader(code int) {
	g.decide(code)
	g.ResponseWriter.WriteHeader(code)
}

func (g *gzipWriter) Write(b []byte) (int, error) {
	if !g.decided {
		if g.Header().Get("Content-Type") == "" {
			g.Header().Set("Content-Type", http.DetectContentType(b))
		}
		g.WriteHeader(http.StatusOK)
	}
	if g.gz != nil {
		return g.gz.Write(b)
	}
	return g.ResponseWriter.Write(b)
}

// Flush sends what is compressed so far.
func (g *gzipWriter) Flush() {
	if g.gz != nil {
		_ = g.gz.Flush()
	}
	if f, ok := g.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// close ends the compressed stream.
func (g *gzipWriter) close() {
	if g.gz != nil {
		_ = g.gz.Close()
		gzipPool.Put(g.gz)
		g.gz = nil
	}
}
