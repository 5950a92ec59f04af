package basemap_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"chuangwen/internal/apperr"
	"chuangwen/internal/basemap"
	"chuangwen/internal/geo"
	"chuangwen/internal/org"
	"chuangwen/internal/store"
	"chuangwen/internal/store/storetest"
)

func TestMain(m *testing.M) { storetest.Main(m) }

// TestStore: the base layer is replaced whole by an administrator, read
// back by box in drawing order (water, parks, roads), and refused when a
// feature is malformed, keeping what was there.
func TestStore(t *testing.T) {
	storetest.Both(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := &basemap.Store{DB: db}
		p := func(lon, lat float64) geo.Point { return geo.Point{Lon: lon, Lat: lat} }
		layer := []basemap.Feature{
			{Kind: basemap.Road, Name: "人民路", Points: []geo.Point{p(102.70, 25.00), p(102.72, 25.00)}},
			{Kind: basemap.Water, Name: "明湖", Points: []geo.Point{p(102.71, 25.01), p(102.712, 25.01), p(102.712, 25.012)}},
			{Kind: basemap.Park, Name: "远处公园", Points: []geo.Point{p(103.5, 26.0), p(103.51, 26.0), p(103.51, 26.01)}},
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Fatalf("new database: empty %v, %v", empty, err)
		}
		if err := s.Replace(ctx, org.Actor{Role: org.RoleAcceptor}, layer); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("an acceptor replaced the base layer: %v", err)
		}
		if err := s.Replace(ctx, org.System, layer); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.WriteGeoJSON(ctx, &buf, geo.Rect{Min: p(102.6, 24.9), Max: p(102.9, 25.1)}); err != nil {
			t.Fatal(err)
		}
		var fc struct {
			Type     string `json:"type"`
			Features []struct {
				Properties map[string]string `json:"properties"`
				Geometry   struct {
					Type string `json:"type"`
				} `json:"geometry"`
			} `json:"features"`
		}
		if err := json.Unmarshal(buf.Bytes(), &fc); err != nil {
			t.Fatal(err)
		}
		if fc.Type != "FeatureCollection" || len(fc.Features) != 2 || fc.Features[0].Properties["name"] != "明湖" || fc.Features[0].Geometry.Type != "Polygon" ||
			fc.Features[1].Properties["kind"] != "road" || fc.Features[1].Geometry.Type != "LineString" {
			t.Errorf("in the city's box: %s", buf.String())
		}
		bad := []basemap.Feature{{Kind: basemap.Road, Name: "断路", Points: []geo.Point{p(102.7, 25)}}}
		if err := s.Replace(ctx, org.System, bad); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("a one-point road: %v", err)
		}
		if empty, _ := s.Empty(ctx); empty {
			t.Error("a refused replacement emptied the base layer")
		}
	})
}
