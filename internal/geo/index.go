package geo

import (
	"math"
	"slices"
)

// Index finds which of a set of shapes contains a point. It lays a uniform
// grid of buckets over the shapes' bounds; each bucket lists, in ascending
// order, the shapes that may contain a point of it. A bucket that lies
// wholly inside one shape ends its list with that shape marked "full", so
// most lookups in a city of grid cells test at most one or two polygons
// and many none at all.
//
// An Index is immutable and safe for concurrent use. It keeps the slice it
// was built from: do not change the shapes afterwards.
type Index struct {
	geoms  []MultiPolygon
	boxes  []Rect // shape bounds grown by EdgeTolerance, so the box test never disagrees with Contains
	bounds Rect
	nx, ny int
	w, h   float64 // bucket size in degrees
	invW   float64 // buckets per degree, 0 when the grid is one bucket wide
	invH   float64
	start  []int32 // bucket b's entries are items[start[b]:start[b+1]]
	items  []int32 // shape numbers; ^g (negative) marks shape g covering the whole bucket
}

// NewIndex indexes geoms; results of Locate and Nearest are positions in
// geoms. Empty shapes are allowed and never found.
func NewIndex(geoms []MultiPolygon) *Index {
	boxes := make([]Rect, len(geoms))
	for i, g := range geoms {
		boxes[i] = g.bounds()
		if !boxes[i].isEmpty() {
			boxes[i] = boxes[i].grow(EdgeTolerance)
		}
	}
	// Buckets about a third of a typical shape across: small enough that
	// most are inside a single shape, few enough to stay in cache.
	ix := newGrid(boxes, 3, 32)
	ix.geoms = geoms
	ix.fill()
	return ix
}

// newBoxIndex indexes boxes only: each bucket lists every box that meets
// it. ParseCells uses it to find candidate pairs for the overlap check.
func newBoxIndex(boxes []Rect) *Index {
	ix := newGrid(boxes, 1, 4)
	lists := make([][]int32, ix.nx*ix.ny)
	for g, b := range boxes {
		if b.isEmpty() {
			continue
		}
		c0, c1, r0, r1 := ix.span(b)
		for r := r0; r <= r1; r++ {
			for c := c0; c <= c1; c++ {
				k := r*ix.nx + c
				lists[k] = append(lists[k], int32(g))
			}
		}
	}
	ix.flatten(lists)
	return ix
}

// newGrid sizes the bucket grid: buckets 1/div of the median box, at most
// perShape buckets per shape (and 4M in all).
func newGrid(boxes []Rect, div float64, perShape int) *Index {
	ix := &Index{boxes: boxes, bounds: emptyRect()}
	var ws, hs []float64
	for _, b := range boxes {
		if b.isEmpty() {
			continue
		}
		ix.bounds = ix.bounds.extend(b.Min).extend(b.Max)
		ws = append(ws, b.Max.Lon-b.Min.Lon)
		hs = append(hs, b.Max.Lat-b.Min.Lat)
	}
	if len(ws) == 0 {
		ix.nx, ix.ny, ix.w, ix.h = 1, 1, 1, 1
		ix.start = []int32{0, 0}
		return ix
	}
	slices.Sort(ws)
	slices.Sort(hs)
	W, H := ix.bounds.Max.Lon-ix.bounds.Min.Lon, ix.bounds.Max.Lat-ix.bounds.Min.Lat
	sw, sh := ws[len(ws)/2]/div, hs[len(hs)/2]/div
	if sw <= 0 {
		sw = W
	}
	if sh <= 0 {
		sh = H
	}
	limit := min(max(1024, perShape*len(ws)), 1<<22)
	count := func(size, total float64) int {
		if total <= 0 || size <= 0 {
			return 1
		}
		return max(1, int(math.Ceil(min(total/size, 1<<22))))
	}
	ix.nx, ix.ny = count(sw, W), count(sh, H)
	for ix.nx*ix.ny > limit {
		sw, sh = sw*1.25, sh*1.25
		ix.nx, ix.ny = count(sw, W), count(sh, H)
	}
	ix.w, ix.h = 1, 1
	if W > 0 {
		ix.w, ix.invW = W/float64(ix.nx), float64(ix.nx)/W
	}
	if H > 0 {
		ix.h, ix.invH = H/float64(ix.ny), float64(ix.ny)/H
	}
	return ix
}

