package geo_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"chuangwen/internal/geo"
)

// uniformPoints spreads n points over r.
func uniformPoints(r geo.Rect, n int, seed uint64) []geo.Point {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	ps := make([]geo.Point, n)
	for i := range ps {
		ps[i] = geo.Point{
			Lon: r.Min.Lon + rng.Float64()*(r.Max.Lon-r.Min.Lon),
			Lat: r.Min.Lat + rng.Float64()*(r.Max.Lat-r.Min.Lat),
		}
	}
	return ps
}

// BenchmarkLocate: 5,000 cells of about 100 m (some bent, a few with
// holes), points uniform over the city's bounds, on one goroutine.
func BenchmarkLocate(b *testing.B) {
	geoms := geometries(city(5000, 1))
	ix := geo.NewIndex(geoms)
	ps := uniformPoints(boundsOf(geoms), 1<<16, 1)
	hits := 0
	i := 0
	for b.Loop() {
		if _, ok := ix.Locate(ps[i&(len(ps)-1)]); ok {
			hits++
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lookups/s")
	b.ReportMetric(float64(hits)/float64(b.N), "hit-ratio")
}

func BenchmarkNearest(b *testing.B) {
	geoms := geometries(city(5000, 1))
	ix := geo.NewIndex(geoms)
	r := boundsOf(geoms)
	ps := uniformPoints(r, 1<<12, 2)
	i := 0
	for b.Loop() {
		ix.Nearest(ps[i&(len(ps)-1)], 200)
		i++
	}
}

func BenchmarkNewIndex(b *testing.B) {
	geoms := geometries(city(5000, 1))
	for b.Loop() {
		geo.NewIndex(geoms)
	}
}

// BenchmarkParseCells reads and checks a whole grid file (self-crossing
// rings, holes, codes, overlaps between every pair of neighbours).
func BenchmarkParseCells(b *testing.B) {
	for _, n := range []int{5000, 10000} {
		data := cityGeoJSON(b, n)
		b.Run(fmt.Sprintf("cells=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				cells, problems, err := geo.ParseCells(strings.NewReader(data), 0)
				if err != nil || len(problems) != 0 || len(cells) != n {
					b.Fatalf("%d cells, %d problems, %v", len(cells), len(problems), err)
				}
			}
		})
	}
}

func BenchmarkWriteCells(b *testing.B) {
	cells := city(5000, 1)
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := geo.WriteCells(&buf, cells); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(buf.Len()))
}
