package web

import (
	"html/template"
	"time"

	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"chuangwen/internal/workcal"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/intake"
	"chuangwen/internal/org"
	"chuangwen/internal/privacy"
	"chuangwen/internal/workflow"
)

// caseRoutes lists the routes of cases and their closed loop: lists, the case page, reports, actions.
func (s *Server) caseRoutes() []route {
	listQuery := []string{"queue", "state", "category_id", "unit_id", "region_id", "cell_id", "warning", "closed_from", "closed_to", "supervised", "from", "to", "no", "q", "sort", "page", "exact", "before", "limit", "coord"}
	return []route{
		{method: "GET", path: "/api/v1/cases", api: true, summary: "List cases in the caller's scope, newest first (keyset paging with before=)", query: listQuery, resp: "CasePage", h: s.apiListCases},
		{method: "POST", path: "/api/v1/cases", api: true, status: 201, roles: reporters, summary: "Report a problem (JSON, or multipart/form-data with photo files)", body: "NewCase", resp: "Case", h: s.apiCreateCase},
		{method: "GET", path: "/api/v1/cases/{id}", api: true, summary: "One case with its photos and the actions the caller may take (coord=gcj02|bd09 converts its coordinates)", query: []string{"coord"}, resp: "Case", h: s.apiGetCase},
		{method: "GET", path: "/api/v1/cases/{id}/timeline", api: true, summary: "The trail of a case", resp: "Events", h: listByIDJSON(s, s.Flow.Timeline)},
		{method: "POST", path: "/api/v1/cases/{id}/actions", api: true, summary: "Act on a case: accept, reject, merge, dispatch, acknowledge, return, request/approve/deny_extension, postpone, resume, feedback, verify_pass, verify_fail, reopen, void, supervise, unsupervise, comment (JSON, or multipart with photo files)", body: "Action", resp: "Case", h: s.apiAct},
		{method: "GET", path: "/api/v1/queues", api: true, summary: "Counts of the caller's work queues", resp: "object", h: s.apiQueues},
		{method: "GET", path: "/api/v1/cases/{id}/duplicates", api: true, roles: office, summary: "Open cases of the same category near this one, reported earlier: likely duplicates to merge into", resp: "Nearby", h: listByIDJSON(s, s.Flow.Duplicates)},
		{method: "GET", path: "/{$}", h: s.pageDashboard},
		{method: "GET", path: "/cases", h: s.pageCases},
		{method: "GET", path: "/cases/new", roles: reporters, h: s.pageNewCase},
		{method: "POST", path: "/cases", roles: reporters, h: s.postCase},
		{method: "GET", path: "/cases/{id}", h: s.pageCase},
		{method: "POST", path: "/cases/{id}/act", h: s.postAct},
	}
}

// ---- cases ----

// caseView is a case with the actions its reader may take now.
type caseView struct {
	*workflow.Case
	AllowedActions []workflow.Action `json:"allowed_actions"`
}

func newCaseView(a org.Actor, c *workflow.Case) caseView {
	acts := workflow.AllowedActions(a, c)
	if acts == nil {
		acts = []workflow.Action{}
	}
	return caseView{Case: c, AllowedActions: acts}
}

