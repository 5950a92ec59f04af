package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"chuangwen/internal/workcal"
	"chuangwen/internal/workflow"
)

// configRoutes lists the routes of the closed loop's configuration: categories, the responsibility table, the working calendar.
func (s *Server) configRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/categories", api: true, summary: "Problem categories (大类/小类)", resp: "Categories", h: s.apiCategories},
		{method: "POST", path: "/api/v1/categories", api: true, status: 201, roles: admin, summary: "Add a category", body: "Category", resp: "Category", h: s.apiSaveCategory},
		{method: "PUT", path: "/api/v1/categories/{id}", api: true, roles: admin, summary: "Change a category", body: "Category", resp: "Category", h: s.apiSaveCategory},
		{method: "GET", path: "/api/v1/responsibilities", api: true, summary: "The responsibility table (category × region → lead and cooperating units)", resp: "Responsibilities", h: s.apiResponsibilities},
		{method: "POST", path: "/api/v1/responsibilities", api: true, roles: admin, summary: "Set the row for a category and region", body: "Responsibility", resp: "Responsibility", h: s.apiSaveResponsibility},
		{method: "DELETE", path: "/api/v1/responsibilities/{id}", api: true, roles: admin, summary: "Remove a row", resp: "object", h: s.apiDeleteResponsibility},
		{method: "GET", path: "/api/v1/calendar", api: true, summary: "Working hours, holidays and make-up working days", resp: "Calendar", h: s.apiCalendar},
		{method: "PUT", path: "/api/v1/calendar/spans", api: true, roles: admin, summary: "Set the daily working hours", body: "Spans", resp: "object", h: s.apiSetSpans},
		{method: "POST", path: "/api/v1/calendar/days", api: true, roles: admin, summary: "Add or change holidays and make-up working days", body: "Days", resp: "object", h: s.apiSetDays},
		{method: "DELETE", path: "/api/v1/calendar/days/{day}", api: true, roles: admin, summary: "Remove a holiday or make-up day", resp: "object", h: s.apiDeleteDay},
		{method: "GET", path: "/admin/categories", roles: admin, h: s.pageCategories},
		{method: "POST", path: "/admin/categories", roles: admin, h: s.postCategory},
		{method: "GET", path: "/admin/responsibilities", roles: admin, h: s.pageResponsibilities},
		{method: "POST", path: "/admin/responsibilities", roles: admin, h: s.postResponsibility},
		{method: "POST", path: "/admin/responsibilities/{id}/delete", roles: admin, h: s.postDeleteResponsibility},
		{method: "GET", path: "/admin/calendar", roles: admin, h: s.pageCalendar},
		{method: "POST", path: "/admin/calendar", roles: admin, h: s.postCalendar},
	}
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
	var j spansJSON
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

func (s *Server) pageCategories(w http.ResponseWriter, r *http.Request) {
	s.showCategories(w, r, 200, "")
}

func (s *Server) showCategories(w http.ResponseWriter, r *http.Request, code int, msg string) {
	s.renderWithLookups(w, r, code, "admin_categories", map[string]any{"Error": msg})
}

// renderWithLookups renders an administration page that needs the units,
// regions and categories by name (as data["L"]).
func (s *Server) renderWithLookups(w http.ResponseWriter, r *http.Request, code int, name string, data map[string]any) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	data["L"] = l
	s.renderStatus(w, r, code, name, data)
}

