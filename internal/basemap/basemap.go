// Package basemap keeps the base layer drawn under the grid when no tile
// service is configured (the default: nothing loads from the internet):
// roads with their names, water and parks, served by this program as
// GeoJSON. A real city brings its own; the demo city has a fictional one.
package basemap

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"chuangwen/internal/apperr"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
)

// Kinds of feature, drawn bottom to top: water, park, road.
const (
	Water = "water"
	Park  = "park"
	Road  = "road"
)

// Kinds lists the kinds in drawing order.
var Kinds = []string{Water, Park, Road}

// Feature is one thing on the base layer: a road is a line, water and
// parks are areas (one outer ring).
type Feature struct {
	Kind string
	Name string
	// Points are the line's (road) or the ring's (water, park) positions.
	Points []geo.Point
}

func (f Feature) bounds() geo.Rect {
	r := geo.Rect{Min: f.Points[0], Max: f.Points[0]}
	for _, p := range f.Points[1:] {
		r.Min.Lon, r.Min.Lat = min(r.Min.Lon, p.Lon), min(r.Min.Lat, p.Lat)
		r.Max.Lon, r.Max.Lat = max(r.Max.Lon, p.Lon), max(r.Max.Lat, p.Lat)
	}
	return r
}

// geometry is the feature's GeoJSON geometry.
func (f Feature) geometry() ([]byte, error) {
	coords := make([][2]float64, len(f.Points))
	for i, p := range f.Points {
		coords[i] = [2]float64{p.Lon, p.Lat}
	}
	if f.Kind == Road {
		return json.Marshal(map[string]any{"type": "LineString", "coordinates": coords})
	}
	if coords[0] != coords[len(coords)-1] {
		coords = append(coords, coords[0])
	}
	return json.Marshal(map[string]any{"type": "Polygon", "coordinates": [][][2]float64{coords}})
}

// Store keeps the base layer.
type Store struct {
	DB *store.DB
}

// Replace sets the whole base layer (administrators and the system).
func (s *Store) Replace(ctx context.Context, actor org.Actor, fs []Feature) error {
	if actor.Role != org.RoleAdmin && actor.Role != org.RoleSystem {
		return apperr.New(apperr.Forbidden, "forbidden")
	}
	for _, f := range fs {
		if !slices.Contains(Kinds, f.Kind) || len(f.Points) < 2 || f.Kind != Road && len(f.Points) < 3 {
			return apperr.New(apperr.Invalid, "basemap.bad_feature", "name", f.Name)
		}
		for _, p := range f.Points {
			if !geo.Valid(p) {
				return apperr.New(apperr.Invalid, "basemap.bad_feature", "name", f.Name)
			}
		}
	}
	return s.DB.WithTx(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM basemap_features`); err != nil {
			return err
		}
		for _, f := range fs {
			g, err := f.geometry()
			if err != nil {
				return err
			}
			b := f.bounds()
			if _, err := tx.Exec(ctx, `INSERT INTO basemap_features (kind, name, geometry, min_lon, min_lat, max_lon, max_lat) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				f.Kind, f.Name, string(g), b.Min.Lon, b.Min.Lat, b.Max.Lon, b.Max.Lat); err != nil {
				return fmt.Errorf("base layer: %w", err)
			}
		}
		return nil
	})
}

// WriteGeoJSON writes the features meeting box as a FeatureCollection
// (properties kind and name), water first and roads last, as they are
// drawn.
func (s *Store) WriteGeoJSON(ctx context.Context, w io.Writer, box geo.Rect) error {
	type row struct {
		kind, name, geometry string
	}
	rows, err := store.Collect(ctx, s.DB.Reader(), func(sc store.Scanner) (r row, err error) {
		return r, sc.Scan(&r.kind, &r.name, &r.geometry)
	}, `SELECT kind, name, geometry FROM basemap_features WHERE max_lon >= ? AND min_lon <= ? AND max_lat >= ? AND min_lat <= ?
		ORDER BY CASE kind WHEN 'water' THEN 0 WHEN 'park' THEN 1 ELSE 2 END, id`, box.Min.Lon, box.Max.Lon, box.Min.Lat, box.Max.Lat)
	if err != nil {
		return fmt.Errorf("base layer: %w", err)
	}
	type feature struct {
		Type       string            `json:"type"`
		Properties map[string]string `json:"properties"`
		Geometry   json.RawMessage   `json:"geometry"`
	}
	out := struct {
		Type     string    `json:"type"`
		Features []feature `json:"features"`
	}{Type: "FeatureCollection", Features: []feature{}}
	for _, r := range rows {
		out.Features = append(out.Features, feature{"Feature", map[string]string{"kind": r.kind, "name": r.name}, json.RawMessage(r.geometry)})
	}
	return json.NewEncoder(w).Encode(out)
}

// Empty says whether the city has no base layer.
func (s *Store) Empty(ctx context.Context) (bool, error) {
	var n int
	err := s.DB.Reader().QueryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM basemap_features LIMIT 1) t`).Scan(&n)
	return n == 0, err
}