// filterFrom reads list filters from the query string.
func (s *Server) filterFrom(r *http.Request) (workflow.Filter, error) {
	q := r.URL.Query()
	f := workflow.Filter{Queue: workflow.Queue(q.Get("queue")), No: strings.TrimSpace(q.Get("no")), Q: strings.TrimSpace(q.Get("q")),
		Sort: workflow.Sort(q.Get("sort")), ExactTotal: q.Get("exact") == "1" || q.Get("exact") == "true"}
	for _, st := range q["state"] {
		if st != "" {
			f.States = append(f.States, workflow.State(st))
		}
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"category_id", &f.CategoryID}, {"unit_id", &f.UnitID}, {"region_id", &f.RegionID}, {"cell_id", &f.CellID}, {"before", &f.Before}}
	for _, p := range ints {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return f, errInvalid("bad_number", "field", p.name)
			}
			*p.dst = n
		}
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"warning", &f.Warning}, {"limit", &f.Limit}, {"page", &f.Page}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, errInvalid("bad_number", "field", p.name)
			}
			if p.name == "warning" && n > 2 {
				return f, errInvalid("case.bad_warning")
			}
			*p.dst = n
		}
	}
	f.Supervised = q.Get("supervised") == "true" || q.Get("supervised") == "1"
	var err error
	if f.From, err = s.parseDay(q.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = s.parseDay(q.Get("to")); err != nil {
		return f, err
	}
	if !f.To.IsZero() {
		f.To = f.To.AddDate(0, 0, 1) // "to" names the last day included
	}
	if f.ClosedFrom, err = s.parseDay(q.Get("closed_from")); err != nil {
		return f, err
	}
	if f.ClosedTo, err = s.parseDay(q.Get("closed_to")); err != nil {
		return f, err
	}
	if !f.ClosedTo.IsZero() {
		f.ClosedTo = f.ClosedTo.AddDate(0, 0, 1)
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) || !f.ClosedFrom.IsZero() && !f.ClosedTo.IsZero() && !f.ClosedTo.After(f.ClosedFrom) {
		return f, errInvalid("bad_range")
	}
	return f, nil
}

// listCases reads the list filters of the request and lists the caller's
// cases that match them.
func (s *Server) listCases(r *http.Request) (workflow.Filter, workflow.Page, error) {
	f, err := s.filterFrom(r)
	if err != nil {
		return f, workflow.Page{}, err
	}
	page, err := s.Flow.List(r.Context(), actorOf(r), f)
	if err == nil && f.Q != "" && workflow.PhoneQuery(f.Q) && actorOf(r).CanSeeReporter() {
		s.accessed(r, privacy.KindPhone, 0, "q="+f.Q)
	}
	return f, page, err
}

