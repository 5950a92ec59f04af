package geo_test

import (
	"math"
	"testing"

	"chuangwen/internal/geo"
)

func pts(xy ...float64) geo.Ring {
	r := make(geo.Ring, 0, len(xy)/2)
	for i := 0; i+1 < len(xy); i += 2 {
		r = append(r, geo.Point{Lon: xy[i], Lat: xy[i+1]})
	}
	return r
}

func box(x0, y0, x1, y1 float64) geo.Ring {
	return pts(x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

var (
	squareWithHole = geo.MultiPolygon{{box(0, 0, 10, 10), box(4, 4, 6, 6)}}
	triangle       = geo.MultiPolygon{{pts(0, 0, 10, 0, 0, 10, 0, 0)}}
	// An L: the notch is the square (4,4)-(10,10).
	ell     = geo.MultiPolygon{{pts(0, 0, 10, 0, 10, 4, 4, 4, 4, 10, 0, 10, 0, 0)}}
	diamond = geo.MultiPolygon{{pts(5, 0, 10, 5, 5, 10, 0, 5, 5, 0)}}
	// Two islands, the second with a hole holding nothing.
	islands = geo.MultiPolygon{{box(0, 0, 2, 2)}, {box(5, 5, 9, 9), box(6, 6, 8, 8)}}
	// The L again, written clockwise and without the closing position.
	ellOpenCW = geo.MultiPolygon{{pts(0, 0, 0, 10, 4, 10, 4, 4, 10, 4, 10, 0)}}
)

func TestContains(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    geo.MultiPolygon
		p    geo.Point
		want bool
	}{
		{"interior", squareWithHole, geo.Point{1, 1}, true},
		{"on outer edge", squareWithHole, geo.Point{0, 5}, true},
		{"on top edge", squareWithHole, geo.Point{3, 10}, true},
		{"outer vertex", squareWithHole, geo.Point{0, 0}, true},
		{"far vertex", squareWithHole, geo.Point{10, 10}, true},
		{"just outside edge", squareWithHole, geo.Point{-1e-7, 5}, false},
		{"in hole", squareWithHole, geo.Point{5, 5}, false},
		{"hole edge", squareWithHole, geo.Point{4, 5}, true},
		{"hole vertex", squareWithHole, geo.Point{6, 6}, true},
		{"just inside hole", squareWithHole, geo.Point{4 + 1e-7, 5}, false},
		{"far away", squareWithHole, geo.Point{100, 80}, false},
		{"NaN", squareWithHole, geo.Point{math.NaN(), 5}, false},

		{"on slanted edge", triangle, geo.Point{5, 5}, true},
		{"on slanted edge, computed", triangle, geo.Point{10.0 / 3, 20.0 / 3}, true},
		{"just beyond slanted edge", triangle, geo.Point{5.0000001, 5}, false},
		{"inside triangle", triangle, geo.Point{2, 2}, true},

		{"L: in the notch", ell, geo.Point{7, 7}, false},
		{"L: arm", ell, geo.Point{2, 8}, true},
		{"L: foot", ell, geo.Point{8, 2}, true},
		{"L: notch edge", ell, geo.Point{4, 7}, true},
		{"L: reflex vertex", ell, geo.Point{4, 4}, true},
		{"L: level with edge, left", ell, geo.Point{2, 4}, true},
		{"L: level with edge, out", ell, geo.Point{-2, 4}, false},
		{"L: level with vertex, out right", ell, geo.Point{11, 4}, false},
		{"L open clockwise: notch", ellOpenCW, geo.Point{7, 7}, false},
		{"L open clockwise: arm", ellOpenCW, geo.Point{2, 8}, true},
		{"L open clockwise: closing edge", ellOpenCW, geo.Point{5, 0}, true},

		{"diamond: level with vertices", diamond, geo.Point{1, 5}, true},
		{"diamond: left of vertex", diamond, geo.Point{-1, 5}, false},
		{"diamond: right of vertex", diamond, geo.Point{11, 5}, false},
		{"diamond: vertex", diamond, geo.Point{10, 5}, true},
		{"diamond: outside corner", diamond, geo.Point{1, 1}, false},

		{"islands: first", islands, geo.Point{1, 1}, true},
		{"islands: second", islands, geo.Point{5.5, 8}, true},
		{"islands: between", islands, geo.Point{3.5, 3.5}, false},
		{"islands: second's hole", islands, geo.Point{7, 7}, false},
		{"islands: second's hole edge", islands, geo.Point{8, 7}, true},
		{"empty", geo.MultiPolygon{}, geo.Point{0, 0}, false},
		{"empty polygon", geo.MultiPolygon{{}}, geo.Point{0, 0}, false},
	} {
		if got := tc.m.Contains(tc.p); got != tc.want {
			t.Errorf("%s: Contains(%v) = %v", tc.name, tc.p, got)
		}
	}
}

func TestBounds(t *testing.T) {
	if got, want := islands.Bounds(), (geo.Rect{Min: geo.Point{0, 0}, Max: geo.Point{9, 9}}); got != want {
		t.Errorf("Bounds = %v, want %v", got, want)
	}
	if got := (geo.MultiPolygon{}).Bounds(); got != (geo.Rect{}) {
		t.Errorf("empty Bounds = %v", got)
	}
	r := geo.Rect{Min: geo.Point{0, 0}, Max: geo.Point{2, 2}}
	if !r.Contains(geo.Point{2, 1}) || r.Contains(geo.Point{2.1, 1}) {
		t.Error("Rect.Contains")
	}
	if !r.Intersects(geo.Rect{Min: geo.Point{2, 2}, Max: geo.Point{3, 3}}) || r.Intersects(geo.Rect{Min: geo.Point{2.5, 0}, Max: geo.Point{3, 3}}) {
		t.Error("Rect.Intersects")
	}
}

func TestDistanceTo(t *testing.T) {
	deg := geo.EarthRadius * math.Pi / 180 // metres per degree
	cell := geo.MultiPolygon{{box(0, 0, 0.01, 0.01), box(0.004, 0.004, 0.006, 0.006)}}
	for _, tc := range []struct {
		name string
		p    geo.Point
		want float64
	}{
		{"inside", geo.Point{0.001, 0.001}, 0},
		{"on edge", geo.Point{0, 0.005}, 0},
		{"east", geo.Point{0.02, 0.005}, 0.01 * deg},
		{"south", geo.Point{0.005, -0.003}, 0.003 * deg},
		{"off a corner", geo.Point{-0.003, -0.004}, 0.005 * deg},
		{"in the hole", geo.Point{0.005, 0.005}, 0.001 * deg},
		{"in the hole, off-centre", geo.Point{0.0045, 0.005}, 0.0005 * deg},
	} {
		got := cell.DistanceTo(tc.p)
		if math.Abs(got-tc.want) > 0.001*tc.want+1e-9 {
			t.Errorf("%s: DistanceTo = %.3f m, want %.3f", tc.name, got, tc.want)
		}
	}
	// Away from the equator the east-west distance shrinks with the cosine.
	north := geo.MultiPolygon{{box(116, 40, 116.01, 40.01)}}
	got := north.DistanceTo(geo.Point{116.02, 40.005})
	want := geo.Distance(geo.Point{116.02, 40.005}, geo.Point{116.01, 40.005})
	if math.Abs(got-want) > 0.001*want {
		t.Errorf("at 40°N: %.2f m, haversine %.2f m", got, want)
	}
}

func TestCentroidAndArea(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    geo.MultiPolygon
		want geo.Point
	}{
		{"square", geo.MultiPolygon{{box(0, 0, 10, 10)}}, geo.Point{5, 5}},
		{"centred hole", squareWithHole, geo.Point{5, 5}},
		// 100 at (5,5) less 4 at (7,7): (500−28)/96.
		{"off-centre hole", geo.MultiPolygon{{box(0, 0, 10, 10), box(6, 6, 8, 8)}}, geo.Point{472.0 / 96, 472.0 / 96}},
		{"clockwise", geo.MultiPolygon{{pts(0, 0, 0, 2, 2, 2, 2, 0, 0, 0)}}, geo.Point{1, 1}},
		// Two squares of areas 4 and 16.
		{"two parts", geo.MultiPolygon{{box(0, 0, 2, 2)}, {box(10, 0, 14, 4)}}, geo.Point{(4*1 + 16*12) / 20.0, (4*1 + 16*2) / 20.0}},
		{"no area", geo.MultiPolygon{{pts(0, 0, 1, 1, 2, 2, 0, 0)}}, geo.Point{0.75, 0.75}},
		{"far from 0,0", geo.MultiPolygon{{box(116.4, 39.9, 116.402, 39.902)}}, geo.Point{116.401, 39.901}},
	} {
		got := tc.m.Centroid()
		if math.Abs(got.Lon-tc.want.Lon) > 1e-9 || math.Abs(got.Lat-tc.want.Lat) > 1e-9 {
			t.Errorf("%s: Centroid = %v, want %v", tc.name, got, tc.want)
		}
	}
	deg := geo.EarthRadius * math.Pi / 180
	sq := geo.MultiPolygon{{box(0, 0, 0.01, 0.01), box(0.004, 0.004, 0.006, 0.006)}}
	if got, want := sq.Area(), (0.0001-0.000004)*deg*deg; math.Abs(got-want) > 1e-6*want {
		t.Errorf("Area = %.1f m², want %.1f", got, want)
	}
}

