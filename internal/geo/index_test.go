package geo_test

import (
	"math"
	"math/rand/v2"
	"sync"
	"testing"

	"chuangwen/internal/geo"
)

func TestLocateMatchesBruteForce(t *testing.T) {
	cells := city(1500, 7)
	geoms := geometries(cells)
	ix := geo.NewIndex(geoms)
	if ix.Len() != len(geoms) {
		t.Fatalf("Len = %d", ix.Len())
	}
	b := boundsOf(geoms)
	bf := newBrute(geoms)
	rng := rand.New(rand.NewPCG(5, 6))
	check := func(p geo.Point, what string) {
		t.Helper()
		gi, gok := ix.Locate(p)
		wi, wok := bf.locate(p)
		if gi != wi || gok != wok {
			t.Fatalf("%s %v: Locate = %d,%v; brute force %d,%v", what, p, gi, gok, wi, wok)
		}
	}
	hits := 0
	for range 100000 {
		p := geo.Point{
			Lon: b.Min.Lon - 0.002 + rng.Float64()*(b.Max.Lon-b.Min.Lon+0.004),
			Lat: b.Min.Lat - 0.002 + rng.Float64()*(b.Max.Lat-b.Min.Lat+0.004),
		}
		check(p, "random")
		if _, ok := ix.Locate(p); ok {
			hits++
		}
	}
	if hits < 50000 {
		t.Errorf("only %d of 100000 random points in a cell", hits)
	}
	// Every vertex and every edge's middle: on borders shared by two to
	// four cells, where the lowest position must win.
	shared := 0
	for i, g := range geoms {
		for _, pg := range g {
			for _, r := range pg {
				for k := 1; k < len(r); k++ {
					mid := geo.Point{Lon: (r[k-1].Lon + r[k].Lon) / 2, Lat: (r[k-1].Lat + r[k].Lat) / 2}
					for _, p := range []geo.Point{r[k], mid} {
						check(p, "border")
						if got, _ := ix.Locate(p); got < i {
							shared++
						}
					}
				}
			}
		}
	}
	if shared < len(geoms) {
		t.Errorf("only %d border points found a lower cell", shared)
	}
}

func TestLocateBorders(t *testing.T) {
	// Three cells in a row sharing edges x=1 and x=2, and a fourth square
	// across the second's top edge.
	geoms := []geo.MultiPolygon{
		{{box(0, 0, 1, 1)}}, {{box(1, 0, 2, 1)}}, {{box(2, 0, 3, 1)}}, {{box(1, 1, 2, 2)}},
	}
	ix := geo.NewIndex(geoms)
	for _, tc := range []struct {
		p    geo.Point
		want int
		ok   bool
	}{
		{geo.Point{0.5, 0.5}, 0, true},
		{geo.Point{1, 0.5}, 0, true},   // border of 0 and 1
		{geo.Point{2, 0.5}, 1, true},   // border of 1 and 2
		{geo.Point{1.5, 1}, 1, true},   // border of 1 and 3
		{geo.Point{1, 1}, 0, true},     // corner of 0, 1 and 3
		{geo.Point{2, 1}, 1, true},     // corner of 1, 2 and 3
		{geo.Point{1.5, 1.5}, 3, true}, // inside 3
		{geo.Point{2.5, 1.5}, -1, false},
		{geo.Point{3, 0}, 2, true}, // the far corner of the bounds
		{geo.Point{-5, 0.5}, -1, false},
		{geo.Point{math.NaN(), 0.5}, -1, false},
		{geo.Point{math.Inf(1), 0.5}, -1, false},
	} {
		got, ok := ix.Locate(tc.p)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Locate(%v) = %d,%v; want %d,%v", tc.p, got, ok, tc.want, tc.ok)
		}
	}
}

func TestLocateOverlapping(t *testing.T) {
	// A big square, then a small one inside it: the big one always wins.
	// The other way round, the small one wins inside itself. Buckets wholly
	// inside the big square must not hide the small one when it comes first.
	big, small := geo.MultiPolygon{{box(0, 0, 100, 100)}}, geo.MultiPolygon{{box(40, 40, 45, 45)}}
	filler := make([]geo.MultiPolygon, 0, 50)
	for i := range 50 { // many small shapes so that buckets are small
		x := float64(i%10) * 10
		y := float64(i/10) * 10
		filler = append(filler, geo.MultiPolygon{{box(x+200, y, x+201, y+1)}})
	}
	bigFirst := geo.NewIndex(append([]geo.MultiPolygon{big, small}, filler...))
	smallFirst := geo.NewIndex(append([]geo.MultiPolygon{small, big}, filler...))
	for _, p := range []geo.Point{{42, 42}, {40, 40}, {45, 43}, {10, 10}, {90, 90}, {100, 50}} {
		if got, ok := bigFirst.Locate(p); got != 0 || !ok {
			t.Errorf("big first: Locate(%v) = %d,%v", p, got, ok)
		}
		want := 1
		if small.Contains(p) {
			want = 0
		}
		if got, ok := smallFirst.Locate(p); got != want || !ok {
			t.Errorf("small first: Locate(%v) = %d,%v; want %d", p, got, ok, want)
		}
	}
}

