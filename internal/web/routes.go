package web

import (
	"crypto/subtle"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// route is one endpoint. API routes carry the documentation that the
// OpenAPI document is built from, so the two cannot drift apart.
type route struct {
	method, path string
	api          bool       // JSON under /api/v1
	public       bool       // no login needed
	roles        []org.Role // nil: any logged-in caller
	summary      string
	query        []string // documented query parameters
	body         string   // request schema name ("" none)
	resp         string   // response schema name
	status       int      // success status when not 200
	h            http.HandlerFunc
}

var (
	admin     = []org.Role{org.RoleAdmin}
	office    = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleLeader}
	reporters = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleInspector, org.RoleGrid, org.RoleLeader, org.RoleClient}
)

// areas are the parts of the server, each in its own file with its
// handlers and its slice of the route table. A new module adds its file
// and one line here.
var areas = []func(*Server) []route{
	(*Server).opsRoutes,
	(*Server).sessionRoutes,
	(*Server).twoFactorRoutes,
	(*Server).caseRoutes,
	(*Server).filterRoutes,
	(*Server).batchRoutes,
	(*Server).replyRoutes,
	(*Server).alertRoutes,
	(*Server).caseMapRoutes,
	(*Server).photoRoutes,
	(*Server).organisationRoutes,
	(*Server).configRoutes,
	(*Server).attributeRoutes,
	(*Server).performanceRoutes,
	(*Server).auditRoutes,
	(*Server).gridRoutes,
	(*Server).blocklistRoutes,
	(*Server).publicRoutes,
	(*Server).trackRoutes,
	(*Server).assessRoutes,
	(*Server).reportRoutes,
	(*Server).noticeRoutes,
	(*Server).leaderRoutes,
	(*Server).exportRoutes,
	(*Server).recheckRoutes,
	(*Server).taskRoutes,
	(*Server).privacyRoutes,
	(*Server).oversightRoutes,
	(*Server).volunteerRoutes,
	(*Server).volunteerPortalRoutes,
}

func (s *Server) registerRoutes() {
	s.routes = nil
	for _, area := range areas {
		s.routes = append(s.routes, area(s)...)
	}
	for _, rt := range s.routes {
		s.mux.Handle(rt.method+" "+rt.path, s.wrap(rt))
	}
	// Open311 GeoReport v2: its own router, formats and errors.
	s.mux.Handle("/open311/v2/", s.open311Handler())
}

func isAPI(r *http.Request) bool { return strings.HasPrefix(r.URL.Path, "/api/") }

// wrap applies authentication, the forced password change, role checks
// and CSRF protection to a route.
func (s *Server) wrap(rt route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// net/http removes multipart temp files only for the request it
		// made; the copies made below carry their own form, so remove it
		// here whatever happens.
		cur := r
		defer func() {
			if cur.MultipartForm != nil {
				_ = cur.MultipartForm.RemoveAll()
			}
		}()
		if rt.public {
			rt.h(w, r)
			return
		}
		p, err := s.authenticate(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		r = r.WithContext(withPrincipal(r.Context(), p))
		cur = r
		if p.session != nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				if err := s.checkCSRF(r, p.session, nil); err != nil {
					s.fail(w, r, err)
					return
				}
			}
			if p.session.User.MustChangePassword && rt.path != "/password" && rt.path != "/logout" {
				if isAPI(r) {
					s.fail(w, r, apperr.New(apperr.Forbidden, "password_change_required"))
				} else {
					http.Redirect(w, r, "/password", http.StatusSeeOther)
				}
				return
			}
			if s.mustEnrol(p.session.User) && !slices.Contains(enrolPaths, rt.path) {
				if isAPI(r) {
					s.fail(w, r, apperr.New(apperr.Forbidden, "twofactor.enrol_required"))
				} else {
					http.Redirect(w, r, "/account/2fa", http.StatusSeeOther)
				}
				return
			}
		}
		if p.session == nil {
			if err := tokenMay(p.actor.TokenScope, rt, r); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if rt.roles != nil && !slices.Contains(rt.roles, p.actor.Role) {
			s.fail(w, r, apperr.New(apperr.Forbidden, "forbidden"))
			return
		}
		if s.DB != nil && s.DB.HasStandby() {
			r = s.readYourWrites(w, r)
			cur = r
		}
		rt.h(w, r)
	})
}

