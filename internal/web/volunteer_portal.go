package web

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/volunteer"
)

// The volunteers' own pages (phone first, public layout): register, sign
// in with the phone number, sign up for activities, check in and out on
// site by scanning the activity's QR code, see the hours and stars. A
// volunteer is not a staff user: their session is its own cookie and
// table, and it opens none of the console. And the public check of a
// certificate code.

const volunteerCookie = "cw_vol"

// volunteerPortalRoutes lists the volunteers' phone pages and the public certificate check.
func (s *Server) volunteerPortalRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/public/certificates/{code}", api: true, public: true, summary: "Check a volunteer service certificate by its code (name masked)", resp: "Certificate", h: s.apiVerifyCertificate},
		{method: "GET", path: "/v", public: true, h: s.pageVolHome},
		{method: "GET", path: "/v/login", public: true, h: s.pageVolLogin},
		{method: "POST", path: "/v/login", public: true, h: s.postVolLogin},
		{method: "POST", path: "/v/logout", public: true, h: s.postVolLogout},
		{method: "GET", path: "/v/register", public: true, h: s.pageVolRegister},
		{method: "POST", path: "/v/register", public: true, h: s.postVolRegister},
		{method: "GET", path: "/v/activities", public: true, h: s.pageVolActivities},
		{method: "POST", path: "/v/activities/{id}/signup", public: true, h: s.postVolSignup},
		{method: "POST", path: "/v/activities/{id}/withdraw", public: true, h: s.postVolWithdraw},
		{method: "GET", path: "/v/password", public: true, h: s.pageVolPassword},
		{method: "POST", path: "/v/password", public: true, h: s.postVolPassword},
		{method: "GET", path: "/v/checkin/{token}", public: true, h: s.pageVolCheckin},
		{method: "POST", path: "/v/checkin/{token}", public: true, h: s.postVolCheckin},
		{method: "GET", path: "/verify", public: true, h: s.pageVerify},
		{method: "GET", path: "/verify/{code}", public: true, h: s.pageVerify},
	}
}