func TestIndexEdgeCases(t *testing.T) {
	if _, ok := geo.NewIndex(nil).Locate(geo.Point{0, 0}); ok {
		t.Error("empty index found something")
	}
	if _, _, ok := geo.NewIndex(nil).Nearest(geo.Point{0, 0}, 1e6); ok {
		t.Error("empty index found something near")
	}
	// Empty shapes are never found; a single shape works; a shape with
	// no width still does.
	ix := geo.NewIndex([]geo.MultiPolygon{{}, {{box(1, 1, 2, 2)}}, nil})
	if got, ok := ix.Locate(geo.Point{1.5, 1.5}); got != 1 || !ok {
		t.Errorf("Locate = %d,%v", got, ok)
	}
	line := geo.NewIndex([]geo.MultiPolygon{{{pts(0, 0, 0, 1, 0, 0)}}})
	if got, ok := line.Locate(geo.Point{0, 0.5}); got != 0 || !ok {
		t.Errorf("degenerate shape: Locate = %d,%v", got, ok)
	}
}

func TestLocateAllocs(t *testing.T) {
	cells := city(500, 1)
	ix := geo.NewIndex(geometries(cells))
	p := cells[250].Geometry.Centroid()
	if n := testing.AllocsPerRun(1000, func() { ix.Locate(p) }); n != 0 {
		t.Errorf("Locate allocates %.1f times", n)
	}
}

func TestNearest(t *testing.T) {
	deg := geo.EarthRadius * math.Pi / 180
	geoms := []geo.MultiPolygon{
		{{box(0, 0, 0.001, 0.001)}},
		{{box(0.003, 0, 0.004, 0.001)}},
		{{box(0.01, 0.01, 0.011, 0.011), box(0.0104, 0.0104, 0.0106, 0.0106)}},
	}
	ix := geo.NewIndex(geoms)
	for _, tc := range []struct {
		name string
		p    geo.Point
		max  float64
		want int
		d    float64
		ok   bool
	}{
		{"inside", geo.Point{0.0005, 0.0005}, 10, 0, 0, true},
		{"inside, max 0", geo.Point{0.0035, 0.0005}, 0, 1, 0, true},
		{"on edge", geo.Point{0.001, 0.0005}, 0, 0, 0, true},
		{"near the first", geo.Point{0.0012, 0.0005}, 50, 0, 0.0002 * deg, true},
		{"nearer the second", geo.Point{0.0025, 0.0005}, 100, 1, 0.0005 * deg, true},
		{"beyond max", geo.Point{0.0025, 0.0005}, 50, -1, 0, false},
		{"midway: lowest wins", geo.Point{0.002, 0.0005}, 200, 0, 0.001 * deg, true},
		{"in a hole", geo.Point{0.0105, 0.0105}, 20, 2, 0.0001 * deg, true},
		{"far outside the bounds", geo.Point{1, 1}, 1000, -1, 0, false},
		{"outside the bounds, within reach", geo.Point{-0.001, 0.0005}, 200, 0, 0.001 * deg, true},
		{"negative max", geo.Point{0.0012, 0.0005}, -1, -1, 0, false},
		{"NaN", geo.Point{math.NaN(), 0}, 1000, -1, 0, false},
	} {
		got, d, ok := ix.Nearest(tc.p, tc.max)
		if got != tc.want || ok != tc.ok || math.Abs(d-tc.d) > 0.01 {
			t.Errorf("%s: Nearest = %d, %.3f m, %v; want %d, %.3f m, %v", tc.name, got, d, ok, tc.want, tc.d, tc.ok)
		}
	}
}

func TestNearestMatchesBruteForce(t *testing.T) {
	cells := city(800, 3)
	geoms := geometries(cells)
	ix := geo.NewIndex(geoms)
	b := boundsOf(geoms)
	rng := rand.New(rand.NewPCG(8, 9))
	for range 3000 {
		p := geo.Point{
			Lon: b.Min.Lon - 0.01 + rng.Float64()*(b.Max.Lon-b.Min.Lon+0.02),
			Lat: b.Min.Lat - 0.01 + rng.Float64()*(b.Max.Lat-b.Min.Lat+0.02),
		}
		maxM := rng.Float64() * 400
		want, wantD := -1, math.Inf(1)
		for i, g := range geoms {
			if d := g.DistanceTo(p); d < wantD {
				want, wantD = i, d
			}
		}
		if wantD > maxM {
			want = -1
		}
		got, d, ok := ix.Nearest(p, maxM)
		if got != want || ok != (want >= 0) || (ok && d != wantD) {
			t.Fatalf("Nearest(%v, %.0f) = %d, %.2f, %v; brute force %d, %.2f", p, maxM, got, d, ok, want, wantD)
		}
	}
}

// TestLocateConcurrent: an Index is shared by every request (run with
// -race).
func TestLocateConcurrent(t *testing.T) {
	geoms := geometries(city(300, 2))
	ix := geo.NewIndex(geoms)
	ps := uniformPoints(boundsOf(geoms), 2000, 3)
	want := make([]int, len(ps))
	for i, p := range ps {
		want[i], _ = ix.Locate(p)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i, p := range ps {
				if got, _ := ix.Locate(p); got != want[i] {
					t.Errorf("Locate(%v) = %d, then %d", p, want[i], got)
					return
				}
				ix.Nearest(p, 150)
			}
		})
	}
	wg.Wait()
}
