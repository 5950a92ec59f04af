package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/assess"
	"chuangwen/internal/org"
	"chuangwen/internal/report"
	"chuangwen/internal/workflow"
)

// Re-checks that stop relapse (动态管理): the week's revisits (回访) for
// inspectors and grid workers, the office's settings and draws, and a
// case's recurrence links. One area, one file.

var (
	siteRecheckReaders   = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleInspector, org.RoleGrid, org.RoleLeader, org.RoleHandler}
	siteRecheckRecorders = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleInspector, org.RoleGrid}
	revisitReaders       = []org.Role{org.RoleAdmin, org.RoleAcceptor, org.RoleInspector, org.RoleGrid, org.RoleLeader, org.RoleHandler}
	revisitRecorders     = []org.Role{org.RoleAcceptor, org.RoleInspector, org.RoleGrid}
)

func (s *Server) recheckRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/revisits", api: true, roles: revisitReaders, summary: "Drawn revisits (回访) of the cases the caller sees: pending first by due time", query: []string{"state", "week"}, resp: "Revisits", h: s.apiRevisits},
		{method: "POST", path: "/api/v1/revisits/{id}", api: true, roles: revisitRecorders, summary: "Record a revisit: passed, or failed (a relapse, 反弹: a note and at least one photo, multipart) which reopens the case", body: "RevisitForm", resp: "Case", h: s.apiRecordRevisit},
		{method: "GET", path: "/api/v1/cases/{id}/recurrences", api: true, summary: "The case's recurrence links (复发): the earlier closed case it repeats and later reports that repeat it", resp: "Recurrences", h: s.apiRecurrences},
		{method: "GET", path: "/revisits", roles: revisitReaders, h: s.pageRevisits},
		{method: "GET", path: "/revisits/{id}", roles: revisitReaders, h: s.pageRevisit},
		{method: "POST", path: "/revisits/{id}", roles: revisitRecorders, h: s.postRevisit},
		{method: "GET", path: "/api/v1/assess/rechecks", api: true, roles: siteRecheckReaders, summary: "Re-inspections (复查) of sites that failed in a round: pending first by due time", query: []string{"state"}, resp: "SiteRechecks", h: s.apiSiteRechecks},
		{method: "GET", path: "/api/v1/assess/rechecks/{round}/{site}", api: true, roles: siteRecheckReaders, summary: "One site's re-inspection: each failed standard's original observation beside the re-check", resp: "SiteRecheck", h: s.apiSiteRecheck},
		{method: "POST", path: "/api/v1/assess/rechecks/{round}/{site}", api: true, roles: siteRecheckRecorders, summary: "Record a site's re-inspection: a result for every standard that failed there, at once", body: "SiteRecheckIn", resp: "SiteRecheck", h: s.apiRecordSiteRecheck},
		{method: "GET", path: "/assess/rechecks", roles: siteRecheckReaders, h: s.pageSiteRechecks},
		{method: "GET", path: "/assess/rechecks/{round}/{site}", roles: siteRecheckReaders, h: s.pageSiteRecheck},
		{method: "POST", path: "/assess/rechecks/{round}/{site}", roles: siteRecheckRecorders, h: s.postSiteRecheck},
		{method: "GET", path: "/admin/rechecks", roles: admin, h: s.pageRecheckSettings},
		{method: "POST", path: "/admin/rechecks", roles: admin, h: s.postRecheckSettings},
		{method: "POST", path: "/admin/rechecks/draw", roles: admin, h: s.postRevisitDraw},
	}
}

// recurrences is a case's recurrence links.
type recurrences struct {
	Of    *workflow.Recurrence  `json:"of"`
	Later []workflow.Recurrence `json:"later"`
}

// revisitFilter reads the list's filter; a week must be an ISO week
// (report.ParseWeek), which the draws are labelled by.
func (s *Server) revisitFilter(r *http.Request) (workflow.RevisitFilter, error) {
	q := r.URL.Query()
	f := workflow.RevisitFilter{State: q.Get("state")}
	if w := strings.TrimSpace(q.Get("week")); w != "" {
		wk, err := report.ParseWeek(w)
		if err != nil {
			return f, err
		}
		f.Week = wk.String()
	}
	return f, nil
}

func (s *Server) apiRevisits(w http.ResponseWriter, r *http.Request) {
	f, err := s.revisitFilter(r)
	var items []workflow.RevisitItem
	if err == nil {
		items, err = s.Flow.Revisits(r.Context(), actorOf(r), f)
	}
	if items == nil {
		items = []workflow.RevisitItem{}
	}
	respond(s, w, r, items, err)
}

