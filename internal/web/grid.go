package web

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"

	"chuangwen/internal/apperr"
	"chuangwen/internal/grid"
	"chuangwen/internal/org"
)

// gridRoutes lists the routes of grid cells: import, export, locate, grid workers' cells.
func (s *Server) gridRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/grid/cells", api: true, summary: "Grid cells (万米单元网格) meeting a box, as GeoJSON", query: []string{"bbox"}, resp: "GeoJSON", h: s.apiGridCells},
		{method: "GET", path: "/api/v1/grid/export", api: true, roles: office, summary: "Every grid cell as a GeoJSON FeatureCollection (the import format)", resp: "GeoJSON", h: s.apiGridExport},
		{method: "POST", path: "/api/v1/grid/import", api: true, roles: admin, summary: "Import grid cells from a GeoJSON FeatureCollection (create or update by grid code; dry_run=1 only validates)", query: []string{"dry_run"}, body: "GeoJSON", resp: "GridImport", h: s.apiGridImport},
		{method: "GET", path: "/api/v1/grid/locate", api: true, summary: "Where a point falls: grid cell, region and the fallback used", query: []string{"lat", "lon", "coord"}, resp: "Location", h: s.apiGridLocate},
		{method: "PUT", path: "/api/v1/grid/assignments/{user}", api: true, roles: admin, summary: "Set the grid cells a grid worker patrols (by cell code)", body: "CellCodes", resp: "object", h: s.apiGridAssign},
		{method: "GET", path: "/admin/grid", roles: admin, h: s.pageGrid},
		{method: "POST", path: "/admin/grid/import", roles: admin, h: s.postGridImport},
		{method: "POST", path: "/admin/grid/assign", roles: admin, h: s.postGridAssign},
	}
}

func (s *Server) apiGridCells(w http.ResponseWriter, r *http.Request) {
	s.apiPublicGrid(w, r)
}

func (s *Server) apiGridExport(w http.ResponseWriter, r *http.Request) {
	var buf bytes.Buffer
	if err := s.Grid.Export(r.Context(), &buf); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="grid-cells.geojson"`)
	w.Write(buf.Bytes())
}

func (s *Server) apiGridImport(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, grid.MaxImportBytes)
	rep, err := s.Grid.Import(r.Context(), actorOf(r), body, r.URL.Query().Get("dry_run") == "1")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, s.localizeReport(r, rep))
}

// importView is an import report with each problem in the user's words.
type importView struct {
	grid.ImportReport
	Messages []problemView `json:"problems,omitempty"`
}

type problemView struct {
	Index    int    `json:"index"`
	Code     string `json:"code,omitempty"`
	Severity string `json:"severity"`
	Key      string `json:"key"`
	Message  string `json:"message"`
}

func (s *Server) localizeReport(r *http.Request, rep grid.ImportReport) importView {
	v := importView{ImportReport: rep}
	lang := s.lang(r)
	for _, p := range rep.Problems {
		// The arguments name the feature (1-based index, grid code); a
		// feature without a code names it with a catalogue key.
		args := slices.Clone(p.Args)
		for i := 1; i < len(args); i += 2 {
			if strings.HasPrefix(args[i], "grid.") {
				args[i] = s.Msg.T(lang, args[i])
			}
		}
		v.Messages = append(v.Messages, problemView{Index: p.Index, Code: p.Code, Severity: string(p.Severity), Key: p.Key, Message: s.Msg.T(lang, p.Key, args...)})
	}
	v.ImportReport.Problems = nil
	return v
}

func (s *Server) apiGridLocate(w http.ResponseWriter, r *http.Request) {
	lat, lon, err := queryPoint(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc, err := s.Grid.Locate(r.Context(), *lat, *lon)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, loc)
}

func (s *Server) apiGridAssign(w http.ResponseWriter, r *http.Request) {
	uid, err := pathID(r, "user")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body cellCodesJSON
	if err := decodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	ids, err := s.Grid.CellIDsByCode(r.Context(), body.CellCodes)
	if err == nil {
		err = s.Grid.Assign(r.Context(), actorOf(r), uid, ids)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, 200, map[string]any{"cells": len(ids)})
}

// ---- console pages ----

func (s *Server) gridPageData(r *http.Request) (map[string]any, error) {
	n, err := s.Grid.Count(r.Context())
	if err != nil {
		return nil, err
	}
	users, err := s.Org.Users(r.Context())
	if err != nil {
		return nil, err
	}
	type worker struct {
		User  org.User
		Cells []string
	}
	var workers []worker
	for _, u := range users {
		if u.Role != org.RoleGrid {
			continue
		}
		ids, err := s.Grid.Assigned(r.Context(), u.ID)
		if err != nil {
			return nil, err
		}
		wk := worker{User: u}
		for _, id := range ids {
			if c, ok, _ := s.Grid.Cell(r.Context(), id); ok {
				wk.Cells = append(wk.Cells, c.Code)
			}
		}
		workers = append(workers, wk)
	}
	ds, err := s.Grid.Districts(r.Context())
	if err != nil {
		return nil, err
	}
	return map[string]any{"Count": n, "Workers": workers, "Districts": ds}, nil
}

func (s *Server) pageGrid(w http.ResponseWriter, r *http.Request) {
	data, err := s.gridPageData(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, "admin_grid", data)
}

func (s *Server) postGridImport(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	f, _, err := r.FormFile("file")
	if err != nil {
		s.fail(w, r, apperr.New(apperr.Invalid, "grid.file_required"))
		return
	}
	defer f.Close()
	rep, err := s.Grid.Import(r.Context(), actorOf(r), io.LimitReader(f, grid.MaxImportBytes+1), r.FormValue("dry_run") == "1")
	data, derr := s.gridPageData(r)
	if derr != nil {
		s.fail(w, r, derr)
		return
	}
	if err != nil {
		code, msg := s.message(r, err)
		data["Error"] = msg
		s.renderStatus(w, r, status(code), "admin_grid", data)
		return
	}
	data["Report"] = s.localizeReport(r, rep)
	data["DryRun"] = r.FormValue("dry_run") == "1"
	s.render(w, r, "admin_grid", data)
}

func (s *Server) postGridAssign(w http.ResponseWriter, r *http.Request) {
	if err := s.parseForm(r); err != nil {
		s.fail(w, r, err)
		return
	}
	uid, err := formInt(r, "user_id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	codes := strings.FieldsFunc(r.FormValue("cells"), func(c rune) bool { return c == ',' || c == '，' || c == ' ' || c == '\n' || c == '\r' })
	ids, err := s.Grid.CellIDsByCode(r.Context(), codes)
	if err == nil {
		err = s.Grid.Assign(r.Context(), actorOf(r), uid, ids)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/admin/grid?msg=saved", http.StatusSeeOther)
}

// cellCodesJSON is the body that sets a grid worker's cells.
type cellCodesJSON struct {
	CellCodes []string `json:"cell_codes"`
}