func TestInteriorPoint(t *testing.T) {
	for name, m := range map[string]geo.MultiPolygon{
		"L": ell, "square with hole": squareWithHole, "islands": islands, "triangle": triangle,
		// A U whose centroid is in the gap.
		"U": {{pts(0, 0, 10, 0, 10, 10, 8, 10, 8, 2, 2, 2, 2, 10, 0, 10, 0, 0)}},
	} {
		p, ok := m.InteriorPoint()
		if !ok || !m.Contains(p) || m.DistanceTo(p) != 0 {
			t.Errorf("%s: InteriorPoint = %v, %v", name, p, ok)
			continue
		}
		// Strictly inside: nudging it by a little more than the edge
		// tolerance in any direction stays inside.
		for _, d := range []geo.Point{{1e-6, 0}, {-1e-6, 0}, {0, 1e-6}, {0, -1e-6}} {
			if !m.Contains(geo.Point{p.Lon + d.Lon, p.Lat + d.Lat}) {
				t.Errorf("%s: InteriorPoint %v is on the boundary", name, p)
			}
		}
	}
	if _, ok := (geo.MultiPolygon{{pts(0, 0, 1, 1, 0, 0)}}).InteriorPoint(); ok {
		t.Error("InteriorPoint of a line")
	}
}
