package web

import (
	"net/http"

	"chuangwen/internal/org"
	"chuangwen/internal/report"
)

// Supervision notices (督办单): a unit's inbox with acknowledgement, the
// office's list, instant notices and a printable page per notice.

var noticeReaders = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleLeader, org.RoleHandler}

func (s *Server) noticeRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/notices", api: true, roles: noticeReaders, summary: "Supervision notices, newest first: a unit's own, or all for the office", query: []string{"week"}, resp: "Notices", h: s.apiNotices},
		{method: "POST", path: "/api/v1/notices", api: true, roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, summary: "Issue a notice now (即时督办) to a unit or about a case", body: "InstantNotice", resp: "NoticeDoc", status: http.StatusCreated, h: s.apiInstantNotice},
		{method: "GET", path: "/api/v1/notices/{no}", api: true, roles: noticeReaders, summary: "A notice", resp: "Notice", h: s.apiNotice},
		{method: "POST", path: "/api/v1/notices/{no}/acknowledge", api: true, roles: []org.Role{org.RoleHandler}, summary: "Acknowledge (签收) the unit's notice", resp: "object", h: s.apiAcknowledge},
		{method: "GET", path: "/notices", roles: noticeReaders, h: s.pageNotices},
		{method: "GET", path: "/notices/{no}", roles: noticeReaders, h: s.pageNotice},
		{method: "POST", path: "/notices/{no}/acknowledge", roles: []org.Role{org.RoleHandler}, h: s.postAcknowledge},
		{method: "POST", path: "/notices", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postInstantNotice},
		{method: "POST", path: "/notices/issue", roles: admin, h: s.postIssueWeekly},
	}
}

func (s *Server) apiNotices(w http.ResponseWriter, r *http.Request) {
	list, err := s.Report.Notices(r.Context(), actorOf(r), r.URL.Query().Get("week"))
	respond(s, w, r, nonNil(list), err)
}

func (s *Server) apiNotice(w http.ResponseWriter, r *http.Request) {
	n, err := s.Report.Notice(r.Context(), actorOf(r), r.PathValue("no"))
	respond(s, w, r, n, err)
}

// instantJSON issues a notice now: to a unit by code, or about a case by
// its number (to the unit leading it).
type instantJSON struct {
	Unit string `json:"unit,omitempty"`
	Case string `json:"case,omitempty"`
	Note string `json:"note"`
}

func (s *Server) apiInstantNotice(w http.ResponseWriter, r *http.Request) {
	var in instantJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.Report.Instant(r.Context(), actorOf(r), in.Unit, in.Case, in.Note)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, d)
}

func (s *Server) apiAcknowledge(w http.ResponseWriter, r *http.Request) {
	respond(s, w, r, map[string]bool{"ok": true}, s.Report.Acknowledge(r.Context(), actorOf(r), r.PathValue("no")))
}

func (s *Server) pageNotices(w http.ResponseWriter, r *http.Request) {
	week := r.URL.Query().Get("week")
	var l loader
	list := load(&l, func() ([]report.Notice, error) { return s.Report.Notices(r.Context(), actorOf(r), week) })
	s.page(w, r, &l, "notices", map[string]any{"Notices": list, "Week": week,
		"ThisWeek": report.WeekOf(s.Report.Clock(), s.Location).String()})
}

func (s *Server) pageNotice(w http.ResponseWriter, r *http.Request) {
	var l loader
	n := load(&l, func() (report.Notice, error) { return s.Report.Notice(r.Context(), actorOf(r), r.PathValue("no")) })
	s.page(w, r, &l, "notice", map[string]any{"N": n})
}

func (s *Server) postAcknowledge(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	s.formDone(w, r, "/notices/"+no, s.Report.Acknowledge(r.Context(), actorOf(r), no))
}

func (s *Server) postInstantNotice(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	d, err := s.Report.Instant(r.Context(), actorOf(r), r.FormValue("unit"), r.FormValue("case"), r.FormValue("note"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/notices/"+d.No+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) postIssueWeekly(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	_, err := s.Report.IssueWeekly(r.Context(), actorOf(r), r.FormValue("week"))
	s.formDone(w, r, "/notices", err)
}
