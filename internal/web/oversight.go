package web

import (
	"net/http"
	"strconv"

	"chuangwen/internal/report"
)

// Public oversight (畅通群众监督渠道): the page anyone may read, and the
// office's choice of what it shows. One area, one file.

func (s *Server) oversightRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/public/oversight", api: true, public: true, summary: "The public oversight page's content: figures per district for the last twelve months, the monthly trend, public bulletins, the honour roll and the exposure list, as the office chose", resp: "Oversight", h: s.apiOversight},
		{method: "GET", path: "/oversight", public: true, h: s.pageOversight},
		{method: "GET", path: "/admin/oversight", roles: admin, h: s.pageOversightSettings},
		{method: "POST", path: "/admin/oversight", roles: admin, h: s.postOversightSettings},
	}
}

func (s *Server) apiOversight(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	doc, err := s.Report.Oversight(r.Context())
	respond(s, w, r, doc, err)
}

func (s *Server) pageOversight(w http.ResponseWriter, r *http.Request) {
	if !s.publicGuard(w, r, false) {
		return
	}
	doc, err := s.Report.Oversight(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "public_oversight", map[string]any{"O": doc})
}

func (s *Server) pageOversightSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.Report.OversightSettings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_oversight", map[string]any{"S": st})
}

func (s *Server) postOversightSettings(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	st := report.OversightSettings{Stats: r.FormValue("stats") == "1", Bulletins: r.FormValue("bulletins") == "1",
		Honour: r.FormValue("honour") == "1", Exposure: r.FormValue("exposure") == "1"}
	days, err := strconv.Atoi(r.FormValue("exposure_days"))
	if err != nil {
		err = errInvalid("report.bad_exposure_days")
	} else {
		st.ExposureDays = days
		err = s.Report.SaveOversightSettings(r.Context(), actorOf(r), st)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.renderStatus(w, r, status(code), "admin_oversight", map[string]any{"S": st, "Error": msg})
		return
	}
	http.Redirect(w, r, "/admin/oversight?msg=saved", http.StatusSeeOther)
}
