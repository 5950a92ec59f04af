package geo

import (
	"math"
	"slices"
)

// Ring is a closed line of positions; GeoJSON repeats the first position
// at the end, and the functions here accept rings with or without that
// repetition.
type Ring []Point

// Polygon is an outer ring followed by its holes.
type Polygon []Ring

// MultiPolygon is a shape of one or more polygons. A grid cell is one.
type MultiPolygon []Polygon

// Rect is an axis-aligned box in degrees. The zero Rect is the box around
// nothing (and the point 0,0); Bounds returns it for an empty shape.
type Rect struct{ Min, Max Point }

// Contains reports whether p is inside r or on its edge.
func (r Rect) Contains(p Point) bool {
	return p.Lon >= r.Min.Lon && p.Lon <= r.Max.Lon && p.Lat >= r.Min.Lat && p.Lat <= r.Max.Lat
}

// Intersects reports whether r and o share at least one point.
func (r Rect) Intersects(o Rect) bool {
	return r.Min.Lon <= o.Max.Lon && o.Min.Lon <= r.Max.Lon && r.Min.Lat <= o.Max.Lat && o.Min.Lat <= r.Max.Lat
}

func emptyRect() Rect {
	inf := math.Inf(1)
	return Rect{Min: Point{inf, inf}, Max: Point{-inf, -inf}}
}

func (r Rect) isEmpty() bool { return !(r.Min.Lon <= r.Max.Lon && r.Min.Lat <= r.Max.Lat) }

func (r Rect) extend(p Point) Rect {
	r.Min.Lon = math.Min(r.Min.Lon, p.Lon)
	r.Min.Lat = math.Min(r.Min.Lat, p.Lat)
	r.Max.Lon = math.Max(r.Max.Lon, p.Lon)
	r.Max.Lat = math.Max(r.Max.Lat, p.Lat)
	return r
}

func (r Rect) grow(d float64) Rect {
	return Rect{Min: Point{r.Min.Lon - d, r.Min.Lat - d}, Max: Point{r.Max.Lon + d, r.Max.Lat + d}}
}

// bounds is Bounds that tells an empty shape apart.
func (m MultiPolygon) bounds() Rect {
	b := emptyRect()
	for _, pg := range m {
		for _, r := range pg {
			for _, p := range r {
				b = b.extend(p)
			}
		}
	}
	return b
}

// Bounds is the smallest Rect around m (the zero Rect when m has no
// positions).
func (m MultiPolygon) Bounds() Rect {
	b := m.bounds()
	if b.isEmpty() {
		return Rect{}
	}
	return b
}

// EdgeTolerance is how close, in degrees, a point must be to an edge to
// count as on it (about 0.1 mm). Positions parsed from the same text are
// exact, but a point computed on a slanted edge is not: the tolerance is
// what makes "a point on the border between two cells is in both" hold.
const EdgeTolerance = 1e-9

// onSegment reports whether p is within EdgeTolerance of segment ab.
func onSegment(a, b, p Point) bool {
	const e = EdgeTolerance
	if (p.Lon < a.Lon-e && p.Lon < b.Lon-e) || (p.Lon > a.Lon+e && p.Lon > b.Lon+e) ||
		(p.Lat < a.Lat-e && p.Lat < b.Lat-e) || (p.Lat > a.Lat+e && p.Lat > b.Lat+e) {
		return false
	}
	dx, dy := b.Lon-a.Lon, b.Lat-a.Lat
	c := dx*(p.Lat-a.Lat) - dy*(p.Lon-a.Lon)
	return c*c <= e*e*(dx*dx+dy*dy)
}

// ringRelate tells whether p is inside r (crossing number) and whether it
// is on r's boundary; when on is true, in is meaningless.
func ringRelate(r Ring, p Point) (in, on bool) {
	n := len(r)
	if n == 0 {
		return false, false
	}
	a := r[n-1]
	for _, b := range r {
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) {
			x := a.Lon + (p.Lat-a.Lat)/(b.Lat-a.Lat)*(b.Lon-a.Lon)
			if p.Lon < x {
				in = !in
			}
		}
		if onSegment(a, b, p) {
			return false, true
		}
		a = b
	}
	return in, false
}

type relation uint8

const (
	outside relation = iota
	boundary
	interior
)

func (pg Polygon) relate(p Point) relation {
	if len(pg) == 0 {
		return outside
	}
	in, on := ringRelate(pg[0], p)
	if on {
		return boundary
	}
	if !in {
		return outside
	}
	for _, h := range pg[1:] {
		in, on = ringRelate(h, p)
		if on {
			return boundary
		}
		if in {
			return outside
		}
	}
	return interior
}

func (m MultiPolygon) relate(p Point) relation {
	best := outside
	for _, pg := range m {
		switch pg.relate(p) {
		case interior:
			return interior
		case boundary:
			best = boundary
		}
	}
	return best
}

// Contains reports whether p is in m. Edges and vertices count as inside,
// of holes too; the inside of a hole does not.
func (m MultiPolygon) Contains(p Point) bool {
	for _, pg := range m {
		if pg.relate(p) != outside {
			return true
		}
	}
	return false
}

