package web

import (
	"encoding/json"
	"errors"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/apperr"
	"chuangwen/internal/audit"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

const maxJSONBytes = 1 << 20

// decodeJSON reads a JSON body into v with a size limit and a clear error.
func decodeJSON(r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, maxJSONBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.New(apperr.TooLarge, "body_too_large", "mb", "1")
		}
		return apperr.New(apperr.Invalid, "bad_json", "detail", err.Error())
	}
	if dec.More() {
		return apperr.New(apperr.Invalid, "bad_json", "detail", "trailing data")
	}
	return nil
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
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

func (s *Server) apiMe(w http.ResponseWriter, r *http.Request) {
	a := actorOf(r)
	writeJSON(w, 200, map[string]any{"name": a.Name, "role": a.Role, "unit_id": a.UnitID, "scope": a.Scope, "scope_region_id": a.RegionID, "user_id": a.UserID})
}

// filterFrom reads list filters from the query string.
func (s *Server) filterFrom(r *http.Request) (workflow.Filter, error) {
	q := r.URL.Query()
	f := workflow.Filter{Queue: workflow.Queue(q.Get("queue")), No: strings.TrimSpace(q.Get("no"))}
	for _, st := range q["state"] {
		if st != "" {
			f.States = append(f.States, workflow.State(st))
		}
	}
	ints := []struct {
		name string
		dst  *int64
	}{{"category_id", &f.CategoryID}, {"unit_id", &f.UnitID}, {"region_id", &f.RegionID}, {"before", &f.Before}}
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
	}{{"warning", &f.Warning}, {"limit", &f.Limit}} {
		if v := q.Get(p.name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return f, errInvalid("bad_number", "field", p.name)
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
	return f, nil
}

// parseDay reads YYYY-MM-DD as the start of that day in the city's zone.
func (s *Server) parseDay(v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.ParseInLocation("2006-01-02", v, s.Location)
	if err != nil {
		return time.Time{}, errInvalid("bad_date")
	}
	return t, nil
}

func (s *Server) apiListCases(w http.ResponseWriter, r *http.Request) {
	f, err := s.filterFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, err := s.Flow.List(r.Context(), actorOf(r), f)
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
	writeJSON(w, 200, newCaseView(actorOf(r), c))
}

func (s *Server) apiTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	evs, err := s.Flow.Timeline(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if evs == nil {
		evs = []audit.Entry{}
	}
	writeJSON(w, 200, evs)
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

// maxPhotos bounds the photos of one submission.
const maxPhotos = 9

// savePhotos stores the files of the multipart field "photo". On error the
// files already stored are removed again.
func (s *Server) savePhotos(r *http.Request) ([]workflow.PhotoFile, error) {
	if r.MultipartForm == nil {
		return nil, nil
	}
	var files []*multipart.FileHeader
	for _, fh := range r.MultipartForm.File["photo"] {
		if fh.Size > 0 || fh.Filename != "" {
			files = append(files, fh)
		}
	}
	if len(files) > maxPhotos {
		return nil, errInvalid("photo.too_many", "max", itoa(maxPhotos))
	}
	var out []workflow.PhotoFile
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			s.Flow.Photos.Remove(out)
			return nil, err
		}
		pf, err := s.Flow.Photos.Save(f)
		f.Close()
		if err != nil {
			s.Flow.Photos.Remove(out)
			return nil, err
		}
		out = append(out, pf)
	}
	return out, nil
}

