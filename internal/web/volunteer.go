package web

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/skip2/go-qrcode"

	"chuangwen/internal/apperr"
	"chuangwen/internal/org"
	"chuangwen/internal/pdfdoc"
	"chuangwen/internal/privacy"
	"chuangwen/internal/report"
	"chuangwen/internal/volunteer"
)

var (
	volOffice = []org.Role{org.RoleAdmin, org.RoleVolunteer}
	volStats  = []org.Role{org.RoleAdmin, org.RoleVolunteer, org.RoleLeader, org.RoleAcceptor}
)

// volunteerRoutes lists the office's side of volunteer service: the
// practice network and teams, volunteers and their approval,
// activities with their QR codes and attendance, hours, certificates
// and statistics.
func (s *Server) volunteerRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/volunteer/stats", api: true, roles: volStats, summary: "Volunteer statistics of a quarter per district and street (registered, share of residents, active, activities, hours, per-capita hours)", query: []string{"quarter"}, resp: "VolunteerStats", h: s.apiVolunteerStats},
		{method: "GET", path: "/api/v1/volunteer/teams", api: true, roles: volOffice, summary: "The volunteer teams the caller manages", resp: "VolunteerTeams", h: actorListJSON(s, s.Volunteer.Teams)},
		{method: "GET", path: "/api/v1/volunteer/volunteers", api: true, roles: volOffice, summary: "Volunteers of the caller's teams (phones and identity numbers masked)", query: []string{"team", "status", "q", "page"}, resp: "VolunteerPage", h: s.apiVolunteers},
		{method: "POST", path: "/api/v1/volunteer/teams/{id}/roster", api: true, roles: volOffice, summary: "Import a team's roster (XLSX: 姓名, 手机号码, 证件号码, optional 志愿者编号 and 服务技能 by header); 422 lists every row's problem and stores nothing", body: "binary", resp: "RosterReport", h: s.apiImportRoster},
		{method: "GET", path: "/api/v1/volunteer/activities", api: true, roles: volOffice, summary: "Activities of the caller's teams, latest first", query: []string{"team"}, resp: "Activities", h: s.apiActivities},
		{method: "POST", path: "/api/v1/volunteer/activities", api: true, roles: volOffice, status: 201, summary: "Create an activity of a team the caller manages", body: "NewActivity", resp: "Activity", h: createJSON(s, s.Volunteer.CreateActivity)},
		{method: "GET", path: "/api/v1/volunteer/activities/{id}/attendance", api: true, roles: volOffice, summary: "Who signed up, checked in and out, and the minutes confirmed", resp: "Attendance", h: listByIDJSON(s, s.Volunteer.Attendance)},
		{method: "GET", path: "/volunteer", roles: volStats, h: s.pageVolunteer},
		{method: "GET", path: "/volunteer/people", roles: volOffice, h: s.pageVolunteers},
		{method: "GET", path: "/volunteer/people/{id}", roles: volOffice, h: s.pageVolunteerOne},
		{method: "POST", path: "/volunteer/people/import", roles: volOffice, h: s.postImportRoster},
		{method: "POST", path: "/volunteer/people/{id}/decide", roles: volOffice, h: s.postVolunteerDecide},
		{method: "GET", path: "/volunteer/people/{id}/export", roles: admin, h: s.getVolunteerExport},
		{method: "POST", path: "/volunteer/people/{id}/password", roles: volOffice, h: s.postVolunteerPassword},
		{method: "POST", path: "/volunteer/people/{id}/certificates", roles: volOffice, h: s.postCertificate},
		{method: "GET", path: "/volunteer/certificates/{code}", roles: volOffice, h: s.getCertificatePDF},
		{method: "POST", path: "/volunteer/certificates/{code}/revoke", roles: volOffice, h: s.postCertificateRevoke},
		{method: "GET", path: "/volunteer/teams", roles: volOffice, h: s.pageVolunteerTeams},
		{method: "POST", path: "/volunteer/nodes", roles: admin, h: s.postPracticeNode},
		{method: "POST", path: "/volunteer/population", roles: admin, h: s.postPopulation},
		{method: "POST", path: "/volunteer/settings", roles: admin, h: s.postVolunteerSettings},
		{method: "POST", path: "/volunteer/teams", roles: volOffice, h: s.postVolunteerTeam},
		{method: "POST", path: "/volunteer/teams/{id}/coordinator", roles: volOffice, h: s.postTeamCoordinator},
		{method: "GET", path: "/volunteer/activities", roles: volOffice, h: s.pageActivities},
		{method: "POST", path: "/volunteer/activities", roles: volOffice, h: s.postActivity},
		{method: "GET", path: "/volunteer/activities/{id}", roles: volOffice, h: s.pageActivity},
		{method: "GET", path: "/volunteer/activities/{id}/qr.svg", roles: volOffice, h: s.getActivityQR},
		{method: "POST", path: "/volunteer/activities/{id}/confirm", roles: volOffice, h: s.postConfirm},
		{method: "POST", path: "/volunteer/activities/{id}/confirm-all", roles: volOffice, h: s.postConfirmAll},
		{method: "POST", path: "/volunteer/activities/{id}/cancel", roles: volOffice, h: s.postActivityCancel},
	}
}

