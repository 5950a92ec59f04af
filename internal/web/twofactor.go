package web

import (
	"net/http"
	"slices"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
)

// Two-factor sign-in (双因素认证, docs/security.md): the code page after
// the password, the account's enrolment page, and the administrator's
// reset for a lost phone. Server.TwoFactorRoles names the roles that must
// enrol; anyone else may.

// challengeCookie holds a sign-in's challenge between the password and
// the code, on the code page's path only.
const challengeCookie = "cw_2fa"

func (s *Server) twoFactorRoutes() []route {
	return []route{
		{method: "GET", path: "/login/code", public: true, h: s.pageLoginCode},
		{method: "POST", path: "/login/code", public: true, h: s.postLoginCode},
		{method: "GET", path: "/account/2fa", h: s.pageTwoFactor},
		{method: "POST", path: "/account/2fa/enable", h: s.postTwoFactorEnable},
		{method: "POST", path: "/account/2fa/disable", h: s.postTwoFactorDisable},
		{method: "POST", path: "/admin/users/{id}/2fa/reset", roles: admin, h: s.postUserTwoFactorReset},
	}
}

// mustEnrol says whether the user's role signs in with two factors and
// the user has not enrolled yet.
func (s *Server) mustEnrol(u org.User) bool {
	return !u.TwoFactor && slices.Contains(s.TwoFactorRoles, u.Role)
}

// enrolPaths are the pages a user who must enrol may still open.
var enrolPaths = []string{"/account/2fa", "/account/2fa/enable", "/logout", "/password"}

func (s *Server) setChallenge(w http.ResponseWriter, token string, maxAge int) {
	http.SetCookie(w, &http.Cookie{Name: challengeCookie, Value: token, Path: "/login/code", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

func (s *Server) pageLoginCode(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(challengeCookie); err != nil || c.Value == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, "login_code", map[string]any{"Next": safeNext(r.URL.Query().Get("next"))})
}

func (s *Server) postLoginCode(w http.ResponseWriter, r *http.Request) {
	next, ok := s.signInForm(w, r)
	if !ok {
		return
	}
	c, err := r.Cookie(challengeCookie)
	if err != nil || c.Value == "" {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	sess, err := s.Org.SecondFactor(r.Context(), c.Value, r.FormValue("code"), s.clientIP(r), r.UserAgent())
	if err != nil {
		code, msg := s.message(r, err)
		if e, ok := apperr.As(err); ok && e.Code == apperr.Unauthorized && e.Key != "twofactor.wrong_code" {
			// spent or expired: the password again
			s.setChallenge(w, "", -1)
			s.renderStatus(w, r, status(code), "login", map[string]any{"Next": next, "Error": msg})
			return
		}
		s.renderStatus(w, r, status(code), "login_code", map[string]any{"Next": next, "Error": msg})
		return
	}
	s.setChallenge(w, "", -1)
	s.setSession(w, sess)
	if sess.User.MustChangePassword {
		next = "/password"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// sessionPrincipal is the signed-in user of an account page (a browser,
// not a token); nil when it answered already.
func (s *Server) sessionPrincipal(w http.ResponseWriter, r *http.Request) *principal {
	p := principalOf(r)
	if p == nil || p.session == nil {
		s.fail(w, r, apperr.New(apperr.Forbidden, "forbidden"))
		return nil
	}
	return p
}

func (s *Server) pageTwoFactor(w http.ResponseWriter, r *http.Request) {
	if p := s.sessionPrincipal(w, r); p != nil {
		s.showTwoFactor(w, r, p, http.StatusOK, nil)
	}
}

// showTwoFactor renders the account's two-factor page: the state, or the
// enrolment (QR code, the secret to type, a field for the first code).
func (s *Server) showTwoFactor(w http.ResponseWriter, r *http.Request, p *principal, code int, data map[string]any) {
	if data == nil {
		data = map[string]any{}
	}
	u, err := s.Org.User(r.Context(), p.session.User.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["On"] = u.TwoFactor
	data["Required"] = slices.Contains(s.TwoFactorRoles, u.Role)
	if u.TwoFactor {
		n, err := s.Org.RecoveryCodesLeft(r.Context(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["CodesLeft"] = n
	} else if data["Recovery"] == nil {
		e, err := s.Org.BeginTOTP(r.Context(), p.actor, u.ID, p.session.Token)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Secret"], data["QR"] = e.Secret, qrSVG(e.URI)
	}
	// a secret or recovery codes: never kept by a cache
	w.Header().Set("Cache-Control", "no-store")
	s.renderStatus(w, r, code, "account_2fa", data)
}

func (s *Server) postTwoFactorEnable(w http.ResponseWriter, r *http.Request) {
	p := s.accountForm(w, r)
	if p == nil {
		return
	}
	codes, err := s.Org.EnableTOTP(r.Context(), p.actor, p.session.User.ID, p.session.Token, r.FormValue("code"))
	if err != nil {
		c, msg := s.message(r, err)
		s.showTwoFactor(w, r, p, status(c), map[string]any{"Error": msg})
		return
	}
	// The recovery codes are shown this once.
	s.showTwoFactor(w, r, p, http.StatusOK, map[string]any{"Recovery": codes})
}

func (s *Server) postTwoFactorDisable(w http.ResponseWriter, r *http.Request) {
	p := s.accountForm(w, r)
	if p == nil {
		return
	}
	if slices.Contains(s.TwoFactorRoles, p.session.User.Role) {
		s.showTwoFactor(w, r, p, http.StatusForbidden, map[string]any{"Error": s.Msg.T(s.lang(r), "twofactor.required_for_role")})
		return
	}
	if r.FormValue("password") == "" {
		s.showTwoFactor(w, r, p, http.StatusBadRequest, map[string]any{"Error": s.Msg.T(s.lang(r), "password.wrong")})
		return
	}
	if err := s.Org.CheckLogin(r.Context(), p.session.User.Username, r.FormValue("password"), s.clientIP(r)); err != nil {
		c, msg := s.message(r, err)
		if apperr.Is(err, apperr.Unauthorized) {
			msg = s.Msg.T(s.lang(r), "password.wrong")
		}
		s.showTwoFactor(w, r, p, status(c), map[string]any{"Error": msg})
		return
	}
	if err := s.Org.ResetTOTP(r.Context(), p.actor, p.session.User.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/account/2fa", http.StatusSeeOther)
}

func (s *Server) postUserTwoFactorReset(w http.ResponseWriter, r *http.Request) {
	s.userForm(w, r, func(id int64) error { return s.Org.ResetTOTP(r.Context(), actorOf(r), id) })
}