func formInt(r *http.Request, name string) (int64, error) {
	v := strings.TrimSpace(r.FormValue(name))
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, errInvalid("bad_number", "field", name)
	}
	return n, nil
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
	if isMultipart(r) {
		defer s.Flow.IntakeStarted()()
		var err error
		if in, err = s.newCaseFromForm(r); err != nil {
			s.fail(w, r, err)
			return
		}
		if in.Photos, err = s.savePhotos(r); err != nil {
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
	c, err := s.Flow.Report(r.Context(), actorOf(r), in)
	if err != nil {
		s.Flow.Photos.Remove(in.Photos)
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/cases/"+itoa(c.ID))
	writeJSON(w, http.StatusCreated, newCaseView(actorOf(r), c))
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

// parseDeadline reads an RFC 3339 instant, or a date meaning the close of
// business of that day (18:00 local time by default hours).
func (s *Server) parseDeadline(v string) (time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04", v, s.Location); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation("2006-01-02", v, s.Location); err == nil {
		return t.Add(18 * time.Hour), nil
	}
	return time.Time{}, errInvalid("bad_date")
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
	if isMultipart(r) || !isAPI(r) {
		if in, err = s.actionFromForm(r); err != nil {
			return nil, err
		}
		if in.Photos, err = s.savePhotos(r); err != nil {
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
		s.Flow.Photos.Remove(in.Photos)
		return nil, err
	}
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

// handlePhoto serves a case photo to a reader of the case: a derived
// version (v=large, the default, or v=thumb) with all metadata removed.
// Only the office (admin, acceptor) may open the original (v=original),
// which may carry the reporter's GPS position.
func (s *Server) handlePhoto(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pid, err := pathID(r, "photo")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p, err := s.Flow.Photo(r.Context(), actorOf(r), id, pid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := r.URL.Query().Get("v")
	switch v {
	case "":
		v = "large"
	case "large", "thumb":
	case "original":
		if a := actorOf(r); a.Role != org.RoleAdmin && a.Role != org.RoleAcceptor {
			s.fail(w, r, apperr.New(apperr.Forbidden, "photo.original_forbidden"))
			return
		}
	default:
		s.fail(w, r, apperr.New(apperr.NotFound, "photo.not_found"))
		return
	}
	s.servePhotoVariant(w, r, p, v)
}

func (s *Server) apiQueues(w http.ResponseWriter, r *http.Request) {
	counts, err := s.Flow.Counts(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, counts)
}

// ---- organisation ----

func (s *Server) apiRegions(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Org.Regions(r.Context())
	respond(s, w, r, rs, err)
}

// respond writes v as JSON, or err.
func respond[T any](s *Server, w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, v)
}

func (s *Server) apiCreateRegion(w http.ResponseWriter, r *http.Request) {
	var in org.Region
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Org.CreateRegion(r.Context(), actorOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiUpdateRegion(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in org.Region
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.UpdateRegion(r.Context(), actorOf(r), id, in.Name))
}

func (s *Server) apiUnits(w http.ResponseWriter, r *http.Request) {
	us, err := s.Org.Units(r.Context())
	respond(s, w, r, us, err)
}

func (s *Server) apiCreateUnit(w http.ResponseWriter, r *http.Request) {
	var in org.Unit
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Org.CreateUnit(r.Context(), actorOf(r), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, out)
}

func (s *Server) apiUpdateUnit(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in org.Unit
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	in.ID = id
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.UpdateUnit(r.Context(), actorOf(r), in))
}

func (s *Server) apiUsers(w http.ResponseWriter, r *http.Request) {
	us, err := s.Org.Users(r.Context())
	respond(s, w, r, us, err)
}

// newUserJSON is the JSON body for creating or changing a user.
type newUserJSON struct {
	Username      string `json:"username"`
	DisplayName   string `json:"display_name"`
	Password      string `json:"password"`
	Role          string `json:"role"`
	UnitID        int64  `json:"unit_id"`
	Scope         string `json:"scope"`
	ScopeRegionID int64  `json:"scope_region_id"`
	Disabled      bool   `json:"disabled"`
}

func (j newUserJSON) user() org.NewUser {
	return org.NewUser{Username: j.Username, DisplayName: j.DisplayName, Password: j.Password, Role: org.Role(j.Role), UnitID: j.UnitID,
		Scope: org.Scope(j.Scope), ScopeRegionID: j.ScopeRegionID, MustChange: true}
}

func (s *Server) apiCreateUser(w http.ResponseWriter, r *http.Request) {
	var j newUserJSON
	if err := decodeJSON(r, &j); err != nil {
		s.fail(w, r, err)
		return
	}
	u, err := s.Org.CreateUser(r.Context(), actorOf(r), j.user())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, u)
}

func (s *Server) apiUpdateUser(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var j newUserJSON
	if err := decodeJSON(r, &j); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.UpdateUser(r.Context(), actorOf(r), id, j.user(), j.Disabled))
}

func (s *Server) apiResetPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var j struct {
		Password string `json:"password"`
	}
	if err := decodeJSON(r, &j); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.SetPassword(r.Context(), actorOf(r), id, j.Password, true, ""))
}

func (s *Server) apiCategories(w http.ResponseWriter, r *http.Request) {
	cs, err := s.Flow.Categories(r.Context())
	respond(s, w, r, cs, err)
}

func (s *Server) apiSaveCategory(w http.ResponseWriter, r *http.Request) {
	var c workflow.Category
	if err := decodeJSON(r, &c); err != nil {
		s.fail(w, r, err)
		return
	}
	c.ID = 0
	code := http.StatusCreated
	if r.Method == http.MethodPut {
		id, err := pathID(r, "id")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		c.ID, code = id, http.StatusOK
	}
	out, err := s.Flow.SaveCategory(r.Context(), actorOf(r), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, code, out)
}