func (ix *Index) col(lon float64) int { return clampCell((lon-ix.bounds.Min.Lon)*ix.invW, ix.nx) }
func (ix *Index) row(lat float64) int { return clampCell((lat-ix.bounds.Min.Lat)*ix.invH, ix.ny) }

// clampCell turns a fractional bucket number into one in [0, n), clamping
// before the conversion (a float beyond int's range converts to garbage).
func clampCell(f float64, n int) int {
	if !(f > 0) { // also NaN
		return 0
	}
	if f >= float64(n) {
		return n - 1
	}
	return int(f)
}

// span is the range of buckets that box b meets (clamped to the grid).
func (ix *Index) span(b Rect) (c0, c1, r0, r1 int) {
	return ix.col(b.Min.Lon), ix.col(b.Max.Lon), ix.row(b.Min.Lat), ix.row(b.Max.Lat)
}

func (ix *Index) bucket(c, r int) Rect {
	x0 := ix.bounds.Min.Lon + float64(c)*ix.w
	y0 := ix.bounds.Min.Lat + float64(r)*ix.h
	return Rect{Min: Point{x0, y0}, Max: Point{x0 + ix.w, y0 + ix.h}}
}

// fill works out each bucket's candidate list. For every shape, in order:
// a bucket an edge passes through (or near: 2×EdgeTolerance) gets the shape
// as a candidate; of the buckets no edge touches, a horizontal run has the
// same inside-or-outside status throughout (an edge between two would
// touch one of them), so one point-in-polygon test per run decides it, and
// the inside ones become full. Once a bucket is full no later shape is
// listed in it: Locate stops at the full shape anyway.
func (ix *Index) fill() {
	nb := ix.nx * ix.ny
	lists := make([][]int32, nb)
	full := make([]bool, nb)
	mark := make([]int32, nb)
	for i := range mark {
		mark[i] = -1
	}
	const pad = 2 * EdgeTolerance
	for g, m := range ix.geoms {
		if ix.boxes[g].isEmpty() {
			continue
		}
		g32 := int32(g)
		for _, pg := range m {
			for _, ring := range pg {
				if len(ring) == 0 {
					continue
				}
				a := ring[len(ring)-1]
				for _, b := range ring {
					eb := newSeg(a, b, 0).box.grow(pad)
					c0, c1, r0, r1 := ix.span(eb)
					for r := r0; r <= r1; r++ {
						for c := c0; c <= c1; c++ {
							k := r*ix.nx + c
							if full[k] || mark[k] == g32 || !segmentMeetsRect(a, b, ix.bucket(c, r).grow(pad)) {
								continue
							}
							mark[k] = g32
							lists[k] = append(lists[k], g32)
						}
					}
					a = b
				}
			}
		}
		c0, c1, r0, r1 := ix.span(ix.boxes[g])
		for r := r0; r <= r1; r++ {
			const unknown, out, in = 0, 1, 2
			status := unknown
			for c := c0; c <= c1; c++ {
				k := r*ix.nx + c
				if full[k] || mark[k] == g32 {
					status = unknown
					continue
				}
				if status == unknown {
					b := ix.bucket(c, r)
					status = out
					if m.Contains(Point{(b.Min.Lon + b.Max.Lon) / 2, (b.Min.Lat + b.Max.Lat) / 2}) {
						status = in
					}
				}
				if status == in {
					full[k] = true
					lists[k] = append(lists[k], ^g32)
				}
			}
		}
	}
	ix.flatten(lists)
}

func (ix *Index) flatten(lists [][]int32) {
	ix.start = make([]int32, len(lists)+1)
	n := 0
	for k, l := range lists {
		ix.start[k] = int32(n)
		n += len(l)
	}
	ix.start[len(lists)] = int32(n)
	ix.items = make([]int32, 0, n)
	for _, l := range lists {
		ix.items = append(ix.items, l...)
	}
}