// volGuard rate-limits a volunteer page and finds its session. A page
// without one goes to the sign-in page and back; a write must carry the
// session's CSRF token.
func (s *Server) volGuard(w http.ResponseWriter, r *http.Request, write bool) (*volunteer.Session, bool) {
	if !s.volunteerGuard(w, r, write) {
		return nil, false
	}
	var token string
	if c, err := r.Cookie(volunteerCookie); err == nil {
		token = c.Value
	}
	sess, err := s.Volunteer.SessionByToken(r.Context(), token)
	if err != nil {
		if apperr.Is(err, apperr.Unauthorized) {
			http.Redirect(w, r, "/v/login?next="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		} else {
			s.fail(w, r, err)
		}
		return nil, false
	}
	if write {
		if err := s.parseForm(r); err != nil {
			s.fail(w, r, err)
			return nil, false
		}
		tok := r.Header.Get("X-CSRF-Token")
		if tok == "" {
			tok = r.FormValue("csrf")
		}
		if tok == "" || subtle.ConstantTimeCompare([]byte(tok), []byte(sess.CSRF)) != 1 {
			s.fail(w, r, apperr.New(apperr.Forbidden, "csrf"))
			return nil, false
		}
	}
	return sess, true
}

// volunteerOf is the volunteer signed in on this browser's phone pages,
// or nil.
func (s *Server) volunteerOf(r *http.Request) *volunteer.Volunteer {
	c, err := r.Cookie(volunteerCookie)
	if err != nil || c.Value == "" {
		return nil
	}
	sess, err := s.Volunteer.SessionByToken(r.Context(), c.Value)
	if err != nil {
		return nil
	}
	return &sess.Volunteer
}

// volNext keeps a return address on the volunteer pages.
func volNext(v string) string {
	v = safeNext(v)
	if v == "/v" || strings.HasPrefix(v, "/v/") || strings.HasPrefix(v, "/v?") {
		return v
	}
	return "/v"
}

func (s *Server) pageVolHome(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	var l loader
	type mine struct {
		v    volunteer.Volunteer
		next int
		recs []volunteer.ServiceRecord
	}
	m := load(&l, func() (mine, error) {
		v, next, recs, err := s.Volunteer.Mine(ctx, sess.Volunteer.ID)
		return mine{v, next, recs}, err
	})
	certs := load(&l, func() ([]volunteer.Certificate, error) { return s.Volunteer.Certificates(ctx, sess.Volunteer.ID) })
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	pending := 0.0
	for _, x := range m.recs {
		if !x.Confirmed && !x.CheckoutAt.IsZero() {
			pending += float64(x.Minutes) / 60
		}
	}
	s.render(w, r, "public_vol_home", map[string]any{"V": m.v, "NextStar": m.next, "Records": m.recs, "Certificates": certs,
		"PendingHours": pending, "CSRF": sess.CSRF, "Stars": make([]struct{}, m.v.Stars)})
}

func (s *Server) pageVolLogin(w http.ResponseWriter, r *http.Request) {
	if !s.volunteerGuard(w, r, false) {
		return
	}
	s.render(w, r, "public_vol_login", map[string]any{"Next": volNext(r.URL.Query().Get("next")), "Registered": r.URL.Query().Get("registered") == "1"})
}

func (s *Server) postVolLogin(w http.ResponseWriter, r *http.Request) {
	if !s.volunteerGuard(w, r, true) {
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	next := volNext(r.FormValue("next"))
	sess, err := s.Volunteer.Login(r.Context(), r.FormValue("phone"), r.FormValue("password"), s.clientIP(r))
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "public_vol_login", map[string]any{"Next": next, "Error": msg, "Phone": r.FormValue("phone")})
		return
	}
	http.SetCookie(w, &http.Cookie{Name: volunteerCookie, Value: sess.Token, Path: "/", HttpOnly: true, Secure: s.SecureCookies, SameSite: http.SameSiteLaxMode,
		MaxAge: int(volunteer.SessionMaxAge.Seconds())})
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) postVolLogout(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, true)
	if !ok {
		return
	}
	if err := s.Volunteer.Logout(r.Context(), sess.Token); err != nil {
		s.fail(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: volunteerCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	http.Redirect(w, r, "/v/login", http.StatusSeeOther)
}

func (s *Server) pageVolRegister(w http.ResponseWriter, r *http.Request) {
	if !s.volunteerGuard(w, r, false) {
		return
	}
	s.showVolRegister(w, r, http.StatusOK, "")
}

func (s *Server) showVolRegister(w http.ResponseWriter, r *http.Request, code int, msg string) {
	teams, err := s.Volunteer.PublicTeams(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "public_vol_register", map[string]any{"Teams": teams, "Error": msg, "Form": r.PostForm})
}

func (s *Server) postVolRegister(w http.ResponseWriter, r *http.Request) {
	// (the phone pages' own limit: a recruitment drive registers a crowd
	// behind one address; what a registration answers tells nothing, so
	// a prober gains nothing from the volume)
	if !s.volunteerGuard(w, r, true) {
		return
	}
	err := s.parseForm(r)
	if err == nil {
		var team int64
		team, err = formInt(r, "team")
		if err == nil {
			_, err = s.Volunteer.Register(r.Context(), volunteer.Registration{Name: r.FormValue("name"), Phone: r.FormValue("phone"),
				IDNumber: r.FormValue("id_number"), NationalNo: r.FormValue("national_no"), Skills: r.FormValue("skills"),
				TeamID: team, Password: r.FormValue("password"), Consent: r.FormValue("consent") == "1"})
		}
	}
	if ae, ok := apperr.As(err); ok && ae.Code == apperr.Conflict && (ae.Key == "volunteer.phone_registered" || ae.Key == "volunteer.id_registered") {
		// A phone or a number already registered is answered as a new
		// registration (whose notice says what to do if it was): the page
		// must not tell anyone whether a phone or an identity number is
		// someone's registration. Nothing is stored.
		err = nil
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showVolRegister(w, r, status(code), msg)
		return
	}
	// a redirect, so that reloading the answer does not register again
	http.Redirect(w, r, "/v/login?registered=1", http.StatusSeeOther)
}

func (s *Server) pageVolActivities(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, false)
	if !ok {
		return
	}
	s.showVolActivities(w, r, sess, http.StatusOK, "")
}