func (s *Server) postCategory(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/admin/categories", func(c int, m string) { s.showCategories(w, r, c, m) }, func() error {
		var c workflow.Category
		var err error
		ints := []struct {
			name string
			dst  *int
		}{{"limit_normal", &c.LimitNormal}, {"limit_urgent", &c.LimitUrgent}, {"limit_critical", &c.LimitCritical}, {"dup_radius_m", &c.DupRadiusM}}
		for _, p := range ints {
			if err == nil {
				var v int64
				v, err = formInt(r, p.name)
				*p.dst = int(v)
			}
		}
		if err == nil {
			c.ID, err = formInt(r, "id")
		}
		if err == nil {
			c.ParentID, err = formInt(r, "parent_id")
		}
		if err == nil {
			c.Code, c.Name, c.Standard = r.FormValue("code"), r.FormValue("name"), r.FormValue("standard")
			c.LimitUnit = workcal.Unit(r.FormValue("limit_unit"))
			c.Active = r.FormValue("active") != "off"
			c.Hint = r.FormValue("hint")
			c.AutoAccept, c.AutoDispatch, c.StaffOnly = r.FormValue("auto_accept") == "on", r.FormValue("auto_dispatch") == "on", r.FormValue("staff_only") == "on"
			if c.ID != 0 {
				// Code and parent are fixed once created.
				old, gerr := s.Flow.Category(r.Context(), s.DB.Reader(), c.ID)
				if gerr != nil {
					err = gerr
				} else {
					c.Code, c.ParentID = old.Code, old.ParentID
				}
			}
			if err == nil {
				_, err = s.Flow.SaveCategory(r.Context(), actorOf(r), c)
			}
		}
		return err
	})
}

func (s *Server) pageResponsibilities(w http.ResponseWriter, r *http.Request) {
	s.showResponsibilities(w, r, 200, "")
}

func (s *Server) showResponsibilities(w http.ResponseWriter, r *http.Request, code int, msg string) {
	l, err := s.lookups(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.Flow.Responsibilities(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	catName, regionName := map[int64]string{}, map[int64]string{}
	for _, c := range l.Categories {
		catName[c.ID] = c.Name
	}
	for _, rg := range l.Regions {
		regionName[rg.ID] = rg.Name
	}
	s.renderStatus(w, r, code, "admin_responsibilities", map[string]any{"L": l, "Rows": rows, "CatName": catName, "RegionName": regionName, "Error": msg})
}

func (s *Server) postResponsibility(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/admin/responsibilities", func(c int, m string) { s.showResponsibilities(w, r, c, m) }, func() error {
		var in workflow.Responsibility
		var err error
		in.CategoryID, err = formInt(r, "category_id")
		if err == nil {
			in.RegionID, err = formInt(r, "region_id")
		}
		if err == nil {
			in.LeadUnitID, err = formInt(r, "lead_unit_id")
		}
		for _, c := range r.Form["coop_unit_ids"] {
			n, perr := strconv.ParseInt(c, 10, 64)
			if perr != nil {
				err = errInvalid("bad_number", "field", "coop_unit_ids")
			}
			in.CoopUnitIDs = append(in.CoopUnitIDs, n)
		}
		if err == nil {
			_, err = s.Flow.SaveResponsibility(r.Context(), actorOf(r), in)
		}
		return err
	})
}

func (s *Server) postDeleteResponsibility(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.Flow.DeleteResponsibility(r.Context(), actorOf(r), id)
	}
	s.adminDone(w, r, "/admin/responsibilities", err, func(c int, m string) { s.showResponsibilities(w, r, c, m) })
}

func (s *Server) pageCalendar(w http.ResponseWriter, r *http.Request) { s.showCalendar(w, r, 200, "") }

func (s *Server) showCalendar(w http.ResponseWriter, r *http.Request, code int, msg string) {
	spans, err := s.Flow.WorkSpans(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	days, err := s.Flow.Holidays(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderStatus(w, r, code, "admin_calendar", map[string]any{"Spans": spans, "Days": days, "Error": msg})
}

func (s *Server) postCalendar(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/admin/calendar", func(c int, m string) { s.showCalendar(w, r, c, m) }, func() error {
		var err error
		switch r.FormValue("op") {
		case "spans":
			err = s.Flow.SetWorkSpans(r.Context(), actorOf(r), r.FormValue("spans"))
		case "delete":
			err = s.Flow.DeleteHoliday(r.Context(), actorOf(r), r.FormValue("day"))
		default:
			day := strings.TrimSpace(r.FormValue("day"))
			if _, perr := time.Parse("2006-01-02", day); perr != nil {
				err = errInvalid("bad_date")
			} else {
				err = s.Flow.SetHolidays(r.Context(), actorOf(r), []workcal.Override{{Date: workcal.Date(day), Working: r.FormValue("working") == "on", Name: r.FormValue("name")}})
			}
		}
		return err
	})
}

// spansJSON is the body that sets the daily working hours.
type spansJSON struct {
	Spans string `json:"spans"`
}
