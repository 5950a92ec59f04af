package web

import (
	"net/http"
	"strconv"
	"strings"

	"chuangwen/internal/privacy"
)

// Personal data (个人信息保护法): the access log of who viewed it, and the
// retention period after which it is erased. One area, one file.

func (s *Server) privacyRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/privacy/access", api: true, roles: admin, summary: "The personal data access log, newest first", query: []string{"user", "kind", "subject"}, resp: "PersonalAccess", h: s.apiAccessLog},
		{method: "GET", path: "/admin/privacy", roles: admin, h: s.pagePrivacy},
		{method: "POST", path: "/admin/privacy", roles: admin, h: s.postPrivacy},
		{method: "POST", path: "/admin/privacy/erase", roles: admin, h: s.postErase},
	}
}

// accessed logs that the caller read personal data of kind about subject.
func (s *Server) accessed(r *http.Request, kind string, subject int64, detail string) {
	if s.Privacy == nil {
		return
	}
	a := actorOf(r)
	if detail == "" {
		detail = r.Method + " " + r.URL.Path
	} else {
		detail = r.Method + " " + r.URL.Path + " " + detail
	}
	s.Privacy.Record(r.Context(), a, kind, subject, detail, s.clientIP(r))
}

func (s *Server) accessFilter(r *http.Request) (privacy.AccessFilter, error) {
	q := r.URL.Query()
	f := privacy.AccessFilter{Kind: q.Get("kind")}
	var err error
	if f.UserID, err = formInt(r, "user"); err != nil {
		return f, err
	}
	f.Subject, err = formInt(r, "subject")
	return f, err
}

func (s *Server) apiAccessLog(w http.ResponseWriter, r *http.Request) {
	if s.Privacy == nil {
		writeJSON(w, http.StatusOK, []privacy.Access{})
		return
	}
	f, err := s.accessFilter(r)
	var list []privacy.Access
	if err == nil {
		list, err = s.Privacy.Accesses(r.Context(), actorOf(r), f)
	}
	if list == nil {
		list = []privacy.Access{}
	}
	respond(s, w, r, list, err)
}

func (s *Server) pagePrivacy(w http.ResponseWriter, r *http.Request) {
	s.showPrivacy(w, r, http.StatusOK, "", "")
}

func (s *Server) showPrivacy(w http.ResponseWriter, r *http.Request, code int, msg, days string) {
	if s.Privacy == nil {
		s.fail(w, r, errInvalid("privacy.off"))
		return
	}
	st, err := s.Privacy.Settings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := s.accessFilter(r)
	var list []privacy.Access
	if err == nil {
		list, err = s.Privacy.Accesses(r.Context(), actorOf(r), f)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if days == "" {
		days = strconv.Itoa(st.RetentionDays)
	}
	s.renderStatus(w, r, code, "admin_privacy", map[string]any{"Days": days, "Log": list, "F": f,
		"Kinds": privacy.Kinds, "Error": msg})
}

func (s *Server) postPrivacy(w http.ResponseWriter, r *http.Request) {
	if s.Privacy == nil {
		s.fail(w, r, errInvalid("privacy.off"))
		return
	}
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	days := strings.TrimSpace(r.FormValue("retention_days"))
	n, err := strconv.Atoi(days)
	if err != nil {
		err = errInvalid("privacy.bad_retention")
	} else {
		err = s.Privacy.SaveSettings(r.Context(), actorOf(r), privacy.Settings{RetentionDays: n})
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showPrivacy(w, r, status(code), msg, days)
		return
	}
	http.Redirect(w, r, "/admin/privacy?msg=saved", http.StatusSeeOther)
}

// postErase runs the retention job now (it also runs every hour).
func (s *Server) postErase(w http.ResponseWriter, r *http.Request) {
	if s.Privacy == nil {
		s.fail(w, r, errInvalid("privacy.off"))
		return
	}
	e, err := s.Privacy.Erase(r.Context(), actorOf(r))
	if err != nil {
		code, msg := s.message(r, err)
		s.showPrivacy(w, r, status(code), msg, "")
		return
	}
	http.Redirect(w, r, "/admin/privacy?msg=done&erased_cases="+strconv.Itoa(e.Cases)+"&erased_volunteers="+strconv.Itoa(e.Volunteers), http.StatusSeeOther)
}
