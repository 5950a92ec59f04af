// Package web is the HTTP face of Chuangwen: the JSON API under /api/v1,
// the server-rendered console in Simplified Chinese, health and metrics.
// Handlers translate HTTP to calls on the domain packages and domain
// errors back to HTTP statuses, in one place (errors.go).
package web

import (
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"chuangwen/internal/basemap"

	"chuangwen/internal/apperr"

	"chuangwen/internal/assess"
	"chuangwen/internal/report"

	"chuangwen/internal/grid"
	"chuangwen/internal/i18n"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/photo"
	"chuangwen/internal/privacy"
	"chuangwen/internal/ratelimit"
	"chuangwen/internal/store"
	"chuangwen/internal/tasks"
	"chuangwen/internal/volunteer"
	"chuangwen/internal/workflow"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Server holds what handlers need.
type Server struct {
	DB   *store.DB
	Org  *org.Store
	Flow *workflow.Service
	// Assess is the assessment (测评): editions, sites, rounds, scores.
	Assess *assess.Service
	// Report drafts, publishes and verifies the campaign's documents.
	Report *report.Service
	// TwoFactorRoles are the roles that sign in with a code from an
	// authenticator app as well (administrators and acceptors in
	// production; none unless set).
	TwoFactorRoles []org.Role
	// Volunteer runs volunteer service.
	Volunteer *volunteer.Service
	// Tasks keeps the campaign's task list (工作任务分解).
	Tasks *tasks.Service
	// Privacy erases personal data past its retention and logs who
	// viewed it; nil logs nothing.
	Privacy  *privacy.Service
	Msg      *i18n.Catalogue
	Log      *slog.Logger
	Location *time.Location
	// SecureCookies marks cookies Secure (set behind HTTPS).
	SecureCookies bool
	// MaxUploadBytes bounds a whole multipart request.
	MaxUploadBytes int64
	// Intake: the grid, public reporting, and the public map's settings.
	Grid *grid.Store
	// Basemap is the city's own base layer, drawn under the grid when no
	// tile service is configured (nil: none).
	Basemap *basemap.Store
	Intake  *intake.Service
	City    string
	Tiles   *TileConfig
	// Rate limits per client address on the public endpoints (reads:
	// pages, map data, status; writes: reports, follows, ratings).
	PublicReadLimit  *ratelimit.Limiter
	PublicWriteLimit *ratelimit.Limiter
	// VolunteerWriteLimit limits the volunteers' phone pages' writes per
	// address (nil: none).
	VolunteerWriteLimit *ratelimit.Limiter
	// Open311 is the GeoReport v2 jurisdiction id ("" = single city).
	Open311Jurisdiction string
	// Open311ExtendedStatuses writes detailed statuses (in_progress,
	// fixed, duplicate...) in requests by default, for clients such as
	// FixMyStreet that read them.
	Open311ExtendedStatuses bool
	// TrustProxy takes the client's address from the header ProxyHeader
	// names when the peer is a loopback or private address (a reverse
	// proxy in front), for rate limits, blocks and login throttles.
	TrustProxy bool
	// ProxyHeader is that header: X-Forwarded-For (its last hop) unless
	// set, or e.g. X-Real-IP when the proxy sets that one.
	ProxyHeader string
	// MetricsToken, if set, is the bearer token a scraper from another
	// host presents for /metrics.
	MetricsToken string
	// PublicURL is the address people reach the program at
	// (https://cw.example.gov.cn), for the links printed in QR codes and
	// certificates; empty: the scheme and host of the request.
	PublicURL string

	csp     string
	mux     *http.ServeMux
	tmpl    map[string]*template.Template
	static  *assets
	metrics *metrics
	routes  []route
}

// New builds the server, parsing every template now so that a broken one
// fails start-up, not a request.
func New(s *Server) (*Server, error) {
	if s.Log == nil {
		s.Log = slog.New(slog.DiscardHandler)
	}
	if s.MaxUploadBytes <= 0 {
		s.MaxUploadBytes = 9*photo.DefaultMaxBytes + 1<<20
	}
	var err error
	if s.static, err = embeddedAssets(); err != nil {
		return nil, err
	}
	if err := s.parseTemplates(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics()
	s.csp = contentSecurityPolicy(s.Tiles)
	s.mux = http.NewServeMux()
	s.registerRoutes()
	return s, nil
}

// ServeHTTP serves a request with access logging, metrics, panic recovery
// and the security headers every response carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	h := rec.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", s.csp)
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler { // a stream cut on purpose: net/http drops the connection
				panic(v)
			}
			s.Log.Error("panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			if !rec.wrote {
				s.fail(rec, r, errors.New("panic"))
			}
		}
		_, pattern := s.mux.Handler(r)
		d := time.Since(start)
		s.metrics.observe(pattern, rec.status, d)
		s.Log.Info("http", "method", r.Method, "path", logPath(r.URL.Path), "status", rec.status, "ms", float64(d.Microseconds())/1000, "bytes", rec.bytes)
	}()
	if h, pattern := s.mux.Handler(r); pattern == "" {
		// No route: net/http's plain English 404, or 405 with the methods
		// allowed, becomes the product's answer in the reader's language.
		probe := &statusProbe{header: http.Header{}}
		h.ServeHTTP(probe, r)
		err := apperr.New(apperr.NotFound, "page_not_found")
		if probe.status == http.StatusMethodNotAllowed {
			rec.Header().Set("Allow", probe.header.Get("Allow"))
			err = apperr.New(apperr.NotAllowed, "method_not_allowed")
		}
		if p, aerr := s.authenticate(r); aerr == nil {
			r = r.WithContext(withPrincipal(r.Context(), p)) // the page shows who is logged in
		}
		s.fail(rec, r, err)
		return
	}
	if acceptsGzip(r.Header.Values("Accept-Encoding")) {
		gw := &gzipWriter{ResponseWriter: rec}
		defer gw.close()
		s.mux.ServeHTTP(gw, r)
		return
	}
	s.mux.ServeHTTP(rec, r)
}