func (s *Server) apiResponsibilities(w http.ResponseWriter, r *http.Request) {
	rs, err := s.Flow.Responsibilities(r.Context())
	respond(s, w, r, rs, err)
}

func (s *Server) apiSaveResponsibility(w http.ResponseWriter, r *http.Request) {
	var in workflow.Responsibility
	if err := decodeJSON(r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.Flow.SaveResponsibility(r.Context(), actorOf(r), in)
	respond(s, w, r, out, err)
}

func (s *Server) apiDeleteResponsibility(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Flow.DeleteResponsibility(r.Context(), actorOf(r), id))
}

// calendarJSON is the working calendar as the API shows it.
type calendarJSON struct {
	Spans string             `json:"spans"`
	Days  []workcal.Override `json:"days"`
}

func (s *Server) apiCalendar(w http.ResponseWriter, r *http.Request) {
	spans, err := s.Flow.WorkSpans(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	days, err := s.Flow.Holidays(r.Context())
	if days == nil {
		days = []workcal.Override{}
	}
	respond(s, w, r, calendarJSON{Spans: spans, Days: days}, err)
}

func (s *Server) apiSetSpans(w http.ResponseWriter, r *http.Request) {
	var j struct {
		Spans string `json:"spans"`
	}
	if err := decodeJSON(r, &j); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Flow.SetWorkSpans(r.Context(), actorOf(r), j.Spans))
}

func (s *Server) apiSetDays(w http.ResponseWriter, r *http.Request) {
	var days []workcal.Override
	if err := decodeJSON(r, &days); err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Flow.SetHolidays(r.Context(), actorOf(r), days))
}

func (s *Server) apiDeleteDay(w http.ResponseWriter, r *http.Request) {
	respond(s, w, r, map[string]bool{"ok": true}, s.Flow.DeleteHoliday(r.Context(), actorOf(r), r.PathValue("day")))
}

// period reads from/to (YYYY-MM-DD, to inclusive), defaulting to the
// current quarter.
func (s *Server) period(r *http.Request) (workflow.Period, error) {
	from, err := s.parseDay(r.URL.Query().Get("from"))
	if err != nil {
		return workflow.Period{}, err
	}
	to, err := s.parseDay(r.URL.Query().Get("to"))
	if err != nil {
		return workflow.Period{}, err
	}
	now := time.Now().In(s.Location)
	if from.IsZero() {
		q := (int(now.Month()) - 1) / 3
		from = time.Date(now.Year(), time.Month(q*3+1), 1, 0, 0, 0, 0, s.Location)
	}
	if to.IsZero() {
		to = from.AddDate(0, 3, 0)
	} else {
		to = to.AddDate(0, 0, 1)
	}
	if !to.After(from) {
		return workflow.Period{}, errInvalid("bad_date")
	}
	return workflow.Period{From: from, To: to}, nil
}

func (s *Server) apiPerfUnits(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.Flow.UnitPerformance(r.Context(), p)
	if rows == nil {
		rows = []workflow.PerfRow{}
	}
	respond(s, w, r, rows, err)
}

func (s *Server) apiPerfRegions(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	level := r.URL.Query().Get("level")
	if level == "" {
		level = "district"
	}
	if level != "district" && level != "street" && level != "community" {
		s.fail(w, r, apperr.New(apperr.Invalid, "region.bad_level", "level", level))
		return
	}
	rows, err := s.Flow.RegionPerformance(r.Context(), p, level)
	if rows == nil {
		rows = []workflow.PerfRow{}
	}
	respond(s, w, r, rows, err)
}

func (s *Server) apiTokens(w http.ResponseWriter, r *http.Request) {
	ts, err := s.Org.Tokens(r.Context())
	if ts == nil {
		ts = []org.Token{}
	}
	respond(s, w, r, ts, err)
}

func (s *Server) apiCreateToken(w http.ResponseWriter, r *http.Request) {
	var j struct {
		Name   string `json:"name"`
		UnitID int64  `json:"unit_id"`
	}
	if err := decodeJSON(r, &j); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.Org.CreateToken(r.Context(), actorOf(r), j.Name, j.UnitID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, t)
}

func (s *Server) apiRevokeToken(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	respond(s, w, r, map[string]bool{"ok": true}, s.Org.RevokeToken(r.Context(), actorOf(r), id))
}

func (s *Server) apiAuditVerify(w http.ResponseWriter, r *http.Request) {
	rep, err := audit.Verify(r.Context(), s.DB.Reader())
	respond(s, w, r, rep, err)
}