func (s *Server) apiListCases(w http.ResponseWriter, r *http.Request) {
	_, page, err := s.listCases(r)
	if err == nil {
		err = outputDatum(r, page.Cases...)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if page.Cases == nil {
		page.Cases = []*workflow.Case{}
	}
	withReporter := 0
	for _, c := range page.Cases {
		if c.Reporter != nil {
			withReporter++
		}
	}
	if withReporter > 0 {
		s.accessed(r, privacy.KindCaseList, 0, strconv.Itoa(withReporter)+" reporters")
	}
	writeJSON(w, 200, page)
}

// outputDatum converts the cases' coordinates (stored in WGS-84) to the
// datum the coord parameter names, for clients drawing on a GCJ-02 or
// BD-09 map.
func outputDatum(r *http.Request, cases ...*workflow.Case) error {
	v := r.URL.Query().Get("coord")
	if v == "" {
		return nil
	}
	d, err := geo.ParseDatum(v)
	if err != nil {
		return apperr.New(apperr.Invalid, "bad_coord")
	}
	for _, c := range cases {
		if c.Lat != nil {
			p := geo.FromWGS84(geo.Point{Lon: *c.Lon, Lat: *c.Lat}, d)
			c.Lat, c.Lon = &p.Lat, &p.Lon
		}
	}
	return nil
}

func (s *Server) apiGetCase(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	c, err := s.Flow.Get(r.Context(), actorOf(r), id)
	if err == nil {
		err = outputDatum(r, c)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if c.Reporter != nil {
		s.accessed(r, privacy.KindReporter, c.ID, "")
	}
	writeJSON(w, 200, newCaseView(actorOf(r), c))
}

// newCaseJSON is the JSON body of a report.
type newCaseJSON struct {
	CategoryID    int64    `json:"category_id"`
	Description   string   `json:"description"`
	Lat           *float64 `json:"lat"`
	Lon           *float64 `json:"lon"`
	Address       string   `json:"address"`
	RegionID      int64    `json:"region_id"`
	Urgency       int      `json:"urgency"`
	Source        string   `json:"source"`
	ReporterName  string   `json:"reporter_name"`
	ReporterPhone string   `json:"reporter_phone"`
	// Coord names the datum of lat/lon: wgs84 (default), gcj02 or bd09.
	Coord string `json:"coord"`
}

// newCaseFromForm reads a report from a urlencoded or multipart form.
func (s *Server) newCaseFromForm(r *http.Request) (workflow.NewCase, error) {
	var in workflow.NewCase
	if err := s.parseForm(r); err != nil {
		return in, err
	}
	var err error
	if in.CategoryID, err = formInt(r, "category_id"); err != nil {
		return in, err
	}
	if in.RegionID, err = formInt(r, "region_id"); err != nil {
		return in, err
	}
	u, err := formInt(r, "urgency")
	if err != nil {
		return in, err
	}
	in.Urgency = int(u)
	if in.Lat, in.Lon, err = readPoint(r.FormValue("lat"), r.FormValue("lon"), r.FormValue("coord")); err != nil {
		return in, err
	}
	in.Description, in.Address, in.Source = r.FormValue("description"), r.FormValue("address"), r.FormValue("source")
	in.ReporterName, in.ReporterPhone = r.FormValue("reporter_name"), r.FormValue("reporter_phone")
	return in, nil
}

func (s *Server) apiCreateCase(w http.ResponseWriter, r *http.Request) {
	var in workflow.NewCase
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	if isMultipart(r) {
		defer s.Flow.PhotoJobs.IntakeStarted()()
		var err error
		if in, err = s.newCaseFromForm(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if in.Photos, err = s.savePhotos(r, up); err != nil {
			s.fail(w, r, err)
			return
		}
	} else {
		var j newCaseJSON
		if err := decodeJSON(r, &j); err != nil {
			s.fail(w, r, err)
			return
		}
		in = workflow.NewCase{CategoryID: j.CategoryID, Description: j.Description, Address: j.Address, RegionID: j.RegionID,
			Urgency: j.Urgency, Source: j.Source, ReporterName: j.ReporterName, ReporterPhone: j.ReporterPhone}
		if (j.Lat == nil) != (j.Lon == nil) {
			s.fail(w, r, apperr.New(apperr.Invalid, "case.bad_location"))
			return
		}
		if j.Lat != nil {
			var err error
			in.Lat, in.Lon, err = readPoint(strconv.FormatFloat(*j.Lat, 'f', -1, 64), strconv.FormatFloat(*j.Lon, 'f', -1, 64), j.Coord)
			if err != nil {
				s.fail(w, r, err)
				return
			}
		}
	}
	c, replayed, err := s.fileCase(r, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	up.Keep()
	w.Header().Set("Location", "/api/v1/cases/"+itoa(c.ID))
	code := http.StatusCreated
	if replayed {
		code = http.StatusOK // the first answer again: nothing was filed
	}
	writeJSON(w, code, newCaseView(actorOf(r), c))
}

// fileCase files in for the request's caller, once per idempotency key
// when the request names one (the Idempotency-Key header; the console
// form's one-time field): a double submission on a flaky network, or a
// hotline system's retry, gets the first case back (replayed) instead of
// filing it twice. The key is the caller's own: a user's, a token's.
func (s *Server) fileCase(r *http.Request, in workflow.NewCase) (c *workflow.Case, replayed bool, err error) {
	a := actorOf(r)
	key := idempotencyKey(r)
	if key == "" || s.Intake == nil {
		c, err = s.Flow.Report(r.Context(), a, in)
		return c, false, err
	}
	scope := "user:" + itoa(a.UserID)
	if a.TokenID != 0 {
		scope = "token:" + itoa(a.TokenID)
	}
	rec, err := s.Intake.Submit(r.Context(), a, intake.Submission{Scope: scope, Key: key, Case: in, StaffAPI: true})
	if err != nil {
		return nil, false, err
	}
	c, err = s.Flow.AsFiled(r.Context(), a, rec.CaseID)
	return c, rec.Replayed, err
}

// actionJSON is the JSON body of an action.
type actionJSON struct {
	Action      string  `json:"action"`
	Version     int     `json:"version"`
	Opinion     string  `json:"opinion"`
	LeadUnitID  int64   `json:"lead_unit_id"`
	CoopUnitIDs []int64 `json:"coop_unit_ids"`
	Deadline    string  `json:"deadline"` // RFC 3339, or YYYY-MM-DD (end of that working day)
	MergeInto   int64   `json:"merge_into"`
	MergeIntoNo string  `json:"merge_into_no"`
	CategoryID  int64   `json:"category_id"`
	Urgency     int     `json:"urgency"`
	// Accept may place a case the grid could not.
	RegionID int64    `json:"region_id"`
	Lat      *float64 `json:"lat"`
	Lon      *float64 `json:"lon"`
	Coord    string   `json:"coord"`
}

func (s *Server) actionFromJSON(r *http.Request, j actionJSON) (workflow.ActInput, error) {
	in := workflow.ActInput{Action: workflow.Action(j.Action), Version: j.Version, Opinion: j.Opinion, LeadUnitID: j.LeadUnitID, CoopUnitIDs: j.CoopUnitIDs,
		MergeInto: j.MergeInto, CategoryID: j.CategoryID, Urgency: j.Urgency, RegionID: j.RegionID}
	var err error
	if in.Deadline, err = s.parseDeadline(j.Deadline); err != nil {
		return in, err
	}
	if (j.Lat == nil) != (j.Lon == nil) {
		return in, errInvalid("case.bad_location")
	}
	if j.Lat != nil {
		if in.Lat, in.Lon, err = readPoint(strconv.FormatFloat(*j.Lat, 'f', -1, 64), strconv.FormatFloat(*j.Lon, 'f', -1, 64), j.Coord); err != nil {
			return in, err
		}
	}
	if j.MergeIntoNo != "" && in.MergeInto == 0 {
		page, err := s.Flow.List(r.Context(), actorOf(r), workflow.Filter{No: strings.TrimSpace(j.MergeIntoNo), Limit: 1})
		if err != nil {
			return in, err
		}
		if len(page.Cases) == 0 {
			return in, errInvalid("case.merge_target")
		}
		in.MergeInto = page.Cases[0].ID
	}
	return in, nil
}

// actionFromForm reads an action from a form (console or multipart API).
func (s *Server) actionFromForm(r *http.Request) (workflow.ActInput, error) {
	if err := s.parseForm(r); err != nil {
		return workflow.ActInput{}, err
	}
	j := actionJSON{Action: r.FormValue("action"), Opinion: r.FormValue("opinion"), Deadline: r.FormValue("deadline"), MergeIntoNo: r.FormValue("merge_into_no")}
	// A stock reply picked in the form opens the opinion; what was typed
	// follows it.
	if reply := strings.TrimSpace(r.FormValue("stock_reply")); reply != "" {
		if typed := strings.TrimSpace(j.Opinion); typed != "" {
			reply += "；" + typed
		}
		j.Opinion = reply
	}
	var err error
	var v int64
	if v, err = formInt(r, "version"); err != nil {
		return workflow.ActInput{}, err
	}
	j.Version = int(v)
	if j.LeadUnitID, err = formInt(r, "lead_unit_id"); err != nil {
		return workflow.ActInput{}, err
	}
	if j.MergeInto, err = formInt(r, "merge_into"); err != nil {
		return workflow.ActInput{}, err
	}
	if j.CategoryID, err = formInt(r, "category_id"); err != nil {
		return workflow.ActInput{}, err
	}
	if v, err = formInt(r, "urgency"); err != nil {
		return workflow.ActInput{}, err
	}
	j.Urgency = int(v)
	if j.RegionID, err = formInt(r, "region_id"); err != nil {
		return workflow.ActInput{}, err
	}
	if lat, lon, err := readPoint(r.FormValue("lat"), r.FormValue("lon"), r.FormValue("coord")); err != nil {
		return workflow.ActInput{}, err
	} else if lat != nil {
		j.Lat, j.Lon = lat, lon // already WGS-84
	}
	for _, c := range r.Form["coop_unit_ids"] {
		n, err := strconv.ParseInt(c, 10, 64)
		if err != nil {
			return workflow.ActInput{}, errInvalid("bad_number", "field", "coop_unit_ids")
		}
		j.CoopUnitIDs = append(j.CoopUnitIDs, n)
	}
	return s.actionFromJSON(r, j)
}

// act performs the action in the request on case {id}.
func (s *Server) act(r *http.Request) (*workflow.Case, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return nil, err
	}
	var in workflow.ActInput
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	if isMultipart(r) || !isAPI(r) {
		if in, err = s.actionFromForm(r); err != nil {
			return nil, err
		}
		if in.Photos, err = s.savePhotos(r, up); err != nil {
			return nil, err
		}
	} else {
		var j actionJSON
		if err := decodeJSON(r, &j); err != nil {
			return nil, err
		}
		if in, err = s.actionFromJSON(r, j); err != nil {
			return nil, err
		}
	}
	c, err := s.Flow.Act(r.Context(), actorOf(r), id, in)
	if err != nil {
		return nil, err
	}
	up.Keep()
	return c, nil
}

func (s *Server) apiAct(w http.ResponseWriter, r *http.Request) {
	c, err := s.act(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, newCaseView(actorOf(r), c))
}

func (s *Server) apiQueues(w http.ResponseWriter, r *http.Request) {
	counts, err := s.Flow.Counts(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, counts)
}

// Staff side of intake: duplicates, the grid, the abuse list.

func (s *Server) pageDashboard(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	counts, states, err := s.Flow.Dashboard(r.Context(), a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data := map[string]any{"Counts": counts, "States": states, "AllStates": workflow.OpenStates}
	if a.Role == org.RoleVolunteer && s.Report != nil {
		// no queue of cases: the city's published standing and the
		// resident's ways in, which a volunteer coordinator passes on
		code, quarter, err := s.Report.LatestPublic(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Bulletin"], data["Quarter"] = code, quarter
	}
	s.render(w, r, "dashboard", data)
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
	// The filter form sends every field; the address kept for a bookmark
	// or a colleague holds only those that filter.
	if q, changed := dropEmpty(r.URL.Query()); changed {
		http.Redirect(w, r, "/cases?"+q.Encode(), http.StatusSeeOther)
		return
	}
	s.showCases(w, r, http.StatusOK, "", "")
}

// showCases renders the case list r's query asks for, with a message and
// the name typed into the save-filter form when saving it failed.
func (s *Server) showCases(w http.ResponseWriter, r *http.Request, code int, msg, filterName string) {
	f, err := s.filterFrom(r)
	var pg workflow.Page
	if err == nil {
		f.Page = max(f.Page, 1) // the console's lists are numbered
		f.Sort = queueSort(f.Queue, string(f.Sort))
		pg, err = s.Flow.List(r.Context(), actorOf(r), f)
	}
	if err != nil {
		// a filter the user got wrong comes back in the form, with why
		c, m := s.message(r, err)
		if c != apperr.Invalid {
			s.fail(w, r, err)
			return
		}
		code, msg, f, pg = http.StatusBadRequest, m, workflow.Filter{Queue: f.Queue}, workflow.Page{}
	}
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	saved, err := s.Flow.SavedFilters(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	left, err := s.timeLeft(r, pg.Cases)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// the saved queries are encoded by url.Values: links as they are
	type savedLink struct {
		workflow.SavedFilter
		URL template.URL
	}
	links := make([]savedLink, len(saved))
	for i, sf := range saved {
		links[i] = savedLink{sf, template.URL("/cases?" + sf.Query)}
	}
	filters := listFilters(r.URL.Query()).Encode()
	s.renderStatus(w, r, code, "cases", map[string]any{"Page": pg, "Filter": f, "Q": r.URL.Query(), "L": l, "States": workflow.States, "Sorts": workflow.Sorts,
		"Pager": pagerOf(r.URL.Query(), "/cases", max(f.Page, 1), pg.Pages), "SeesReporter": actorOf(r).CanSeeReporter(),
		"Saved": links, "Query": filters, "Msg": msg, "FilterName": filterName, "Left": left,
		"Batch": slices.Contains(office, actorOf(r).Role), "BatchActions": workflow.BatchActions,
		"MapView": r.URL.Query().Get("view") == "map", "PointsURL": template.URL("/api/v1/cases/points?" + filters)})
}

// timeLeft words, for each case worked against a deadline, the working
// time left (剩 3 工时, 剩 2 个工作日) or by how much it is overdue, as the
// office's calendar counts it.
func (s *Server) timeLeft(r *http.Request, cases []*workflow.Case) (map[int64]string, error) {
	out := map[int64]string{}
	var cal *workcal.Calendar
	now := time.Now()
	lang := s.lang(r)
	for _, c := range cases {
		if c.Deadline.IsZero() || (c.State != workflow.Dispatched && c.State != workflow.InProgress) {
			continue
		}
		if cal == nil {
			var err error
			if cal, err = s.Flow.Calendar(r.Context()); err != nil {
				return nil, err
			}
		}
		hours, days, a, b := "time.left_hours", "time.left_days", now, c.Deadline
		if !now.Before(c.Deadline) {
			hours, days, a, b = "time.late_hours", "time.late_days", c.Deadline, now
		}
		mins, perDay := cal.WorkingMinutesBetween(a, b), max(cal.MinutesPerDay(), 1)
		if mins < perDay {
			out[c.ID] = s.Msg.T(lang, hours, "n", strconv.Itoa((mins+59)/60))
		} else {
			out[c.ID] = s.Msg.T(lang, days, "n", strconv.Itoa((mins+perDay/2)/perDay))
		}
	}
	return out, nil
}

// listFilters is a list's query without its page, view or size: what a
// saved filter, the map's points and the way back from a batch keep.
func listFilters(q url.Values) url.Values {
	v := url.Values{}
	for _, k := range workflow.FilterParams {
		if vs, ok := q[k]; ok {
			v[k] = vs
		}
	}
	return v
}

// pageLink is one link of a pager.
type pageLink struct {
	N       int // 0: a gap (…)
	URL     string
	Current bool
}

// pager is the page links of a numbered list.
type pager struct {
	Prev, Next string
	Links      []pageLink
}

// pagerOf links the pages around the current one of a list at base with
// the query q: the first, the last, and two either side of the current.
func pagerOf(q url.Values, base string, cur, pages int) pager {
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		v.Del("before")
		if v.Del("page"); n > 1 {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	var p pager
	if cur > 1 {
		p.Prev = link(cur - 1)
	}
	if cur < pages {
		p.Next = link(cur + 1)
	}
	if pages <= 1 {
		return p
	}
	last := 0
	for n := 1; n <= pages; n++ {
		if n != 1 && n != pages && (n < cur-2 || n > cur+2) {
			continue
		}
		if last != 0 && n > last+1 {
			p.Links = append(p.Links, pageLink{})
		}
		p.Links = append(p.Links, pageLink{N: n, URL: link(n), Current: n == cur})
		last = n
	}
	return p
}

// dropEmpty removes the parameters that hold nothing but empty values,
// and says whether there were any.
func dropEmpty(q url.Values) (url.Values, bool) {
	changed := false
	for k, vs := range q {
		if !slices.ContainsFunc(vs, func(v string) bool { return strings.TrimSpace(v) != "" }) {
			delete(q, k)
			changed = true
		}
	}
	return q, changed
}

func (s *Server) pageNewCase(w http.ResponseWriter, r *http.Request) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Key: the form's one-time idempotency key, so that sending it twice
	// (a double tap, a retry on a flaky network) files one case; the page
	// is not kept by the browser, so that going back to it gives a new one.
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, "new_case", map[string]any{"L": l, "Sources": workflow.Sources, "Center": s.mapCenter(r), "Key": org.RandomToken(18)})
}

func (s *Server) postCase(w http.ResponseWriter, r *http.Request) {
	up := s.Flow.Photos.NewUploads()
	defer up.Close()
	in, err := s.newCaseFromForm(r)
	if err == nil {
		in.Photos, err = s.savePhotos(r, up)
	}
	var c *workflow.Case
	if err == nil {
		if c, _, err = s.fileCase(r, in); err == nil {
			up.Keep()
		}
	}
	if err != nil {
		l, lerr := s.lookups(r)
		if lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		key := r.FormValue("idempotency_key") // (nothing was filed: the same form may be sent again)
		if ae, ok := apperr.As(err); key == "" || ok && ae.Key == "intake.key_reused" {
			// The key filed a case already (this form came back from the
			// browser's history, edited): what is typed now is another
			// report, with a key of its own.
			if key != "" {
				err = apperr.New(apperr.Conflict, "case.form_already_sent")
			}
			key = org.RandomToken(18)
		}
		code, msg := s.message(r, err)
		w.Header().Set("Cache-Control", "no-store")
		s.renderStatus(w, r, status(code), "new_case", map[string]any{"L": l, "Sources": workflow.Sources, "Error": msg, "Form": r.Form, "Center": s.mapCenter(r), "Key": key})
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
	if c.Reporter != nil {
		s.accessed(r, privacy.KindReporter, c.ID, "")
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
	// The latest instruction to whoever works the case (the dispatch's
	// opinion, a failed verification's reason, a reopening's), shown on
	// top.
	for i := len(trail) - 1; i >= 0; i-- {
		e := trail[i]
		if e.Opinion != "" && slices.Contains([]string{string(workflow.Dispatch), string(workflow.VerifyFail), string(workflow.Reopen), string(workflow.Relapse)}, e.Action) {
			data["Instruction"] = e
			break
		}
	}
	of, later, err := s.Flow.Recurrences(r.Context(), a, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if of != nil {
		data["RecurrenceOf"] = of
	}
	if len(later) > 0 {
		data["RecurrenceLater"] = later
	}
	if c.Lat != nil && c.Lon != nil {
		name := c.Address
		if name == "" {
			name = c.CategoryName + " " + c.No
		}
		data["Nav"] = navLinks(*c.Lat, *c.Lon, name)
		if c.Routing != nil {
			data["CellCode"] = c.Routing.Location.CellCode
		}
	}
	if q := workflow.Queue(r.URL.Query().Get("queue")); q != "" && slices.Contains(workflow.QueuesFor(a.Role), q) {
		data["Queue"] = q // the action forms come back to the queue's next case
	}
	// A refused action comes back with its form open and filled in as
	// sent (all but the photos, which a browser never gives back).
	sent := sentAction{Coops: map[int64]bool{}}
	if r.Method == http.MethodPost {
		sent.Action, sent.Opinion, sent.Reply = r.FormValue("action"), r.FormValue("opinion"), r.FormValue("stock_reply")
		sent.Deadline, sent.MergeInto, sent.Lat, sent.Lon = r.FormValue("deadline"), r.FormValue("merge_into_no"), r.FormValue("lat"), r.FormValue("lon")
		sent.Lead, _ = strconv.ParseInt(r.FormValue("lead_unit_id"), 10, 64)
		for _, v := range r.Form["coop_unit_ids"] {
			if id, err := strconv.ParseInt(v, 10, 64); err == nil {
				sent.Coops[id] = true
			}
		}
	}
	data["Sent"] = sent
	if len(actions) > 0 {
		replies, err := s.Flow.StockReplies(r.Context())
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Replies"] = replies
	}
	if slices.Contains(actions, workflow.Dispatch) {
		sug, err := s.Flow.SuggestDispatch(r.Context(), c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		sv := s.suggestView(r, sug, l)
		if sent.Action == string(workflow.Dispatch) {
			sv.Lead, sv.Coops = sent.Lead, sent.Coops // what the dispatcher chose
		}
		data["Suggest"] = sv
	}
	if s.Intake != nil && (a.Role == org.RoleAdmin || a.Role == org.RoleAcceptor) {
		rs, err := s.Intake.Receipts(r.Context(), c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		data["Receipts"] = rs
	}
	if c.Source == workflow.SourceInspection && s.Assess != nil {
		round, site, std, ok, err := s.Assess.ObservationOfCase(r.Context(), c.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if ok {
			data["Finding"] = map[string]string{"Round": round, "Site": site, "Standard": std}
		}
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

// sentAction is an action form as it was sent, to show again on a
// refusal.
type sentAction struct {
	Action, Opinion, Reply, Deadline, MergeInto, Lat, Lon string
	Lead                                                  int64
	Coops                                                 map[int64]bool
}

// suggestion is the dispatch form's offer: the units to preselect and
// why.
type suggestion struct {
	Lead   int64
	Coops  map[int64]bool
	Reason string // "" when nothing is suggested
}

func (s *Server) suggestView(r *http.Request, rt workflow.Routing, l lookups) suggestion {
	sg := suggestion{Lead: rt.LeadUnitID, Coops: map[int64]bool{}}
	for _, u := range rt.CoopUnitIDs {
		sg.Coops[u] = true
	}
	lang := s.lang(r)
	switch {
	case rt.RuleID != 0:
		rule := s.Msg.T(lang, "routing.rule_text", "category", l.CategoryName[rt.RuleCategory], "region", l.RegionName[rt.RuleRegion])
		sg.Reason = s.Msg.T(lang, "dispatch.by_rule", "rule", rule)
	case rt.OwnerFallback:
		sg.Reason = s.Msg.T(lang, "dispatch.by_owner")
	}
	return sg
}

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
		if loc.Flag == geo.LocNearest {
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
	// From a queue, the next case of the queue: a day of accepting or
	// handling is one case after another.
	if q := workflow.Queue(r.FormValue("queue")); q != "" && slices.Contains(workflow.QueuesFor(actorOf(r).Role), q) {
		pg, err := s.Flow.List(r.Context(), actorOf(r), workflow.Filter{Queue: q, Sort: queueSort(q, ""), Page: 1, Limit: 2})
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, next := range pg.Cases {
			if next.ID != c.ID {
				http.Redirect(w, r, "/cases/"+itoa(next.ID)+"?queue="+url.QueryEscape(string(q))+"&msg=done_next", http.StatusSeeOther)
				return
			}
		}
		http.Redirect(w, r, "/cases?queue="+url.QueryEscape(string(q))+"&msg=queue_done", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/cases/"+itoa(c.ID)+"?msg=done", http.StatusSeeOther)
}

// queueSort is a queue's order in the console when none is chosen: the
// queues worked against a deadline run soonest deadline first.
func queueSort(q workflow.Queue, chosen string) workflow.Sort {
	if chosen != "" {
		return workflow.Sort(chosen)
	}
	switch q {
	case workflow.QueueToHandle, workflow.QueueToVerify, workflow.QueueMyCells, workflow.QueueOverdue, workflow.QueueExtension, workflow.QueueSupervised:
		return workflow.SortDeadline
	}
	return workflow.SortNewest
}