// recordRevisit reads a revisit's result (form or multipart: result =
// pass|fail, note, photo files, version) and records it.
func (s *Server) recordRevisit(r *http.Request) (*workflow.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	if err := s.parseForm(r); err != nil {
		return nil, err
	}
	var in workflow.RevisitResult
	switch r.FormValue("result") {
	case "pass":
		in.Pass = true
	case "fail":
	default:
		return nil, errInvalid("revisit.result_required")
	}
	in.Note = r.FormValue("note")
	if v := r.FormValue("version"); v != "" {
		if in.Version, err = strconv.Atoi(v); err != nil {
			return nil, errInvalid("bad_number", "field", "version")
		}
	}
	if in.Photos, err = s.savePhotos(r, up); err != nil {
		return nil, err
	}
	c, err := s.Flow.RecordRevisit(r.Context(), actorOf(r), id, in)
	if err != nil {
		return nil, err
	}
	up.Keep()
	return c, nil
}

func (s *Server) apiRecordRevisit(w http.ResponseWriter, r *http.Request) {
	c, err := s.recordRevisit(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, newCaseView(actorOf(r), c))
}

func (s *Server) apiRecurrences(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	of, later, err := s.Flow.Recurrences(r.Context(), actorOf(r), id)
	if later == nil {
		later = []workflow.Recurrence{}
	}
	respond(s, w, r, recurrences{Of: of, Later: later}, err)
}

