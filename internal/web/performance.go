package web

import (
	"net/http"

	"chuangwen/internal/apperr"
	"chuangwen/internal/workflow"
)

// performanceRoutes lists the routes of unit and region performance figures.
func (s *Server) performanceRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/performance/units", api: true, roles: office, summary: "Unit performance figures and rates over a period", query: []string{"from", "to"}, resp: "PerfRows", h: s.apiPerfUnits},
		{method: "GET", path: "/api/v1/performance/regions", api: true, roles: office, summary: "Region performance figures over a period", query: []string{"from", "to", "level"}, resp: "PerfRows", h: s.apiPerfRegions},
		{method: "GET", path: "/performance", roles: office, h: s.pagePerformance},
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
		s.fail(w, r, err)
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
