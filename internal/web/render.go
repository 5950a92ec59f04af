package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"chuangwen/internal/assess"

	"chuangwen/internal/org"
	"chuangwen/internal/workflow"
)

// parsed holds every page parsed together with its layout, once per
// process: parsing them all costs far more than cloning them, and a test
// run builds a server per test. The parsed set is never executed; each
// server clones it and binds its own functions (its catalogue, zone and
// asset names).
var parsed struct {
	once  sync.Once
	pages map[string]*template.Template
	err   error
}

// parseTemplates gives s its own copy of every page, bound to s.
func (s *Server) parseTemplates() error {
	parsed.once.Do(func() { parsed.pages, parsed.err = parsePages((&Server{}).templateFuncs()) })
	if parsed.err != nil {
		return parsed.err
	}
	funcs := s.templateFuncs()
	s.tmpl = make(map[string]*template.Template, len(parsed.pages))
	for name, t := range parsed.pages {
		c, err := t.Clone()
		if err != nil {
			return fmt.Errorf("template %s: %w", name, err)
		}
		s.tmpl[name] = c.Funcs(funcs)
	}
	return nil
}

// templateFuncs are the functions the pages call, bound to s. Parsing
// needs only their names, so a zero Server's serve for it.
func (s *Server) templateFuncs() template.FuncMap {
	return template.FuncMap{
		"t":     func(lang, key string, args ...string) string { return s.Msg.T(lang, key, args...) },
		"asset": func(name string) string { return s.static.url(name) },
		"time": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(s.Location).Format("2006-01-02 15:04")
		},
		"day": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.In(s.Location).Format("2006-01-02")
		},
		"ms": func(ms int64) string {
			if ms == 0 {
				return ""
			}
			return time.UnixMilli(ms).In(s.Location).Format("2006-01-02 15:04")
		},
		"pct": func(p *float64) string {
			if p == nil {
				return "—"
			}
			return fmt.Sprintf("%.1f%%", *p*100)
		},
		"str": func(v any) string { return fmt.Sprint(v) },
		"neg": func(n int) int { return -n },
		// share prints a fraction as a percentage with two decimals.
		"share":  func(f float64) string { return fmt.Sprintf("%.2f%%", f*100) },
		"join":   strings.Join,
		"prefix": strings.HasPrefix,
		"has": func(ids []int64, id int64) bool {
			for _, x := range ids {
				if x == id {
					return true
				}
			}
			return false
		},
		"add": func(a, b int) int { return a + b },
		"mul": func(a, b int) int { return a * b },
		"div": func(a, b int) int {
			if b == 0 {
				return 0
			}
			return a / b
		},
		// Assessment figures: exact until printed, half away from zero.
		"pts":     assess.Points,
		"ratepct": assess.Percent,
		"delta":   assess.Change,
		"sub": func(a, b *big.Rat) *big.Rat {
			if a == nil || b == nil {
				return nil
			}
			return new(big.Rat).Sub(a, b)
		},
		"std": func(s assess.Scores, code string) *assess.StandardScore {
			if x, ok := s.Standard(code); ok {
				return &x
			}
			return nil
		},
		"dict": func(kv ...any) map[string]any {
			m := make(map[string]any, len(kv)/2)
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"sign": func(r *big.Rat) int {
			if r == nil {
				return 0
			}
			return r.Sign()
		},
		"deref": func(f *float64) float64 { return *f },
		"list":  func(xs ...int) []int { return xs },
	}
}

// parsePages parses each page together with the layout.
func parsePages(funcs template.FuncMap) (map[string]*template.Template, error) {
	pages, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		name := strings.TrimSuffix(strings.TrimPrefix(p, "templates/"), ".html")
		if name == "layout" || name == "public_layout" || strings.HasPrefix(name, "_") {
			continue
		}
		// Public pages (no login, phone first) have their own layout.
		layout := "templates/layout.html"
		if strings.HasPrefix(name, "public_") {
			layout = "templates/public_layout.html"
		}
		// _partials.html holds the pieces several pages share.
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, layout, "templates/_partials.html", p)
		if err != nil {
			return nil, fmt.Errorf("template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// page is what every template receives.
type page struct {
	Lang   string
	Title  string
	Actor  org.Actor
	User   *org.User
	CSRF   string
	Path   string
	Flash  string
	Queues []workflow.Queue
	Unread int // staff alerts not read yet (the header's bell)
	Data   map[string]any
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data map[string]any) {
	s.renderStatus(w, r, http.StatusOK, name, data)
}

func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	t := s.tmpl[name]
	if t == nil {
		http.Error(w, "no template "+name, http.StatusInternalServerError)
		return
	}
	p := page{Lang: s.lang(r), Path: r.URL.Path, Data: data}
	if pr := principalOf(r); pr != nil {
		p.Actor = pr.actor
		if pr.session != nil {
			p.CSRF = pr.session.CSRF
			p.User = &pr.session.User
		}
		p.Queues = workflow.QueuesFor(pr.actor.Role)
		if pr.session != nil {
			// The bell is a courtesy: a failed count leaves it blank
			// rather than failing the page.
			n, err := s.Flow.UnreadAlerts(r.Context(), pr.actor)
			if err != nil {
				s.Log.Warn("unread alerts", "err", err)
			}
			p.Unread = n
		}
	}
	switch r.URL.Query().Get("msg") {
	case "saved":
		p.Flash = s.Msg.T(p.Lang, "ui.saved")
	case "done":
		p.Flash = s.Msg.T(p.Lang, "ui.done")
	case "done_next":
		p.Flash = s.Msg.T(p.Lang, "ui.done_next")
	case "queue_done":
		p.Flash = s.Msg.T(p.Lang, "ui.queue_done")
	case "password":
		p.Flash = s.Msg.T(p.Lang, "ui.password_changed")
	case "sessions":
		p.Flash = s.Msg.T(p.Lang, "ui.sessions_ended")
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		s.Log.Error("render", "template", name, "err", err)
		http.Error(w, "render error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