// freshCookie marks a browser that has just changed something: for
// freshFor afterwards its reads go to the primary, not the standby
// (store.Primary), so that a list shows the case it has just dispatched
// even if the standby has not replayed it yet. The standby is used only
// while it is at most three seconds behind (store.WatchStandby), so five
// suffice; a cookie rather than memory, so that it holds
// across replicas of the program behind a balancer.
const (
	freshCookie = "cw_fresh"
	freshFor    = 5 * time.Second
)

func (s *Server) readYourWrites(w http.ResponseWriter, r *http.Request) *http.Request {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.SetCookie(w, &http.Cookie{Name: freshCookie, Value: "1", Path: "/", MaxAge: int(freshFor / time.Second),
			HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode})
		return r.WithContext(store.Primary(r.Context()))
	}
	if _, err := r.Cookie(freshCookie); err == nil {
		return r.WithContext(store.Primary(r.Context()))
	}
	return r
}

// tokenMay checks an API token's scope against a route (docs/security.md):
// a unit token acts as its unit's handler (its role and scope do the
// rest); a read token only reads; a file token only files cases (and
// reads the categories); an open311 token has no business here at all.
func tokenMay(scope string, rt route, r *http.Request) error {
	switch scope {
	case org.TokenUnit:
		return nil
	case org.TokenRead:
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return nil
		}
		return apperr.New(apperr.Forbidden, "token.read_only")
	case org.TokenFile:
		// filing, and the categories it files under
		if rt.method == http.MethodPost && rt.path == "/api/v1/cases" || rt.method == http.MethodGet && rt.path == "/api/v1/categories" {
			return nil
		}
	}
	return apperr.New(apperr.Forbidden, "token.scope")
}

// checkCSRF is the one cross-site request check. Every write refuses a
// browser-sent Origin other than this host (a browser always sends Origin
// on a cross-site POST); a cookie-authenticated write (sess != nil) must
// also return the session's token in the X-CSRF-Token header or the form
// field "csrf". form reads that field: nil parses the request's form,
// a streaming reader passes its own.
func (s *Server) checkCSRF(r *http.Request, sess *org.Session, form func(string) string) error {
	bad := apperr.New(apperr.Forbidden, "csrf")
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return bad
		}
	}
	if sess == nil {
		return nil
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		if form == nil {
			if err := s.parseForm(r); err != nil {
				return err
			}
			form = r.FormValue
		}
		tok = form("csrf")
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
		return bad
	}
	return nil
}

// Page is a console page that takes no path parameter, and the roles that
// may open it (nil: every logged-in user).
type Page struct {
	Path  string
	Roles []org.Role
}

// Pages lists the console's pages, for the tests that walk all of them.
func (s *Server) Pages() []Page {
	var out []Page
	for _, rt := range s.routes {
		path := strings.TrimSuffix(rt.path, "{$}")
		if rt.method == "GET" && !rt.api && !rt.public && !strings.Contains(path, "{") && !strings.HasPrefix(path, "/static/") {
			out = append(out, Page{Path: path, Roles: rt.roles})
		}
	}
	return out
}

// Route is one entry of the route table as the access tests read it: who
// may call it (Public: anyone; Roles nil: every signed-in caller).
type Route struct {
	Method, Path string
	API, Public  bool
	Roles        []org.Role
}

// Routes lists the route table, for the test that tries every route as
// every kind of caller.
func (s *Server) Routes() []Route {
	out := make([]Route, len(s.routes))
	for i, rt := range s.routes {
		out[i] = Route{Method: rt.method, Path: rt.path, API: rt.api, Public: rt.public, Roles: rt.roles}
	}
	return out
}