func (s *Server) pageRevisits(w http.ResponseWriter, r *http.Request) {
	f, err := s.revisitFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !r.URL.Query().Has("state") {
		f.State = workflow.RevisitPending
	}
	items, err := s.Flow.Revisits(r.Context(), actorOf(r), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pending, late := 0, 0
	for _, it := range items {
		if it.State == workflow.RevisitPending && !it.Moot {
			pending++
			if it.Late {
				late++
			}
		}
	}
	s.render(w, r, "revisits", map[string]any{"Items": items, "State": f.State, "Week": f.Week, "Pending": pending, "Late": late,
		"Records": isRecorder(actorOf(r))})
}

func isRecorder(a org.Actor) bool {
	for _, r := range revisitRecorders {
		if a.Role == r {
			return true
		}
	}
	return false
}

func (s *Server) pageRevisit(w http.ResponseWriter, r *http.Request) {
	s.showRevisit(w, r, http.StatusOK, "")
}

// showRevisit renders one revisit with the case as it was closed: its
// before and after photos, where it is, and the form to record it.
func (s *Server) showRevisit(w http.ResponseWriter, r *http.Request, code int, msg string) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	a := actorOf(r)
	it, err := s.Flow.RevisitOf(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Flow.Get(r.Context(), a, it.CaseID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Item": it, "Case": c, "Error": msg, "Records": isRecorder(a) && it.State == workflow.RevisitPending && !it.Moot}
	if c.Lat != nil && c.Lon != nil {
		name := c.Address
		if name == "" {
			name = c.CategoryName + " " + c.No
		}
		data["Nav"] = navLinks(*c.Lat, *c.Lon, name)
	}
	if r.Method == http.MethodPost {
		data["Sent"] = map[string]string{"Result": r.FormValue("result"), "Note": r.FormValue("note")}
	}
	s.renderStatus(w, r, code, "revisit", data)
}

func (s *Server) postRevisit(w http.ResponseWriter, r *http.Request) {
	c, err := s.recordRevisit(r)
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			s.fail(w, r, err)
			return
		}
		code, msg := s.message(r, err)
		s.showRevisit(w, r, status(code), msg)
		return
	}
	if c.State == workflow.Accepted {
		// A relapse: show the reopened case.
		http.Redirect(w, r, "/cases/"+itoa(c.ID)+"?msg=done", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/revisits?msg=done", http.StatusSeeOther)
}

func (s *Server) pageRecheckSettings(w http.ResponseWriter, r *http.Request) {
	s.showRecheckSettings(w, r, http.StatusOK, "", nil)
}

func (s *Server) showRecheckSettings(w http.ResponseWriter, r *http.Request, code int, msg string, sent map[string]string) {
	st, err := s.Flow.RecheckSettings(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	draws, err := s.Flow.RevisitDraws(r.Context(), 26)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sent == nil {
		sent = map[string]string{
			"share":           strconv.FormatFloat(st.RevisitShare*100, 'f', -1, 64),
			"days":            itoa(int64(st.RevisitDays)),
			"recurrence_days": itoa(int64(st.RecurrenceDays)),
		}
	}
	s.renderStatus(w, r, code, "admin_rechecks", map[string]any{"Form": sent, "Draws": draws, "Error": msg})
}

// postRecheckSettings saves the settings; the share is typed in percent.
func (s *Server) postRecheckSettings(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	sent := map[string]string{"share": r.FormValue("share"), "days": r.FormValue("days"), "recurrence_days": r.FormValue("recurrence_days")}
	var st workflow.RecheckSettings
	var err error
	pct, perr := strconv.ParseFloat(strings.TrimSpace(sent["share"]), 64)
	st.RevisitShare = pct / 100
	if perr != nil {
		err = errInvalid("recheck.bad_share")
	} else if st.RevisitDays, perr = strconv.Atoi(strings.TrimSpace(sent["days"])); perr != nil {
		err = errInvalid("recheck.bad_days", "max", "60")
	} else if st.RecurrenceDays, perr = strconv.Atoi(strings.TrimSpace(sent["recurrence_days"])); perr != nil {
		err = errInvalid("recheck.bad_recurrence_days", "max", "366")
	} else {
		err = s.Flow.SaveRecheckSettings(r.Context(), actorOf(r), st)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showRecheckSettings(w, r, status(code), msg, sent)
		return
	}
	http.Redirect(w, r, "/admin/rechecks?msg=saved", http.StatusSeeOther)
}

// postRevisitDraw draws this week's revisits now (the background draw
// does it on Monday; a second draw of a week changes nothing).
func (s *Server) postRevisitDraw(w http.ResponseWriter, r *http.Request) {
	if _, err := s.Flow.DrawRevisits(r.Context(), actorOf(r), time.Time{}); err != nil {
		code, msg := s.message(r, err)
		s.showRecheckSettings(w, r, status(code), msg, nil)
		return
	}
	http.Redirect(w, r, "/admin/rechecks?msg=done", http.StatusSeeOther)
}

// siteRecheckIn is a re-inspection as the API takes it.
type siteRecheckIn struct {
	Results []assess.RecheckResult `json:"results"`
	Note    string                 `json:"note"`
}

func (s *Server) apiSiteRechecks(w http.ResponseWriter, r *http.Request) {
	ks, err := s.Assess.Rechecks(r.Context(), actorOf(r), r.URL.Query().Get("state"))
	if ks == nil {
		ks = []assess.Recheck{}
	}
	respond(s, w, r, ks, err)
}

func (s *Server) apiSiteRecheck(w http.ResponseWriter, r *http.Request) {
	k, err := s.Assess.RecheckOf(r.Context(), actorOf(r), r.PathValue("round"), r.PathValue("site"))
	respond(s, w, r, k, err)
}

func (s *Server) apiRecordSiteRecheck(w http.ResponseWriter, r *http.Request) {
	var in siteRecheckIn
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := s.Assess.RecordRecheck(r.Context(), actorOf(r), r.PathValue("round"), r.PathValue("site"), in.Results, in.Note)
	respond(s, w, r, k, err)
}

func (s *Server) pageSiteRechecks(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if !r.URL.Query().Has("state") {
		state = assess.RecheckPending
	}
	ks, err := s.Assess.Rechecks(r.Context(), actorOf(r), state)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "assess_rechecks", map[string]any{"Items": ks, "State": state})
}

func (s *Server) pageSiteRecheck(w http.ResponseWriter, r *http.Request) {
	s.showSiteRecheck(w, r, http.StatusOK, "")
}

func (s *Server) showSiteRecheck(w http.ResponseWriter, r *http.Request, code int, msg string) {
	a := actorOf(r)
	k, err := s.Assess.RecheckOf(r.Context(), a, r.PathValue("round"), r.PathValue("site"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recorder := false
	for _, role := range siteRecheckRecorders {
		recorder = recorder || a.Role == role
	}
	data := map[string]any{"K": k, "Error": msg, "Records": recorder && k.State == assess.RecheckPending}
	if r.Method == http.MethodPost {
		data["Form"] = r.Form
	}
	s.renderStatus(w, r, code, "assess_recheck", data)
}

// postSiteRecheck reads result_<standard>, problems_<standard> and
// note_<standard> for each failed standard, and the overall note.
func (s *Server) postSiteRecheck(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	a := actorOf(r)
	k, err := s.Assess.RecheckOf(r.Context(), a, r.PathValue("round"), r.PathValue("site"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var results []assess.RecheckResult
	for _, it := range k.Items {
		res := assess.RecheckResult{Standard: it.Standard, Result: r.FormValue("result_" + it.Standard), Note: r.FormValue("note_" + it.Standard)}
		if res.Result == "" {
			err = errInvalid("assess.recheck_missing", "standard", it.Standard, "name", it.Name)
			break
		}
		if v := strings.TrimSpace(r.FormValue("problems_" + it.Standard)); v != "" {
			if res.Problems, err = strconv.Atoi(v); err != nil {
				err = errInvalid("assess.bad_problems", "value", v)
				break
			}
		}
		results = append(results, res)
	}
	if err == nil {
		_, err = s.Assess.RecordRecheck(r.Context(), a, k.Round, k.Site, results, r.FormValue("note"))
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showSiteRecheck(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/assess/rechecks?msg=done", http.StatusSeeOther)
}
