package web

import (
	"io"
	"math"
	"net/http"
	"path"

	"chuangwen/internal/apperr"
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
		{method: "GET", path: "/notices/{no}/{file}", roles: noticeReaders, h: s.noticeFile},
		{method: "GET", path: "/notices/export/{file}", roles: noticeReaders, h: s.noticesFile},
		{method: "POST", path: "/notices/{no}/acknowledge", roles: []org.Role{org.RoleHandler}, h: s.postAcknowledge},
		{method: "POST", path: "/notices", roles: []org.Role{org.RoleAdmin, org.RoleAcceptor}, h: s.postInstantNotice},
		{method: "POST", path: "/notices/issue", roles: admin, h: s.postIssueWeekly},
		{method: "GET", path: "/api/v1/webhooks", api: true, roles: admin, summary: "Webhook endpoints that receive the notices (secrets not shown)", resp: "Webhooks", h: actorListJSON(s, s.Report.Webhooks)},
		{method: "POST", path: "/api/v1/webhooks", api: true, roles: admin, summary: "Register an endpoint for one unit's notices or every unit's; the answer shows its secret once", body: "WebhookIn", resp: "Webhook", status: http.StatusCreated, h: s.apiAddWebhook},
		{method: "GET", path: "/api/v1/webhooks/deliveries", api: true, roles: admin, summary: "The delivery log, newest first", query: []string{"webhook"}, resp: "Deliveries", h: s.apiDeliveries},
		{method: "GET", path: "/admin/webhooks", roles: admin, h: s.pageWebhooks},
		{method: "POST", path: "/admin/webhooks", roles: admin, h: s.postWebhook},
		{method: "POST", path: "/admin/webhooks/{id}/active", roles: admin, h: s.postWebhookActive},
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

// noticeFile sends one notice as notice.pdf (A4, the seal area) or
// notice.xlsx (its cases).
func (s *Server) noticeFile(w http.ResponseWriter, r *http.Request) {
	n, err := s.Report.Notice(r.Context(), actorOf(r), r.PathValue("no"))
	if err == nil {
		err = knownFile(r, "notice")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.sendNotices(w, r, n.Doc.No, []report.NoticeDoc{n.Doc})
}

// noticesFile sends the notices the reader sees (a unit its own), of
// ?week= or all, as notices.pdf (a notice per page) or notices.xlsx.
func (s *Server) noticesFile(w http.ResponseWriter, r *http.Request) {
	week := r.URL.Query().Get("week")
	err := knownFile(r, "notices")
	if err == nil && week != "" {
		var wk report.Week
		if wk, err = report.ParseWeek(week); err == nil {
			week = wk.String()
		}
	}
	var list []report.Notice
	if err == nil {
		list, err = s.Report.Notices(r.Context(), actorOf(r), week)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	docs := make([]report.NoticeDoc, len(list))
	for i, n := range list {
		docs[i] = n.Doc
	}
	name := "notices"
	if week != "" {
		name += "-" + week
	}
	s.sendNotices(w, r, name, docs)
}

// knownFile refuses a file name other than base.pdf and base.xlsx.
func knownFile(r *http.Request, base string) error {
	if f := r.PathValue("file"); f != base+".pdf" && f != base+".xlsx" {
		return apperr.New(apperr.NotFound, "not_found")
	}
	return nil
}

func (s *Server) sendNotices(w http.ResponseWriter, r *http.Request, name string, docs []report.NoticeDoc) {
	s.sendDocument(w, r, name+path.Ext(r.PathValue("file")), func(w io.Writer, t func(string) string) error {
		return report.WriteNoticesXLSX(w, docs, t)
	}, func(w io.Writer, t func(string) string, _ string) error {
		return report.WriteNoticesPDF(w, docs, t, t("notice.ui.doc_title")+" "+name)
	})
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

// webhookJSON registers an endpoint: signed JSON by default, or a WeCom
// or DingTalk group robot (format), with a DingTalk robot's signing
// secret.
type webhookJSON = report.NewWebhook

func (s *Server) apiAddWebhook(w http.ResponseWriter, r *http.Request) {
	var in webhookJSON
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.Report.AddEndpoint(r.Context(), actorOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, h)
}

func (s *Server) apiDeliveries(w http.ResponseWriter, r *http.Request) {
	id, err := formInt(r, "webhook")
	if err == nil && id > math.MaxInt32 { // (PostgreSQL types the filter as int4)
		err = errInvalid("bad_number", "field", "webhook")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.Report.Deliveries(r.Context(), actorOf(r), id, 200)
	respond(s, w, r, nonNil(list), err)
}

func (s *Server) pageWebhooks(w http.ResponseWriter, r *http.Request) {
	s.showWebhooks(w, r, nil)
}

func (s *Server) showWebhooks(w http.ResponseWriter, r *http.Request, created *report.Webhook) {
	var l loader
	hooks := load(&l, func() ([]report.Webhook, error) { return s.Report.Webhooks(r.Context(), actorOf(r)) })
	log := load(&l, func() ([]report.Delivery, error) { return s.Report.Deliveries(r.Context(), actorOf(r), 0, 100) })
	s.page(w, r, &l, "admin_webhooks", map[string]any{"Hooks": hooks, "Log": log, "Created": created})
}

func (s *Server) postWebhook(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	h, err := s.Report.AddEndpoint(r.Context(), actorOf(r), report.NewWebhook{URL: r.FormValue("url"), Unit: r.FormValue("unit"),
		Format: r.FormValue("format"), Secret: r.FormValue("secret")})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if h.Secret == "" {
		http.Redirect(w, r, "/admin/webhooks?msg=saved", http.StatusSeeOther)
		return
	}
	s.showWebhooks(w, r, &h) // the secret, shown this once
}

func (s *Server) postWebhookActive(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		if err = s.parseForm(r); err == nil {
			err = s.Report.SetWebhookActive(r.Context(), actorOf(r), id, r.FormValue("active") == "1")
		}
	}
	s.formDone(w, r, "/admin/webhooks", err)
}
