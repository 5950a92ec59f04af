package web

import (
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/org"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// peerIP is the address of the TCP peer.
func peerIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// clientIP is the client's address: the TCP peer, or, behind a trusted
// reverse proxy (TrustProxy, and the peer is loopback or private), the
// address the proxy reports in X-Real-IP or last in X-Forwarded-For.
func (s *Server) clientIP(r *http.Request) string {
	peer := peerIP(r)
	if !s.TrustProxy {
		return peer
	}
	if ip := net.ParseIP(peer); ip == nil || !(ip.IsLoopback() || ip.IsPrivate()) {
		return peer
	}
	if v := strings.TrimSpace(r.Header.Get("X-Real-IP")); net.ParseIP(v) != nil {
		return v
	}
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
		parts := strings.Split(xff, ",")
		if v := strings.TrimSpace(parts[len(parts)-1]); net.ParseIP(v) != nil {
			return v
		}
	}
	return peer
}

// limitKey is the rate-limit bucket of an address: IPv4 as is, IPv6 by
// its /64 (one household or phone gets a whole /64).
func limitKey(addr string) string {
	ip := net.ParseIP(addr)
	if ip == nil || ip.To4() != nil {
		return addr
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// safeNext keeps a post-login redirect on this site: a plain absolute
// path, no scheme or host, no backslash or control character (browsers
// read "/\\evil" as "//evil" and drop tabs).
func safeNext(v string) string {
	if v == "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") {
		return "/"
	}
	for _, r := range v {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	u, err := url.Parse(v)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return "/"
	}
	if u.RawQuery != "" {
		return clean + "?" + u.RawQuery
	}
	return clean
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	// Login CSRF: a login posted from another site would sign the victim's
	// browser into the attacker's account.
	if o := r.Header.Get("Origin"); o != "" {
		if u, err := url.Parse(o); err != nil || u.Host != r.Host {
			s.fail(w, r, apperr.New(apperr.Forbidden, "csrf"))
			return
		}
	}
	next := safeNext(r.FormValue("next"))
	sess, err := s.Org.Login(r.Context(), r.FormValue("username"), r.FormValue("password"), s.clientIP(r), r.UserAgent())
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "login", map[string]any{"Next": next, "Error": msg, "Username": r.FormValue("username")})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(org.SessionMaxAge.Seconds())})
	if sess.User.MustChangePassword {
		next = "/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	if p := principalOf(r); p != nil && p.session != nil {
		_ = s.Org.Logout(r.Context(), p.session.Token)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) pagePassword(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "password", nil)
}

