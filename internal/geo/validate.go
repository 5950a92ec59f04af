package geo

import (
	"math"
	"slices"
	"strconv"
)

// This file holds the geometric checks behind ParseCells: simple rings,
// holes inside their shell, and cells whose interiors overlap. They use
// plain float64 orientation tests; positions come from text with at most
// a few decimals over a city, far from the precision where that matters.

// seg is one edge with its box, the unit the sweeps below work on.
type seg struct {
	a, b Point
	box  Rect
	ring int
}

func newSeg(a, b Point, ring int) seg {
	return seg{a: a, b: b, ring: ring, box: Rect{
		Min: Point{min(a.Lon, b.Lon), min(a.Lat, b.Lat)},
		Max: Point{max(a.Lon, b.Lon), max(a.Lat, b.Lat)},
	}}
}

// appendRingSegs appends the edges of r, skipping zero-length ones
// (a repeated position is harmless), and closing r if it is open.
func appendRingSegs(dst []seg, r Ring, ring int) []seg {
	if len(r) == 0 {
		return dst
	}
	a := r[len(r)-1]
	for _, b := range r {
		if a != b {
			dst = append(dst, newSeg(a, b, ring))
		}
		a = b
	}
	return dst
}

// orient is twice the signed area of abc: > 0 when c is left of ab.
func orient(a, b, c Point) float64 {
	return (b.Lon-a.Lon)*(c.Lat-a.Lat) - (b.Lat-a.Lat)*(c.Lon-a.Lon)
}

func sgn(x float64) int {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// inBox reports whether c lies in the box spanned by a and b.
func inBox(a, b, c Point) bool {
	return c.Lon >= min(a.Lon, b.Lon) && c.Lon <= max(a.Lon, b.Lon) &&
		c.Lat >= min(a.Lat, b.Lat) && c.Lat <= max(a.Lat, b.Lat)
}

// properCross reports whether segments ab and cd cross at one point
// interior to both.
func properCross(a, b, c, d Point) bool {
	return sgn(orient(a, b, c))*sgn(orient(a, b, d)) < 0 && sgn(orient(c, d, a))*sgn(orient(c, d, b)) < 0
}

// touchPoint reports whether the closed segments ab and cd share a point,
// and one such point.
func touchPoint(a, b, c, d Point) (Point, bool) {
	o1, o2 := sgn(orient(a, b, c)), sgn(orient(a, b, d))
	o3, o4 := sgn(orient(c, d, a)), sgn(orient(c, d, b))
	if o1*o2 < 0 && o3*o4 < 0 {
		den := (b.Lon-a.Lon)*(d.Lat-c.Lat) - (b.Lat-a.Lat)*(d.Lon-c.Lon)
		t := ((c.Lon-a.Lon)*(d.Lat-c.Lat) - (c.Lat-a.Lat)*(d.Lon-c.Lon)) / den
		return Point{a.Lon + t*(b.Lon-a.Lon), a.Lat + t*(b.Lat-a.Lat)}, true
	}
	switch {
	case o1 == 0 && inBox(a, b, c):
		return c, true
	case o2 == 0 && inBox(a, b, d):
		return d, true
	case o3 == 0 && inBox(c, d, a):
		return a, true
	case o4 == 0 && inBox(c, d, b):
		return b, true
	}
	return Point{}, false
}

// sweepPairs calls fn(i, j) for every pair of segments whose boxes meet,
// sweeping west to east so that a ring of n edges costs about n log n, not
// n², until fn returns false.
func sweepPairs(segs []seg, fn func(i, j int) bool) {
	order := make([]int32, len(segs))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		a, b := segs[x].box.Min.Lon, segs[y].box.Min.Lon
		switch {
		case a < b:
			return -1
		case a > b:
			return 1
		}
		return 0
	})
	for x, i := range order {
		si := &segs[i]
		for _, j := range order[x+1:] {
			sj := &segs[j]
			if sj.box.Min.Lon > si.box.Max.Lon {
				break
			}
			if sj.box.Min.Lat > si.box.Max.Lat || sj.box.Max.Lat < si.box.Min.Lat {
				continue
			}
			if !fn(int(i), int(j)) {
				return
			}
		}
	}
}

