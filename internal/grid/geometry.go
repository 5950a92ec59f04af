package grid

import (
	"encoding/json"
	"errors"

	"chuangwen/internal/geo"
)

// Geometries are stored as GeoJSON MultiPolygon coordinates (WGS-84,
// [lon, lat]); they were validated on import, so decoding only checks the
// shape.

func encodeGeometry(m geo.MultiPolygon) string {
	coords := make([][][][2]float64, len(m))
	for i, poly := range m {
		coords[i] = make([][][2]float64, len(poly))
		for j, ring := range poly {
			coords[i][j] = make([][2]float64, len(ring))
			for k, p := range ring {
				coords[i][j][k] = [2]float64{p.Lon, p.Lat}
			}
		}
	}
	b, _ := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": coords})
	return string(b)
}

func decodeGeometry(s string) (geo.MultiPolygon, error) {
	var g struct {
		Type        string
		Coordinates [][][][2]float64
	}
	if err := json.Unmarshal([]byte(s), &g); err != nil {
		return nil, err
	}
	if g.Type != "MultiPolygon" || len(g.Coordinates) == 0 {
		return nil, errors.New("stored geometry is not a MultiPolygon")
	}
	m := make(geo.MultiPolygon, len(g.Coordinates))
	for i, poly := range g.Coordinates {
		m[i] = make(geo.Polygon, len(poly))
		for j, ring := range poly {
			m[i][j] = make(geo.Ring, len(ring))
			for k, c := range ring {
				m[i][j][k] = geo.Point{Lon: c[0], Lat: c[1]}
			}
		}
	}
	return m, nil
}

// GeometryJSON returns a cell's geometry as a GeoJSON geometry object.
func (c Cell) GeometryJSON() json.RawMessage { return json.RawMessage(encodeGeometry(c.Geometry)) }
