package web

import (
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
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

func (s *Server) registerRoutes() {
	listQuery := []string{"queue", "state", "category_id", "unit_id", "region_id", "warning", "supervised", "from", "to", "no", "before", "limit", "coord"}
	s.routes = []route{
		// operations
		{method: "GET", path: "/healthz", public: true, h: s.handleHealth},
		{method: "GET", path: "/metrics", public: true, h: s.handleMetrics},
		{method: "GET", path: "/static/", public: true, h: s.static.serve},

		// JSON API
		{method: "GET", path: "/api/v1/openapi.json", api: true, public: true, summary: "This OpenAPI document", resp: "object", h: s.handleOpenAPI},
		{method: "GET", path: "/api/v1/me", api: true, summary: "The caller: role, unit and scope", resp: "Actor", h: s.apiMe},
		{method: "GET", path: "/api/v1/cases", api: true, summary: "List cases in the caller's scope, newest first (keyset paging with before=)", query: listQuery, resp: "CasePage", h: s.apiListCases},
		{method: "POST", path: "/api/v1/cases", api: true, status: 201, roles: reporters, summary: "Report a problem (JSON, or multipart/form-data with photo files)", body: "NewCase", resp: "Case", h: s.apiCreateCase},
		{method: "GET", path: "/api/v1/cases/{id}", api: true, summary: "One case with its photos and the actions the caller may take (coord=gcj02|bd09 converts its coordinates)", query: []string{"coord"}, resp: "Case", h: s.apiGetCase},
		{method: "GET", path: "/api/v1/cases/{id}/timeline", api: true, summary: "The trail of a case", resp: "Events", h: s.apiTimeline},
		{method: "POST", path: "/api/v1/cases/{id}/actions", api: true, summary: "Act on a case: accept, reject, merge, dispatch, acknowledge, return, request/approve/deny_extension, postpone, resume, feedback, verify_pass, verify_fail, reopen, void, supervise, unsupervise, comment (JSON, or multipart with photo files)", body: "Action", resp: "Case", h: s.apiAct},
		{method: "GET", path: "/api/v1/cases/{id}/photos/{photo}", api: true, summary: "A photo file of a case", resp: "binary", h: s.handlePhoto},
		{method: "GET", path: "/api/v1/queues", api: true, summary: "Counts of the caller's work queues", resp: "object", h: s.apiQueues},
		{method: "GET", path: "/api/v1/regions", api: true, summary: "The region tree", resp: "Regions", h: s.apiRegions},
		{method: "POST", path: "/api/v1/regions", api: true, status: 201, roles: admin, summary: "Add a region", body: "Region", resp: "Region", h: s.apiCreateRegion},
		{method: "PUT", path: "/api/v1/regions/{id}", api: true, roles: admin, summary: "Rename a region", body: "Region", resp: "object", h: s.apiUpdateRegion},
		{method: "GET", path: "/api/v1/units", api: true, summary: "Responsible units", resp: "Units", h: s.apiUnits},
		{method: "POST", path: "/api/v1/units", api: true, status: 201, roles: admin, summary: "Add a unit", body: "Unit", resp: "Unit", h: s.apiCreateUnit},
		{method: "PUT", path: "/api/v1/units/{id}", api: true, roles: admin, summary: "Change a unit", body: "Unit", resp: "object", h: s.apiUpdateUnit},
		{method: "GET", path: "/api/v1/users", api: true, roles: admin, summary: "User accounts", resp: "Users", h: s.apiUsers},
		{method: "POST", path: "/api/v1/users", api: true, status: 201, roles: admin, summary: "Add a user", body: "NewUser", resp: "User", h: s.apiCreateUser},
		{method: "PUT", path: "/api/v1/users/{id}", api: true, roles: admin, summary: "Change a user's role, unit, scope or disabled flag", body: "NewUser", resp: "object", h: s.apiUpdateUser},
		{method: "POST", path: "/api/v1/users/{id}/password", api: true, roles: admin, summary: "Reset a user's password (forces a change at next login)", body: "Password", resp: "object", h: s.apiResetPassword},
		{method: "GET", path: "/api/v1/categories", api: true, summary: "Problem categories (大类/小类)", resp: "Categories", h: s.apiCategories},
		{method: "POST", path: "/api/v1/categories", api: true, status: 201, roles: admin, summary: "Add a category", body: "Category", resp: "Category", h: s.apiSaveCategory},
		{method: "PUT", path: "/api/v1/categories/{id}", api: true, roles: admin, summary: "Change a category", body: "Category", resp: "Category", h: s.apiSaveCategory},
		{method: "GET", path: "/api/v1/responsibilities", api: true, summary: "The responsibility table (category × region → lead and cooperating units)", resp: "Responsibilities", h: s.apiResponsibilities},
		{method: "POST", path: "/api/v1/responsibilities", api: true, roles: admin, summary: "Set the row for a category and region", body: "Responsibility", resp: "Responsibility", h: s.apiSaveResponsibility},
		{method: "DELETE", path: "/api/v1/responsibilities/{id}", api: true, roles: admin, summary: "Remove a row", resp: "object", h: s.apiDeleteResponsibility},
		{method: "GET", path: "/api/v1/calendar", api: true, summary: "Working hours, holidays and make-up working days", resp: "Calendar", h: s.apiCalendar},
		{method: "PUT", path: "/api/v1/calendar/spans", api: true, roles: admin, summary: "Set the daily working hours", body: "Spans", resp: "object", h: s.apiSetSpans},
		{method: "POST", path: "/api/v1/calendar/days", api: true, roles: admin, summary: "Add or change holidays and make-up working days", body: "Days", resp: "object", h: s.apiSetDays},
		{method: "DELETE", path: "/api/v1/calendar/days/{day}", api: true, roles: admin, summary: "Remove a holiday or make-up day", resp: "object", h: s.apiDeleteDay},
		{method: "GET", path: "/api/v1/performance/units", api: true, roles: office, summary: "Unit performance figures and rates over a period", query: []string{"from", "to"}, resp: "PerfRows", h: s.apiPerfUnits},
		{method: "GET", path: "/api/v1/performance/regions", api: true, roles: office, summary: "Region performance figures over a period", query: []string{"from", "to", "level"}, resp: "PerfRows", h: s.apiPerfRegions},
		{method: "GET", path: "/api/v1/tokens", api: true, roles: admin, summary: "API tokens (without secrets)", resp: "Tokens", h: s.apiTokens},
		{method: "POST", path: "/api/v1/tokens", api: true, status: 201, roles: admin, summary: "Create an API token; the secret is in the answer only", body: "NewToken", resp: "Token", h: s.apiCreateToken},
		{method: "DELETE", path: "/api/v1/tokens/{id}", api: true, roles: admin, summary: "Revoke a token", resp: "object", h: s.apiRevokeToken},
		{method: "GET", path: "/api/v1/audit/verify", api: true, roles: admin, summary: "Walk the hash-chained trail and report the first broken link", resp: "AuditReport", h: s.apiAuditVerify},

		{method: "GET", path: "/api/v1/cases/{id}/duplicates", api: true, roles: office, summary: "Open cases of the same category near this one, reported earlier: likely duplicates to merge into", resp: "Nearby", h: s.apiDuplicates},
		{method: "GET", path: "/api/v1/grid/cells", api: true, summary: "Grid cells (万米单元网格) meeting a box, as GeoJSON", query: []string{"bbox"}, resp: "GeoJSON", h: s.apiGridCells},
		{method: "GET", path: "/api/v1/grid/export", api: true, roles: office, summary: "Every grid cell as a GeoJSON FeatureCollection (the import format)", resp: "GeoJSON", h: s.apiGridExport},
		{method: "POST", path: "/api/v1/grid/import", api: true, roles: admin, summary: "Import grid cells from a GeoJSON FeatureCollection (create or update by grid code; dry_run=1 only validates)", query: []string{"dry_run"}, body: "GeoJSON", resp: "GridImport", h: s.apiGridImport},
		{method: "GET", path: "/api/v1/grid/locate", api: true, summary: "Where a point falls: grid cell, region and the fallback used", query: []string{"lat", "lon", "coord"}, resp: "Location", h: s.apiGridLocate},
		{method: "PUT", path: "/api/v1/grid/assignments/{user}", api: true, roles: admin, summary: "Set the grid cells a grid worker patrols (by cell code)", body: "CellCodes", resp: "object", h: s.apiGridAssign},
		{method: "GET", path: "/api/v1/blocklist", api: true, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Blocked devices, phone numbers and addresses (masked)", resp: "Blocks", h: s.apiBlocks},
		{method: "POST", path: "/api/v1/blocklist", api: true, status: 201, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Block a device, phone number or address from public reporting", body: "Block", resp: "object", h: s.apiAddBlock},
		{method: "DELETE", path: "/api/v1/blocklist/{kind}/{id}", api: true, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Lift a block", resp: "object", h: s.apiRemoveBlock},

		// public reporting (随手拍): no login, rate-limited per client
		{method: "GET", path: "/api/v1/public/config", api: true, public: true, summary: "Public page settings: city, categories with hints, limits, map", resp: "PublicConfig", h: s.apiPublicConfig},
		{method: "GET", path: "/api/v1/public/grid", api: true, public: true, summary: "Grid cells in a box for the offline map (GeoJSON, at most 3000)", query: []string{"bbox"}, resp: "GeoJSON", h: s.apiPublicGrid},
		{method: "GET", path: "/api/v1/public/cases", api: true, public: true, summary: "Open cases in a box, as map markers", query: []string{"bbox"}, resp: "object", h: s.apiPublicCases},
		{method: "GET", path: "/api/v1/public/nearby", api: true, public: true, summary: "Open cases of a category near a point (likely the same problem)", query: []string{"category_id", "lat", "lon", "coord"}, resp: "object", h: s.apiPublicNearby},
		{method: "POST", path: "/api/v1/public/reports", api: true, public: true, status: 201, summary: "Report a problem (multipart: category_id, description, lat, lon, coord, name, phone, device_id, photos); Idempotency-Key header makes retries safe (200 with the first answer)", body: "PublicReport", resp: "Receipt", h: s.apiPublicReport},
		{method: "POST", path: "/api/v1/public/follow", api: true, public: true, status: 201, summary: "Follow an existing open case instead of reporting it again", body: "Follow", resp: "Receipt", h: s.apiPublicFollow},
		{method: "GET", path: "/api/v1/public/photos/{no}/{photo}/{variant}", api: true, public: true, summary: "A derived (metadata-free) version of a case photo: large or thumb", resp: "binary", h: s.apiPublicPhoto},
		{method: "GET", path: "/report", public: true, h: s.pageReport},
		{method: "GET", path: "/track", public: true, h: s.pageTrackLookup},
		{method: "GET", path: "/track/{code}", public: true, h: s.pageTrack},
		{method: "POST", path: "/track/{code}/rate", public: true, h: s.postTrackRate},
		{method: "GET", path: "/track/{code}/photos/{photo}/{variant}", public: true, h: s.handleTrackPhoto},

		// console
		{method: "GET", path: "/login", public: true, h: s.pageLogin},
		{method: "POST", path: "/login", public: true, h: s.postLogin},
		{method: "POST", path: "/logout", h: s.postLogout},
		{method: "GET", path: "/password", h: s.pagePassword},
		{method: "POST", path: "/password", h: s.postPassword},
		{method: "GET", path: "/lang/{lang}", public: true, h: s.setLang},
		{method: "GET", path: "/{$}", h: s.pageDashboard},
		{method: "GET", path: "/cases", h: s.pageCases},
		{method: "GET", path: "/cases/new", roles: reporters, h: s.pageNewCase},
		{method: "POST", path: "/cases", roles: reporters, h: s.postCase},
		{method: "GET", path: "/cases/{id}", h: s.pageCase},
		{method: "POST", path: "/cases/{id}/act", h: s.postAct},
		{method: "GET", path: "/cases/{id}/photos/{photo}", h: s.handlePhoto},
		{method: "GET", path: "/performance", roles: office, h: s.pagePerformance},
		{method: "GET", path: "/admin/users", roles: admin, h: s.pageUsers},
		{method: "POST", path: "/admin/users", roles: admin, h: s.postUser},
		{method: "POST", path: "/admin/users/{id}", roles: admin, h: s.postUserUpdate},
		{method: "POST", path: "/admin/users/{id}/password", roles: admin, h: s.postUserPassword},
		{method: "GET", path: "/admin/units", roles: admin, h: s.pageUnits},
		{method: "POST", path: "/admin/units", roles: admin, h: s.postUnit},
		{method: "GET", path: "/admin/regions", roles: admin, h: s.pageRegions},
		{method: "POST", path: "/admin/regions", roles: admin, h: s.postRegion},
		{method: "GET", path: "/admin/categories", roles: admin, h: s.pageCategories},
		{method: "POST", path: "/admin/categories", roles: admin, h: s.postCategory},
		{method: "GET", path: "/admin/responsibilities", roles: admin, h: s.pageResponsibilities},
		{method: "POST", path: "/admin/responsibilities", roles: admin, h: s.postResponsibility},
		{method: "POST", path: "/admin/responsibilities/{id}/delete", roles: admin, h: s.postDeleteResponsibility},
		{method: "GET", path: "/admin/calendar", roles: admin, h: s.pageCalendar},
		{method: "POST", path: "/admin/calendar", roles: admin, h: s.postCalendar},
		{method: "GET", path: "/admin/tokens", roles: admin, h: s.pageTokens},
		{method: "POST", path: "/admin/tokens", roles: admin, h: s.postToken},
		{method: "POST", path: "/admin/tokens/{id}/revoke", roles: admin, h: s.postRevokeToken},
		{method: "GET", path: "/admin/audit", roles: admin, h: s.pageAudit},
		{method: "GET", path: "/admin/grid", roles: admin, h: s.pageGrid},
		{method: "POST", path: "/admin/grid/import", roles: admin, h: s.postGridImport},
		{method: "POST", path: "/admin/grid/assign", roles: admin, h: s.postGridAssign},
		{method: "GET", path: "/admin/blocklist", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.pageBlocklist},
		{method: "POST", path: "/admin/blocklist", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postBlock},
		{method: "POST", path: "/admin/blocklist/{kind}/{id}/delete", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postUnblock},
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
				if err := s.checkCSRF(r, p.session); err != nil {
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
		}
		if rt.roles != nil && !slices.Contains(rt.roles, p.actor.Role) {
			s.fail(w, r, apperr.New(apperr.Forbidden, "forbidden"))
			return
		}
		rt.h(w, r)
	})
}

// checkCSRF checks a cookie-authenticated write: the session's token must
// come back in the form field "csrf" or the X-CSRF-Token header, and a
// browser-sent Origin must be this host.
func (s *Server) checkCSRF(r *http.Request, sess *org.Session) error {
	bad := apperr.New(apperr.Forbidden, "csrf")
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return bad
		}
	}
	tok := r.Header.Get("X-CSRF-Token")
	if tok == "" {
		if err := s.parseForm(r); err != nil {
			return err
		}
		tok = r.FormValue("csrf")
	}
	if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
		return bad
	}
	return nil
}

// parseForm parses a urlencoded or multipart body under the upload limit,
// so an oversized upload is refused with 413 before it fills memory or
// disk.
func (s *Server) parseForm(r *http.Request) error {
	if r.MultipartForm != nil || r.PostForm != nil {
		return nil
	}
	r.Body = http.MaxBytesReader(nil, r.Body, s.MaxUploadBytes)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(8 << 20)
	} else {
		err = r.ParseForm()
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apperr.New(apperr.TooLarge, "body_too_large", "mb", itoa(mbe.Limit>>20))
	}
	if err != nil {
		return apperr.New(apperr.Invalid, "bad_form")
	}
	return nil
}

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	if err := s.DB.Ping(r.Context()); err != nil {
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte("ok\n"))
}

func pathID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "not_found")
	}
	return id, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func urlQueryEscape(s string) string { return url.QueryEscape(s) }