// DistanceTo is the distance in metres from p to the nearest edge of m,
// 0 when m contains p (+Inf when m is empty). It measures on a plane tangent at p (equirectangular
// projection): good to a fraction of a percent over a city, not for
// continents.
func (m MultiPolygon) DistanceTo(p Point) float64 {
	if m.Contains(p) {
		return 0
	}
	kx := metresPerDegree * math.Cos(p.Lat*math.Pi/180)
	best := math.Inf(1)
	for _, pg := range m {
		for _, r := range pg {
			if len(r) == 0 {
				continue
			}
			a := r[len(r)-1]
			for _, b := range r {
				d := segmentDistance(
					(a.Lon-p.Lon)*kx, (a.Lat-p.Lat)*metresPerDegree,
					(b.Lon-p.Lon)*kx, (b.Lat-p.Lat)*metresPerDegree)
				best = math.Min(best, d)
				a = b
			}
		}
	}
	return best
}

// segmentDistance is the distance from the origin to the segment (x1,y1)-(x2,y2).
func segmentDistance(x1, y1, x2, y2 float64) float64 {
	dx, dy := x2-x1, y2-y1
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(x1*dx+y1*dy)/l2))
	}
	return math.Hypot(x1+t*dx, y1+t*dy)
}

// ringMoments returns the signed area (counter-clockwise positive) and the
// first moments of r in degrees, relative to o to keep precision.
func ringMoments(r Ring, o Point) (a, mx, my float64) {
	if len(r) == 0 {
		return
	}
	p := r[len(r)-1]
	for _, q := range r {
		x1, y1 := p.Lon-o.Lon, p.Lat-o.Lat
		x2, y2 := q.Lon-o.Lon, q.Lat-o.Lat
		c := x1*y2 - x2*y1
		a += c
		mx += (x1 + x2) * c
		my += (y1 + y2) * c
		p = q
	}
	return a / 2, mx / 6, my / 6
}

// Centroid is the area-weighted centre of m (holes subtract), the place for
// a label on a roughly convex cell. A concave cell's centroid may lie
// outside it; use InteriorPoint then. A shape without area gets the mean of
// its positions.
func (m MultiPolygon) Centroid() Point {
	b := m.bounds()
	if b.isEmpty() {
		return Point{}
	}
	o := b.Min
	var area, mx, my float64
	for _, pg := range m {
		for i, r := range pg {
			a, x, y := ringMoments(r, o)
			// The outer ring counts positive and holes negative whatever
			// way they wind.
			if (i == 0) != (a > 0) {
				a, x, y = -a, -x, -y
			}
			area, mx, my = area+a, mx+x, my+y
		}
	}
	if area > 0 {
		return Point{Lon: o.Lon + mx/area, Lat: o.Lat + my/area}
	}
	var sx, sy float64
	n := 0
	for _, pg := range m {
		for _, r := range pg {
			for _, p := range r {
				sx, sy, n = sx+p.Lon-o.Lon, sy+p.Lat-o.Lat, n+1
			}
		}
	}
	return Point{Lon: o.Lon + sx/float64(n), Lat: o.Lat + sy/float64(n)}
}

// Area is the area of m in square metres (holes subtracted), measured on
// a plane through the middle of its bounds: city-scale accuracy.
func (m MultiPolygon) Area() float64 {
	b := m.bounds()
	if b.isEmpty() {
		return 0
	}
	var area float64
	for _, pg := range m {
		for i, r := range pg {
			a, _, _ := ringMoments(r, b.Min)
			if i == 0 {
				area += math.Abs(a)
			} else {
				area -= math.Abs(a)
			}
		}
	}
	midLat := (b.Min.Lat + b.Max.Lat) / 2
	return area * metresPerDegree * metresPerDegree * math.Cos(midLat*math.Pi/180)
}

// InteriorPoint returns a point strictly inside m (in the polygon whose
// middle cut is widest), for placing a label or a marker on a concave
// cell; ok is false for a shape without area.
func (m MultiPolygon) InteriorPoint() (p Point, ok bool) {
	best := -1.0
	for _, pg := range m {
		q, width, found := pg.interiorPoint()
		if found && width > best {
			p, ok, best = q, true, width
		}
	}
	return p, ok
}

// interiorPoint cuts pg with the horizontal line half way across the
// widest band between vertex latitudes (so the line meets no vertex) and
// returns the middle of the widest stretch of that line inside pg, and the
// stretch's width.
func (pg Polygon) interiorPoint() (Point, float64, bool) {
	var ys []float64
	for _, r := range pg {
		for _, q := range r {
			ys = append(ys, q.Lat)
		}
	}
	slices.Sort(ys)
	ys = slices.Compact(ys)
	if len(ys) < 2 {
		return Point{}, 0, false
	}
	gap, y := -1.0, 0.0
	for i := 1; i < len(ys); i++ {
		if d := ys[i] - ys[i-1]; d > gap {
			gap, y = d, ys[i-1]+d/2
		}
	}
	var xs []float64
	for _, r := range pg {
		if len(r) == 0 {
			continue
		}
		a := r[len(r)-1]
		for _, b := range r {
			if (a.Lat > y) != (b.Lat > y) {
				xs = append(xs, a.Lon+(y-a.Lat)/(b.Lat-a.Lat)*(b.Lon-a.Lon))
			}
			a = b
		}
	}
	slices.Sort(xs)
	width, x := 0.0, 0.0
	for i := 0; i+1 < len(xs); i += 2 {
		if d := xs[i+1] - xs[i]; d > width {
			width, x = d, xs[i]+d/2
		}
	}
	if width <= 0 {
		return Point{}, 0, false
	}
	p := Point{Lon: x, Lat: y}
	return p, width, pg.relate(p) == interior
}