func (s *Server) showVolActivities(w http.ResponseWriter, r *http.Request, sess *volunteer.Session, code int, msg string) {
	list, signed, err := s.Volunteer.Upcoming(r.Context(), sess.Volunteer.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	type row struct {
		volunteer.Activity
		Signed  bool
		Full    bool
		Started bool // no withdrawing once it has started
	}
	now := s.Volunteer.Now()
	rows := make([]row, len(list))
	for i, a := range list {
		rows[i] = row{a, signed[i], a.SignedUp >= a.Capacity, !now.Before(a.StartsAt)}
	}
	s.renderStatus(w, r, code, "public_vol_activities", map[string]any{"List": rows, "CSRF": sess.CSRF, "Error": msg})
}

func (s *Server) volActivityPost(w http.ResponseWriter, r *http.Request, do func(volunteerID, activityID int64) error) {
	sess, ok := s.volGuard(w, r, true)
	if !ok {
		return
	}
	id, err := pathID(r, "id")
	if err == nil {
		err = do(sess.Volunteer.ID, id)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showVolActivities(w, r, sess, status(code), msg)
		return
	}
	http.Redirect(w, r, "/v/activities?msg=done#a"+itoa(id), http.StatusSeeOther)
}

func (s *Server) postVolSignup(w http.ResponseWriter, r *http.Request) {
	s.volActivityPost(w, r, func(v, a int64) error { return s.Volunteer.SignUp(r.Context(), v, a) })
}

func (s *Server) postVolWithdraw(w http.ResponseWriter, r *http.Request) {
	s.volActivityPost(w, r, func(v, a int64) error { return s.Volunteer.Withdraw(r.Context(), v, a) })
}

func (s *Server) pageVolCheckin(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, false)
	if !ok {
		return
	}
	s.showVolCheckin(w, r, sess, http.StatusOK, nil, "")
}

func (s *Server) showVolCheckin(w http.ResponseWriter, r *http.Request, sess *volunteer.Session, code int, done *volunteer.Check, msg string) {
	a, err := s.Volunteer.ActivityByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "public_vol_checkin", map[string]any{"A": a, "Token": r.PathValue("token"), "CSRF": sess.CSRF, "Done": done,
		"Action": r.FormValue("action"), "Error": msg})
}

func (s *Server) postVolCheckin(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, true)
	if !ok {
		return
	}
	var pos volunteer.Position
	lat, lon, err := readPoint(r.FormValue("lat"), r.FormValue("lon"), r.FormValue("coord"))
	if err == nil && (lat == nil || lon == nil) {
		err = apperr.New(apperr.Invalid, "volunteer.position_required")
	}
	if err == nil {
		pos.Lat, pos.Lon = *lat, *lon
		if v := r.FormValue("accuracy"); v != "" {
			if pos.AccuracyM, err = strconv.ParseFloat(v, 64); err != nil {
				err = apperr.New(apperr.Invalid, "volunteer.position_required")
			}
		}
	}
	var c volunteer.Check
	if err == nil {
		token := r.PathValue("token")
		if r.FormValue("action") == "out" {
			c, err = s.Volunteer.CheckOut(r.Context(), sess.Volunteer.ID, token, pos)
		} else {
			c, err = s.Volunteer.CheckIn(r.Context(), sess.Volunteer.ID, token, pos)
		}
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showVolCheckin(w, r, sess, status(code), nil, msg)
		return
	}
	s.showVolCheckin(w, r, sess, http.StatusOK, &c, "")
}

func (s *Server) apiVerifyCertificate(w http.ResponseWriter, r *http.Request) {
	if !s.volunteerGuard(w, r, false) {
		return
	}
	c, err := s.Volunteer.Verify(r.Context(), r.PathValue("code"))
	respond(s, w, r, c, err)
}

func (s *Server) pageVerify(w http.ResponseWriter, r *http.Request) {
	if !s.volunteerGuard(w, r, false) {
		return
	}
	code := r.PathValue("code")
	if code == "" {
		code = r.URL.Query().Get("code")
	}
	data := map[string]any{"Code": code}
	st := http.StatusOK
	if code != "" {
		c, err := s.Volunteer.Verify(r.Context(), code)
		if err != nil {
			var msg string
			var ac apperr.Code
			ac, msg = s.message(r, err)
			st = status(ac)
			data["Error"] = msg
		} else {
			data["C"] = c
		}
	}
	s.renderStatus(w, r, st, "public_verify", data)
}

func (s *Server) pageVolPassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, false)
	if !ok {
		return
	}
	s.render(w, r, "public_vol_password", map[string]any{"CSRF": sess.CSRF})
}

func (s *Server) postVolPassword(w http.ResponseWriter, r *http.Request) {
	sess, ok := s.volGuard(w, r, true)
	if !ok {
		return
	}
	err := s.Volunteer.ChangePassword(r.Context(), sess, r.FormValue("current"), r.FormValue("password"), s.clientIP(r))
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "public_vol_password", map[string]any{"CSRF": sess.CSRF, "Error": msg})
		return
	}
	http.Redirect(w, r, "/v?msg=password", http.StatusSeeOther)
}