// statusProbe keeps the status and headers a handler writes and drops
// its body.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.status = code }

// contentSecurityPolicy allows only this site, plus the tile service's
// host for images when the operator configured one.
func contentSecurityPolicy(tiles *TileConfig) string {
	img := "'self' data: blob:"
	if tiles != nil {
		if u, err := url.Parse(strings.NewReplacer("{s}", "x", "{z}", "0", "{x}", "0", "{y}", "0").Replace(tiles.URL)); err == nil && u.Host != "" {
			host := u.Host
			if strings.Contains(tiles.URL, "{s}") {
				// t{s}.example.com → *.example.com
				if _, rest, ok := strings.Cut(host, "."); ok {
					host = "*." + rest
				}
			}
			img += " " + u.Scheme + "://" + host
		}
	}
	return "default-src 'self'; img-src " + img + "; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
}

// logPath hides receipt codes, which are bearer keys to a case's status
// page and rating, from the access log.
func logPath(p string) string {
	for _, prefix := range []string{"/track/", "/open311/v2/tokens/"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" {
			_, tail, _ := strings.Cut(rest, "/")
			if tail != "" {
				tail = "/" + tail
			}
			return prefix + "…" + tail
		}
	}
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *statusRecorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	r.wrote = true
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// ---- request context: who is asking ----

type ctxKey int

const (
	keyActor ctxKey = iota
	keySession
	keyLang
)

// lang picks the user's language: the lang cookie (the console's switch)
// first; API clients may also ask with Accept-Language. The console
// otherwise speaks Chinese whatever the browser's locale, so that an
// office PC set up in English still shows the product as its users know it.
func (s *Server) lang(r *http.Request) string {
	if c, err := r.Cookie("lang"); err == nil {
		return s.Msg.Pick(c.Value)
	}
	if isAPI(r) && r.Header.Get("Accept-Language") != "" {
		return s.Msg.Pick(r.Header.Get("Accept-Language"))
	}
	return i18n.Default
}