// volunteerPage is a page of the office's volunteer list.
type volunteerPage struct {
	Total      int                   `json:"total"`
	Page       int                   `json:"page"`
	Volunteers []volunteer.Volunteer `json:"volunteers"`
}

const volunteersPerPage = 50

func (s *Server) volunteerFilter(r *http.Request) (volunteer.Filter, int, error) {
	q := r.URL.Query()
	f := volunteer.Filter{Status: q.Get("status"), Query: q.Get("q"), Limit: volunteersPerPage}
	if v := q.Get("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, 0, errInvalid("bad_id")
		}
		f.TeamID = id
	}
	page := 1
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return f, 0, errInvalid("bad_page")
		}
		page = n
	}
	f.Offset = (page - 1) * volunteersPerPage
	return f, page, nil
}

func (s *Server) apiVolunteers(w http.ResponseWriter, r *http.Request) {
	f, page, err := s.volunteerFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list, total, err := s.Volunteer.Volunteers(r.Context(), actorOf(r), f)
	respond(s, w, r, volunteerPage{Total: total, Page: page, Volunteers: nonNil(list)}, err)
}

func (s *Server) apiActivities(w http.ResponseWriter, r *http.Request) {
	var team int64
	if v := r.URL.Query().Get("team"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, errInvalid("bad_id"))
			return
		}
		team = id
	}
	list, err := s.Volunteer.Activities(r.Context(), actorOf(r), team, 200)
	respond(s, w, r, nonNil(list), err)
}

// statsQuarter reads ?quarter=2026Q4 (default: the current quarter).
func (s *Server) statsQuarter(r *http.Request) (report.Quarter, error) {
	if v := r.URL.Query().Get("quarter"); v != "" {
		q, err := report.ParseQuarter(v)
		if err != nil {
			return q, errInvalid("report.bad_quarter", "quarter", v)
		}
		return q, nil
	}
	now := time.Now().In(s.Location)
	if s.Volunteer.Now != nil {
		now = s.Volunteer.Now().In(s.Location)
	}
	return report.Quarter{Year: now.Year(), Q: (int(now.Month())-1)/3 + 1}, nil
}

func (s *Server) apiVolunteerStats(w http.ResponseWriter, r *http.Request) {
	q, err := s.statsQuarter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.Volunteer.Stats(r.Context(), actorOf(r), q.Start(s.Location), q.End(s.Location))
	respond(s, w, r, st, err)
}

