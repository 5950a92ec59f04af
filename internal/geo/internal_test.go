package geo

import (
	"math/rand/v2"
	"testing"
)

// TestSweepFindsEveryPair compares the sweep behind the self-intersection
// check with trying every pair of edges, on random rings that mostly do
// cross themselves.
func TestSweepFindsEveryPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 32))
	crossing := 0
	for range 3000 {
		n := 4 + rng.IntN(40)
		r := make(Ring, 0, n+1)
		for range n {
			r = append(r, Point{Lon: float64(rng.IntN(20)), Lat: float64(rng.IntN(20))})
		}
		r = append(r, r[0])
		segs := appendRingSegs(nil, r, 0)
		if len(segs) < 3 {
			continue
		}
		_, got := selfIntersection(segs)
		want := false
		m := len(segs)
		for i := 0; i < m && !want; i++ {
			for j := i + 1; j < m && !want; j++ {
				if j == i+1 || (i == 0 && j == m-1) {
					a, v, c := segs[i].a, segs[i].b, segs[j].b
					if i == 0 && j == m-1 {
						a, v, c = segs[j].a, segs[j].b, segs[i].b
					}
					want = orient(a, v, c) == 0 && (v.Lon-a.Lon)*(c.Lon-v.Lon)+(v.Lat-a.Lat)*(c.Lat-v.Lat) < 0
					continue
				}
				_, want = touchPoint(segs[i].a, segs[i].b, segs[j].a, segs[j].b)
			}
		}
		if got != want {
			t.Fatalf("ring %v: sweep says %v, every pair says %v", r, got, want)
		}
		if got {
			crossing++
		}
	}
	if crossing == 0 || crossing == 3000 {
		t.Errorf("%d of 3000 rings cross themselves: the test proves nothing", crossing)
	}
}

// TestIndexFastPath checks that on a city of grid cells the "bucket wholly
// inside one cell" shortcut covers a good part of the map; without it
// Locate is still right but slower, and no other test would notice.
func TestIndexFastPath(t *testing.T) {
	lat := GenerateLattice(Point{102.65, 25}, 60, 50, 100, 1)
	geoms := make([]MultiPolygon, len(lat))
	for i, c := range lat {
		geoms[i] = c.Geometry
	}
	ix := NewIndex(geoms)
	full, longest := 0, 0
	for k := 0; k+1 < len(ix.start); k++ {
		list := ix.items[ix.start[k]:ix.start[k+1]]
		if len(list) > 0 && list[len(list)-1] < 0 {
			full++
		}
		longest = max(longest, len(list))
	}
	buckets := ix.nx * ix.ny
	if full < buckets/3 || longest > 8 {
		t.Errorf("%d of %d buckets full, longest list %d", full, buckets, longest)
	}
	t.Logf("%d×%d buckets, %d full, longest list %d, %d entries", ix.nx, ix.ny, full, longest, len(ix.items))
}