// ringProblem checks one ring of a parsed polygon and returns the message
// key and arguments of the first thing wrong with it, or "".
func ringProblem(r Ring) (string, []string) {
	if len(r) < 4 {
		return "grid.ring_too_short", []string{"count", strconv.Itoa(len(r))}
	}
	if r[0] != r[len(r)-1] {
		return "grid.ring_not_closed", nil
	}
	segs := appendRingSegs(nil, r, 0)
	if len(segs) < 3 || collinear(r) {
		return "grid.ring_degenerate", nil
	}
	if p, bad := selfIntersection(segs); bad {
		return "grid.ring_self_intersects", []string{"lon", fmtCoord(p.Lon), "lat", fmtCoord(p.Lat)}
	}
	if a, _, _ := ringMoments(r, r[0]); a == 0 {
		return "grid.ring_degenerate", nil
	}
	return "", nil
}

// collinear reports whether all of r lies on one line.
func collinear(r Ring) bool {
	a := r[0]
	for i, b := range r {
		if b == a {
			continue
		}
		for _, c := range r[i+1:] {
			if orient(a, b, c) != 0 {
				return false
			}
		}
		return true
	}
	return true
}

// selfIntersection finds where a closed ring's edges (in order, without
// zero-length ones) meet other than neighbours at their shared vertex.
func selfIntersection(segs []seg) (at Point, found bool) {
	m := len(segs)
	sweepPairs(segs, func(i, j int) bool {
		if i > j {
			i, j = j, i
		}
		if j == i+1 || (i == 0 && j == m-1) {
			// Neighbours a→v→c meet at v; they are wrong only when the
			// ring doubles back on itself along a line (a spike).
			a, v, c := segs[i].a, segs[i].b, segs[j].b
			if i == 0 && j == m-1 {
				a, v, c = segs[j].a, segs[j].b, segs[i].b
			}
			if orient(a, v, c) == 0 && (v.Lon-a.Lon)*(c.Lon-v.Lon)+(v.Lat-a.Lat)*(c.Lat-v.Lat) < 0 {
				at, found = v, true
			}
			return !found
		}
		at, found = touchPoint(segs[i].a, segs[i].b, segs[j].a, segs[j].b)
		return !found
	})
	return at, found
}

// holeInside reports whether hole lies within outer: its vertices and the
// middles of its edges are inside or on outer, and no edge of the hole
// crosses one of outer. Touching outer at a point is allowed, as in the
// OGC simple-features model.
func holeInside(outer, hole Ring) bool {
	inOrOn := func(p Point) bool {
		in, on := ringRelate(outer, p)
		return in || on
	}
	for i, v := range hole {
		if !inOrOn(v) {
			return false
		}
		if i > 0 && !inOrOn(Point{(hole[i-1].Lon + v.Lon) / 2, (hole[i-1].Lat + v.Lat) / 2}) {
			return false
		}
	}
	segs := appendRingSegs(appendRingSegs(nil, outer, 0), hole, 1)
	ok := true
	sweepPairs(segs, func(i, j int) bool {
		if segs[i].ring != segs[j].ring && properCross(segs[i].a, segs[i].b, segs[j].a, segs[j].b) {
			ok = false
		}
		return ok
	})
	return ok
}

// shape is a cell prepared for the overlap test.
type shape struct {
	geom  MultiPolygon
	box   Rect
	segs  []seg
	inner []Point // a point inside each polygon, worked out when first needed
}

func newShape(m MultiPolygon) *shape {
	s := &shape{geom: m, box: m.bounds()}
	for _, pg := range m {
		for _, r := range pg {
			s.segs = appendRingSegs(s.segs, r, 0)
		}
	}
	return s
}

