package web

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"

	"chuangwen/internal/geo"
	"chuangwen/internal/workflow"
)

// Maps in the daily work: a case's place on the case page with a way to
// open it in the phone's map app, and any case list as a map. One area,
// one file.

// caseMapRoutes lists the routes of the case maps.
func (s *Server) caseMapRoutes() []route {
	return []route{
		{method: "GET", path: "/api/v1/public/basemap", api: true, public: true, summary: "The city's own base layer (roads with names, water, parks) meeting a box, as GeoJSON; empty when the city has none", query: []string{"bbox"}, resp: "GeoJSON", h: s.apiBasemap},
		{method: "GET", path: "/api/v1/cases/points", api: true, summary: "The placed cases of a list (same filters as /api/v1/cases), newest first, at most 5000, for a map", query: workflow.FilterParams, resp: "CasePoints", h: s.apiCasePoints},
	}
}

// casePoints is the map's answer.
type casePoints struct {
	Points []workflow.Point `json:"points"`
	// More says the list holds more placed cases than the map shows.
	More bool `json:"more"`
}

func (s *Server) apiCasePoints(w http.ResponseWriter, r *http.Request) {
	f, err := s.filterFrom(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	pts, more, err := s.Flow.Points(r.Context(), actorOf(r), f)
	respond(s, w, r, casePoints{Points: nonNil(pts), More: more}, err)
}

// navLink opens a place in a map app.
type navLink struct {
	Name string
	URL  template.URL // geo: and https: links built here from numbers
}

// navLinks are the ways to open a case's place in the map apps Chinese
// phones carry, each in the datum it reads: AutoNavi (高德) and Tencent in
// GCJ-02, Baidu in BD-09, and the system's own geo: handler in WGS-84.
// They are links the user follows; the page loads nothing from them.
func navLinks(lat, lon float64, name string) []navLink {
	g := geo.FromWGS84(geo.Point{Lat: lat, Lon: lon}, geo.GCJ02)
	b := geo.FromWGS84(geo.Point{Lat: lat, Lon: lon}, geo.BD09)
	q := url.QueryEscape
	return []navLink{
		{"amap", template.URL(fmt.Sprintf("https://uri.amap.com/marker?position=%.6f,%.6f&name=%s&coordinate=gaode&callnative=1&src=chuangwen", g.Lon, g.Lat, q(name)))},
		{"baidu", template.URL(fmt.Sprintf("https://api.map.baidu.com/marker?location=%.6f,%.6f&title=%s&content=%s&coord_type=bd09ll&output=html&src=chuangwen", b.Lat, b.Lon, q(name), q(name)))},
		{"tencent", template.URL(fmt.Sprintf("https://apis.map.qq.com/uri/v1/marker?marker=coord:%.6f,%.6f;title:%s&referer=chuangwen", g.Lat, g.Lon, q(name)))},
		{"geo", template.URL(fmt.Sprintf("geo:%.6f,%.6f?q=%.6f,%.6f", lat, lon, lat, lon))},
	}
}

// mapCenter is where a map opens when nothing is placed yet: the middle of
// the grid, "lat,lon", or "" when the city has none.
func (s *Server) mapCenter(r *http.Request) string {
	if s.Grid == nil {
		return ""
	}
	b, ok, err := s.Grid.Bounds(r.Context())
	if err != nil || !ok {
		return ""
	}
	return fmt.Sprintf("%.6f,%.6f", (b.Min.Lat+b.Max.Lat)/2, (b.Min.Lon+b.Max.Lon)/2)
}

func (s *Server) apiBasemap(w http.ResponseWriter, r *http.Request) {
	box, ok := s.publicBox(w, r)
	if !ok {
		return
	}
	if s.Basemap == nil {
		w.Header().Set("Content-Type", "application/geo+json; charset=utf-8")
		_, _ = io.WriteString(w, `{"type":"FeatureCollection","features":[]}`+"\n")
		return
	}
	var buf bytes.Buffer
	if err := s.Basemap.WriteGeoJSON(r.Context(), &buf, box); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/geo+json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(buf.Bytes())
}