// segmentMeetsRect reports whether segment ab meets the closed box r
// (Liang–Barsky clipping).
func segmentMeetsRect(a, b Point, r Rect) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := b.Lon-a.Lon, b.Lat-a.Lat
	for _, e := range [4][2]float64{
		{-dx, a.Lon - r.Min.Lon}, {dx, r.Max.Lon - a.Lon},
		{-dy, a.Lat - r.Min.Lat}, {dy, r.Max.Lat - a.Lat},
	} {
		p, q := e[0], e[1]
		if p == 0 {
			if q < 0 {
				return false
			}
			continue
		}
		t := q / p
		if p < 0 {
			if t > t1 {
				return false
			}
			t0 = max(t0, t)
		} else {
			if t < t0 {
				return false
			}
			t1 = min(t1, t)
		}
	}
	return true
}

// Len is the number of shapes indexed.
func (ix *Index) Len() int { return len(ix.boxes) }

// Locate returns the position of the shape containing p (boundary
// included) and true, or -1 and false. When several shapes contain p, as
// on the border between two cells, it returns the lowest position. It
// does not allocate.
func (ix *Index) Locate(p Point) (int, bool) {
	b := ix.bounds
	if !(p.Lon >= b.Min.Lon && p.Lon <= b.Max.Lon && p.Lat >= b.Min.Lat && p.Lat <= b.Max.Lat) {
		return -1, false
	}
	k := ix.row(p.Lat)*ix.nx + ix.col(p.Lon)
	for _, g := range ix.items[ix.start[k]:ix.start[k+1]] {
		if g < 0 {
			return int(^g), true
		}
		if ix.boxes[g].Contains(p) && ix.geoms[g].Contains(p) {
			return int(g), true
		}
	}
	return -1, false
}

// Nearest returns the shape nearest to p within maxMeters and its distance
// in metres (0 when p is inside; ties go to the lowest position), or
// false when none is that close. Distances are those of DistanceTo.
func (ix *Index) Nearest(p Point, maxMeters float64) (int, float64, bool) {
	if g, ok := ix.Locate(p); ok {
		return g, 0, true
	}
	if !(maxMeters >= 0) || !Valid(p) || len(ix.items) == 0 {
		return -1, 0, false
	}
	dLat := maxMeters / metresPerDegree
	// Widen in longitude with the cosine at the pole-most latitude of the
	// search box, so the box is never too narrow.
	cos := math.Cos(math.Min(90, math.Abs(p.Lat)+dLat) * math.Pi / 180)
	dLon := 360.0
	if cos > 1e-9 {
		dLon = min(360, dLat/cos)
	}
	search := Rect{Min: Point{p.Lon - dLon, p.Lat - dLat}, Max: Point{p.Lon + dLon, p.Lat + dLat}}
	if !search.Intersects(ix.bounds) {
		return -1, 0, false
	}
	var cand []int32
	c0, c1, r0, r1 := ix.span(search)
	for r := r0; r <= r1; r++ {
		for c := c0; c <= c1; c++ {
			k := r*ix.nx + c
			for _, g := range ix.items[ix.start[k]:ix.start[k+1]] {
				if g < 0 {
					g = ^g
				}
				if ix.boxes[g].Intersects(search) {
					cand = append(cand, g)
				}
			}
		}
	}
	slices.Sort(cand)
	cand = slices.Compact(cand)
	best, bestD := -1, math.Inf(1)
	for _, g := range cand {
		if d := ix.geoms[g].DistanceTo(p); d < bestD {
			best, bestD = int(g), d
		}
	}
	if best < 0 || bestD > maxMeters {
		return -1, 0, false
	}
	return best, bestD, true
}

// candidates calls fn for each shape whose box may meet r, possibly more
// than once; used with newBoxIndex.
func (ix *Index) candidates(r Rect, fn func(g int)) {
	if !r.Intersects(ix.bounds) {
		return
	}
	c0, c1, r0, r1 := ix.span(r)
	for row := r0; row <= r1; row++ {
		for c := c0; c <= c1; c++ {
			k := row*ix.nx + c
			for _, g := range ix.items[ix.start[k]:ix.start[k+1]] {
				fn(int(g))
			}
		}
	}
}