func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) {
	p := principalOf(r)
	if p.session == nil {
		s.fail(w, r, apperr.New(apperr.Forbidden, "forbidden"))
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	fail := func(key string) {
		s.renderStatus(w, r, http.StatusBadRequest, "password", map[string]any{"Error": s.Msg.T(lang, key)})
	}
	u, err := s.Org.UserByName(r.Context(), p.session.User.Username)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Org.CheckLogin(r.Context(), u.Username, r.FormValue("old"), s.clientIP(r)); err != nil {
		if apperr.Is(err, apperr.RateLimited) {
			_, msg := s.message(r, err)
			s.renderStatus(w, r, http.StatusTooManyRequests, "password", map[string]any{"Error": msg})
			return
		}
		fail("password.wrong")
		return
	}
	if r.FormValue("new") != r.FormValue("new2") {
		fail("password.mismatch")
		return
	}
	if r.FormValue("new") == r.FormValue("old") {
		fail("password.too_simple")
		return
	}
	if err := s.Org.SetPassword(r.Context(), p.actor, u.ID, r.FormValue("new"), false, p.session.Token); err != nil {
		_, msg := s.message(r, err)
		s.renderStatus(w, r, http.StatusBadRequest, "password", map[string]any{"Error": msg})
		return
	}
	http.Redirect(w, r, "/?msg=password", http.StatusSeeOther)
}

func (s *Server) setLang(w http.ResponseWriter, r *http.Request) {
	lang := s.Msg.Pick(r.PathValue("lang"))
	http.SetCookie(w, &http.Cookie{Name: "lang", Value: lang, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	back := r.Referer()
	if u, err := url.Parse(back); err == nil && (u.Host == "" || u.Host == r.Host) {
		http.Redirect(w, r, safeNext(u.RequestURI()), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	counts, states, err := s.Flow.Dashboard(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "dashboard", map[string]any{"Counts": counts, "States": states, "AllStates": workflow.OpenStates})
}

// lookups are the names the case pages show for ids.
type lookups struct {
	Units      []org.Unit
	Regions    []org.Region
	Categories []workflow.Category
	UnitName   map[int64]string
	// Names by id, for the routing explanation.
	RegionName   map[int64]string
	CategoryName map[int64]string
}

func (s *Server) lookups(r *http.Request) (lookups, error) {
	var l lookups
	var err error
	if l.Units, err = s.Org.Units(r.Context()); err != nil {
		return l, err
	}
	if l.Regions, err = s.Org.Regions(r.Context()); err != nil {
		return l, err
	}
	if l.Categories, err = s.Flow.Categories(r.Context()); err != nil {
		return l, err
	}
	l.UnitName, l.RegionName, l.CategoryName = map[int64]string{}, map[int64]string{}, map[int64]string{}
	for _, u := range l.Units {
		l.UnitName[u.ID] = u.Name
	}
	for _, g := range l.Regions {
		l.RegionName[g.ID] = g.Name
	}
	for _, c := range l.Categories {
		l.CategoryName[c.ID] = c.Name
	}
	return l, nil
}

func (s *Server) pageCases(w http.ResponseWriter, r *http.Request) {
	f, err := s.filterFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pg, err := s.Flow.List(r.Context(), actorOf(r), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	var nextURL string
	if pg.Next != 0 {
		q.Set("before", strconv.FormatInt(pg.Next, 10))
		nextURL = "/cases?" + q.Encode()
	}
	q.Del("before")
	firstURL := "/cases?" + q.Encode()
	s.render(w, r, "cases", map[string]any{"Page": pg, "Filter": f, "Q": r.URL.Query(), "L": l, "States": workflow.States, "Next": nextURL, "First": firstURL,
		"Paged": f.Before != 0})
}

func (s *Server) pageNewCase(w http.ResponseWriter, r *http.Request) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "new_case", map[string]any{"L": l, "Sources": workflow.Sources})
}

func (s *Server) postCase(w http.ResponseWriter, r *http.Request) {
	in, err := s.newCaseFromForm(r)
	if err == nil {
		in.Photos, err = s.savePhotos(r)
	}
	var c *workflow.Case
	if err == nil {
		c, err = s.Flow.Report(r.Context(), actorOf(r), in)
		if err != nil {
			s.Flow.Photos.Remove(in.Photos)
		}
	}
	if err != nil {
		l, lerr := s.lookups(r)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "new_case", map[string]any{"L": l, "Sources": workflow.Sources, "Error": msg, "Form": r.Form})
		return
	}
	http.Redirect(w, r, "/cases/"+itoa(c.ID)+"?msg=done", http.StatusSeeOther)
}

func (s *Server) pageCase(w http.ResponseWriter, r *http.Request) {
	s.showCase(w, r, http.StatusOK, "")
}

func (s *Server) showCase(w http.ResponseWriter, r *http.Request, code int, errMsg string) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actorOf(r)
	c, err := s.Flow.Get(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, err := s.Flow.Timeline(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var coops []string
	for _, u := range c.CoopUnitIDs {
		coops = append(coops, l.UnitName[u])
	}
	actions := workflow.AllowedActions(a, c)
	data := map[string]any{"Case": c, "Trail": trail, "Actions": actions, "L": l, "Coops": coops, "Error": errMsg, "Routing": s.routingView(r, c, l)}
	if s.Intake != nil && (a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor) {
		rs, err := s.Intake.Receipts(r.Context(), c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Receipts"] = rs
	}
	if slices.Contains(actions, workflow.Merge) {
		dups, err := s.Flow.Duplicates(r.Context(), a, c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Duplicates"] = dups
	}
	s.renderStatus(w, r, code, "case", data)
}

// flagKey names the text of a location flag (routing.flag_cell, _nearest,
// _unlocated, _outside).
func flagKey(flag string) string { return "routing.flag_" + flag }

// routingLine is one fact of how a case was placed and sent.
type routingLine struct{ Label, Value string }

// routingView says in words why the case went where it went: its grid
// cell (or the fallback used), the responsibility rule matched, and what
// the system did on arrival.
func (s *Server) routingView(r *http.Request, c *workflow.Case, l lookups) []routingLine {
	rt := c.Routing
	if rt == nil {
		return nil
	}
	lang := s.lang(r)
	var out []routingLine
	loc := rt.Location
	if loc.Flag != "" {
		v := s.Msg.T(lang, flagKey(loc.Flag))
		if loc.CellCode != "" {
			v += " · " + loc.CellCode + " " + loc.CellName
		}
		if loc.Flag == workflow.LocNearest {
			v += " · " + s.Msg.T(lang, "routing.distance", "m", strconv.Itoa(int(loc.DistanceM)))
		}
		out = append(out, routingLine{s.Msg.T(lang, "routing.location"), v})
	}
	switch {
	case rt.RuleID != 0:
		out = append(out, routingLine{s.Msg.T(lang, "routing.rule"), s.Msg.T(lang, "routing.rule_text", "category", l.CategoryName[rt.RuleCategory], "region", l.RegionName[rt.RuleRegion])})
	case rt.OwnerFallback:
		out = append(out, routingLine{s.Msg.T(lang, "routing.rule"), s.Msg.T(lang, "routing.owner_fallback")})
	default:
		out = append(out, routingLine{s.Msg.T(lang, "routing.rule"), s.Msg.T(lang, "routing.no_rule")})
	}
	if rt.LeadUnitID != 0 {
		v := l.UnitName[rt.LeadUnitID]
		var coops []string
		for _, u := range rt.CoopUnitIDs {
			coops = append(coops, l.UnitName[u])
		}
		if len(coops) > 0 {
			v += " · " + s.Msg.T(lang, "ui.coop_units") + "：" + strings.Join(coops, "、")
		}
		out = append(out, routingLine{s.Msg.T(lang, "routing.suggested"), v})
	}
	switch rt.AutoAccept {
	case "source":
		out = append(out, routingLine{s.Msg.T(lang, "routing.arrival"), s.Msg.T(lang, "routing.auto_accept_source")})
	case "category":
		out = append(out, routingLine{s.Msg.T(lang, "routing.arrival"), s.Msg.T(lang, "routing.auto_accept_category")})
	}
	if rt.AutoDispatch {
		out = append(out, routingLine{s.Msg.T(lang, "routing.arrival"), s.Msg.T(lang, "routing.auto_dispatched")})
	}
	return out
}

func (s *Server) postAct(w http.ResponseWriter, r *http.Request) {
	c, err := s.act(r)
	if err != nil {
		code, msg := s.message(r, err)
		if code == apperr.NotFound || code == apperr.Internal {
			s.fail(w, r, err)
			return
		}
		s.showCase(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/cases/"+itoa(c.ID)+"?msg=done", http.StatusSeeOther)
}

func (s *Server) pagePerformance(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	units, err := s.Flow.UnitPerformance(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	regions, err := s.Flow.RegionPerformance(r.Context(), p, "district")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "performance", map[string]any{"Units": units, "Regions": regions, "From": p.From, "To": p.To.AddDate(0, 0, -1)})
}

// ---- administration ----

// adminDone redirects back to an admin page after a write, or shows the
// page again with the error.
func (s *Server) adminDone(w http.ResponseWriter, r *http.Request, back string, err error, show func(code int, msg string)) {
	if err != nil {
		code, msg := s.message(r, err)
		show(status(code), msg)
		return
	}
	http.Redirect(w, r, back+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) pageUsers(w http.ResponseWriter, r *http.Request) { s.showUsers(w, r, 200, "") }

func (s *Server) showUsers(w http.ResponseWriter, r *http.Request, code int, msg string) {
	users, err := s.Org.Users(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	regionName := map[int64]string{}
	for _, rg := range l.Regions {
		regionName[rg.ID] = rg.Name
	}
	s.renderStatus(w, r, code, "admin_users", map[string]any{"Users": users, "L": l, "Roles": org.Roles, "RegionName": regionName, "Error": msg})
}

func (s *Server) userFromForm(r *http.Request) (org.NewUser, error) {
	if err := s.parseForm(r); err != nil {
		return org.NewUser{}, err
	}
	unit, err := formInt(r, "unit_id")
	if err != nil {
		return org.NewUser{}, err
	}
	region, err := formInt(r, "scope_region_id")
	if err != nil {
		return org.NewUser{}, err
	}
	return org.NewUser{Username: r.FormValue("username"), DisplayName: r.FormValue("display_name"), Password: r.FormValue("password"),
		Role: org.Role(r.FormValue("role")), UnitID: unit, Scope: org.Scope(r.FormValue("scope")), ScopeRegionID: region, MustChange: true}, nil
}

func (s *Server) postUser(w http.ResponseWriter, r *http.Request) {
	nu, err := s.userFromForm(r)
	if err == nil {
		_, err = s.Org.CreateUser(r.Context(), actorOf(r), nu)
	}
	s.adminDone(w, r, "/admin/users", err, func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) postUserUpdate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nu, err := s.userFromForm(r)
	if err == nil {
		err = s.Org.UpdateUser(r.Context(), actorOf(r), id, nu, r.FormValue("disabled") == "on")
	}
	s.adminDone(w, r, "/admin/users", err, func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) postUserPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.parseForm(r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	err = s.Org.SetPassword(r.Context(), actorOf(r), id, r.FormValue("password"), true, "")
	s.adminDone(w, r, "/admin/users", err, func(c int, m string) { s.showUsers(w, r, c, m) })
}

func (s *Server) pageUnits(w http.ResponseWriter, r *http.Request) { s.showUnits(w, r, 200, "") }

func (s *Server) showUnits(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_units", map[string]any{"Kinds": org.UnitKinds, "Error": msg})
}

func (s *Server) postUnit(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	region, err := formInt(r, "region_id")
	if err == nil {
		u := org.Unit{Code: r.FormValue("code"), Name: r.FormValue("name"), Kind: r.FormValue("kind"), RegionID: region, Active: r.FormValue("active") != "off"}
		if id, _ := formInt(r, "id"); id != 0 {
			u.ID = id
			err = s.Org.UpdateUnit(r.Context(), actorOf(r), u)
		} else {
			_, err = s.Org.CreateUnit(r.Context(), actorOf(r), u)
		}
	}
	s.adminDone(w, r, "/admin/units", err, func(c int, m string) { s.showUnits(w, r, c, m) })
}

func (s *Server) pageRegions(w http.ResponseWriter, r *http.Request) { s.showRegions(w, r, 200, "") }

func (s *Server) showRegions(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_regions", map[string]any{"Levels": org.Levels, "Error": msg})
}

func (s *Server) postRegion(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	parent, err := formInt(r, "parent_id")
	if err == nil {
		if id, _ := formInt(r, "id"); id != 0 {
			err = s.Org.UpdateRegion(r.Context(), actorOf(r), id, r.FormValue("name"))
		} else {
			_, err = s.Org.CreateRegion(r.Context(), actorOf(r), org.Region{Code: r.FormValue("code"), Name: r.FormValue("name"), Level: r.FormValue("level"), ParentID: parent})
		}
	}
	s.adminDone(w, r, "/admin/regions", err, func(c int, m string) { s.showRegions(w, r, c, m) })
}

func (s *Server) pageCategories(w http.ResponseWriter, r *http.Request) {
	s.showCategories(w, r, 200, "")
}

func (s *Server) showCategories(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_categories", map[string]any{"Error": msg})
}

// renderWithLookups renders an administration page that needs the units,
// regions and categories by name (as data["L"]).
func (s *Server) renderWithLookups(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["L"] = l
	s.renderStatus(w, r, code, name, data)
}

func (s *Server) postCategory(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var c workflow.Category
	var err error
	ints := []struct {
		name string
		dst  *int
	}{{"limit_normal", &c.LimitNormal}, {"limit_urgent", &c.LimitUrgent}, {"limit_critical", &c.LimitCritical}, {"dup_radius_m", &c.DupRadiusM}}
	for _, p := range ints {
		if err == nil {
			var v int64
			v, err = formInt(r, p.name)
			*p.dst = int(v)
		}
	}
	if err == nil {
		c.ID, err = formInt(r, "id")
	}
	if err == nil {
		c.ParentID, err = formInt(r, "parent_id")
	}
	if err == nil {
		c.Code, c.Name, c.Standard = r.FormValue("code"), r.FormValue("name"), r.FormValue("standard")
		c.LimitUnit = workcal.Unit(r.FormValue("limit_unit"))
		c.Active = r.FormValue("active") != "off"
		c.Hint = r.FormValue("hint")
		c.AutoAccept, c.AutoDispatch, c.StaffOnly = r.FormValue("auto_accept") == "on", r.FormValue("auto_dispatch") == "on", r.FormValue("staff_only") == "on"
		if c.ID != 0 {
			// Code and parent are fixed once created.
			old, gerr := s.Flow.Category(r.Context(), s.DB.Reader(), c.ID)
			if gerr != nil {
				err = gerr
			} else {
				c.Code, c.ParentID = old.Code, old.ParentID
			}
		}
		if err == nil {
			_, err = s.Flow.SaveCategory(r.Context(), actorOf(r), c)
		}
	}
	s.adminDone(w, r, "/admin/categories", err, func(c int, m string) { s.showCategories(w, r, c, m) })
}

func (s *Server) pageResponsibilities(w http.ResponseWriter, r *http.Request) {
	s.showResponsibilities(w, r, 200, "")
}

func (s *Server) showResponsibilities(w http.ResponseWriter, r *http.Request, code int, msg string) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.Flow.Responsibilities(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	catName, regionName := map[int64]string{}, map[int64]string{}
	for _, c := range l.Categories {
		catName[c.ID] = c.Name
	}
	for _, rg := range l.Regions {
		regionName[rg.ID] = rg.Name
	}
	s.renderStatus(w, r, code, "admin_responsibilities", map[string]any{"L": l, "Rows": rows, "CatName": catName, "RegionName": regionName, "Error": msg})
}

func (s *Server) postResponsibility(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var in workflow.Responsibility
	var err error
	in.CategoryID, err = formInt(r, "category_id")
	if err == nil {
		in.RegionID, err = formInt(r, "region_id")
	}
	if err == nil {
		in.LeadUnitID, err = formInt(r, "lead_unit_id")
	}
	for _, c := range r.Form["coop_unit_ids"] {
		n, perr := strconv.ParseInt(c, 10, 64)
		if perr != nil {
			err = errInvalid("bad_number", "field", "coop_unit_ids")
		}
		in.CoopUnitIDs = append(in.CoopUnitIDs, n)
	}
	if err == nil {
		_, err = s.Flow.SaveResponsibility(r.Context(), actorOf(r), in)
	}
	s.adminDone(w, r, "/admin/responsibilities", err, func(c int, m string) { s.showResponsibilities(w, r, c, m) })
}

func (s *Server) postDeleteResponsibility(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Flow.DeleteResponsibility(r.Context(), actorOf(r), id)
	}
	s.adminDone(w, r, "/admin/responsibilities", err, func(c int, m string) { s.showResponsibilities(w, r, c, m) })
}

func (s *Server) pageCalendar(w http.ResponseWriter, r *http.Request) { s.showCalendar(w, r, 200, "") }

func (s *Server) showCalendar(w http.ResponseWriter, r *http.Request, code int, msg string) {
	spans, err := s.Flow.WorkSpans(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	days, err := s.Flow.Holidays(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "admin_calendar", map[string]any{"Spans": spans, "Days": days, "Error": msg})
}

func (s *Server) postCalendar(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	var err error
	switch r.FormValue("op") {
	case "spans":
		err = s.Flow.SetWorkSpans(r.Context(), actorOf(r), r.FormValue("spans"))
	case "delete":
		err = s.Flow.DeleteHoliday(r.Context(), actorOf(r), r.FormValue("day"))
	default:
		day := strings.TrimSpace(r.FormValue("day"))
		if _, perr := time.Parse("2006-01-02", day); perr != nil {
			err = errInvalid("bad_date")
		} else {
			err = s.Flow.SetHolidays(r.Context(), actorOf(r), []workcal.Override{{Date: workcal.Date(day), Working: r.FormValue("working") == "on", Name: r.FormValue("name")}})
		}
	}
	s.adminDone(w, r, "/admin/calendar", err, func(c int, m string) { s.showCalendar(w, r, c, m) })
}

func (s *Server) pageTokens(w http.ResponseWriter, r *http.Request) { s.showTokens(w, r, 200, "", "") }

func (s *Server) showTokens(w http.ResponseWriter, r *http.Request, code int, msg, secret string) {
	ts, err := s.Org.Tokens(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "admin_tokens", map[string]any{"Tokens": ts, "L": l, "Error": msg, "Secret": secret})
}

func (s *Server) postToken(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	unit, err := formInt(r, "unit_id")
	var t org.Token
	if err == nil {
		t, err = s.Org.CreateToken(r.Context(), actorOf(r), r.FormValue("name"), unit)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showTokens(w, r, status(code), msg, "")
		return
	}
	// The secret is shown once, on this response, never in a URL.
	s.showTokens(w, r, http.StatusOK, "", t.Secret)
}

func (s *Server) postRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Org.RevokeToken(r.Context(), actorOf(r), id)
	}
	s.adminDone(w, r, "/admin/tokens", err, func(c int, m string) { s.showTokens(w, r, c, m, "") })
}

func (s *Server) pageAudit(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), s.DB.Reader())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recent, err := audit.Recent(r.Context(), s.DB.Reader(), 100)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_audit", map[string]any{"Report": rep, "Recent": recent})
}
