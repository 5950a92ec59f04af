package web

import (
	"context"
	"net/http"
	"net/url"
	"path"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
)

// sessionRoutes lists the routes of signing in and out, the password, the language.
func (s *Server) sessionRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/me", api: true, summary: "The caller: role, unit and scope", resp: "Actor", h: s.apiMe},
		{method: "GET", path: "/login", public: true, h: s.pageLogin},
		{method: "POST", path: "/login", public: true, h: s.postLogin},
		{method: "POST", path: "/logout", h: s.postLogout},
		{method: "GET", path: "/password", h: s.pagePassword},
		{method: "POST", path: "/password", h: s.postPassword},
		{method: "POST", path: "/account/sessions/end", h: s.postEndSessions},
		{method: "GET", path: "/lang/{lang}", public: true, h: s.setLang},
	}
}

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	writeJSON(w, 200, actorJSON{Name: a.Name, Role: a.Role, UnitID: a.UnitID, Scope: a.Scope, RegionID: a.RegionID, UserID: a.UserID})
}

// actorJSON is the caller as /api/v1/me shows it.
type actorJSON struct {
	Name     string    `json:"name"`
	Role     org.Role  `json:"role"`
	UnitID   int64     `json:"unit_id"`
	Scope    org.Scope `json:"scope"`
	RegionID int64     `json:"scope_region_id"`
	UserID   int64     `json:"user_id"`
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
	// The decoded path as well: /%5cevil.com decodes to /\evil.com and
	// /%09/evil.com to /<TAB>/evil.com, which browsers read as
	// //evil.com, off-site.
	for _, r := range u.Path {
		if r == '\\' || r < 0x20 || r == 0x7f {
			return "/"
		}
	}
	clean := path.Clean(u.Path)
	if !strings.HasPrefix(clean, "/") || strings.HasPrefix(clean, "//") {
		return "/"
	}
	// escaped again, so that the Location header carries what was checked
	return (&url.URL{Path: clean, RawQuery: u.RawQuery}).RequestURI()
}

func (s *Server) pageLogin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, "login", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

// signInForm reads a sign-in form (the password's or the code's) and
// answers where the browser goes after it; false when it answered
// already.
func (s *Server) signInForm(w http.ResponseWriter, r *http.Request) (string, bool) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return "", false
	}
	// Login CSRF: a login posted from another site would sign the victim's
	// browser into the attacker's account.
	if err := s.checkCSRF(r, nil, nil); err != nil {
		s.fail(w, r, err)
		return "", false
	}
	return safeNext(r.FormValue("next")), true
}

func (s *Server) postLogin(w http.ResponseWriter, r *http.Request) {
	next, ok := s.signInForm(w, r)
	if !ok {
		return
	}
	step, err := s.Org.StartLogin(r.Context(), r.FormValue("username"), r.FormValue("password"), s.clientIP(r), r.UserAgent())
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "login", map[string]any{"Next": next, "Error": msg, "Username": r.FormValue("username")})
		return
	}
	if step.Challenge != "" {
		// the code is still to come (docs/security.md)
		s.setChallenge(w, step.Challenge, int(org.ChallengeMaxAge.Seconds()))
		http.Redirect(w, r, "/login/code?next="+url.QueryEscape(next), http.StatusSeeOther)
		return
	}
	sess := step.Session
	s.setSession(w, sess)
	if sess.User.MustChangePassword {
		next = "/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// setSession gives the browser its session cookie.
func (s *Server) setSession(w http.ResponseWriter, sess *org.Session) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: int(org.SessionMaxAge.Seconds())})
}

func (s *Server) postLogout(w http.ResponseWriter, r *http.Request) {
	if p := principalOf(r); p != nil && p.session != nil {
		_ = s.Org.Logout(r.Context(), p.session.Token)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Server) pagePassword(w http.ResponseWriter, r *http.Request) {
	s.showAccount(w, r, http.StatusOK, nil)
}

// showAccount renders the account page: the password form and the user's
// signed-in browsers, each of which can be signed out.
func (s *Server) showAccount(w http.ResponseWriter, r *http.Request, code int, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	if p := principalOf(r); p != nil && p.session != nil {
		list, err := s.Org.Sessions(r.Context(), p.session.User.ID, p.session.Token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Sessions"] = list
	}
	s.renderStatus(w, r, code, "password", data)
}

// postEndSessions signs the user out of one of their other browsers
// (session=ID) or of all of them but this one (others=1).
func (s *Server) postEndSessions(w http.ResponseWriter, r *http.Request) {
	p := s.accountForm(w, r)
	if p == nil {
		return
	}
	id := r.FormValue("session")
	if id == "" && r.FormValue("others") == "" {
		s.fail(w, r, apperr.New(apperr.Invalid, "bad_form"))
		return
	}
	if _, err := s.Org.EndSessions(r.Context(), p.actor, p.session.User.ID, id, p.session.Token); err != nil {
		code, msg := s.message(r, err)
		s.showAccount(w, r, status(code), map[string]any{"Error": msg})
		return
	}
	http.Redirect(w, r, "/password?msg=sessions", http.StatusSeeOther)
}

// accountForm reads a form posted to the signed-in user's own account
// (a browser session, not a token); nil when it answered already.
func (s *Server) accountForm(w http.ResponseWriter, r *http.Request) *principal {
	p := principalOf(r)
	if p.session == nil {
		s.fail(w, r, apperr.New(apperr.Forbidden, "forbidden"))
		return nil
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return nil
	}
	return p
}

func (s *Server) postPassword(w http.ResponseWriter, r *http.Request) {
	p := s.accountForm(w, r)
	if p == nil {
		return
	}
	lang := s.lang(r)
	fail := func(key string) {
		s.showAccount(w, r, http.StatusBadRequest, map[string]any{"Error": s.Msg.T(lang, key)})
	}
	u, err := s.Org.UserByName(r.Context(), p.session.User.Username)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.Org.CheckLogin(r.Context(), u.Username, r.FormValue("old"), s.clientIP(r)); err != nil {
		if apperr.Is(err, apperr.RateLimited) {
			_, msg := s.message(r, err)
			s.showAccount(w, r, http.StatusTooManyRequests, map[string]any{"Error": msg})
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
		s.showAccount(w, r, http.StatusBadRequest, map[string]any{"Error": msg})
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

// principal is the authenticated caller of a request.
type principal struct {
	actor   org.Actor
	session *org.Session // nil for Bearer tokens
}

const sessionCookie = "cw_session"

// authenticate finds the caller: a Bearer token, or a session cookie.
func (s *Server) authenticate(r *http.Request) (*principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		tok, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			return nil, errUnauthorized("token.invalid")
		}
		a, err := s.Org.ActorForToken(r.Context(), strings.TrimSpace(tok))
		if err != nil {
			return nil, err
		}
		return &principal{actor: a}, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, errUnauthorized("login.required")
	}
	sess, err := s.Org.SessionByToken(r.Context(), c.Value)
	if err != nil {
		return nil, err
	}
	return &principal{actor: sess.Actor, session: sess}, nil
}

func withPrincipal(ctx context.Context, p *principal) context.Context {
	return context.WithValue(ctx, keyActor, p)
}

func principalOf(r *http.Request) *principal {
	p, _ := r.Context().Value(keyActor).(*principal)
	return p
}

func actorOf(r *http.Request) org.Actor {
	if p := principalOf(r); p != nil {
		return p.actor
	}
	return org.Actor{}
}