func (s *shape) innerPoints() []Point {
	if s.inner == nil {
		s.inner = make([]Point, 0, len(s.geom))
		for _, pg := range s.geom {
			if p, _, ok := pg.interiorPoint(); ok {
				s.inner = append(s.inner, p)
			}
		}
	}
	return s.inner
}

// interiorsIntersect reports whether the insides of a and b overlap;
// sharing edges or vertices is not overlapping.
//
// If the interiors meet, then either part of one boundary runs through the
// other's interior, or a polygon of one has exactly the boundary of a
// polygon of the other (identical cells). The first is found by cutting
// each edge where it meets the other shape's edges and testing the middle
// of every piece; the second by testing one interior point per polygon.
func interiorsIntersect(a, b *shape) bool {
	clip := Rect{
		Min: Point{max(a.box.Min.Lon, b.box.Min.Lon), max(a.box.Min.Lat, b.box.Min.Lat)},
		Max: Point{min(a.box.Max.Lon, b.box.Max.Lon), min(a.box.Max.Lat, b.box.Max.Lat)},
	}
	if !(clip.Max.Lon > clip.Min.Lon && clip.Max.Lat > clip.Min.Lat) {
		return false // boxes meet along a line at most
	}
	if boundaryEnters(a, b, clip) || boundaryEnters(b, a, clip) {
		return true
	}
	for _, pair := range [2][2]*shape{{a, b}, {b, a}} {
		for _, p := range pair[0].innerPoints() {
			if pair[1].box.Contains(p) && pair[1].geom.relate(p) == interior {
				return true
			}
		}
	}
	return false
}

// boundaryEnters reports whether some stretch of src's boundary inside clip
// lies strictly inside dst.
func boundaryEnters(src, dst *shape, clip Rect) bool {
	clip = clip.grow(EdgeTolerance)
	var near []seg
	for _, f := range dst.segs {
		if f.box.Intersects(clip) {
			near = append(near, f)
		}
	}
	var ts []float64
	for _, s := range src.segs {
		if !s.box.Intersects(clip) {
			continue
		}
		dx, dy := s.b.Lon-s.a.Lon, s.b.Lat-s.a.Lat
		dd := dx*dx + dy*dy
		sbox := s.box.grow(EdgeTolerance)
		ts = append(ts[:0], 0, 1)
		for _, f := range near {
			if !f.box.Intersects(sbox) {
				continue
			}
			ex, ey := f.b.Lon-f.a.Lon, f.b.Lat-f.a.Lat
			if den := dx*ey - dy*ex; den != 0 {
				wx, wy := f.a.Lon-s.a.Lon, f.a.Lat-s.a.Lat
				t := (wx*ey - wy*ex) / den
				u := (wx*dy - wy*dx) / den
				if t > 0 && t < 1 && u >= 0 && u <= 1 {
					ts = append(ts, t)
				}
			}
			for _, q := range [2]Point{f.a, f.b} {
				if onSegment(s.a, s.b, q) {
					if t := ((q.Lon-s.a.Lon)*dx + (q.Lat-s.a.Lat)*dy) / dd; t > 0 && t < 1 {
						ts = append(ts, t)
					}
				}
			}
		}
		slices.Sort(ts)
		minStep := EdgeTolerance / math.Sqrt(dd)
		for k := 1; k < len(ts); k++ {
			if ts[k]-ts[k-1] <= minStep {
				continue // a sliver below the edge tolerance
			}
			t := (ts[k-1] + ts[k]) / 2
			m := Point{s.a.Lon + t*dx, s.a.Lat + t*dy}
			if dst.box.Contains(m) && dst.geom.relate(m) == interior {
				return true
			}
		}
	}
	return false
}

func fmtCoord(v float64) string { return strconv.FormatFloat(v, 'f', 7, 64) }