func (s *Server) pageVolunteer(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	q, err := s.statsQuarter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var l loader
	st := load(&l, func() (volunteer.Stats, error) {
		return s.Volunteer.Stats(ctx, a, q.Start(s.Location), q.End(s.Location))
	})
	prev := load(&l, func() (volunteer.Stats, error) {
		p := q.Prev()
		return s.Volunteer.Stats(ctx, a, p.Start(s.Location), p.End(s.Location))
	})
	settings := load(&l, func() (volunteer.Settings, error) { return s.Volunteer.Settings(ctx) })
	// the city's last four quarters, oldest first (each from the
	// per-quarter totals)
	type trendRow struct {
		Quarter string
		City    volunteer.RegionStats
	}
	trend := make([]trendRow, 4)
	for i, tq := 3, q; i >= 0; i, tq = i-1, tq.Prev() {
		st := load(&l, func() (volunteer.Stats, error) {
			return s.Volunteer.Stats(ctx, a, tq.Start(s.Location), tq.End(s.Location))
		})
		trend[i] = trendRow{tq.String(), st.City}
	}
	var teams []volunteer.Team
	if a.Role == org.RoleAdmin || a.Role == org.RoleVolunteer {
		teams = load(&l, func() ([]volunteer.Team, error) { return s.Volunteer.Teams(ctx, a) })
	}
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	pending := 0
	for _, t := range teams {
		pending += t.Pending
	}
	prevHours := map[int64]float64{}
	for _, d := range prev.Districts {
		prevHours[d.RegionID] = d.Hours
	}
	s.render(w, r, "volunteer", map[string]any{"Stats": st, "Quarter": q.String(), "Prev": q.Prev().String(), "PrevHours": prevHours,
		"Teams": teams, "Pending": pending, "Settings": settings, "Trend": trend})
}

func (s *Server) pageVolunteers(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, page, err := s.volunteerFilter(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var l loader
	teams := load(&l, func() ([]volunteer.Team, error) { return s.Volunteer.Teams(ctx, a) })
	var list []volunteer.Volunteer
	var total int
	if l.err == nil {
		list, total, l.err = s.Volunteer.Volunteers(ctx, a, f)
	}
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	pages := (total + volunteersPerPage - 1) / volunteersPerPage
	s.render(w, r, "volunteers", map[string]any{"Teams": teams, "List": list, "Total": total, "Page": page, "Pages": pages,
		"Team": f.TeamID, "Status": f.Status, "Q": f.Query,
		"Statuses": []string{volunteer.StatusPending, volunteer.StatusActive, volunteer.StatusRejected}})
}

func (s *Server) pageVolunteerOne(w http.ResponseWriter, r *http.Request) {
	s.showVolunteer(w, r, http.StatusOK, "")
}

func (s *Server) showVolunteer(w http.ResponseWriter, r *http.Request, code int, msg string) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var l loader
	v := load(&l, func() (volunteer.Volunteer, error) { return s.Volunteer.Volunteer(ctx, a, id) })
	recs := load(&l, func() ([]volunteer.ServiceRecord, error) {
		_, _, recs, err := s.Volunteer.Mine(ctx, id)
		return recs, err
	})
	certs := load(&l, func() ([]volunteer.Certificate, error) { return s.Volunteer.Certificates(ctx, id) })
	teams := load(&l, func() ([]volunteer.Team, error) { return s.Volunteer.Teams(ctx, a) })
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	s.accessed(r, privacy.KindVolunteer, id, "")
	now := s.Volunteer.Now().In(s.Location)
	pw, _ := r.Context().Value(oneTimeKey{}).(string)
	s.renderStatus(w, r, code, "volunteer_one", map[string]any{"V": v, "Records": recs, "Certificates": certs, "Teams": teams, "Error": msg, "OneTime": pw,
		"From": now.AddDate(-1, 0, 0).Format("2006-01-02"), "To": now.Format("2006-01-02")})
}

