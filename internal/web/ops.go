package web

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
)

// opsRoutes lists the routes of operations: health, metrics, static files, the API document.
func (s *Server) opsRoutes() []route {
	return []route{
		{method: "GET", path: "/healthz", public: true, h: s.handleHealth},
		{method: "GET", path: "/metrics", public: true, h: s.handleMetrics},
		{method: "GET", path: "/static/", public: true, h: s.static.serve},
		{method: "GET", path: "/api/v1/openapi.json", api: true, public: true, summary: "This OpenAPI document", resp: "object", h: s.handleOpenAPI},
	}
}

// handleMetrics serves /metrics: request metrics plus case gauges read
// from the database at scrape time (so every replica reports the same).
//
// Case counts are the city's business. A scraper on this host reads them
// freely, if its request came straight to the program (a request relayed
// by a reverse proxy on the same host arrives from loopback too, but
// carries the proxy's forwarding headers); anyone else needs the scrape
// token (MetricsToken) or an administrator's session. Other API tokens
// (a unit's, a partner system's) do not read metrics.
func (s *Server) handleMetrics(w http.ResponseWriter, r *http.Request) {
	if err := s.mayScrape(r); err != nil {
		s.failJSON(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	var b strings.Builder
	s.metrics.write(&b)
	if s.DB != nil && s.DB.HasStandby() {
		in := 0
		if s.DB.StandbyInUse() {
			in = 1
		}
		fmt.Fprintln(&b, "# HELP chuangwen_standby_in_use Whether the list and dashboard reads go to the standby of --db-replica (1: it is caught up) or to the primary (0).")
		fmt.Fprintln(&b, "# TYPE chuangwen_standby_in_use gauge")
		fmt.Fprintf(&b, "chuangwen_standby_in_use %d\n", in)
	}
	counts, err := s.Flow.StateCounts(ctx, org.System)
	if err == nil {
		fmt.Fprintln(&b, "# HELP chuangwen_cases Cases by state.")
		fmt.Fprintln(&b, "# TYPE chuangwen_cases gauge")
		states := make([]string, 0, len(counts))
		for st := range counts {
			states = append(states, st)
		}
		sort.Strings(states)
		for _, st := range states {
			fmt.Fprintf(&b, "chuangwen_cases{state=%q} %d\n", st, counts[st])
		}
	}
	var overdue int
	if err == nil {
		overdue, err = s.Flow.OverdueCount(ctx, org.System)
	}
	if err != nil {
		s.Log.Error("metrics", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(&b, "# HELP chuangwen_cases_overdue Open cases past their deadline.")
	fmt.Fprintln(&b, "# TYPE chuangwen_cases_overdue gauge")
	fmt.Fprintf(&b, "chuangwen_cases_overdue %d\n", overdue)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	io.WriteString(w, b.String())
}

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, 200, s.OpenAPI())
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.DB.Ping(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

// forwardingHeaders mark a request a proxy relayed.
var forwardingHeaders = []string{"Forwarded", "X-Forwarded-For", "X-Real-IP", "X-Forwarded-Host"}

// mayScrape says whether r may read /metrics (see handleMetrics).
func (s *Server) mayScrape(r *http.Request) error {
	relayed := s.ProxyHeader != "" && r.Header.Get(s.ProxyHeader) != ""
	for _, h := range forwardingHeaders {
		relayed = relayed || r.Header.Get(h) != ""
	}
	if ip := net.ParseIP(peerIP(r)); ip != nil && ip.IsLoopback() && !relayed {
		return nil
	}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && s.MetricsToken != "" {
		if subtle.ConstantTimeCompare([]byte(tok), []byte(s.MetricsToken)) == 1 {
			return nil
		}
	}
	p, err := s.authenticate(r)
	if err != nil {
		return err
	}
	if p.session == nil || p.actor.Role != org.RoleAdmin {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	return nil
}
