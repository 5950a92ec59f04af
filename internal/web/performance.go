package web

import (
	"net/http"
	"strconv"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/workflow"
)

// performanceRoutes lists the routes of unit and region performance figures.
func (s *Server) performanceRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/performance/units", api: true, roles: office, summary: "Unit performance figures and rates over a period", query: []string{"from", "to"}, resp: "PerfRows", h: s.apiPerfUnits},
		{method: "GET", path: "/api/v1/performance/regions", api: true, roles: office, summary: "Region performance figures over a period", query: []string{"from", "to", "level"}, resp: "PerfRows", h: s.apiPerfRegions},
		{method: "GET", path: "/performance", roles: office, h: s.pagePerformance},
		{method: "GET", path: "/performance/{file}", roles: office, h: s.exportPerformance},
	}
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

func (s *Server) pagePerformance(w http.ResponseWriter, r *http.Request) {
	p, err := s.period(r)
	if err != nil {
		// the dates as typed, with why they were refused
		_, msg := s.message(r, err)
		s.renderStatus(w, r, http.StatusBadRequest, "performance", map[string]any{"Error": msg, "FromText": r.URL.Query().Get("from"), "ToText": r.URL.Query().Get("to")})
		return
	}
	units, err := s.Flow.UnitPerformance(r.Context(), p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	regions, err := s.Flow.RegionPerformance(r.Context(), p, "district")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "performance", map[string]any{"Units": units, "Regions": regions, "From": p.From, "To": p.To.AddDate(0, 0, -1)})
}

// exportPerformance sends the page's tables, with its period, as
// units.csv|xlsx or regions.csv|xlsx (?level= district, street or
// community). Rates are fractions of 1 with 4 decimals.
func (s *Server) exportPerformance(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	table, ext, _ := strings.Cut(file, ".")
	if (table != "units" && table != "regions") || (ext != "csv" && ext != "xlsx") {
		s.fail(w, r, apperr.New(apperr.NotFound, "not_found"))
		return
	}
	p, err := s.period(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []workflow.PerfRow
	level := ""
	if table == "units" {
		rows, err = s.Flow.UnitPerformance(r.Context(), p)
	} else {
		if level = r.URL.Query().Get("level"); level == "" {
			level = "district"
		}
		if level != "district" && level != "street" && level != "community" {
			s.fail(w, r, apperr.New(apperr.Invalid, "region.bad_level", "level", level))
			return
		}
		rows, err = s.Flow.RegionPerformance(r.Context(), p, level)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	lang := s.lang(r)
	t := func(k string) string { return s.Msg.T(lang, k) }
	name := t("ui.unit")
	if table == "regions" {
		name = t("ui.region")
	}
	header := []string{t("ui.code"), name, t("perf.dispatched"), t("perf.due"), t("perf.handled_on_time"), t("perf.closed"), t("perf.closed_on_time"),
		t("perf.reworks"), t("perf.returns"), t("perf.overdue"), t("perf.extended"), t("perf.postponed"), t("perf.on_time_handling_rate"),
		t("perf.closure_rate"), t("perf.on_time_closure_rate"), t("perf.rework_rate"), t("perf.overdue_rate"), t("perf.extension_rate"), t("perf.return_rate")}
	if table == "regions" {
		header = append(header, t("perf.reported"), t("perf.accepted"), t("perf.acceptance_rate"))
	}
	header = append(header, t("perf.revisited"), t("perf.relapses"), t("perf.relapse_rate"))
	rate := func(x *float64) string {
		if x == nil {
			return ""
		}
		return strconv.FormatFloat(*x, 'f', 4, 64)
	}
	out := [][]string{header}
	for _, x := range rows {
		f, rt := x.Figures, x.Rates
		row := []string{x.Code, x.Name, strconv.Itoa(f.Dispatched), strconv.Itoa(f.Due), strconv.Itoa(f.HandledOnTime), strconv.Itoa(f.Closed),
			strconv.Itoa(f.ClosedOnTime), strconv.Itoa(f.Reworks), strconv.Itoa(f.Returns), strconv.Itoa(f.Overdue), strconv.Itoa(f.Extended),
			strconv.Itoa(f.Postponed), rate(rt.OnTimeHandling), rate(rt.Closure), rate(rt.OnTimeClosure), rate(rt.Rework), rate(rt.Overdue),
			rate(rt.Extension), rate(rt.Return)}
		if table == "regions" {
			row = append(row, strconv.Itoa(f.Reported), strconv.Itoa(f.Accepted), rate(rt.Acceptance))
		}
		row = append(row, strconv.Itoa(f.Revisited), strconv.Itoa(f.Relapses), rate(rt.Relapse))
		out = append(out, row)
	}
	numeric := make([]int, 0, len(header))
	for i := 2; i < len(header); i++ {
		numeric = append(numeric, i)
	}
	stem := "performance-" + table
	if level != "" {
		stem += "-" + level
	}
	s.sendTable(w, r, stem+"-"+p.From.In(s.Location).Format("20060102")+"-"+p.To.AddDate(0, 0, -1).In(s.Location).Format("20060102")+"."+ext, stem, out, numeric...)
}