func (s *Server) postVolunteerDecide(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.parseForm(r)
	}
	if err == nil {
		err = s.Volunteer.Decide(r.Context(), actorOf(r), id, r.FormValue("decision") == "approve")
	}
	if err != nil {
		code, msg := s.message(r, err)
		if code == apperr.NotFound {
			s.fail(w, r, err)
			return
		}
		s.showVolunteer(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/volunteer/people/"+itoa(id)+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) postCertificate(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var c volunteer.Certificate
	if err == nil {
		err = s.parseForm(r)
	}
	if err == nil {
		var team int64
		var from, to time.Time
		team, err = formInt(r, "team")
		if err == nil {
			from, err = s.parseDay(r.FormValue("from"))
		}
		if err == nil {
			to, err = s.parseDay(r.FormValue("to"))
		}
		if err == nil {
			c, err = s.Volunteer.Issue(r.Context(), actorOf(r), id, team, from, to.AddDate(0, 0, 1))
		}
	}
	if err != nil {
		// a volunteer out of the caller's scope fails the page's own read
		code, msg := s.message(r, err)
		s.showVolunteer(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/volunteer/people/"+itoa(id)+"?msg=saved#cert-"+c.Code, http.StatusSeeOther)
}

func (s *Server) postCertificateRevoke(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("code")
	err := s.parseForm(r)
	var c volunteer.Certificate
	if err == nil {
		c, err = s.Volunteer.Certificate(r.Context(), actorOf(r), code)
	}
	if err == nil {
		err = s.Volunteer.Revoke(r.Context(), actorOf(r), code, r.FormValue("reason"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/volunteer/people/"+itoa(c.VolunteerID)+"?msg=saved", http.StatusSeeOther)
}

// publicBase is the scheme and host a QR code or a printed address
// points at.
func (s *Server) publicBase(r *http.Request) string {
	if s.PublicURL != "" {
		return strings.TrimSuffix(s.PublicURL, "/")
	}
	if s.SecureCookies {
		return "https://" + r.Host
	}
	return baseURL(r)
}

// getCertificatePDF prints a certificate (志愿服务记录证明) on A4 with the
// organising team as issuer, a seal area, and a QR code of the public
// verification address.
func (s *Server) getCertificatePDF(w http.ResponseWriter, r *http.Request) {
	c, err := s.Volunteer.Certificate(r.Context(), actorOf(r), strings.TrimSuffix(r.PathValue("code"), ".pdf"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	tr := func(k string, args ...string) string { return s.Msg.T(lang, k, args...) }
	day := func(t time.Time) string { return t.In(s.Location).Format("2006-01-02") }
	title := tr("vol.cert.title")
	d := pdfdoc.New(title, c.Team+"  "+title+"  "+c.Code, c.IssuedAt)
	d.Title(title, tr("vol.cert.code", "code", c.Code))
	d.Text(tr("vol.cert.body", "name", c.Name, "id", c.IDMasked, "from", day(c.From), "to", day(c.Until),
		"team", c.Team, "activities", strconv.Itoa(c.Activities), "hours", fmt.Sprintf("%.1f", c.Hours)))
	if c.NationalNo != "" {
		d.Text(tr("vol.cert.national_no", "no", c.NationalNo))
	}
	if c.Revoked {
		d.Text(tr("vol.cert.revoked", "reason", c.RevokeReason))
	}
	verify := s.publicBase(r) + "/verify/" + c.Code
	if q, err := qrcode.New(verify, qrcode.Medium); err == nil {
		d.Code(q.Bitmap(), 32, tr("vol.cert.verify_at", "url", verify))
	}
	d.Seal(c.Team, day(c.IssuedAt), tr("notice.ui.seal"))
	var buf bytes.Buffer
	if err := d.Write(&buf); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="certificate-`+c.Code+`.pdf"`)
	w.Write(buf.Bytes())
}

func (s *Server) pageVolunteerTeams(w http.ResponseWriter, r *http.Request) {
	s.showTeams(w, r, http.StatusOK, "")
}

func (s *Server) showTeams(w http.ResponseWriter, r *http.Request, code int, msg string) {
	ctx, a := r.Context(), actorOf(r)
	var l loader
	nodes := load(&l, func() ([]volunteer.Node, error) { return s.Volunteer.Nodes(ctx) })
	teams := load(&l, func() ([]volunteer.Team, error) { return s.Volunteer.Teams(ctx, a) })
	regions := load(&l, func() ([]org.Region, error) { return s.Org.Regions(ctx) })
	units := load(&l, func() ([]org.Unit, error) { return s.Org.Units(ctx) })
	users := load(&l, func() ([]org.User, error) { return s.Org.Users(ctx) })
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	var coordinators []org.User
	for _, u := range users {
		if u.Role == org.RoleVolunteer && !u.Disabled {
			coordinators = append(coordinators, u)
		}
	}
	data := map[string]any{"Nodes": nodes, "Teams": teams, "Regions": regions, "Units": units, "Coordinators": coordinators, "Error": msg}
	if a.Role == org.RoleAdmin {
		pop := load(&l, func() (map[int64]int64, error) { return s.Volunteer.Population(ctx) })
		st := load(&l, func() (volunteer.Settings, error) { return s.Volunteer.Settings(ctx) })
		if l.err != nil {
			s.fail(w, r, l.err)
			return
		}
		data["Population"], data["Settings"] = pop, st
		stars := make([]string, len(st.StarHours))
		for i, h := range st.StarHours {
			stars[i] = strconv.Itoa(h)
		}
		data["Stars"] = strings.Join(stars, ",")
	}
	s.renderStatus(w, r, code, "volunteer_teams", data)
}

func (s *Server) postPracticeNode(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/volunteer/teams", func(code int, msg string) { s.showTeams(w, r, code, msg) }, func() error {
		region, err := formInt(r, "region")
		if err != nil {
			return err
		}
		_, err = s.Volunteer.CreateNode(r.Context(), actorOf(r), region, r.FormValue("name"))
		return err
	})
}

func (s *Server) postVolunteerTeam(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/volunteer/teams", func(code int, msg string) { s.showTeams(w, r, code, msg) }, func() error {
		nt := volunteer.NewTeam{Name: r.FormValue("name")}
		var err error
		for _, f := range []struct {
			name string
			dst  *int64
		}{{"node", &nt.NodeID}, {"unit", &nt.UnitID}, {"coordinator", &nt.CoordinatorID}} {
			if r.FormValue(f.name) == "" {
				continue
			}
			if *f.dst, err = formInt(r, f.name); err != nil {
				return err
			}
		}
		_, err = s.Volunteer.CreateTeam(r.Context(), actorOf(r), nt)
		return err
	})
}

func (s *Server) postTeamCoordinator(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/volunteer/teams", func(code int, msg string) { s.showTeams(w, r, code, msg) }, func() error {
		id, err := pathID(r, "id")
		if err != nil {
			return err
		}
		var user int64
		if r.FormValue("coordinator") != "" {
			if user, err = formInt(r, "coordinator"); err != nil {
				return err
			}
		}
		return s.Volunteer.SetCoordinator(r.Context(), actorOf(r), id, user)
	})
}

func (s *Server) pageActivities(w http.ResponseWriter, r *http.Request) {
	s.showActivities(w, r, http.StatusOK, "")
}

func (s *Server) showActivities(w http.ResponseWriter, r *http.Request, code int, msg string) {
	ctx, a := r.Context(), actorOf(r)
	var l loader
	teams := load(&l, func() ([]volunteer.Team, error) { return s.Volunteer.Teams(ctx, a) })
	list := load(&l, func() ([]volunteer.Activity, error) { return s.Volunteer.Activities(ctx, a, 0, 200) })
	sites := load(&l, func() ([]volunteer.SiteChoice, error) { return s.Volunteer.Sites(ctx) })
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	s.renderStatus(w, r, code, "volunteer_activities", map[string]any{"Teams": teams, "List": list, "Kinds": volunteer.Kinds, "Sites": sites, "Error": msg, "Form": r.PostForm})
}

// parseLocalTime reads a datetime-local field (2026-12-05T09:30) in the
// city's zone.
func (s *Server) parseLocalTime(v string) (time.Time, error) {
	t, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(v), s.Location)
	if err != nil {
		return t, errInvalid("volunteer.times_bad")
	}
	return t, nil
}

func (s *Server) postActivity(w http.ResponseWriter, r *http.Request) {
	var created volunteer.Activity
	err := s.parseForm(r)
	if err == nil {
		created, err = s.createActivityFromForm(r)
	}
	if err != nil {
		code, msg := s.message(r, err)
		s.showActivities(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/volunteer/activities/"+itoa(created.ID)+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) createActivityFromForm(r *http.Request) (volunteer.Activity, error) {
	na := volunteer.NewActivity{Kind: r.FormValue("kind"), Title: r.FormValue("title"), Description: r.FormValue("description"), Address: r.FormValue("address"),
		SiteCode: strings.TrimSpace(r.FormValue("site"))}
	var err error
	if na.TeamID, err = formInt(r, "team"); err != nil {
		return volunteer.Activity{}, err
	}
	lat, lon, err := readPoint(r.FormValue("lat"), r.FormValue("lon"), r.FormValue("coord"))
	if err != nil {
		return volunteer.Activity{}, err
	}
	if lat != nil && lon != nil {
		na.Lat, na.Lon = *lat, *lon
	} else if na.SiteCode == "" {
		return volunteer.Activity{}, errInvalid("bad_coord") // a point, or a site that has one
	}
	if na.StartsAt, err = s.parseLocalTime(r.FormValue("starts")); err != nil {
		return volunteer.Activity{}, err
	}
	if na.EndsAt, err = s.parseLocalTime(r.FormValue("ends")); err != nil {
		return volunteer.Activity{}, err
	}
	cap64, err := formInt(r, "capacity")
	if err != nil {
		return volunteer.Activity{}, err
	}
	na.Capacity = int(min(cap64, 1<<20))
	if r.FormValue("radius") != "" {
		rad, err := formInt(r, "radius")
		if err != nil {
			return volunteer.Activity{}, err
		}
		na.RadiusM = int(min(rad, 1<<20))
	}
	return s.Volunteer.CreateActivity(r.Context(), actorOf(r), na)
}

func (s *Server) pageActivity(w http.ResponseWriter, r *http.Request) {
	s.showActivity(w, r, http.StatusOK, "")
}

func (s *Server) showActivity(w http.ResponseWriter, r *http.Request, code int, msg string) {
	ctx, a := r.Context(), actorOf(r)
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var l loader
	act := load(&l, func() (volunteer.Activity, error) { return s.Volunteer.Activity(ctx, a, id) })
	att := load(&l, func() ([]volunteer.Attendance, error) { return s.Volunteer.Attendance(ctx, a, id) })
	if l.err != nil {
		s.fail(w, r, l.err)
		return
	}
	now := s.Volunteer.Now()
	checkedIn, confirmed := 0, 0
	for _, x := range att {
		if !x.CheckinAt.IsZero() {
			checkedIn++
		}
		if !x.ConfirmedAt.IsZero() {
			confirmed++
		}
	}
	s.renderStatus(w, r, code, "volunteer_activity", map[string]any{"A": act, "Attendance": att, "Error": msg,
		"QR": qrSVG(s.publicBase(r) + "/v/checkin/" + act.CheckinToken), "CheckinURL": s.publicBase(r) + "/v/checkin/" + act.CheckinToken,
		"Ended": !now.Before(act.EndsAt), "CheckedIn": checkedIn, "Confirmed": confirmed})
}

// qrSVG draws a QR code of text as inline SVG, one path of unit squares.
func qrSVG(text string) template.HTML {
	q, err := qrcode.New(text, qrcode.Medium)
	if err != nil {
		return ""
	}
	bm := q.Bitmap()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="qr" role="img" shape-rendering="crispEdges"><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="`, len(bm), len(bm))
	for y, row := range bm {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			k := x
			for k < len(row) && row[k] {
				k++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x, y, k-x, k-x)
			x = k
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()) // built from numbers only
}

func (s *Server) getActivityQR(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	act, err := s.Volunteer.Activity(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Content-Disposition", `attachment; filename="activity-`+itoa(id)+`-qr.svg"`)
	w.Write([]byte(qrSVG(s.publicBase(r) + "/v/checkin/" + act.CheckinToken)))
}

func (s *Server) activityForm(w http.ResponseWriter, r *http.Request, do func(ctx context.Context, a org.Actor, id int64) error) {
	id, err := pathID(r, "id")
	if err == nil {
		err = s.parseForm(r)
	}
	if err == nil {
		err = do(r.Context(), actorOf(r), id)
	}
	if err != nil {
		code, msg := s.message(r, err)
		if code == apperr.NotFound {
			s.fail(w, r, err)
			return
		}
		s.showActivity(w, r, status(code), msg)
		return
	}
	http.Redirect(w, r, "/volunteer/activities/"+itoa(id)+"?msg=saved", http.StatusSeeOther)
}

func (s *Server) postConfirm(w http.ResponseWriter, r *http.Request) {
	s.activityForm(w, r, func(ctx context.Context, a org.Actor, id int64) error {
		rec, err := formInt(r, "record")
		if err != nil {
			return err
		}
		// the record must belong to this activity: the form names both
		list, err := s.Volunteer.Attendance(ctx, a, id)
		if err != nil {
			return err
		}
		found := false
		for _, x := range list {
			found = found || x.RecordID == rec
		}
		if !found {
			return apperr.New(apperr.NotFound, "not_found")
		}
		minutes := -1
		if v := strings.TrimSpace(r.FormValue("minutes")); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 24*60 {
				return errInvalid("volunteer.minutes_bad", "max", "1440")
			}
			minutes = n
		}
		return s.Volunteer.Confirm(ctx, a, rec, minutes, r.FormValue("reason"))
	})
}

func (s *Server) postConfirmAll(w http.ResponseWriter, r *http.Request) {
	s.activityForm(w, r, func(ctx context.Context, a org.Actor, id int64) error {
		_, err := s.Volunteer.ConfirmAll(ctx, a, id)
		return err
	})
}

func (s *Server) postActivityCancel(w http.ResponseWriter, r *http.Request) {
	s.activityForm(w, r, s.Volunteer.CancelActivity)
}

// rosterReport is an import's outcome with each problem in the reader's
// language.
type rosterReport struct {
	Rows     int              `json:"rows"`
	Stored   int              `json:"stored"`
	Problems []rosterProblemJ `json:"problems,omitempty"`
}

type rosterProblemJ struct {
	Row     int    `json:"row"`
	Key     string `json:"key"`
	Message string `json:"message"`
}

func (s *Server) rosterView(r *http.Request, rep volunteer.ImportReport) rosterReport {
	v := rosterReport{Rows: rep.Rows, Stored: rep.Stored}
	for _, p := range rep.Problems {
		v.Problems = append(v.Problems, rosterProblemJ{Row: p.Row, Key: p.Key, Message: s.Msg.T(s.lang(r), p.Key, p.Args...)})
	}
	return v
}

func (s *Server) apiImportRoster(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := http.MaxBytesReader(w, r.Body, volunteer.MaxRosterBytes)
	rep, err := s.Volunteer.ImportRosterXLSX(r.Context(), actorOf(r), id, body)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code := http.StatusOK
	if len(rep.Problems) > 0 {
		code = http.StatusUnprocessableEntity
	}
	writeJSON(w, code, s.rosterView(r, rep))
}

func (s *Server) postImportRoster(w http.ResponseWriter, r *http.Request) {
	var rep volunteer.ImportReport
	err := s.parseForm(r)
	var team int64
	if err == nil {
		team, err = formInt(r, "team")
	}
	if err == nil {
		f, _, ferr := r.FormFile("file")
		if ferr != nil {
			err = apperr.New(apperr.Invalid, "volunteer.roster_required")
		} else {
			defer f.Close()
			rep, err = s.Volunteer.ImportRosterXLSX(r.Context(), actorOf(r), team, f)
		}
	}
	if err == nil && len(rep.Problems) == 0 {
		http.Redirect(w, r, fmt.Sprintf("/volunteer/people?team=%d&msg=saved", team), http.StatusSeeOther)
		return
	}
	ctx, a := r.Context(), actorOf(r)
	teams, terr := s.Volunteer.Teams(ctx, a)
	if terr != nil {
		s.fail(w, r, terr)
		return
	}
	code := http.StatusUnprocessableEntity
	data := map[string]any{"Teams": teams, "Total": 0, "Page": 1, "Pages": 0, "Statuses": []string{volunteer.StatusPending, volunteer.StatusActive, volunteer.StatusRejected},
		"Roster": s.rosterView(r, rep)}
	if err != nil {
		var c apperr.Code
		c, data["Error"] = s.message(r, err)
		code = status(c)
	}
	s.renderStatus(w, r, code, "volunteers", data)
}

func (s *Server) postPopulation(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/volunteer/teams", func(code int, msg string) { s.showTeams(w, r, code, msg) }, func() error {
		regions, err := s.Org.Regions(r.Context())
		if err != nil {
			return err
		}
		pop := map[int64]int64{}
		for _, rg := range regions {
			v := strings.TrimSpace(r.FormValue("pop_" + itoa(rg.ID)))
			if v == "" {
				if r.Form.Has("pop_" + itoa(rg.ID)) {
					pop[rg.ID] = 0
				}
				continue
			}
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errInvalid("volunteer.population_bad")
			}
			pop[rg.ID] = n
		}
		return s.Volunteer.SetPopulation(r.Context(), actorOf(r), pop)
	})
}

func (s *Server) postVolunteerSettings(w http.ResponseWriter, r *http.Request) {
	s.adminForm(w, r, "/volunteer/teams", func(code int, msg string) { s.showTeams(w, r, code, msg) }, func() error {
		st, err := s.Volunteer.Settings(r.Context())
		if err != nil {
			return err
		}
		st.StarHours = nil
		for _, v := range strings.FieldsFunc(r.FormValue("stars"), func(c rune) bool { return c == ',' || c == '，' || c == ' ' || c == '/' }) {
			n, err := strconv.Atoi(v)
			if err != nil {
				return errInvalid("volunteer.stars_bad")
			}
			st.StarHours = append(st.StarHours, n)
		}
		ints := []struct {
			name string
			dst  *int
		}{{"early", &st.CheckinEarlyMin}, {"late", &st.CheckoutLateMin}, {"radius", &st.RadiusM}}
		for _, f := range ints {
			n, err := strconv.Atoi(strings.TrimSpace(r.FormValue(f.name)))
			if err != nil {
				return errInvalid("volunteer.window_bad")
			}
			*f.dst = n
		}
		return s.Volunteer.SaveSettings(r.Context(), actorOf(r), st)
	})
}

// getVolunteerExport answers a person's request for their data: a JSON
// file of everything kept about them (the opening is on the trail).
func (s *Server) getVolunteerExport(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	exp, err := s.Volunteer.ExportPerson(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.accessed(r, privacy.KindVolExport, id, "")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="volunteer-%d.json"`, id))
	writeJSON(w, http.StatusOK, exp)
}

// postVolunteerPassword gives a volunteer a new random password, shown
// once on the page to pass on.
func (s *Server) postVolunteerPassword(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	var pw string
	if err == nil {
		pw, err = s.Volunteer.ResetPassword(r.Context(), actorOf(r), id)
	}
	if err != nil {
		code, msg := s.message(r, err)
		if code == apperr.NotFound {
			s.fail(w, r, err)
			return
		}
		s.showVolunteer(w, r, status(code), msg)
		return
	}
	r = r.WithContext(context.WithValue(r.Context(), oneTimeKey{}, pw))
	s.showVolunteer(w, r, http.StatusOK, "")
}

type oneTimeKey struct{}
