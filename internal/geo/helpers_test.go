package geo_test

import (
	"fmt"
	"math"
	"slices"

	"chuangwen/internal/geo"
)

// yunchuan is the south-west corner of the fictional demo city 云川市.
var yunchuan = geo.Point{Lon: 102.65, Lat: 25.00}

// city builds n grid cells of about 100 m in a roughly elliptical city
// (5,000 cells: about 9 km × 7 km in a 10 km × 8 km lattice) from which
// the n cells nearest the centre in the ellipse's metric are kept, in
// lattice order. Points spread over its bounds fall in a cell about 70%
// of the time.
func city(n int, seed int64) []geo.Cell {
	cols := int(math.Ceil(math.Sqrt(float64(n) * 2)))
	rows := int(math.Ceil(float64(cols) * 0.8))
	lat := geo.GenerateLattice(yunchuan, cols, rows, 100, seed)
	type ranked struct {
		i int
		d float64
	}
	rs := make([]ranked, len(lat))
	for i, c := range lat {
		dx, dy := (float64(c.Col)+0.5-float64(cols)/2)/5, (float64(c.Row)+0.5-float64(rows)/2)/4
		rs[i] = ranked{i, math.Hypot(dx, dy)}
	}
	slices.SortStableFunc(rs, func(a, b ranked) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	keep := make([]bool, len(lat))
	for _, r := range rs[:min(n, len(rs))] {
		keep[r.i] = true
	}
	var cells []geo.Cell
	for i, c := range lat {
		if keep[i] {
			cells = append(cells, latticeCell(c, len(cells)))
		}
	}
	return cells
}

func latticeCell(c geo.LatticeCell, seq int) geo.Cell {
	return geo.Cell{
		Code:      fmt.Sprintf("531902001%05d", seq+1),
		Name:      fmt.Sprintf("第%d行第%d列网格", c.Row+1, c.Col+1),
		Community: fmt.Sprintf("社区%02d", c.Row/10+1),
		Street:    fmt.Sprintf("街道%d", c.Col/25+1),
		District:  "明湖区",
		Owner:     "城市管理局",
		Geometry:  c.Geometry,
	}
}

func geometries(cells []geo.Cell) []geo.MultiPolygon {
	g := make([]geo.MultiPolygon, len(cells))
	for i, c := range cells {
		g[i] = c.Geometry
	}
	return g
}

func boundsOf(geoms []geo.MultiPolygon) geo.Rect {
	b := geoms[0].Bounds()
	for _, g := range geoms[1:] {
		gb := g.Bounds()
		b.Min.Lon, b.Min.Lat = min(b.Min.Lon, gb.Min.Lon), min(b.Min.Lat, gb.Min.Lat)
		b.Max.Lon, b.Max.Lat = max(b.Max.Lon, gb.Max.Lon), max(b.Max.Lat, gb.Max.Lat)
	}
	return b
}

// brute answers Locate and Nearest by trying every shape, the slow way
// the index must agree with (the boxes only skip the hopeless).
type brute struct {
	geoms []geo.MultiPolygon
	boxes []geo.Rect
}

func newBrute(geoms []geo.MultiPolygon) *brute {
	b := &brute{geoms: geoms}
	for _, g := range geoms {
		r := g.Bounds()
		const e = 1e-8
		b.boxes = append(b.boxes, geo.Rect{Min: geo.Point{r.Min.Lon - e, r.Min.Lat - e}, Max: geo.Point{r.Max.Lon + e, r.Max.Lat + e}})
	}
	return b
}

func (b *brute) locate(p geo.Point) (int, bool) {
	for i, g := range b.geoms {
		if b.boxes[i].Contains(p) && g.Contains(p) {
			return i, true
		}
	}
	return -1, false
}
